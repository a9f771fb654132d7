"""A real, local Docker registry for end-to-end tests.

Runs Debian's ``docker-registry`` (distribution 2.8) on 127.0.0.1 with
htpasswd (bcrypt) auth and plain HTTP, in a temporary directory. Nothing here
needs a Docker engine or the internet: test images are built in memory and
pushed through the Registry v2 HTTP API.

Use it as a context manager::

    with start_registry(tmp_path, "user", "s3cr?>t~pä§") as reg:
        digest = push_test_image(reg, "user", "s3cr?>t~pä§")
        assert fetch_manifest_status(reg.address, "edgehog/test-app", "1.0",
                                     "user", "s3cr?>t~pä§") == 200

or through a fixture made by ``registry_fixture(username, password)``, or the
``registry_factory`` fixture (alias it into a test module or conftest with
``registry_factory = tests.registry.registry_factory``; ``pytest_plugins``
works too but warns that the module cannot be assertion-rewritten once imported).

Passwords are handed to ``htpasswd`` on stdin (never on a command line, where
``ps`` would show them) as UTF-8 bytes; HTTP Basic auth sends the same UTF-8
bytes. The registry compares bytes with bcrypt, so any UTF-8 password works,
non-ASCII included (checked by tests/test_registry_harness.py). Limits that do
apply: no newline (htpasswd reads one line) and, bcrypt being bcrypt, only the
first 72 bytes count. A username cannot contain ":" (Basic auth and htpasswd
both split on the first one).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tarfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest

REGISTRY_BINARY = "/usr/bin/docker-registry"
HTPASSWD_BINARY = "htpasswd"
SKIP_MESSAGE = (
    "docker-registry tests need the Debian packages docker-registry, apache2-utils and skopeo "
    "(apt-get install -y docker-registry apache2-utils skopeo)"
)

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_LIST_V2 = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
CONFIG_V1 = "application/vnd.docker.container.image.v1+json"
LAYER_TAR_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
MANIFEST_ACCEPT = ", ".join([MANIFEST_V2, OCI_MANIFEST, MANIFEST_LIST_V2, OCI_INDEX])

# The registry (Go) starts in well under a second; the budget is for slow CI.
START_TIMEOUT = 20.0
START_ATTEMPTS = 3  # a free port can be taken between probing and binding
HTTP_TIMEOUT = 10.0
REALM = "edgehog-test-registry"

FixtureScope = Literal["function", "class", "module", "package", "session"]


class RegistryError(RuntimeError):
    """The registry did not start, or refused a push. Messages hold no password."""


def registry_binaries_available() -> bool:
    return os.access(REGISTRY_BINARY, os.X_OK) and shutil.which(HTPASSWD_BINARY) is not None


def require_registry_binaries() -> None:
    """Skip the calling test when the Debian packages are not installed."""
    if not registry_binaries_available():
        pytest.skip(SKIP_MESSAGE)


@dataclass
class Registry:
    """A running registry process. Stop it with ``stop()`` or a ``with`` block."""

    address: str  # "127.0.0.1:PORT", as an image reference would write it
    root: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    started_in: float  # seconds from spawn to the first 401 on /v2/
    _stopped: bool = field(default=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def reference(self, repository: str, tag: str = "1.0") -> str:
        return f"{self.address}/{repository}:{tag}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        _terminate(self.process)

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _terminate(process: subprocess.Popen[bytes]) -> None:
    # The registry runs in its own session, so signal the whole process group:
    # nothing it might spawn can outlive the test.
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def htpasswd_line(username: str, password: str) -> bytes:
    """One bcrypt htpasswd line, from Apache's own tool."""
    if ":" in username or "\n" in username or username == "":
        raise ValueError("htpasswd usernames must be non-empty, without ':' or newlines")
    if "\n" in password or "\r" in password:
        raise ValueError("htpasswd reads the password as one line: no newlines")
    # -i: password on stdin, not argv. -C 4: lowest bcrypt cost, fast and
    # plenty for a throwaway test registry.
    result = subprocess.run(
        [HTPASSWD_BINARY, "-niB", "-C", "4", username],
        input=password.encode("utf-8"),
        capture_output=True,
        timeout=30,
        check=False,
    )
    line = result.stdout.strip()
    if result.returncode != 0 or not line.startswith(username.encode("utf-8") + b":$2"):
        raise RegistryError(f"htpasswd failed (exit {result.returncode})")
    return line + b"\n"


def _config(root: Path, port: int, htpasswd_path: Path) -> str:
    # JSON is valid YAML, and json.dumps quotes paths safely.
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(root / "data")},
            "delete": {"enabled": True},
            "maintenance": {"uploadpurging": {"enabled": False}},
        },
        "http": {
            "addr": f"127.0.0.1:{port}",
            # Random per registry; it only signs upload state between requests.
            "secret": secrets.token_hex(16),
            "headers": {"X-Content-Type-Options": ["nosniff"]},
        },
        "auth": {"htpasswd": {"realm": REALM, "path": str(htpasswd_path)}},
    }
    return json.dumps(config, indent=2)


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, deadline: float) -> bool:
    """True once /v2/ answers 401 (auth is on); False if the process died."""
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                response = client.get(f"{url}/v2/")
            except httpx.TransportError:
                time.sleep(0.02)
                continue
            # Probing a free port and binding it are not atomic: make sure the
            # answer comes from our registry (its realm), not a squatter.
            challenge = response.headers.get("WWW-Authenticate", "")
            if response.status_code == 401 and f'realm="{REALM}"' in challenge:
                return process.poll() is None
            time.sleep(0.02)
    raise RegistryError(f"registry at {url} did not answer within {START_TIMEOUT:.0f}s")


def start_registry(tmp_path: Path, username: str, password: str) -> Registry:
    """Start a registry under ``tmp_path`` that accepts exactly one user.

    Skips the test if the binaries are missing. The returned object is a
    context manager; callers that do not use ``with`` must call ``stop()``.
    """
    require_registry_binaries()
    root = Path(tmp_path) / f"registry-{secrets.token_hex(4)}"
    root.mkdir(parents=True)
    htpasswd_path = root / "htpasswd"
    htpasswd_path.write_bytes(htpasswd_line(username, password))
    htpasswd_path.chmod(0o600)

    last_log = ""
    for attempt in range(START_ATTEMPTS):
        port = _free_port()
        config_path = root / f"config-{attempt}.yml"
        config_path.write_text(_config(root, port, htpasswd_path))
        log_path = root / f"registry-{attempt}.log"
        started = time.monotonic()
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [REGISTRY_BINARY, "serve", str(config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=root,
            )
        try:
            ready = _wait_until_ready(process, f"http://127.0.0.1:{port}", started + START_TIMEOUT)
        except BaseException:
            _terminate(process)
            raise
        if ready:
            return Registry(
                address=f"127.0.0.1:{port}",
                root=root,
                process=process,
                log_path=log_path,
                started_in=time.monotonic() - started,
            )
        _terminate(process)
        last_log = log_path.read_text(errors="replace")[-2000:]
    raise RegistryError(f"registry failed to start {START_ATTEMPTS} times; last log:\n{last_log}")


def registry_fixture(
    username: str, password: str, *, scope: FixtureScope = "function"
) -> Callable[..., Iterator[Registry]]:
    """Make a pytest fixture yielding a running registry for one user.

    In a test module: ``my_registry = registry_fixture("user", "pw")``. The
    registry is stopped in the fixture's finalizer, whatever the test did.
    """

    @pytest.fixture(scope=scope)
    def _registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
        with start_registry(tmp_path_factory.mktemp("registry"), username, password) as reg:
            yield reg

    return _registry


@pytest.fixture
def registry_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str, str], Registry]]:
    """Fixture-as-factory: ``registry_factory(user, password)``, several per test."""
    started: list[Registry] = []

    def make(username: str, password: str) -> Registry:
        reg = start_registry(tmp_path_factory.mktemp("registry"), username, password)
        started.append(reg)
        return reg

    try:
        yield make
    finally:
        for reg in started:
            reg.stop()


# --- A tiny image -------------------------------------------------------------


@dataclass(frozen=True)
class TestImage:
    config: bytes
    layer: bytes  # gzip'd tar
    manifest: bytes

    __test__ = False  # not a pytest test class, despite the name

    @property
    def manifest_digest(self) -> str:
        return _digest(self.manifest)


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build_test_image(content: bytes = b"hello from edgehog-creds\n") -> TestImage:
    """A one-layer Docker v2 schema 2 image holding /hello.txt.

    Deterministic (fixed mtimes, owners and gzip header) so the same content
    always gives the same digests.
    """
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        info.mode = 0o644
        info.mtime = 0
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        tar.addfile(info, io.BytesIO(content))
    layer_tar = tar_buffer.getvalue()
    layer = gzip.compress(layer_tar, mtime=0)

    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {"Cmd": ["/bin/cat", "/hello.txt"]},
            "rootfs": {"type": "layers", "diff_ids": [_digest(layer_tar)]},
            "history": [{"created_by": "edgehog-creds tests/registry.py"}],
        },
        separators=(",", ":"),
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_V2,
            "config": {"mediaType": CONFIG_V1, "size": len(config), "digest": _digest(config)},
            "layers": [{"mediaType": LAYER_TAR_GZIP, "size": len(layer), "digest": _digest(layer)}],
        },
        indent=3,  # what Docker itself writes; any bytes work, the digest is of these
    ).encode()
    return TestImage(config=config, layer=layer, manifest=manifest)


def _address(registry: Registry | str) -> str:
    return registry.address if isinstance(registry, Registry) else registry


def _push_blob(client: httpx.Client, base: str, repository: str, blob: bytes) -> None:
    digest = _digest(blob)
    started = client.post(f"{base}/v2/{repository}/blobs/uploads/")
    if started.status_code != 202:
        raise RegistryError(f"starting a blob upload answered {started.status_code}")
    # Location may be absolute or relative; it carries the upload's state in its query.
    location = httpx.URL(base).join(started.headers["Location"])
    finished = client.put(
        location.copy_add_param("digest", digest),
        content=blob,
        headers={"Content-Type": "application/octet-stream"},
    )
    if finished.status_code != 201:
        raise RegistryError(f"uploading blob {digest} answered {finished.status_code}")


def push_test_image(
    registry: Registry | str,
    username: str,
    password: str,
    repository: str = "edgehog/test-app",
    tag: str = "1.0",
    *,
    image: TestImage | None = None,
) -> str:
    """Push a tiny image with monolithic blob uploads; return the manifest digest."""
    image = image or build_test_image()
    base = f"http://{_address(registry)}"
    with httpx.Client(auth=httpx.BasicAuth(username, password), timeout=HTTP_TIMEOUT) as client:
        for blob in (image.layer, image.config):
            _push_blob(client, base, repository, blob)
        response = client.put(
            f"{base}/v2/{repository}/manifests/{tag}",
            content=image.manifest,
            headers={"Content-Type": MANIFEST_V2},
        )
    if response.status_code != 201:
        raise RegistryError(f"pushing the manifest answered {response.status_code}")
    digest = image.manifest_digest
    reported = response.headers.get("Docker-Content-Digest")
    if reported != digest:
        raise RegistryError(f"registry reports digest {reported}, expected {digest}")
    return digest


def fetch_manifest_status(
    registry_address: str,
    repository: str,
    reference: str,
    username: str | None = None,
    password: str | None = None,
) -> int:
    """GET a manifest the way a pulling engine would; return the HTTP status."""
    auth = httpx.BasicAuth(username, password or "") if username is not None else None
    with httpx.Client(timeout=HTTP_TIMEOUT) as client:
        response = client.get(
            f"http://{registry_address}/v2/{repository}/manifests/{reference}",
            headers={"Accept": MANIFEST_ACCEPT},
            auth=auth,
        )
    return response.status_code

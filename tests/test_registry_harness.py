"""Proof that tests/registry.py runs a real registry that enforces its password."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import httpx
import pytest

from tests import registry as harness
from tests.registry import (
    MANIFEST_ACCEPT,
    MANIFEST_V2,
    Registry,
    RegistryError,
    build_test_image,
    fetch_manifest_status,
    push_test_image,
    registry_fixture,
    start_registry,
)

USERNAME = "edgehog"
PASSWORD = "s3cr?>t~pä§"
REPOSITORY = "edgehog/test-app"
TAG = "1.0"

# One registry for the module: starting one is cheap, but there is no need.
registry = registry_fixture(USERNAME, PASSWORD, scope="module")
# The shared fixture-as-factory, made visible to this module's tests.
registry_factory = harness.registry_factory


@pytest.fixture(scope="module")
def pushed(registry: Registry) -> str:
    return push_test_image(registry, USERNAME, PASSWORD, REPOSITORY, TAG)


def test_push_returns_the_manifest_digest(registry: Registry, pushed: str) -> None:
    assert pushed == build_test_image().manifest_digest
    assert pushed.startswith("sha256:") and len(pushed) == len("sha256:") + 64


def test_right_password_fetches_by_tag_and_digest(registry: Registry, pushed: str) -> None:
    assert fetch_manifest_status(registry.address, REPOSITORY, TAG, USERNAME, PASSWORD) == 200
    assert fetch_manifest_status(registry.address, REPOSITORY, pushed, USERNAME, PASSWORD) == 200


def test_wrong_password_is_refused(registry: Registry, pushed: str) -> None:
    for wrong in ["wrong", PASSWORD + "x", PASSWORD[:-1], PASSWORD.upper(), ""]:
        status = fetch_manifest_status(registry.address, REPOSITORY, TAG, USERNAME, wrong)
        assert status == 401, wrong


def test_wrong_user_is_refused(registry: Registry, pushed: str) -> None:
    assert fetch_manifest_status(registry.address, REPOSITORY, TAG, "someone", PASSWORD) == 401


def test_anonymous_is_refused(registry: Registry, pushed: str) -> None:
    assert fetch_manifest_status(registry.address, REPOSITORY, TAG) == 401


def test_unknown_manifest_is_404_not_401(registry: Registry, pushed: str) -> None:
    # A 404 after authentication shows auth and lookup are distinct steps.
    assert fetch_manifest_status(registry.address, REPOSITORY, "nope", USERNAME, PASSWORD) == 404


def test_registry_uses_the_utf8_bytes_of_the_password(registry: Registry, pushed: str) -> None:
    # Basic auth is base64("user:password") of bytes. The registry accepts the
    # UTF-8 encoding and refuses the Latin-1 one: UTF-8 is the contract.
    def status_with(raw_password: bytes) -> int:
        token = base64.b64encode(USERNAME.encode() + b":" + raw_password).decode()
        response = httpx.get(
            f"{registry.url}/v2/{REPOSITORY}/manifests/{TAG}",
            headers={"Accept": MANIFEST_ACCEPT, "Authorization": f"Basic {token}"},
            timeout=10,
        )
        return response.status_code

    assert status_with(PASSWORD.encode("utf-8")) == 200
    assert status_with(PASSWORD.encode("latin-1")) == 401


def test_manifest_and_blobs_are_what_was_pushed(registry: Registry, pushed: str) -> None:
    image = build_test_image()
    auth = httpx.BasicAuth(USERNAME, PASSWORD)
    with httpx.Client(auth=auth, timeout=10) as client:
        response = client.get(
            f"{registry.url}/v2/{REPOSITORY}/manifests/{TAG}",
            headers={"Accept": MANIFEST_ACCEPT},
        )
        assert response.status_code == 200
        assert response.headers["Content-Type"] == MANIFEST_V2
        assert response.headers["Docker-Content-Digest"] == pushed
        assert response.content == image.manifest
        manifest = json.loads(response.content)
        for descriptor in [manifest["config"], *manifest["layers"]]:
            blob = client.get(f"{registry.url}/v2/{REPOSITORY}/blobs/{descriptor['digest']}")
            assert blob.status_code == 200
            assert len(blob.content) == descriptor["size"]


@pytest.mark.parametrize(
    "password",
    [
        "plain",
        "with:colon:s",
        "?>~?>~",
        "pä§§wörd?>~",
        "пароль-🔑",
        " spaces inside and around ",
        "quote\"back\\slash'$`!*",
    ],
)
def test_passwords_that_work_end_to_end(tmp_path, password: str) -> None:
    with start_registry(tmp_path, "robot", password) as reg:
        push_test_image(reg, "robot", password, "a/b", "t")
        assert fetch_manifest_status(reg.address, "a/b", "t", "robot", password) == 200
        assert fetch_manifest_status(reg.address, "a/b", "t", "robot", password + "!") == 401
        assert fetch_manifest_status(reg.address, "a/b", "t") == 401


def test_push_with_wrong_password_fails(tmp_path) -> None:
    with (
        start_registry(tmp_path, USERNAME, PASSWORD) as reg,
        pytest.raises(RegistryError, match="answered 401"),
    ):
        push_test_image(reg, USERNAME, "wrong")


def test_stop_kills_the_process(tmp_path) -> None:
    reg = start_registry(tmp_path, USERNAME, PASSWORD)
    with reg:
        assert reg.process.poll() is None
        assert reg.started_in < 20
    assert reg.process.poll() is not None
    reg.stop()  # idempotent
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{reg.url}/v2/", timeout=2)


def test_registry_factory_fixture(
    registry_factory: Callable[[str, str], Registry],
) -> None:
    first = registry_factory("one", "pw-1?>")
    second = registry_factory("two", "pw-2~")
    assert first.address != second.address
    push_test_image(first, "one", "pw-1?>")
    assert fetch_manifest_status(first.address, REPOSITORY, TAG, "one", "pw-1?>") == 200
    assert fetch_manifest_status(second.address, REPOSITORY, TAG, "two", "pw-2~") == 404
    assert fetch_manifest_status(second.address, REPOSITORY, TAG, "one", "pw-1?>") == 401

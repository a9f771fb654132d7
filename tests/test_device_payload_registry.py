"""End to end against a real registry: the registryAuth a device reads pulls the image.

Debian's docker-registry runs locally with htpasswd auth (tests/registry.py).
Through the API only: createImageCredentials -> createApplication ->
createRelease -> createDevice -> deployRelease -> devicePayload with the
device's token. The registryAuth values are decoded strictly (base64url with
padding) and used, as a device runtime would, to fetch the manifest.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator

import pytest

from edgehog_creds.docker_auth import decode_registry_auth

from .devices_gql import (
    container,
    create_credentials,
    create_device,
    deploy,
    make_release,
    read_payload,
)
from .registry import Registry, fetch_manifest_status, push_test_image, start_registry

USERNAME = "edgehog-robot"
# `?>` and `~` make standard base64 and base64url differ; the non-ASCII
# characters check that UTF-8 survives the trip. bcrypt reads 72 bytes at most.
PASSWORD = "?>~ pä§wörd?>~ edgehog"
assert len(PASSWORD.encode("utf-8")) <= 72
REPOSITORY = "edgehog/test-app"
TAG = "1.0"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    # start_registry skips the test, with the packages to install, when they are missing.
    with start_registry(tmp_path_factory.mktemp("registry"), USERNAME, PASSWORD) as reg:
        push_test_image(reg, USERNAME, PASSWORD, REPOSITORY, TAG)
        yield reg


async def _manifest_status(registry: Registry, registry_auth: str) -> int:
    """Fetch the manifest with what the payload says, as a device runtime would."""
    if registry_auth == "":
        return await asyncio.to_thread(fetch_manifest_status, registry.address, REPOSITORY, TAG)
    auth = decode_registry_auth(registry_auth)
    return await asyncio.to_thread(
        fetch_manifest_status,
        registry.address,
        REPOSITORY,
        TAG,
        auth["username"],
        auth["password"],
    )


async def test_the_payload_pulls_with_the_right_credentials_only(tenant, pool, registry):
    reference = f"{registry.address}/{REPOSITORY}:{TAG}"
    assert reference.startswith("127.0.0.1:")
    good = await create_credentials(tenant, "local registry", USERNAME, PASSWORD)
    wrong = await create_credentials(tenant, "stale password", USERNAME, PASSWORD + "x")

    release_id = await make_release(
        tenant,
        pool,
        [
            container(reference, good["id"], hostname="app"),
            container(reference, wrong["id"]),
            container(reference),  # anonymous
        ],
    )
    device, token = await create_device(tenant, "registry-e2e", "E2E device")
    deployment = await deploy(tenant, release_id, device["id"])

    body = await read_payload(tenant, token, deployment["id"])
    assert "errors" not in body, body
    images = body["data"]["devicePayload"]["images"]
    assert [i["reference"] for i in images] == [reference] * 3

    decoded = decode_registry_auth(images[0]["registryAuth"])
    assert decoded == {
        "username": USERNAME,
        "password": PASSWORD,
        "serveraddress": registry.address,
    }
    assert decoded["serveraddress"] == f"127.0.0.1:{registry.address.rsplit(':', 1)[1]}"
    # This password is one where the alphabets differ: a standard-base64 value
    # would carry '+' or '/', which the strict decoder above refuses.
    standard = base64.b64encode(base64.urlsafe_b64decode(images[0]["registryAuth"])).decode()
    assert standard != images[0]["registryAuth"] and ("+" in standard or "/" in standard)
    assert json.loads(base64.urlsafe_b64decode(images[1]["registryAuth"]))["password"] != PASSWORD
    assert images[2]["registryAuth"] == ""

    assert await _manifest_status(registry, images[0]["registryAuth"]) == 200
    assert await _manifest_status(registry, images[1]["registryAuth"]) == 401
    assert await _manifest_status(registry, images[2]["registryAuth"]) == 401

    # The events carry the very same values, each image before its container.
    events = body["data"]["devicePayload"]["events"]
    assert [e["path"] for e in events] == ["/image", "/container"] * 3 + ["/deployment"]
    assert [e["data"]["registryAuth"] for e in events if e["path"] == "/image"] == [
        i["registryAuth"] for i in images
    ]

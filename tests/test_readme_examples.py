"""Every example in the README, run as a user would (issue 14, point 7).

Each fenced block of the README is either run here, as it is written, against
a real `edgehog-creds serve --dev` on a database of its own (only the address
127.0.0.1:4000 is replaced by the test server's), or listed in
`RUN_ELSEWHERE` with what runs it instead or why it is not a command (an
answer, a diagram). A new block that is neither fails
`test_every_block_is_run_or_accounted_for`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from graphql import parse, validate

from edgehog_creds.graphql.schema import build_schema

from .conftest import ROOT, free_port
from .live import TransportWsClient

README = (ROOT / "README.md").read_text()
CLI = str(ROOT / ".venv" / "bin" / "edgehog-creds")
README_ADDRESS = "127.0.0.1:4000"


@dataclass(frozen=True)
class Block:
    line: int
    lang: str
    text: str
    heading: str

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.heading})"


def readme_blocks() -> list[Block]:
    blocks, heading, lines = [], "", README.splitlines()
    n = 0
    while n < len(lines):
        line = lines[n]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif line.startswith("```"):
            end = next(i for i in range(n + 1, len(lines)) if lines[i].startswith("```"))
            text = "\n".join(lines[n + 1 : end]) + "\n"
            blocks.append(Block(n + 1, line[3:].strip(), text, heading))
            n = end
        n += 1
    return blocks


def block(heading: str, starts_with: str) -> Block:
    """The one block under `heading` whose text starts with `starts_with`."""
    found = [b for b in readme_blocks() if b.heading == heading and b.text.startswith(starts_with)]
    assert len(found) == 1, f"{len(found)} blocks under {heading!r} start with {starts_with!r}"
    return found[0]


# Blocks not run by this file: where they are run, or why they are not commands.
RUN_ELSEWHERE: dict[tuple[str, str], str] = {
    ("Two commands", "make run"): ".ci/run runs make test; test_the_dev_server_prints_the_block",
    ("Edgehog's web UI", "git clone"): "make edgehog-e2e builds Edgehog's frontend this way",
    (
        "Edgehog's web UI",
        "make edgehog-compat",
    ): "the make targets themselves (not CI: need Edgehog)",
    ("Performance", "make bench"): "make bench",
    ("Architecture", ""): "a diagram",
}
# Blocks that are answers, checked by the test that runs the example they answer.
ANSWERS = {
    ("Two commands", "GraphiQL:"): "test_the_dev_server_prints_the_block",
    ("A first session in GraphiQL", '{"password"'): "test_the_graphiql_session",
    ("The payload", "[{"): "test_the_payload_query_and_its_events",
    ("Errors", "{"): "test_the_error_answer",
}
RUN_HERE: set[tuple[str, str]] = set()  # filled by `runs`, below


def runs(heading: str, starts_with: str) -> Block:
    RUN_HERE.add((heading, starts_with))
    return block(heading, starts_with)


# --- a dev server as `make run` starts it ----------------------------------------


@dataclass
class DevServer:
    address: str
    token: str  # as printed
    printed: str
    env: dict[str, str]  # what a shell in the README's steps has
    dsn: str

    def api(self, slug: str = "default") -> str:
        return f"http://{self.address}/tenants/{slug}/api"

    def sh(self, script: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
        """A README block in bash, -e and pipefail, from the checkout (where the
        README's `.venv/bin/...` paths lead)."""
        script = script.replace(README_ADDRESS, self.address)
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=ROOT,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def gql(self, query: str, variables: dict[str, Any] | None = None, token: str = "") -> Any:
        response = httpx.post(
            self.api(),
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token or self.token}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return response.json()


def json_documents(text: str) -> list[Any]:
    """The JSON answers a shell printed one after another (curl adds no newline)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while (at := len(text) - len(text[at:].lstrip())) < len(text):
        document, at = decoder.raw_decode(text, at)
        found.append(document)
    return found


@pytest.fixture
def dev(fresh_database: str, tmp_path: Path) -> Iterator[DevServer]:
    """`serve --dev` (what `make run` runs) on its own database and data directory."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database,
        "EDGEHOG_CREDS_DATA_DIR": str(tmp_path / "data"),
        "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}",
    }
    proc = subprocess.Popen(
        [CLI, "serve", "--dev", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        printed, token = [], None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line and proc.poll() is not None:
                break
            printed.append(line)
            if m := re.search(r'"Bearer ([^"]+)"', line):
                token = m.group(1)
            if "Application startup complete" in line:
                break
        assert token, "".join(printed)
        address = f"127.0.0.1:{port}"
        # The lifespan has run; uvicorn listens just after it.
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"http://{address}/ready").status_code == 200:
                    break
            time.sleep(0.1)
        shell = {**env, "API": f"http://{address}/tenants/default/api", "TOKEN": token}
        yield DevServer(address, token, "".join(printed), shell, fresh_database)
    finally:
        proc.terminate()
        proc.wait(20)


# --- the blocks ----------------------------------------------------------------


def test_every_block_is_run_or_accounted_for():
    # Importing this module registered every `runs(...)` call below.
    accounted = set(RUN_ELSEWHERE) | set(ANSWERS) | RUN_HERE
    missing = [
        str(b)
        for b in readme_blocks()
        if not any(b.heading == h and b.text.startswith(s) for h, s in accounted)
    ]
    assert not missing, f"README examples no test runs: {missing}"


TWO_COMMANDS_OUTPUT = block("Two commands", "GraphiQL:")


def test_the_dev_server_prints_the_block(dev):
    expected = TWO_COMMANDS_OUTPUT.text.replace(README_ADDRESS, dev.address).splitlines()
    printed = [line for line in dev.printed.splitlines() if line]
    at = printed.index(expected[0])
    assert printed[at + 1] == expected[1]
    assert json.loads(printed[at + 2]) == {"Authorization": f"Bearer {dev.token}"}
    assert expected[2].startswith('{"Authorization": "Bearer eyJ')


GRAPHIQL_CREATE = runs("A first session in GraphiQL", "mutation Create")
GRAPHIQL_LIST = runs("A first session in GraphiQL", "{\n  listImageCredentials")


def test_the_graphiql_session(dev):
    variables = json.loads(block("A first session in GraphiQL", '{"password"').text)
    created = dev.gql(GRAPHIQL_CREATE.text, variables)
    assert "errors" not in created, created
    assert created["data"]["createImageCredentials"]["result"]["label"] == "Docker Hub bot"
    listed = dev.gql(GRAPHIQL_LIST.text)
    assert "errors" not in listed, listed
    assert [e["node"]["label"] for e in listed["data"]["listImageCredentials"]["edges"]] == [
        "Docker Hub bot"
    ]


# The dev tenant's key, where `make run` leaves it: the README's path, and the
# test server's data directory instead.
README_DEV_KEY = ".edgehog-creds/default-tenant-key.pem"
TOKEN_BLOCK = runs("Automation scripts", "export TOKEN=")
CURL_BLOCK = runs("Automation scripts", "# create")


def test_the_token_and_curl_examples(dev):
    script = TOKEN_BLOCK.text.replace(
        README_DEV_KEY, f"{dev.env['EDGEHOG_CREDS_DATA_DIR']}/default-tenant-key.pem"
    )
    done = dev.sh(script + CURL_BLOCK.text, GHCR_TOKEN="ghp_from_the_environment", TOKEN="")
    assert done.returncode == 0, done.stderr
    listed, deleted = json_documents(done.stdout)
    nodes = [e["node"] for e in listed["data"]["listImageCredentials"]["edges"]]
    assert [(n["label"], n["username"]) for n in nodes] == [("ghcr", "acme-ci")]
    assert deleted == {
        "data": {
            "deleteImageCredentials": {"result": {"label": "ghcr"}, "detachedContainerCount": 0}
        }
    }
    assert "ghp_from_the_environment" not in done.stdout


def python_example() -> str:
    section = README[README.index("## Automation scripts") :]
    found = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert found, "no Python example under Automation scripts"
    return found.group(1)


RUN_HERE.add(("Automation scripts", "import os"))


def run_python_example(dev: DevServer, token: str) -> subprocess.CompletedProcess[str]:
    code = python_example().replace(README_ADDRESS, dev.address)
    env = {**dev.env, "TOKEN": token, "HARBOR_TOKEN": "harbor-robot-secret"}
    return subprocess.run(
        [sys.executable, "-c", code + "\nprint(len(labels), created['id'])"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_python_example_runs(dev):
    done = run_python_example(dev, dev.token)
    assert done.returncode == 0, done.stderr
    count, created_id = done.stdout.split()
    assert int(count) == 1 and created_id
    # It created, listed and deleted: nothing left behind.
    conn = await asyncpg.connect(dev.dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM image_credentials") == 0
    finally:
        await conn.close()


def test_the_python_example_says_what_went_wrong(dev):
    done = run_python_example(dev, "not-a-token")
    assert done.returncode != 0
    assert "RuntimeError" in done.stderr and "unauthorized" in done.stderr
    assert "KeyError" not in done.stderr


STORY = runs("From credentials to a device: the whole story", "q() {")
PAYLOAD_QUERY = runs("The payload", "query Payload")
PAYLOAD_EVENTS = block("The payload", "[{")


def test_the_whole_story_and_the_payload(dev, tmp_path):
    # The payload example runs in the middle of the story, with the device's token.
    payload_out = tmp_path / "payload.json"
    before_start = "# 6. start and stop"
    assert before_start in STORY.text
    script = STORY.text.replace(
        before_start,
        'AS=$DEVICE_TOKEN q "$PAYLOAD_QUERY" "$(jq -n --arg id "$DEPLOYMENT" \'{id: $id}\')"'
        f" > {payload_out}\n{before_start}",
    )
    done = dev.sh(script, timeout=240, GHCR_TOKEN="ghp_story", PAYLOAD_QUERY=PAYLOAD_QUERY.text)
    assert done.returncode == 0, done.stdout + done.stderr
    # Step 5 printed the device's own images with their Docker auth.
    shown = json_documents(done.stdout)[-1]
    (image,) = shown["data"]["devicePayload"]["images"]
    assert image["reference"] == "ghcr.io/acme/gateway:1.2.0" and image["registryAuth"]

    payload = json.loads(payload_out.read_text())
    assert "errors" not in payload, payload
    events = payload["data"]["devicePayload"]["events"]
    if isinstance(events, str):
        events = json.loads(events)
    documented = json.loads(PAYLOAD_EVENTS.text.replace("…", ""))
    # The README's events are this container's, in this order, with every field.
    assert [e["interface"] for e in events] == [e["interface"] for e in documented]
    for real, shown_ in zip(events, documented, strict=True):
        assert real["path"] == shown_["path"]
        assert set(real["data"]) == set(shown_["data"]), real["interface"]
        for key, value in shown_["data"].items():
            if not isinstance(value, str) or value == "" or "gateway" in value:
                assert (
                    real["data"][key] == value
                    or key.endswith("Ids")
                    or key
                    in {
                        "binds",
                        "containers",
                    }
                ), (real["interface"], key)


VOLUME_BLOCK = runs("Volumes and networks", "curl -s $API")
NETWORK_BLOCK = runs("Volumes and networks", "mutation { createNetwork")


def commented_answer(text: str) -> Any:
    """The answer an example shows in `# ...` lines after its command."""
    return json.loads("".join(line[2:] for line in text.splitlines() if line.startswith("# ")))


def test_the_volume_and_network_examples(dev):
    done = dev.sh(VOLUME_BLOCK.text)
    assert done.returncode == 0, done.stderr
    (answer,) = json_documents(done.stdout)
    shown = commented_answer(VOLUME_BLOCK.text)
    shown["data"]["createVolume"]["result"]["id"] = answer["data"]["createVolume"]["result"]["id"]
    assert answer == shown
    create, listing = NETWORK_BLOCK.text.splitlines()  # one document a line
    created = dev.gql(create)
    assert created["data"]["createNetwork"]["result"]["driver"] == "bridge", created
    listed = dev.gql(listing)
    assert listed["data"]["networks"]["count"] == 1, listed
    assert listed["data"]["networks"]["edges"][0]["node"]["internal"] is True


DEVICE_BLOCK = runs("Devices", "DEVICE_TOKEN=$(edgehog-creds device create --tenant acme")


def test_the_device_create_example(dev, tmp_path):
    from edgehog_creds.auth import generate_tenant_key_pair

    _, public_pem = generate_tenant_key_pair()
    (tmp_path / "acme.pem").write_bytes(public_pem)
    tenant = dev.sh(f"edgehog-creds tenant create acme --public-key {tmp_path / 'acme.pem'}")
    assert tenant.returncode == 0, tenant.stderr
    done = dev.sh(DEVICE_BLOCK.text + 'printf "%s" "$DEVICE_TOKEN"')
    assert done.returncode == 0, done.stderr
    assert len(done.stdout) >= 32 and "\n" not in done.stdout


SUBSCRIPTIONS = runs("Live updates", "subscription { imageCredentials")
WEBSOCAT = runs("Live updates", "# e.g. with websocat")


async def test_the_subscription_examples(dev):
    schema = build_schema()._schema
    for document in SUBSCRIPTIONS.text.splitlines():
        assert not validate(schema, parse(document)), document
    first, by_device, changed = SUBSCRIPTIONS.text.splitlines()
    async with TransportWsClient.connected(dev.address, "default", dev.token) as ws:
        await ws.acked()
        await ws.subscribe("1", first)
        device = await asyncio.to_thread(
            dev.gql,
            'mutation { createDevice(input: {deviceId: "gw-1", name: "gw-1"}) { result { id } } }',
        )
        await ws.subscribe("2", by_device, {"id": device["data"]["createDevice"]["result"]["id"]})
        await ws.subscribe("3", changed)
        await asyncio.to_thread(
            dev.gql,
            'mutation { createImageCredentials(input: {label: "live", username: "u", '
            'password: "p"}) { result { id } } }',
        )
        message = await ws.receive()
        assert message["id"] == "1" and message["type"] == "next", message
        created = message["payload"]["data"]["imageCredentials"]["created"]
        assert created["label"] == "live" and "password" not in created


async def test_the_websocat_example(dev):
    from websockets.asyncio.client import connect

    lines = WEBSOCAT.text.splitlines()
    assert lines[1].startswith("websocat -H") and lines[1].endswith("/tenants/default/api")
    url = "ws://" + lines[1].rsplit("ws://", 1)[1].replace(README_ADDRESS, dev.address)
    typed = [line.replace("<token>", dev.token) for line in lines[2:]]
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        for line in typed:
            await ws.send(line)
        assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "connection_ack"}
        await asyncio.to_thread(
            dev.gql,
            'mutation { createImageCredentials(input: {label: "typed", username: "u", '
            'password: "p"}) { result { id } } }',
        )
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert message["payload"]["data"]["imageCredentials"]["created"] == {"label": "typed"}


IN_USE_DELETE = runs("Deleting credentials that are in use", "mutation Delete")
IN_USE_ANSWER = block("Deleting credentials that are in use", '{"data": {"devicePayload"')


def test_deleting_credentials_in_use_and_the_refused_payload(dev):
    creds = dev.gql(
        'mutation { createImageCredentials(input: {label: "ghcr", username: "acme-ci", '
        'password: "p"}) { result { id } } }'
    )["data"]["createImageCredentials"]["result"]["id"]
    containers = []
    for n in range(3):
        made = dev.gql(
            "mutation($i: CreateContainerInput!) { createContainer(input: $i) { result { id } } }",
            {
                "i": {
                    "name": f"c{n}",
                    "image": {
                        "reference": f"ghcr.io/acme/gateway:1.{n}.0",
                        "imageCredentialsId": creds,
                    },
                }
            },
        )
        assert "errors" not in made, made
        containers.append(made["data"]["createContainer"]["result"]["id"])
    # A device with a deployment of the first container, to ask for its payload after.
    release = dev.gql(
        'mutation($c: ID!) { createApplication(input: {name: "gw", initialRelease: '
        '{version: "1.0.0", containers: [{id: $c}]}}) '
        "{ result { releases { edges { node { id } } } } } }",
        {"c": containers[0]},
    )["data"]["createApplication"]["result"]["releases"]["edges"][0]["node"]["id"]
    device = dev.gql(
        'mutation { createDevice(input: {deviceId: "dev-1", name: "dev 1"}) '
        "{ result { id } deviceToken } }"
    )["data"]["createDevice"]
    deployment = dev.gql(
        "mutation($r: ID!, $d: ID!) { deployRelease(input: {releaseId: $r, deviceId: $d}) "
        "{ result { id } } }",
        {"r": release, "d": device["result"]["id"]},
    )["data"]["deployRelease"]["result"]["id"]

    document, answer = IN_USE_DELETE.text.splitlines()
    assert dev.gql(document, {"id": creds}) == json.loads(answer.removeprefix("# "))

    # The refusal the README shows is the one the device gets.
    shown = json.loads(IN_USE_ANSWER.text)
    (error,) = shown["errors"]
    assert shown["data"] == {"devicePayload": None}
    assert error["code"] == "credentials_deleted" and error["fields"] == []
    refused = dev.gql(
        "query($id: ID!) { devicePayload(deploymentId: $id) { events } }",
        {"id": deployment},
        token=device["deviceToken"],
    )
    assert refused["data"] == shown["data"]
    (real,) = refused["errors"]
    assert (real["code"], real["fields"]) == (error["code"], error["fields"])
    reference, _, rest = error["message"].partition(" (4c90…)")
    assert real["message"].startswith(reference.replace("1.2.0", "1.0.0") + " (")
    assert real["message"].endswith(rest)


RUN_HERE.add(("Deleting credentials that are in use", '{"data": {"devicePayload"'))


ERROR_ANSWER = block("Errors", "{")


def test_the_error_answer(dev):
    create = (
        'mutation { createImageCredentials(input: {label: "dup", username: "u", password: "p"}) '
        "{ result { id } } }"
    )
    dev.gql(create)
    answer = dev.gql(create)
    shown = json.loads(ERROR_ANSWER.text)
    assert answer["data"] == shown["data"]
    (real,), (documented,) = answer["errors"], shown["errors"]
    assert set(real) - {"locations"} == set(documented)
    for key in ("message", "path", "code", "fields", "short_message", "vars", "extensions"):
        assert real[key] == documented[key], key


PRODUCTION = runs("Without containers", "edgehog-creds keygen")


def test_the_production_steps(dev, tmp_path):
    from edgehog_creds.auth import generate_tenant_key_pair

    _, public_pem = generate_tenant_key_pair()
    (tmp_path / "acme-tenant-public.pem").write_bytes(public_pem)
    port = free_port()
    script = (
        PRODUCTION.text.replace("/etc/edgehog-creds", str(tmp_path / "etc"))
        .replace(
            "postgresql://edgehog_creds:...@db.internal/edgehog_creds", dev.env["DATABASE_URL"]
        )
        .replace("--host 0.0.0.0 --port 4000", f"--host 127.0.0.1 --port {port} &")
    )
    (tmp_path / "etc").mkdir()
    done = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script + "\nwait"],
        cwd=tmp_path,
        env={**dev.env, "EDGEHOG_CREDS_DATA_DIR": str(tmp_path / "data")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and done.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        assert done.poll() is None, done.communicate()
        assert (tmp_path / "etc" / "sealing.key").stat().st_mode & 0o777 == 0o600
        page = httpx.get(
            f"http://127.0.0.1:{port}/tenants/acme/api", headers={"Accept": "text/html"}
        )
        assert "graphiql" not in page.text.lower()  # EDGEHOG_CREDS_GRAPHIQL=0
    finally:
        os.killpg(done.pid, 15)
        done.wait(20)


RUN_ELSEWHERE[("Tests", "make test")] = (
    ".ci/run runs make lint, make test, and the suite on TEST_DATABASE_URL with each engine; "
    "tests/test_schema.py checks that make schema has nothing to change"
)


RUN_ELSEWHERE[("Scaling: workers and instances", "edgehog-creds serve")] = (
    "tests/test_serve_workers.py runs serve --workers 2 (the line is checked below)"
)


def test_the_workers_line_is_what_the_workers_test_runs():
    (line,) = block("Scaling: workers and instances", "edgehog-creds serve").text.splitlines()
    assert line.endswith("--workers 2")
    assert '"--workers", "2"' in (ROOT / "tests" / "test_serve_workers.py").read_text()


COMPOSE_SECTION = "With Docker Compose"
for _start in (
    "umask 077  ",
    "mkdir -p tenant-keys",
    "TOKEN=$(docker compose",
    "umask 077\ndocker",
):
    RUN_ELSEWHERE[(COMPOSE_SECTION, _start)] = "tests/test_compose.py runs them (checked below)"


def compose_steps() -> list[str]:
    """The steps at the top of compose.yaml, which tests/test_compose.py runs as written."""
    text = (ROOT / "compose.yaml").read_text()
    return [line[4:].strip() for line in text.splitlines() if line.startswith("#   ")]


def test_every_compose_command_is_one_test_compose_runs():
    steps = compose_steps()
    blocks = [b for b in readme_blocks() if b.heading == COMPOSE_SECTION]
    assert len(blocks) == 4, [str(b) for b in blocks]
    for b in blocks:
        for line in b.text.splitlines():
            command = line.split("  #")[0].strip()
            if command.startswith("TOKEN=$("):  # the test reads the token the step prints
                command = command.removeprefix("TOKEN=$(").removesuffix(")")
            assert command in steps, f"{b}: {command!r} is not a step of compose.yaml"

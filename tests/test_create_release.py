"""createRelease: containers in order, every validation rule, uniqueness, immutability."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import pytest

from edgehog_creds.devices.tokens import new_device_token
from edgehog_creds.domain import text as validate
from edgehog_creds.domain.errors import Invalid
from edgehog_creds.graphql.relay import to_global_id

from .gql import create as create_credentials
from .releases_gql import (
    CREATE_RELEASE,
    RELEASE,
    container,
    create_application,
    create_release,
    nodes,
    problems,
    uuid_of,
)

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    id
    ... on Release { version }
    ... on Container { hostname image { reference } }
    ... on Image { reference credentials { label } }
  }
}
"""

DIGEST = "sha256:" + "a" * 64


async def test_creates_release_with_containers_in_order(tenant, pool):
    credentials = await create_credentials(tenant, "registry")
    app = await create_application(tenant, "station")
    full = container(
        "registry.example.com:5000/team/app:1.4",
        credentials["id"],
        hostname="station-1",
        restartPolicy="unless-stopped",
        env=[{"key": "MODE", "value": "prod"}, {"key": "GREETING", "value": "a=b\nc"}],
        portBindings=["8080:80/tcp", "127.0.0.1::9000", "[::1]:53:53/udp"],
        binds=["/data:/var/lib/app:ro", "logs:/var/log"],
        networkMode="host",
        extraHosts=["db:10.0.0.2", "v6:fe80::1"],
        capAdd=["NET_ADMIN"],
        capDrop=["ALL"],
        privileged=True,
        readOnlyRootfs=True,
        cpuPeriod=100000,
        cpuQuota=-1,
        cpuRealtimePeriod=1000000,
        cpuRealtimeRuntime=950000,
        memory=2**40,
        memoryReservation=2**62,
        memorySwap=-1,
        memorySwappiness=60,
        volumeDriver="local",
        storageOpt=["size=120G"],
        tmpfs=["/run:rw,size=64m"],
    )
    release = await create_release(
        tenant, app["id"], "1.0.0-rc.1+build.5", [full, container("nginx")]
    )

    assert release["version"] == "1.0.0-rc.1+build.5"
    assert release["application"] == {"id": app["id"], "name": "station"}
    connection = release["containers"]
    assert connection["count"] == 2
    first, second = nodes(connection)
    assert first["image"]["reference"] == "registry.example.com:5000/team/app:1.4"
    assert first["image"]["credentials"] == {"id": credentials["id"], "label": "registry"}
    assert first["imageCredentials"] == first["image"]["credentials"]
    assert first["credentialsDeleted"] is False
    assert first["release"] == {"id": release["id"], "version": "1.0.0-rc.1+build.5"}
    assert {k: first[k] for k in full if k != "image"} == {
        **{k: v for k, v in full.items() if k != "image"},
        # -1 means unset, as in Edgehog: stored as NULL, read back as null.
        "cpuQuota": None,
        "memorySwap": None,
    }
    assert first["memory"] == 1099511627776 and first["memoryReservation"] == 4611686018427387904
    assert first["id"] != first["image"]["id"]

    # A public image: no credentials, and Docker's defaults everywhere.
    assert second["image"] == {
        "id": second["image"]["id"],
        "reference": "nginx",
        "credentials": None,
    }
    assert second["imageCredentials"] is None and second["credentialsDeleted"] is False
    assert {k: second[k] for k in ("hostname", "restartPolicy", "networkMode", "volumeDriver")} == {
        "hostname": "",
        "restartPolicy": "",
        "networkMode": "",
        "volumeDriver": "",
    }
    for key in ("env", "portBindings", "binds", "extraHosts", "capAdd", "capDrop", "tmpfs"):
        assert second[key] == []
    assert second["privileged"] is False and second["readOnlyRootfs"] is False
    assert second["memory"] is None and second["memorySwappiness"] is None

    # Stored in order, in the tenant, with the credentials named by id.
    rows = await pool.fetch(
        "SELECT tenant_id, position, image_reference, image_credentials_id, env, memory"
        " FROM containers WHERE release_id = $1 ORDER BY position",
        uuid_of(release["id"]),
    )
    assert [(r["tenant_id"], r["position"], r["image_reference"]) for r in rows] == [
        (tenant.id, 0, "registry.example.com:5000/team/app:1.4"),
        (tenant.id, 1, "nginx"),
    ]
    assert rows[0]["image_credentials_id"] == uuid_of(credentials["id"])
    assert rows[1]["image_credentials_id"] is None
    assert json.loads(rows[0]["env"]) == full["env"]
    assert rows[0]["memory"] == 2**40

    audit = await pool.fetchrow(
        "SELECT actor, action, entity_type, details FROM audit_events"
        " WHERE tenant_id = $1 AND entity_id = $2",
        tenant.id,
        uuid_of(release["id"]),
    )
    assert (audit["actor"], audit["action"], audit["entity_type"]) == (
        "tester",
        "create",
        "Release",
    )
    assert json.loads(audit["details"]) == {
        "version": "1.0.0-rc.1+build.5",
        "application_id": str(uuid_of(app["id"])),
        "containers": 2,
        "image_credentials_ids": [str(uuid_of(credentials["id"]))],
    }


async def test_release_and_its_parts_are_nodes(tenant):
    credentials = await create_credentials(tenant, "hub")
    app = await create_application(tenant)
    release = await create_release(
        tenant, app["id"], "2.0.0", [container("nginx", credentials["id"], hostname="web")]
    )
    (node,) = nodes(release["containers"])

    assert (await tenant.gql(NODE, {"id": release["id"]}))["data"]["node"] == {
        "id": release["id"],
        "version": "2.0.0",
    }
    assert (await tenant.gql(NODE, {"id": node["id"]}))["data"]["node"] == {
        "id": node["id"],
        "hostname": "web",
        "image": {"reference": "nginx"},
    }
    assert (await tenant.gql(NODE, {"id": node["image"]["id"]}))["data"]["node"] == {
        "id": node["image"]["id"],
        "reference": "nginx",
        "credentials": {"label": "hub"},
    }
    body = await tenant.gql(RELEASE, {"id": release["id"]})
    assert body["data"]["release"] == release


async def test_a_release_may_have_no_containers(tenant):
    app = await create_application(tenant)
    release = await create_release(tenant, app["id"], "0.1.0", [])
    assert release["containers"]["count"] == 0 and release["containers"]["edges"] == []


async def test_reports_every_problem_of_the_input_at_once(tenant, other_tenant, pool):
    app = await create_application(tenant)
    foreign = await create_credentials(other_tenant, "theirs")
    unknown = to_global_id("ImageCredentials", uuid.uuid4())
    body = await tenant.gql(
        CREATE_RELEASE,
        {
            "input": {
                "applicationId": app["id"],
                "version": "1.0",
                "containers": [
                    container("Team/App", "garbage"),
                    container(
                        "nginx:1.25",
                        foreign["id"],
                        restartPolicy="sometimes",
                        env=[
                            {"key": "", "value": "x"},
                            {"key": "A=B", "value": ""},
                            {"key": "OK", "value": "1"},
                            {"key": "OK", "value": "2"},
                            {"key": "NUL", "value": "a\x00b"},
                        ],
                    ),
                    container(
                        f"registry.example.com:5000/team/app@{DIGEST}",
                        unknown,
                        hostname="bad_host!",
                        portBindings=["8080:80/tcp", "99999:80", "abc"],
                        binds=["relative"],
                        extraHosts=["nohost"],
                        capAdd=["NET ADMIN"],
                        storageOpt=["size"],
                        tmpfs=["run"],
                        memory=-5,
                        memorySwappiness=101,
                        cpuQuota=-1,
                    ),
                ],
            }
        },
    )
    assert body["data"] == {"createRelease": None}
    assert problems(body) == sorted(
        [
            ("invalid", "version"),
            ("invalid", "containers.0.image.reference"),
            ("invalid_primary_key", "containers.0.image.imageCredentialsId"),
            ("not_found", "containers.1.image.imageCredentialsId"),
            ("invalid", "containers.1.restartPolicy"),
            ("required", "containers.1.env.0.key"),
            ("invalid", "containers.1.env.1.key"),
            ("invalid", "containers.1.env.3.key"),
            ("invalid", "containers.1.env.4.value"),
            ("not_found", "containers.2.image.imageCredentialsId"),
            ("invalid", "containers.2.hostname"),
            ("invalid", "containers.2.portBindings.1"),
            ("invalid", "containers.2.portBindings.2"),
            ("invalid", "containers.2.binds.0"),
            ("invalid", "containers.2.extraHosts.0"),
            ("invalid", "containers.2.capAdd.0"),
            ("invalid", "containers.2.storageOpt.0"),
            ("invalid", "containers.2.tmpfs.0"),
            ("invalid", "containers.2.memory"),
            ("invalid", "containers.2.memorySwappiness"),
        ]
    )
    by_field = {e["fields"][0]: e for e in body["errors"]}
    assert by_field["containers.0.image.reference"]["short_message"] == (
        "is not a valid Docker image reference: repository name must be lowercase"
    )
    assert by_field["version"]["message"].startswith("version is not a valid Semantic Version")
    assert all(e["path"] == ["createRelease"] for e in body["errors"])
    # Nothing was written.
    assert await pool.fetchval("SELECT count(*) FROM releases WHERE tenant_id = $1", tenant.id) == 0


async def test_unknown_or_foreign_application_is_not_found(tenant, other_tenant):
    theirs = await create_application(other_tenant)
    for application_id in (theirs["id"], to_global_id("Application", uuid.uuid4())):
        body = await tenant.gql(
            CREATE_RELEASE,
            {"input": {"applicationId": application_id, "version": "1.0.0", "containers": []}},
        )
        assert body["data"] == {"createRelease": None}
        assert problems(body) == [("not_found", "applicationId")]


async def test_undecodable_ids_are_invalid_primary_keys(tenant):
    credentials = await create_credentials(tenant, "c")
    app = await create_application(tenant)
    for application_id in ("%%%", credentials["id"]):  # garbage, and an id of another type
        body = await tenant.gql(
            CREATE_RELEASE,
            {"input": {"applicationId": application_id, "version": "1.0.0", "containers": []}},
        )
        assert problems(body) == [("invalid_primary_key", "applicationId")]
    body = await tenant.gql(
        CREATE_RELEASE,
        {
            "input": {
                "applicationId": app["id"],
                "version": "1.0.0",
                "containers": [container("nginx", app["id"])],  # an Application id
            }
        },
    )
    assert problems(body) == [("invalid_primary_key", "containers.0.image.imageCredentialsId")]


async def test_versions_are_unique_per_application(tenant):
    app = await create_application(tenant, "a")
    other = await create_application(tenant, "b")
    await create_release(tenant, app["id"], "1.0.0")
    await create_release(tenant, other["id"], "1.0.0")  # another application: fine

    body = await tenant.gql(
        CREATE_RELEASE, {"input": {"applicationId": app["id"], "version": "1.0.0"}}
    )
    assert body["data"] == {"createRelease": None}
    assert problems(body) == [("unique", "version")]
    assert body["errors"][0]["message"] == "version has already been taken"

    # Reported together with the input's other problems.
    body = await tenant.gql(
        CREATE_RELEASE,
        {
            "input": {
                "applicationId": app["id"],
                "version": "1.0.0",
                "containers": [container("not a reference")],
            }
        },
    )
    assert problems(body) == [("invalid", "containers.0.image.reference"), ("unique", "version")]


async def test_concurrent_creates_of_one_version_yield_one_release(tenant, pool):
    app = await create_application(tenant)
    variables = {"input": {"applicationId": app["id"], "version": "3.0.0", "containers": []}}
    bodies = await asyncio.gather(*(tenant.gql(CREATE_RELEASE, variables) for _ in range(6)))
    created = [b for b in bodies if "errors" not in b]
    refused = [b for b in bodies if "errors" in b]
    assert len(created) == 1
    assert [problems(b) for b in refused] == [[("unique", "version")]] * 5
    assert await pool.fetchval("SELECT count(*) FROM releases WHERE tenant_id = $1", tenant.id) == 1


@pytest.mark.parametrize(
    "version",
    [
        "0.0.0",
        "1.2.3",
        "10.20.30",
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-0.3.7",
        "1.0.0-x.7.z.92",
        "1.0.0-x-y-z.--",
        "1.0.0+20130313144700",
        "1.0.0-beta+exp.sha.5114f85",
        "1.0.0+21AF26D3----117B344092BD",
    ],
)
def test_semantic_versions_accepted(version):
    assert validate.semver("version", version) == version


@pytest.mark.parametrize(
    "version",
    [
        "1",
        "1.2",
        "v1.2.3",
        "01.2.3",
        "1.02.3",
        "1.2.3-01",
        "1.2.3-",
        "1.2.3+",
        "1.2.3-alpha..1",
        "1.2.3+build..1",
        " 1.2.3",
        "1.2.3\n",
        "١.2.3",  # an Arabic-Indic digit: \d would take it, SemVer does not
        "1.2.3.4",
    ],
)
def test_semantic_versions_refused(version):
    with pytest.raises(Invalid) as raised:
        validate.semver("version", version)
    assert (raised.value.code, raised.value.field) == ("invalid", "version")


async def test_empty_version_is_required(tenant):
    app = await create_application(tenant)
    body = await tenant.gql(CREATE_RELEASE, {"input": {"applicationId": app["id"], "version": ""}})
    assert problems(body) == [("required", "version")]


async def test_limits_beyond_64_bits_are_refused_by_the_scalar(tenant, pool):
    app = await create_application(tenant)
    body = await tenant.gql(
        CREATE_RELEASE,
        {
            "input": {
                "applicationId": app["id"],
                "version": "1.0.0",
                "containers": [container("nginx", memory=2**63)],
            }
        },
    )
    assert body["data"] is None
    assert len(body["errors"]) == 1
    assert "BigInt" in body["errors"][0]["message"]
    assert await pool.fetchval("SELECT count(*) FROM releases WHERE tenant_id = $1", tenant.id) == 0


async def test_releases_and_containers_are_immutable_in_the_database(tenant, pool):
    app = await create_application(tenant)
    release = await create_release(tenant, app["id"], "1.0.0", [container("nginx")])
    release_id = uuid_of(release["id"])
    with pytest.raises(asyncpg.RestrictViolationError, match="immutable"):
        await pool.execute("UPDATE releases SET version = '9.9.9' WHERE id = $1", release_id)
    with pytest.raises(asyncpg.RestrictViolationError, match="immutable"):
        await pool.execute(
            "UPDATE containers SET image_reference = 'evil' WHERE release_id = $1", release_id
        )
    body = await tenant.gql(RELEASE, {"id": release["id"]})
    assert body["data"]["release"]["version"] == "1.0.0"
    assert nodes(body["data"]["release"]["containers"])[0]["image"]["reference"] == "nginx"


async def test_a_token_without_subject_is_recorded_as_no_actor(tenant, pool):
    app = await create_application(tenant)
    token = tenant.mint(subject=None)
    body = await tenant.gql(
        CREATE_RELEASE, {"input": {"applicationId": app["id"], "version": "1.0.0"}}, token=token
    )
    assert "errors" not in body
    actor = await pool.fetchval(
        "SELECT actor FROM audit_events WHERE tenant_id = $1 AND entity_type = 'Release'",
        tenant.id,
    )
    assert actor is None


async def test_limits_may_be_written_as_literals(tenant):
    app = await create_application(tenant)
    body = await tenant.gql(
        """
        mutation($app: ID!) {
          createRelease(input: {applicationId: $app, version: "1.0.0", containers: [
            {image: {reference: "nginx"}, memory: 1099511627776, cpuQuota: -1,
             memorySwappiness: 0}
          ]}) {
            result { containers { edges { node { memory cpuQuota memorySwappiness } } } }
          }
        }
        """,
        {"app": app["id"]},
    )
    assert "errors" not in body, body
    (node,) = nodes(body["data"]["createRelease"]["result"]["containers"])
    assert node == {"memory": 1099511627776, "cpuQuota": None, "memorySwappiness": 0}


async def test_devices_may_not_read_or_write_releases(tenant, pool):
    app = await create_application(tenant)
    release = await create_release(tenant, app["id"], "1.0.0")
    token, token_hash = new_device_token()
    await pool.execute(
        "INSERT INTO devices (tenant_id, device_id, name, token_hash) VALUES ($1, $2, 'gw', $3)",
        tenant.id,
        "device-under-test",
        token_hash,
    )
    as_device = token.reveal()
    body = await tenant.gql(RELEASE, {"id": release["id"]}, token=as_device)
    assert body["data"] == {"release": None}
    assert [e["code"] for e in body["errors"]] == ["forbidden"]
    body = await tenant.gql(
        CREATE_RELEASE,
        {"input": {"applicationId": app["id"], "version": "2.0.0"}},
        token=as_device,
    )
    assert body["data"] == {"createRelease": None}
    assert [e["code"] for e in body["errors"]] == ["forbidden"]
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM releases WHERE application_id = $1", uuid_of(app["id"])
        )
        == 1
    )

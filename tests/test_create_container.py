"""createContainer, updateContainer, container(id), containers: every rule of a container.

A container is a resource of its own (Edgehog's model): named, made once
with its image, Docker settings, volumes, networks, device mappings and
device requests, and never changed but for its name. Releases list
containers by id (test_create_release.py).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import pytest

from edgehog_creds.devices.tokens import new_device_token
from edgehog_creds.graphql.relay import to_global_id

from .gql import DELETE as DELETE_CREDENTIALS
from .gql import create as create_credentials
from .releases_gql import container, create_application, create_release, nodes, problems, uuid_of

DIGEST = "sha256:" + "a" * 64
INT64_MAX = 2**63 - 1

FIELDS = """
  id name imageId
  image { id reference imageCredentialsId credentialsDeleted credentials { id label } }
  imageCredentials { id label }
  credentialsDeleted
  hostname restartPolicy env { key value } portBindings binds networkMode extraHosts
  capAdd capDrop privileged readOnlyRootfs cpuPeriod cpuQuota cpuRealtimePeriod
  cpuRealtimeRuntime memory memoryReservation memorySwap memorySwappiness volumeDriver
  storageOpt tmpfs
  containerVolumes { count edges { node { id target volumeId } } }
  networks { count edges { node { id } } }
  deviceMappings { count edges { node {
    id pathOnHost pathInContainer cgroupPermissions containerId
  } } }
  deviceRequests { count edges { node {
    id driver count deviceIds capabilities options containerId
  } } }
  releases { count }
"""

CREATE = f"""
mutation Create($input: CreateContainerInput!) {{
  createContainer(input: $input) {{
    result {{ {FIELDS} }}
    errors {{ code fields message shortMessage }}
  }}
}}
"""

UPDATE = """
mutation Update($id: ID!, $input: UpdateContainerInput) {
  updateContainer(id: $id, input: $input) {
    result { id name hostname image { reference } }
    errors { code fields }
  }
}
"""

GET = f"query Get($id: ID!) {{ container(id: $id) {{ {FIELDS} }} }}"

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Container { name hostname image { reference } }
    ... on Image { reference credentials { label } }
  }
}
"""

LIST = """
query List($first: Int, $last: Int, $after: String, $before: String,
           $sort: [ContainerSortInput], $filter: ContainerFilterInput) {
  containers(first: $first, last: $last, after: $after, before: $before,
             sort: $sort, filter: $filter) {
    count
    pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
    edges { cursor node { id name image { reference } } }
  }
}
"""

CREATE_VOLUME = """
mutation($input: CreateVolumeInput!) {
  createVolume(input: $input) { result { id label } errors { code } }
}
"""

CREATE_NETWORK = """
mutation($input: CreateNetworkInput) {
  createNetwork(input: $input) { result { id label } errors { code } }
}
"""

# Everything a container can say, every setting set (in input spelling).
FULL_SETTINGS: dict[str, Any] = {
    "hostname": "station-1",
    "restartPolicy": "unless_stopped",
    "env": [{"key": "MODE", "value": "prod"}, {"key": "GREETING", "value": "a=b\nc\td"}],
    "portBindings": ["8080:80/tcp", "127.0.0.1::9000", "[::1]:53:53/udp", "7000-7002:7000-7002"],
    "binds": ["/data:/var/lib/app:ro", "logs:/var/log"],
    "networkMode": "host",
    "extraHosts": ["db:10.0.0.2", "v6:fe80::1"],
    "capAdd": ["NET_ADMIN", "CAP_SYS_TIME"],
    "capDrop": ["ALL"],
    "privileged": True,
    "readOnlyRootfs": True,
    "cpuPeriod": 100000,
    "cpuQuota": 50000,
    "cpuRealtimePeriod": 1000000,
    "cpuRealtimeRuntime": 950000,
    "memory": 2**40,  # above 2^31: needs the 64-bit scalar
    "memoryReservation": 2**30,
    "memorySwap": 2**41,
    "memorySwappiness": 60,
    "volumeDriver": "local",
    "storageOpt": ["size=120G"],
    "tmpfs": ["/run:rw,size=64m"],
}

# What a container that sets nothing says: Docker's (and Edgehog's) defaults.
DEFAULTS: dict[str, Any] = {
    "hostname": "",
    "restartPolicy": "",
    "env": [],
    "portBindings": [],
    "binds": [],
    "networkMode": "bridge",
    "extraHosts": [],
    "capAdd": [],
    "capDrop": [],
    "privileged": False,
    "readOnlyRootfs": False,
    "cpuPeriod": None,
    "cpuQuota": None,
    "cpuRealtimePeriod": None,
    "cpuRealtimeRuntime": None,
    "memory": None,
    "memoryReservation": None,
    "memorySwap": None,
    "memorySwappiness": None,
    "volumeDriver": "",
    "storageOpt": [],
    "tmpfs": [],
}


async def create_raw(tenant, given: dict[str, Any], name: str | None = None) -> dict:
    """The whole response of createContainer; `name` defaults to a fresh one."""
    name = name if name is not None else f"c-{uuid.uuid4().hex[:10]}"
    return await tenant.gql(CREATE, {"input": {"name": name, **given}})


async def create(tenant, given: dict[str, Any], name: str | None = None) -> dict:
    body = await create_raw(tenant, given, name)
    assert "errors" not in body, body
    return body["data"]["createContainer"]["result"]


async def create_volume(tenant, label: str, **fields: Any) -> str:
    body = await tenant.gql(CREATE_VOLUME, {"input": {"label": label, **fields}})
    assert "errors" not in body, body
    return body["data"]["createVolume"]["result"]["id"]


async def create_network(tenant, label: str, **fields: Any) -> str:
    body = await tenant.gql(CREATE_NETWORK, {"input": {"label": label, **fields}})
    assert "errors" not in body, body
    return body["data"]["createNetwork"]["result"]["id"]


def settings_of(node: dict) -> dict[str, Any]:
    return {k: node[k] for k in DEFAULTS}


async def count_rows(pool, table: str, tenant) -> int:
    return await pool.fetchval(f"SELECT count(*) FROM {table} WHERE tenant_id = $1", tenant.id)


# --- creating one -----------------------------------------------------------------


async def test_creates_a_container_with_every_setting(tenant, pool):
    credentials = await create_credentials(tenant, "registry")
    made = await create(
        tenant,
        container("registry.example.com:5000/team/app:1.4", credentials["id"], **FULL_SETTINGS),
        name="  station  ",  # trimmed
    )

    assert made["name"] == "station"
    assert settings_of(made) == FULL_SETTINGS
    assert made["memory"] == 1099511627776 and made["memorySwap"] == 2199023255552
    assert made["image"] == {
        "id": made["imageId"],
        "reference": "registry.example.com:5000/team/app:1.4",
        "imageCredentialsId": credentials["id"],
        "credentialsDeleted": False,
        "credentials": {"id": credentials["id"], "label": "registry"},
    }
    assert made["imageCredentials"] == made["image"]["credentials"]
    assert made["credentialsDeleted"] is False
    assert made["id"] != made["imageId"]
    assert made["releases"] == {"count": 0}
    for children in ("containerVolumes", "networks", "deviceMappings", "deviceRequests"):
        assert made[children] == {"count": 0, "edges": []}
    # Read back as written, by id.
    assert (await tenant.gql(GET, {"id": made["id"]}))["data"]["container"] == made

    # Stored in the tenant, the image by id, the environment as JSON, limits as bigint.
    row = await pool.fetchrow(
        "SELECT c.tenant_id, c.name, c.env, c.memory, c.restart_policy, i.reference,"
        " i.image_credentials_id FROM containers c JOIN images i"
        " ON i.tenant_id = c.tenant_id AND i.id = c.image_id WHERE c.id = $1",
        uuid_of(made["id"]),
    )
    assert (row["tenant_id"], row["name"], row["memory"]) == (tenant.id, "station", 2**40)
    assert row["restart_policy"] == "unless_stopped"
    assert json.loads(row["env"]) == FULL_SETTINGS["env"]
    assert row["reference"] == "registry.example.com:5000/team/app:1.4"
    assert row["image_credentials_id"] == uuid_of(credentials["id"])

    audit = await pool.fetchrow(
        "SELECT actor, action, entity_type, details FROM audit_events"
        " WHERE tenant_id = $1 AND entity_id = $2",
        tenant.id,
        uuid_of(made["id"]),
    )
    assert (audit["actor"], audit["action"], audit["entity_type"]) == (
        "tester",
        "create",
        "Container",
    )
    assert json.loads(audit["details"]) == {
        "name": "station",
        "image": "registry.example.com:5000/team/app:1.4",
        "image_credentials_id": str(uuid_of(credentials["id"])),
    }


async def test_unset_settings_take_dockers_defaults(tenant, pool):
    made = await create(tenant, container("nginx"))
    assert settings_of(made) == DEFAULTS
    assert made["image"]["credentials"] is None and made["image"]["imageCredentialsId"] is None
    assert made["imageCredentials"] is None and made["credentialsDeleted"] is False
    # Explicit nulls and empty lists are the same as leaving a setting out.
    explicit = await create(
        tenant, container("nginx", **{k: None for k in DEFAULTS}, volumes=[], networks=[])
    )
    assert settings_of(explicit) == DEFAULTS
    # Unset network mode is stored as "bridge", as Edgehog stores it.
    stored = await pool.fetch(
        "SELECT network_mode, restart_policy, memory_swap FROM containers WHERE tenant_id = $1",
        tenant.id,
    )
    assert [tuple(r) for r in stored] == [("bridge", "", None)] * 2


async def test_a_container_and_its_image_are_nodes(tenant):
    credentials = await create_credentials(tenant, "hub")
    made = await create(tenant, container("nginx", credentials["id"], hostname="web"), "web")
    body = await tenant.gql(NODE, {"id": made["id"]})
    assert body["data"]["node"] == {
        "__typename": "Container",
        "id": made["id"],
        "name": "web",
        "hostname": "web",
        "image": {"reference": "nginx"},
    }
    body = await tenant.gql(NODE, {"id": made["imageId"]})
    assert body["data"]["node"] == {
        "__typename": "Image",
        "id": made["imageId"],
        "reference": "nginx",
        "credentials": {"label": "hub"},
    }
    missing = to_global_id("Container", uuid.uuid4())
    assert (await tenant.gql(GET, {"id": missing})) == {"data": {"container": None}}
    body = await tenant.gql(GET, {"id": "nope"})
    assert body["data"] == {"container": None}
    assert problems(body) == [("invalid_primary_key", "id")]


async def test_reports_every_problem_of_the_input_at_once(tenant, other_tenant, pool):
    foreign = await create_credentials(other_tenant, "theirs")
    foreign_volume = await create_volume(other_tenant, "theirs")
    body = await create_raw(
        tenant,
        {
            "image": {"reference": "Team/App", "imageCredentialsId": foreign["id"]},
            "restartPolicy": "sometimes",
            "env": [
                {"key": "", "value": "x"},
                {"key": "A=B", "value": ""},
                {"key": "OK", "value": "1"},
                {"key": "OK", "value": "2"},
                {"key": "NUL", "value": "a\x00b"},
            ],
            "hostname": "bad_host!",
            "portBindings": ["8080:80/tcp", "99999:80", "abc", "90-80:80"],
            "binds": ["relative", "/host:relative"],
            "extraHosts": ["nohost"],
            "capAdd": ["NET ADMIN"],
            "capDrop": [""],
            "storageOpt": ["size"],
            "tmpfs": ["run"],
            "memory": -5,
            "memorySwappiness": 101,
            "cpuQuota": -1,  # unset: fine
            "volumes": [
                {"id": foreign_volume, "target": "relative"},
                {"id": to_global_id("Volume", uuid.uuid4()), "target": "/data"},
            ],
            "networks": [{"id": to_global_id("Network", uuid.uuid4())}],
            "deviceMappings": [
                {
                    "pathOnHost": "dev/ttyUSB0",
                    "pathInContainer": "/dev/x",
                    "cgroupPermissions": "rwx",
                }
            ],
            "deviceRequests": [{"count": -2, "options": "[1]", "deviceIds": [""]}],
        },
        name="",
    )
    assert body["data"] == {"createContainer": None}
    assert problems(body) == sorted(
        [
            ("required", "name"),
            ("invalid", "image.reference"),
            ("not_found", "image.imageCredentialsId"),
            ("invalid", "restartPolicy"),
            ("required", "env.0.key"),
            ("invalid", "env.1.key"),
            ("invalid", "env.3.key"),
            ("invalid", "env.4.value"),
            ("invalid", "hostname"),
            ("invalid", "portBindings.1"),
            ("invalid", "portBindings.2"),
            ("invalid", "portBindings.3"),
            ("invalid", "binds.0"),
            ("invalid", "binds.1"),
            ("invalid", "extraHosts.0"),
            ("invalid", "capAdd.0"),
            ("invalid", "capDrop.0"),
            ("invalid", "storageOpt.0"),
            ("invalid", "tmpfs.0"),
            ("invalid", "memory"),
            ("invalid", "memorySwappiness"),
            ("not_found", "volumes.0.id"),
            ("invalid", "volumes.0.target"),
            ("not_found", "volumes.1.id"),
            ("not_found", "networks.0.id"),
            ("invalid", "deviceMappings.0.pathOnHost"),
            ("invalid", "deviceMappings.0.cgroupPermissions"),
            ("invalid", "deviceRequests.0.count"),
            ("invalid", "deviceRequests.0.options"),
            ("required", "deviceRequests.0.deviceIds.0"),
        ]
    )
    by_field = {e["fields"][0]: e for e in body["errors"]}
    # The message is the short message alone (Edgehog's UI prints the fields before it).
    assert by_field["image.reference"]["message"] == (
        "is not a valid Docker image reference: repository name must be lowercase"
    )
    assert by_field["image.reference"]["short_message"] == by_field["image.reference"]["message"]
    assert by_field["env.3.key"]["message"] == "is set more than once"
    assert by_field["restartPolicy"]["message"] == (
        "must be one of: no, always, on_failure, unless_stopped"
    )
    assert all(e["path"] == ["createContainer"] for e in body["errors"])
    # Nothing was written.
    for table in ("containers", "images", "device_mappings", "device_requests", "audit_events"):
        assert await count_rows(pool, table, tenant) == 0, table


async def test_a_taken_name_is_reported_with_the_other_problems(tenant, pool):
    await create(tenant, container("nginx"), name="web")
    body = await create_raw(tenant, container("nginx", hostname="bad host"), name="web")
    assert problems(body) == [("invalid", "hostname"), ("unique", "name")]
    unique = next(e for e in body["errors"] if e["code"] == "unique")
    assert unique["message"] == "has already been taken"
    assert await count_rows(pool, "containers", tenant) == 1


async def test_undecodable_ids_are_invalid_primary_keys(tenant):
    app = await create_application(tenant)
    body = await create_raw(
        tenant,
        {
            "image": {"reference": "nginx", "imageCredentialsId": app["id"]},  # another type
            "volumes": [{"id": "%%%", "target": "/data"}],
            "networks": [{"id": app["id"]}],
        },
    )
    assert problems(body) == [
        ("invalid_primary_key", "image.imageCredentialsId"),
        ("invalid_primary_key", "networks.0.id"),
        ("invalid_primary_key", "volumes.0.id"),
    ]
    body = await create_raw(tenant, {"image": {"id": "garbage"}})
    assert problems(body) == [("invalid_primary_key", "image.id")]
    body = await create_raw(
        tenant,
        container("nginx", "garbage", memory=-7),  # reported with the rest
    )
    assert problems(body) == [
        ("invalid", "memory"),
        ("invalid_primary_key", "image.imageCredentialsId"),
    ]


async def test_an_image_is_required(tenant):
    body = await create_raw(tenant, {})
    assert problems(body) == [("required", "image")]
    body = await create_raw(tenant, {"image": {}})
    assert problems(body) == [("required", "image.reference")]
    body = await create_raw(tenant, {"image": {"reference": ""}})
    assert problems(body) == [("required", "image.reference")]


@pytest.mark.parametrize(
    "reference",
    [
        "nginx",
        "nginx:1.27",
        "library/nginx:latest",
        "docker.io/library/nginx",
        "registry.example.com:5000/team/app:1.4",
        "localhost/app",
        f"ghcr.io/o/i@{DIGEST}",
        f"reg.example/a/b/c:tag-1.2_3@{DIGEST}",
    ],
)
async def test_image_references_accepted_as_written(tenant, reference):
    made = await create(tenant, container(reference))
    assert made["image"]["reference"] == reference


@pytest.mark.parametrize(
    "reference",
    ["Team/App", "nginx:", "nginx:bad tag", "reg.example/a@sha256:short", "a//b", " nginx"],
)
async def test_image_references_refused(tenant, reference):
    body = await create_raw(tenant, container(reference))
    assert problems(body) == [("invalid", "image.reference")]
    assert body["errors"][0]["message"].startswith("is not a valid Docker image reference")


# --- names and renames ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("", ("required", "name")),
        ("   ", ("required", "name")),
        ("x" * 256, ("too_long", "name")),
        ("tab\there", ("invalid", "name")),
    ],
)
async def test_name_rules(tenant, name, expected):
    body = await create_raw(tenant, container("nginx"), name=name)
    assert problems(body) == [expected]


async def test_names_are_unique_per_tenant(tenant, other_tenant, pool):
    await create(tenant, container("nginx"), name="web")
    await create(other_tenant, container("nginx"), name="web")  # another tenant: fine
    await create(tenant, container("nginx"), name="Web")  # compared as written
    body = await create_raw(tenant, container("redis"), name=" web ")
    assert body["data"] == {"createContainer": None}
    assert problems(body) == [("unique", "name")]
    assert await count_rows(pool, "containers", tenant) == 2
    assert await count_rows(pool, "images", tenant) == 1  # redis's image was not made either


async def test_concurrent_creates_of_one_name_yield_one_container(tenant, pool):
    bodies = await asyncio.gather(
        *(create_raw(tenant, container(f"app{i}"), name="same") for i in range(6))
    )
    created = [b for b in bodies if "errors" not in b]
    refused = [b for b in bodies if "errors" in b]
    assert len(created) == 1
    assert [problems(b) for b in refused] == [[("unique", "name")]] * 5
    assert await count_rows(pool, "containers", tenant) == 1


async def test_update_container_renames_and_nothing_else(tenant, pool):
    made = await create(tenant, container("nginx", hostname="h"), name="old")
    await create(tenant, container("nginx"), name="taken")

    body = await tenant.gql(UPDATE, {"id": made["id"], "input": {"name": "  new  "}})
    assert "errors" not in body, body
    assert body["data"]["updateContainer"] == {
        "result": {
            "id": made["id"],
            "name": "new",
            "hostname": "h",
            "image": {"reference": "nginx"},
        },
        "errors": [],
    }
    after = (await tenant.gql(GET, {"id": made["id"]}))["data"]["container"]
    assert after == {**made, "name": "new"}
    audit = await pool.fetchrow(
        "SELECT actor, details FROM audit_events WHERE entity_id = $1 AND action = 'update'",
        uuid_of(made["id"]),
    )
    assert (audit["actor"], json.loads(audit["details"])) == ("tester", {"name": "new"})

    # The old name is free again; a taken one is refused.
    await create(tenant, container("nginx"), name="old")
    body = await tenant.gql(UPDATE, {"id": made["id"], "input": {"name": "taken"}})
    assert body["data"] == {"updateContainer": None}
    assert problems(body) == [("unique", "name")]
    body = await tenant.gql(UPDATE, {"id": made["id"], "input": {"name": " "}})
    assert problems(body) == [("required", "name")]
    # Its own name again is no change, and no input at all changes nothing.
    body = await tenant.gql(UPDATE, {"id": made["id"], "input": {"name": "new"}})
    assert body["data"]["updateContainer"]["result"]["name"] == "new"
    body = await tenant.gql(UPDATE, {"id": made["id"]})
    assert body["data"]["updateContainer"]["result"]["name"] == "new"
    assert (await tenant.gql(GET, {"id": made["id"]}))["data"]["container"]["name"] == "new"


async def test_update_container_cannot_change_settings(tenant):
    # The input has a name and nothing else: any other field is refused by GraphQL.
    made = await create(tenant, container("nginx"))
    body = await tenant.gql(UPDATE, {"id": made["id"], "input": {"hostname": "changed"}})
    assert body["data"] is None
    assert "hostname" in body["errors"][0]["message"]
    assert (await tenant.gql(GET, {"id": made["id"]}))["data"]["container"]["hostname"] == ""


async def test_update_container_ids(tenant, other_tenant):
    theirs = await create(other_tenant, container("nginx"), name="theirs")
    for missing in (theirs["id"], to_global_id("Container", uuid.uuid4())):
        body = await tenant.gql(UPDATE, {"id": missing, "input": {"name": "mine"}})
        assert body["data"] == {"updateContainer": None}
        assert problems(body) == [("not_found", "id")]
    for bad in ("nope", to_global_id("Release", uuid.uuid4())):
        body = await tenant.gql(UPDATE, {"id": bad, "input": {"name": "mine"}})
        assert problems(body) == [("invalid_primary_key", "id")]
    body = await other_tenant.gql(GET, {"id": theirs["id"]})
    assert body["data"]["container"]["name"] == "theirs"


# --- settings: every rule, at its limits ------------------------------------------------


@pytest.mark.parametrize(
    ("field", "given", "stored"),
    [
        ("cpuPeriod", 1000, 1000),
        ("cpuPeriod", 1000000, 1000000),
        ("cpuQuota", 1000, 1000),
        ("cpuQuota", INT64_MAX, INT64_MAX),
        ("cpuRealtimePeriod", 0, 0),
        ("cpuRealtimePeriod", INT64_MAX, INT64_MAX),
        ("cpuRealtimeRuntime", -1, None),
        ("memory", 0, 0),
        ("memory", INT64_MAX, INT64_MAX),
        ("memory", -1, None),
        ("memory", 1024.0, 1024),  # an integral JSON number
        ("memoryReservation", -1, None),
        ("memorySwap", -1, -1),  # unlimited swap: a value, kept
        ("memorySwap", -2, None),  # the device's "unset"
        ("memorySwap", INT64_MAX, INT64_MAX),
        ("memorySwappiness", 0, 0),
        ("memorySwappiness", 100, 100),
        ("memorySwappiness", -1, None),
        ("hostname", "a" * 63, "a" * 63),
        ("hostname", "web-1.example", "web-1.example"),
        ("privileged", False, False),
        ("volumeDriver", "", ""),
        ("networkMode", "", "bridge"),
        ("networkMode", "none", "none"),
        ("networkMode", "container:other", "container:other"),
        ("portBindings", ["80"], ["80"]),
        ("portBindings", ["65535:65535/sctp"], ["65535:65535/sctp"]),
        (
            "extraHosts",
            ["host.docker.internal:host-gateway"],
            ["host.docker.internal:host-gateway"],
        ),
        ("env", [{"key": "EMPTY", "value": ""}], [{"key": "EMPTY", "value": ""}]),
        ("env", [{"key": "BIG", "value": "x" * 65536}], [{"key": "BIG", "value": "x" * 65536}]),
    ],
)
async def test_values_at_their_limits_are_accepted(tenant, field, given, stored):
    together = {"cpuPeriod": "cpuQuota", "cpuQuota": "cpuPeriod"}
    extra = {together[field]: 100000} if field in together else {}
    made = await create(tenant, container("nginx", **{field: given}, **extra))
    assert made[field] == stored


# A CPU limit out of range is reported as such, not also as missing (its
# partner is set).


@pytest.mark.parametrize(
    ("field", "given", "message"),
    [
        pytest.param(
            "cpuPeriod",
            999,
            "must be -1 (unset) or between 1000 and 1000000",
        ),
        pytest.param(
            "cpuPeriod",
            1000001,
            "must be -1 (unset) or between 1000 and 1000000",
        ),
        pytest.param(
            "cpuQuota",
            999,
            "must be -1 (unset) or between 1000 and 2^63-1",
        ),
        ("cpuRealtimePeriod", -2, "must be -1 (unset) or between 0 and 2^63-1"),
        ("cpuRealtimeRuntime", -(2**63), "must be -1 (unset) or between 0 and 2^63-1"),
        ("memory", -2, "must be -1 (unset) or between 0 and 2^63-1"),
        ("memoryReservation", -100, "must be -1 (unset) or between 0 and 2^63-1"),
        ("memorySwap", -3, "must be -1 (unlimited) or between 0 and 2^63-1"),
        ("memorySwappiness", 101, "must be -1 (unset) or between 0 and 100"),
        ("memorySwappiness", -2, "must be -1 (unset) or between 0 and 100"),
        ("hostname", "a" * 64, "is not a valid host name (RFC 1123, at most 63 characters)"),
        ("hostname", "-web", "is not a valid host name (RFC 1123, at most 63 characters)"),
        ("volumeDriver", "x" * 4097, "should be at most 4096 character(s)"),
        ("networkMode", "bad\nmode", "must not contain control characters"),
    ],
)
async def test_values_beyond_their_limits_are_refused(tenant, pool, field, given, message):
    together = {"cpuPeriod": "cpuQuota", "cpuQuota": "cpuPeriod"}
    extra = {together[field]: 100000} if field in together else {}
    body = await create_raw(tenant, container("nginx", **{field: given}, **extra))
    assert body["data"] == {"createContainer": None}
    assert [(e["fields"], e["message"]) for e in body["errors"]] == [([field], message)]
    assert await count_rows(pool, "containers", tenant) == 0


@pytest.mark.parametrize(("period", "quota"), [(999, 999), (1000001, -5), (0, 0), (-2, 999)])
async def test_cpu_limits_out_of_range_are_refused(tenant, period, quota):
    body = await create_raw(tenant, container("nginx", cpuPeriod=period, cpuQuota=quota))
    expected = [(["cpuPeriod"], "must be -1 (unset) or between 1000 and 1000000")]
    if quota < 1000:
        expected.append((["cpuQuota"], "must be -1 (unset) or between 1000 and 2^63-1"))
    assert sorted((e["fields"], e["message"]) for e in body["errors"]) == expected


@pytest.mark.parametrize(
    ("field", "given"),
    [
        ("portBindings", "0:80"),
        ("portBindings", "80:65536"),
        ("portBindings", "80-70"),
        ("portBindings", "1.2.3.4:80:80/icmp"),
        ("portBindings", ""),
        ("binds", "/only-source"),
        ("binds", ":/target"),
        ("binds", "/a:/b:ro:extra"),
        ("extraHosts", "host:"),
        ("extraHosts", ":1.2.3.4"),
        ("capAdd", "1CAP"),
        ("capDrop", "CAP-X"),
        ("storageOpt", "=1G"),
        ("tmpfs", ""),
        ("tmpfs", "relative:rw"),
    ],
)
async def test_list_items_are_checked_one_by_one(tenant, field, given):
    body = await create_raw(tenant, container("nginx", **{field: [given]}))
    assert problems(body) == [("invalid", f"{field}.0")]


@pytest.mark.parametrize("value", [2**63, 2**64 + 1, 1.5, True, "1024", [1]])
async def test_limits_beyond_64_bits_or_not_integers_are_refused_by_the_scalar(tenant, pool, value):
    body = await create_raw(tenant, container("nginx", memory=value))
    assert body["data"] is None
    assert len(body["errors"]) == 1
    assert "BigInt" in body["errors"][0]["message"]
    assert await count_rows(pool, "containers", tenant) == 0


async def test_limits_below_64_bits_are_refused(tenant, pool):
    # The HTTP layer reads a JSON integer below -2^63 as a float (-2^63 once
    # rounded): refused either way, by the scalar or by the rule.
    body = await create_raw(tenant, container("nginx", memory=-(2**63) - 1))
    assert [(e["fields"], e["message"]) for e in body["errors"]] == [
        (["memory"], "must be -1 (unset) or between 0 and 2^63-1")
    ]
    assert await count_rows(pool, "containers", tenant) == 0


async def test_swappiness_is_a_32_bit_int(tenant):
    body = await create_raw(tenant, container("nginx", memorySwappiness=2**31))
    assert body["data"] is None and "Int" in body["errors"][0]["message"]


async def test_limits_may_be_written_as_literals(tenant):
    body = await tenant.gql(
        """
        mutation {
          createContainer(input: {name: "literal", image: {reference: "nginx"},
                                  memory: 1099511627776, memorySwap: -1, cpuQuota: -1,
                                  memorySwappiness: 0, cpuRealtimePeriod: 9223372036854775807}) {
            result { memory memorySwap cpuQuota memorySwappiness cpuRealtimePeriod }
          }
        }
        """
    )
    assert "errors" not in body, body
    assert body["data"]["createContainer"]["result"] == {
        "memory": 1099511627776,
        "memorySwap": -1,
        "cpuQuota": None,
        "memorySwappiness": 0,
        "cpuRealtimePeriod": INT64_MAX,
    }


async def test_a_literal_beyond_64_bits_is_refused_by_the_scalar(tenant, pool):
    body = await tenant.gql(
        'mutation { createContainer(input: {name: "big", image: {reference: "nginx"},'
        " memory: 9223372036854775808}) { result { memory } } }"
    )
    assert await count_rows(pool, "containers", tenant) == 0
    assert [e.get("code") for e in body["errors"]] != ["internal"], body
    assert body["data"] is None and "BigInt" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (None, ""),
        ("", ""),
        ("no", "no"),
        ("always", "always"),
        ("on_failure", "on_failure"),
        ("on-failure", "on_failure"),  # Docker's spelling, stored as Edgehog spells it
        ("unless_stopped", "unless_stopped"),
        ("unless-stopped", "unless_stopped"),
    ],
)
async def test_restart_policy_spellings(tenant, pool, given, stored):
    made = await create(tenant, container("nginx", restartPolicy=given))
    assert made["restartPolicy"] == stored
    assert (
        await pool.fetchval(
            "SELECT restart_policy FROM containers WHERE id = $1", uuid_of(made["id"])
        )
        == stored
    )


@pytest.mark.parametrize("given", ["sometimes", "On-Failure", "ALWAYS", "on failure", "unless"])
async def test_restart_policies_refused(tenant, given):
    body = await create_raw(tenant, container("nginx", restartPolicy=given))
    assert problems(body) == [("invalid", "restartPolicy")]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        # CPU period and quota go together (Edgehog's cpu_period_quota_consistency).
        ({"cpuPeriod": 100000}, [("invalid", "cpuQuota")]),
        ({"cpuQuota": 50000}, [("invalid", "cpuPeriod")]),
        ({"cpuPeriod": 100000, "cpuQuota": -1}, [("invalid", "cpuQuota")]),
        ({"cpuPeriod": -1, "cpuQuota": -1}, []),
        ({"cpuPeriod": 100000, "cpuQuota": 1000}, []),
        # A reservation is at most the memory limit.
        ({"memory": 1000, "memoryReservation": 1001}, [("invalid", "memoryReservation")]),
        ({"memory": 1000, "memoryReservation": 1000}, []),
        ({"memoryReservation": 2**40}, []),  # no limit to be under
        # Swap (memory plus swap) is -1 (unlimited) or at least the memory limit.
        ({"memory": 1000, "memorySwap": 999}, [("invalid", "memorySwap")]),
        ({"memory": 1000, "memorySwap": 0}, [("invalid", "memorySwap")]),
        ({"memory": 1000, "memorySwap": 1000}, []),
        ({"memory": 1000, "memorySwap": -1}, []),
        ({"memory": 1000, "memorySwap": -2}, []),  # unset
        ({"memorySwap": 5}, []),
        # All at once.
        (
            {"cpuQuota": 5000, "memory": 10, "memoryReservation": 11, "memorySwap": 9},
            [("invalid", "cpuPeriod"), ("invalid", "memoryReservation"), ("invalid", "memorySwap")],
        ),
    ],
)
async def test_settings_checked_together(tenant, settings, expected):
    body = await create_raw(tenant, container("nginx", **settings))
    assert problems(body) == expected
    if not expected:
        made = body["data"]["createContainer"]["result"]
        unset = {"memorySwap": -2}
        assert {k: made[k] for k in settings} == {
            k: None if v == unset.get(k, -1) else v for k, v in settings.items()
        }


async def test_cross_field_messages(tenant):
    body = await create_raw(
        tenant, container("nginx", cpuPeriod=100000, memory=10, memoryReservation=11, memorySwap=9)
    )
    assert {e["fields"][0]: e["message"] for e in body["errors"]} == {
        "cpuQuota": "is required when the other CPU limit is set",
        "memoryReservation": "must not be above memory",
        "memorySwap": "must be -1 or at least memory",
    }


# --- immutability, in the database ------------------------------------------------------


async def test_containers_may_only_be_renamed_in_the_database(tenant, pool):
    credentials = await create_credentials(tenant, "c")
    made = await create(
        tenant,
        container(
            "nginx",
            credentials["id"],
            hostname="h",
            deviceMappings=[
                {"pathOnHost": "/dev/a", "pathInContainer": "/dev/a", "cgroupPermissions": "r"}
            ],
            deviceRequests=[{"driver": "nvidia"}],
        ),
        name="before",
    )
    container_id, image_id = uuid_of(made["id"]), uuid_of(made["imageId"])
    other_image = uuid_of((await create(tenant, container("redis")))["imageId"])
    for change, args in [
        ("hostname = 'evil'", ()),
        ("privileged = true", ()),
        ("memory = 1", ()),
        ('env = \'[{"key": "A", "value": "b"}]\'', ()),
        ("image_id = $2", (other_image,)),
        ("name = 'renamed', hostname = 'evil'", ()),
        ("inserted_at = now()", ()),
    ]:
        with pytest.raises(asyncpg.RestrictViolationError, match="immutable but for their name"):
            await pool.execute(f"UPDATE containers SET {change} WHERE id = $1", container_id, *args)
    # The name may change, alone.
    await pool.execute("UPDATE containers SET name = 'renamed' WHERE id = $1", container_id)
    for table in ("device_mappings", "device_requests"):
        with pytest.raises(asyncpg.RestrictViolationError):
            await pool.execute(
                f"UPDATE {table} SET container_id = container_id WHERE container_id = $1",
                container_id,
            )

    # An image may only lose credentials that were deleted, saying so.
    for change in (
        "reference = 'evil'",
        "image_credentials_id = NULL",  # without saying so
        "credentials_deleted_at = now()",  # with its credentials still there: refused too
        "inserted_at = now()",
    ):
        with pytest.raises((asyncpg.RestrictViolationError, asyncpg.CheckViolationError)):
            await pool.execute(f"UPDATE images SET {change} WHERE id = $1", image_id)
    body = await tenant.gql(GET, {"id": made["id"]})
    node = body["data"]["container"]
    assert (node["name"], node["hostname"], node["image"]["reference"]) == (
        "renamed",
        "h",
        "nginx",
    )
    assert node["imageCredentials"] == {"id": credentials["id"], "label": "c"}
    async with pool.acquire() as conn, conn.transaction():
        # What deleting the credentials does is the one change allowed.
        await conn.execute(
            "UPDATE images SET image_credentials_id = NULL, credentials_deleted_at = now()"
            " WHERE id = $1",
            image_id,
        )
        with pytest.raises(asyncpg.RestrictViolationError, match="images are immutable"):
            async with conn.transaction():
                await conn.execute(
                    "UPDATE images SET image_credentials_id = $2, credentials_deleted_at = NULL"
                    " WHERE id = $1",
                    image_id,
                    uuid_of(credentials["id"]),
                )


# --- images: one per reference and credentials ----------------------------------------


async def test_an_image_is_shared_per_reference_and_credentials(tenant, other_tenant, pool):
    one = await create_credentials(tenant, "one")
    two = await create_credentials(tenant, "two")

    async def image_of(given: dict) -> str:
        return (await create(tenant, given))["imageId"]

    public = await image_of(container("nginx:1.27"))
    assert await image_of(container("nginx:1.27", hostname="other")) == public
    with_one = await image_of(container("nginx:1.27", one["id"]))
    assert with_one != public
    assert await image_of(container("nginx:1.27", one["id"])) == with_one
    with_two = await image_of(container("nginx:1.27", two["id"]))
    assert with_two not in (public, with_one)
    # The reference as written: another spelling of the same image is another image.
    assert await image_of(container("docker.io/library/nginx:1.27")) != public
    # An existing image by id, with whatever credentials it has.
    by_id = await create(tenant, {"image": {"id": with_one}})
    assert by_id["imageId"] == with_one
    assert by_id["image"]["reference"] == "nginx:1.27"
    assert by_id["imageCredentials"] == {"id": one["id"], "label": "one"}
    # Another tenant's same reference is its own image.
    theirs = (await create(other_tenant, container("nginx:1.27")))["imageId"]
    assert theirs != public
    assert await count_rows(pool, "images", tenant) == 4
    assert await count_rows(pool, "containers", tenant) == 7


async def test_an_image_by_id_must_be_the_tenants(tenant, other_tenant, pool):
    theirs = await create(other_tenant, container("nginx"))
    for image_id in (theirs["imageId"], to_global_id("Image", uuid.uuid4())):
        body = await create_raw(tenant, {"image": {"id": image_id}})
        assert problems(body) == [("not_found", "image.id")]
    body = await create_raw(tenant, {"image": {"id": theirs["id"]}})  # a Container id
    assert problems(body) == [("invalid_primary_key", "image.id")]
    assert await count_rows(pool, "containers", tenant) == 0


async def test_images_of_deleted_credentials_are_not_reused(tenant, pool):
    doomed = await create_credentials(tenant, "doomed")
    before = await create(tenant, container("reg.example/app:1", doomed["id"]))
    public = await create(tenant, container("reg.example/app:1"))
    body = await tenant.gql(DELETE_CREDENTIALS, {"id": doomed["id"]})
    assert body["data"]["deleteImageCredentials"]["detachedContainerCount"] == 1

    after = (await tenant.gql(GET, {"id": before["id"]}))["data"]["container"]
    assert after["image"] == {
        "id": before["imageId"],
        "reference": "reg.example/app:1",
        "imageCredentialsId": None,
        "credentialsDeleted": True,
        "credentials": None,
    }
    assert after["imageCredentials"] is None and after["credentialsDeleted"] is True
    # A new public container of that reference gets the public image, not the detached one.
    again = await create(tenant, container("reg.example/app:1"))
    assert again["imageId"] == public["imageId"] != before["imageId"]
    assert again["credentialsDeleted"] is False
    # New credentials make a new image again.
    fresh = await create_credentials(tenant, "fresh")
    renewed = await create(tenant, container("reg.example/app:1", fresh["id"]))
    assert renewed["imageId"] not in (before["imageId"], public["imageId"])
    # The detached image can still be named by id: it says what it lost.
    by_id = await create(tenant, {"image": {"id": before["imageId"]}})
    assert by_id["credentialsDeleted"] is True
    assert await count_rows(pool, "images", tenant) == 3


async def test_concurrent_creates_share_one_new_image(tenant, pool):
    credentials = await create_credentials(tenant, "c")
    for given in (
        container("reg.example/racy:1"),
        container("reg.example/racy:1", credentials["id"]),
    ):
        bodies = await asyncio.gather(*(create_raw(tenant, given) for _ in range(8)))
        assert all("errors" not in b for b in bodies), bodies
        assert len({b["data"]["createContainer"]["result"]["imageId"] for b in bodies}) == 1
    assert await count_rows(pool, "images", tenant) == 2
    assert await count_rows(pool, "containers", tenant) == 16


# --- volumes, networks, device mappings and requests --------------------------------------


async def test_volumes_networks_device_mappings_and_requests(tenant, pool):
    data = await create_volume(tenant, "data", options=json.dumps({"size": "1G"}))
    logs = await create_volume(tenant, "logs")
    front = await create_network(tenant, "front")
    back = await create_network(tenant, "back", internal=True)
    made = await create(
        tenant,
        container(
            "nginx",
            volumes=[{"id": data, "target": "/var/lib/data"}, {"id": logs, "target": "/logs"}],
            networks=[{"id": front}, {"id": back}],
            deviceMappings=[
                {
                    "pathOnHost": "/dev/ttyUSB0",
                    "pathInContainer": "/dev/tty0",
                    "cgroupPermissions": "rwm",
                },
                {
                    "pathOnHost": "/dev/video0",
                    "pathInContainer": "/dev/video0",
                    "cgroupPermissions": "r",
                },
            ],
            deviceRequests=[
                {
                    "driver": "nvidia",
                    "count": 2,
                    "deviceIds": ["0", "GPU-abc"],
                    "capabilities": [["gpu", "nvidia"], ["compute"]],
                    "options": json.dumps({"visible": "all", "mode": "x=y"}),
                },
                {},  # every default
            ],
        ),
    )
    # Mounts by target; networks by id; mappings and requests in order.
    mounts = nodes(made["containerVolumes"])
    assert [(m["target"], m["volumeId"]) for m in mounts] == [
        ("/logs", logs),
        ("/var/lib/data", data),
    ]
    assert made["containerVolumes"]["count"] == 2
    assert {n["id"] for n in nodes(made["networks"])} == {front, back}
    assert made["networks"]["count"] == 2
    assert [
        (m["pathOnHost"], m["pathInContainer"], m["cgroupPermissions"], m["containerId"])
        for m in nodes(made["deviceMappings"])
    ] == [
        ("/dev/ttyUSB0", "/dev/tty0", "rwm", made["id"]),
        ("/dev/video0", "/dev/video0", "r", made["id"]),
    ]
    first, second = nodes(made["deviceRequests"])
    assert {k: v for k, v in first.items() if k != "id"} == {
        "driver": "nvidia",
        "count": 2,
        "deviceIds": ["0", "GPU-abc"],
        "capabilities": [["gpu", "nvidia"], ["compute"]],
        "options": json.dumps({"mode": "x=y", "visible": "all"}, separators=(",", ":")),
        "containerId": made["id"],
    }
    assert {k: v for k, v in second.items() if k != "id"} == {
        "driver": "",
        "count": -1,  # all
        "deviceIds": [],
        "capabilities": [],
        "options": "{}",
        "containerId": made["id"],
    }
    # The same again, read by id; and stored with the tenant.
    assert (await tenant.gql(GET, {"id": made["id"]}))["data"]["container"] == made
    cid = uuid_of(made["id"])
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM container_volumes WHERE tenant_id = $1 AND container_id = $2",
            tenant.id,
            cid,
        )
        == 2
    )
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM container_networks WHERE tenant_id = $1 AND container_id = $2",
            tenant.id,
            cid,
        )
        == 2
    )
    row = await pool.fetchrow(
        "SELECT capabilities, options FROM device_requests"
        " WHERE container_id = $1 AND position = 0",
        cid,
    )
    assert json.loads(row["capabilities"]) == [["gpu", "nvidia"], ["compute"]]
    assert json.loads(row["options"]) == {"visible": "all", "mode": "x=y"}

    # Two containers may mount one volume and join one network.
    again = await create(
        tenant, container("redis", volumes=[{"id": data, "target": "/d"}], networks=[{"id": front}])
    )
    assert [m["volumeId"] for m in nodes(again["containerVolumes"])] == [data]


async def test_children_page_like_any_connection(tenant):
    volumes = [await create_volume(tenant, f"v{i}") for i in range(4)]
    made = await create(
        tenant,
        container(
            "nginx",
            volumes=[{"id": v, "target": f"/m{i}"} for i, v in enumerate(volumes)],
            deviceMappings=[
                {
                    "pathOnHost": f"/dev/d{i}",
                    "pathInContainer": f"/dev/d{i}",
                    "cgroupPermissions": "r",
                }
                for i in range(3)
            ],
        ),
    )

    def doc(connection: str, leaf: str) -> str:
        return f"""
        query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {{
          container(id: $id) {{
            {connection}(first: $first, after: $after, last: $last, before: $before) {{
              count pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
              edges {{ node {{ {leaf} }} }}
            }}
          }}
        }}
        """

    async def page(connection: str, leaf: str, **args: Any) -> tuple[list[str], dict]:
        body = await tenant.gql(doc(connection, leaf), {"id": made["id"], **args})
        assert "errors" not in body, body
        found = body["data"]["container"][connection]
        return [n[leaf] for n in nodes(found)], found

    targets, first = await page("containerVolumes", "target", first=2)
    assert targets == ["/m0", "/m1"]
    assert first["count"] == 4 and first["pageInfo"]["hasNextPage"] is True
    cursor = first["pageInfo"]["endCursor"]
    targets, rest = await page("containerVolumes", "target", first=2, after=cursor)
    assert targets == ["/m2", "/m3"]
    assert rest["pageInfo"]["hasPreviousPage"] is True and rest["pageInfo"]["hasNextPage"] is False
    assert (await page("containerVolumes", "target", last=1))[0] == ["/m3"]
    paths, mappings = await page("deviceMappings", "pathOnHost", first=2)
    assert paths == ["/dev/d0", "/dev/d1"] and mappings["count"] == 3
    assert (await page("deviceMappings", "pathOnHost", last=1))[0] == ["/dev/d2"]
    # A cursor of one connection means nothing to another, and sizes are bounded.
    body = await tenant.gql(
        doc("deviceMappings", "pathOnHost"), {"id": made["id"], "after": cursor}
    )
    assert problems(body) == [("invalid", "after")]
    body = await tenant.gql(doc("containerVolumes", "target"), {"id": made["id"], "first": -1})
    assert problems(body) == [("invalid", "first")]


async def test_rules_of_volumes_and_networks(tenant, other_tenant, pool):
    volume = await create_volume(tenant, "v")
    other_volume = await create_volume(tenant, "w")
    network = await create_network(tenant, "n")
    foreign_network = await create_network(other_tenant, "n")
    body = await create_raw(
        tenant,
        container(
            "nginx",
            volumes=[
                {"id": volume, "target": "/data"},
                {"id": other_volume, "target": "/data"},  # a target used twice
                {"id": volume, "target": "/again"},  # a volume mounted twice
                {"target": "/no-volume"},
                {"id": other_volume, "target": ""},
                {"id": other_volume},
            ],
            networks=[{"id": network}, {"id": network}, {"id": foreign_network}],
        ),
    )
    assert problems(body) == [
        ("invalid", "networks.1.id"),
        ("invalid", "volumes.1.target"),
        ("invalid", "volumes.2.id"),
        ("invalid", "volumes.4.id"),
        ("invalid", "volumes.5.id"),
        ("not_found", "networks.2.id"),
        ("required", "volumes.3.id"),
        ("required", "volumes.4.target"),
        ("required", "volumes.5.target"),
    ]
    messages = {e["fields"][0]: e["message"] for e in body["errors"]}
    assert messages["volumes.1.target"] == "is already used by another volume"
    assert messages["networks.1.id"] == "is listed more than once"
    assert await count_rows(pool, "containers", tenant) == 0


@pytest.mark.parametrize(
    ("mapping", "field"),
    [
        ({"pathOnHost": "dev/x"}, "pathOnHost"),
        ({"pathOnHost": ""}, "pathOnHost"),
        ({"pathInContainer": "x"}, "pathInContainer"),
        ({"pathInContainer": "/" + "x" * 4096}, "pathInContainer"),
        ({"cgroupPermissions": ""}, "cgroupPermissions"),
        ({"cgroupPermissions": "rwx"}, "cgroupPermissions"),
        ({"cgroupPermissions": "rr"}, "cgroupPermissions"),
        ({"cgroupPermissions": "RWM"}, "cgroupPermissions"),
    ],
)
async def test_rules_of_device_mappings(tenant, mapping, field):
    given = {
        "pathOnHost": "/dev/a",
        "pathInContainer": "/dev/a",
        "cgroupPermissions": "mrw",
        **mapping,
    }
    body = await create_raw(tenant, container("nginx", deviceMappings=[given]))
    assert [f for _, f in problems(body)] == [f"deviceMappings.0.{field}"]


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        ({"count": -2}, "count"),
        ({"options": "[1]"}, "options"),
        ({"options": '"text"'}, "options"),
        ({"options": '{"a": 1}'}, "options"),
        ({"options": json.dumps({f"k{i}": "v" for i in range(65)})}, "options"),
        ({"deviceIds": [""]}, "deviceIds.0"),
        ({"deviceIds": [str(i) for i in range(65)]}, "deviceIds"),
        ({"capabilities": [["gpu", ""]]}, "capabilities.0.1"),
        ({"capabilities": [["c"]] * 17}, "capabilities"),
        ({"capabilities": [["c"] * 17]}, "capabilities.0"),
        ({"driver": "x" * 256}, "driver"),
    ],
)
async def test_rules_of_device_requests(tenant, request_, field):
    body = await create_raw(tenant, container("nginx", deviceRequests=[request_]))
    assert [f for _, f in problems(body)] == [f"deviceRequests.0.{field}"]


async def test_device_request_options_must_be_json_text(tenant):
    body = await create_raw(tenant, container("nginx", deviceRequests=[{"options": "{not json"}]))
    assert body["data"] is None and "JsonString" in body["errors"][0]["message"]
    body = await create_raw(tenant, container("nginx", deviceRequests=[{"options": {"a": "b"}}]))
    assert body["data"] is None and "JsonString" in body["errors"][0]["message"]


async def test_lists_at_and_beyond_their_limits(tenant):
    volumes = [await create_volume(tenant, f"v{i}") for i in range(65)]
    networks = [await create_network(tenant, f"n{i}") for i in range(33)]
    mapping = {"pathOnHost": "/dev/a", "pathInContainer": "/dev/a", "cgroupPermissions": "r"}
    at_limit = await create(
        tenant,
        container(
            "nginx",
            volumes=[{"id": v, "target": f"/m{i}"} for i, v in enumerate(volumes[:64])],
            networks=[{"id": n} for n in networks[:32]],
            deviceMappings=[mapping] * 64,
            deviceRequests=[{}] * 16,
        ),
    )
    assert [at_limit[k]["count"] for k in ("containerVolumes", "networks")] == [64, 32]
    assert [at_limit[k]["count"] for k in ("deviceMappings", "deviceRequests")] == [64, 16]
    body = await create_raw(
        tenant,
        container(
            "nginx",
            volumes=[{"id": v, "target": f"/m{i}"} for i, v in enumerate(volumes)],
            networks=[{"id": n} for n in networks],
            deviceMappings=[mapping] * 65,
            deviceRequests=[{}] * 17,
        ),
    )
    assert problems(body) == [
        ("too_long", "deviceMappings"),
        ("too_long", "deviceRequests"),
        ("too_long", "networks"),
        ("too_long", "volumes"),
    ]


async def test_a_null_network_id_is_required_not_left_out(tenant, pool):
    network = await create_network(tenant, "n")
    body = await create_raw(tenant, container("nginx", networks=[{"id": network}, {}]))
    assert problems(body) == [("required", "networks.1.id")]
    body = await create_raw(tenant, container("nginx", volumes=[{"target": "/d"}]))
    assert problems(body) == [("required", "volumes.0.id")]
    assert await count_rows(pool, "containers", tenant) == 0


async def test_volumes_and_networks_of_another_tenant_are_not_found(tenant, other_tenant, pool):
    volume = await create_volume(other_tenant, "theirs")
    network = await create_network(other_tenant, "theirs")
    body = await create_raw(
        tenant,
        container("nginx", volumes=[{"id": volume, "target": "/d"}], networks=[{"id": network}]),
    )
    assert problems(body) == [("not_found", "networks.0.id"), ("not_found", "volumes.0.id")]
    assert await count_rows(pool, "container_volumes", other_tenant) == 0


async def test_a_volume_being_deleted_is_waited_for(tenant, pool):
    from .gql import until_a_statement_waits_for_a_lock

    volume = await create_volume(tenant, "racy")
    # A delete of the volume is under way, not committed: the container's
    # check waits for it, then finds the volume gone.
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await conn.execute("DELETE FROM volumes WHERE id = $1", uuid_of(volume))
        creating = asyncio.create_task(
            create_raw(tenant, container("nginx", volumes=[{"id": volume, "target": "/d"}]))
        )
        await until_a_statement_waits_for_a_lock(pool)
        assert not creating.done()
        await tx.commit()
    body = await creating
    assert problems(body) == [("not_found", "volumes.0.id")]


# --- the list ------------------------------------------------------------------------------


async def five_containers(tenant) -> dict[str, dict]:
    """Five containers, made in this order, with names and references to filter on."""
    credentials = await create_credentials(tenant, "c")
    made = {}
    for name, reference, creds, hostname in [
        ("web-frontend", "nginx:1.27", None, "front"),
        ("Web-backend", "registry.example.com/web/backend:2", credentials["id"], "back"),
        ("db", "postgres:16", None, "db"),
        ("cache", "redis:7", None, "cache"),
        ("proxy", "example.com/cache/varnish:7", None, "front"),
    ]:
        made[name] = await create(tenant, container(reference, creds, hostname=hostname), name=name)
    made["credentials"] = credentials
    return made


def names(body: dict) -> list[str]:
    return [n["name"] for n in nodes(body["data"]["containers"])]


async def test_the_list_filters_as_edgehogs_ui_does(tenant, other_tenant):
    made = await five_containers(tenant)
    assert names(await tenant.gql(LIST, {})) == [
        "web-frontend",
        "Web-backend",
        "db",
        "cache",
        "proxy",
    ]

    async def listed(filter: dict) -> list[str]:
        body = await tenant.gql(LIST, {"filter": filter})
        assert "errors" not in body, body
        assert body["data"]["containers"]["count"] == len(names(body))
        return names(body)

    assert await listed({"name": {"ilike": "%WEB%"}}) == ["web-frontend", "Web-backend"]
    assert await listed({"name": {"like": "%web%"}}) == ["web-frontend"]
    assert await listed({"image": {"reference": {"ilike": "%NGINX%"}}}) == ["web-frontend"]
    # What Edgehog's containers page sends for its search box.
    search = {
        "or": [{"name": {"ilike": "%cache%"}}, {"image": {"reference": {"ilike": "%cache%"}}}]
    }
    assert await listed(search) == ["cache", "proxy"]
    assert await listed({"hostname": {"eq": "front"}}) == ["web-frontend", "proxy"]
    assert await listed({"imageId": {"eq": made["db"]["imageId"]}}) == ["db"]
    assert await listed({"image": {"imageCredentialsId": {"eq": made["credentials"]["id"]}}}) == [
        "Web-backend"
    ]
    assert await listed({"not": [{"networkMode": {"eq": "bridge"}}]}) == []
    assert await listed(
        {
            "and": [
                {"name": {"stringStartsWith": "web"}},
                {"image": {"reference": {"contains": "1.27"}}},
            ]
        }
    ) == ["web-frontend"]
    assert await listed({"id": {"in": [made["db"]["id"], made["proxy"]["id"]]}}) == ["db", "proxy"]

    body = await tenant.gql(LIST, {"filter": {"imageId": {"eq": "bogus"}}})
    assert problems(body) == [("invalid_primary_key", "filter.imageId")]
    theirs = (await other_tenant.gql(LIST, {}))["data"]["containers"]
    assert theirs == {
        "count": 0,
        "pageInfo": {
            "hasPreviousPage": False,
            "hasNextPage": False,
            "startCursor": None,
            "endCursor": None,
        },
        "edges": [],
    }
    assert (await other_tenant.gql(GET, {"id": made["db"]["id"]}))["data"]["container"] is None
    assert (await other_tenant.gql(NODE, {"id": made["db"]["id"]}))["data"]["node"] is None
    assert (await other_tenant.gql(NODE, {"id": made["db"]["imageId"]}))["data"]["node"] is None


async def test_the_list_sorts_and_pages(tenant):
    await five_containers(tenant)
    by_name = [{"field": "NAME"}]
    # Names compare as written (byte order): upper case first.
    everything = ["Web-backend", "cache", "db", "proxy", "web-frontend"]
    assert names(await tenant.gql(LIST, {"sort": by_name})) == everything

    body = await tenant.gql(LIST, {"sort": by_name, "first": 2})
    page = body["data"]["containers"]
    assert names(body) == everything[:2] and page["count"] == 5
    assert page["pageInfo"]["hasNextPage"] is True and page["pageInfo"]["hasPreviousPage"] is False
    body = await tenant.gql(
        LIST, {"sort": by_name, "first": 2, "after": page["pageInfo"]["endCursor"]}
    )
    page = body["data"]["containers"]
    assert names(body) == everything[2:4]
    assert page["pageInfo"]["hasNextPage"] is True and page["pageInfo"]["hasPreviousPage"] is True
    body = await tenant.gql(
        LIST, {"sort": by_name, "first": 2, "after": page["pageInfo"]["endCursor"]}
    )
    assert names(body) == everything[4:]
    assert body["data"]["containers"]["pageInfo"]["hasNextPage"] is False

    body = await tenant.gql(LIST, {"sort": by_name, "last": 2})
    page = body["data"]["containers"]
    assert names(body) == everything[3:]
    body = await tenant.gql(
        LIST, {"sort": by_name, "last": 2, "before": page["pageInfo"]["startCursor"]}
    )
    assert names(body) == everything[1:3]

    desc = [{"field": "NAME", "order": "DESC"}]
    assert names(await tenant.gql(LIST, {"sort": desc, "first": 1})) == ["web-frontend"]
    newest = [{"field": "INSERTED_AT", "order": "DESC"}]
    assert names(await tenant.gql(LIST, {"sort": newest, "first": 2})) == ["proxy", "cache"]

    body = await tenant.gql(LIST, {"first": -1})
    assert problems(body) == [("invalid", "first")]
    body = await tenant.gql(LIST, {"after": "not-a-cursor"})
    assert problems(body) == [("invalid", "after")]


# --- who may ---------------------------------------------------------------------------------


async def test_devices_may_not_read_or_write_containers(tenant, pool):
    made = await create(tenant, container("nginx"), name="mine")
    token, token_hash = new_device_token()
    await pool.execute(
        "INSERT INTO devices (tenant_id, device_id, name, token_hash) VALUES ($1, $2, 'gw', $3)",
        tenant.id,
        "device-under-test",
        token_hash,
    )
    as_device = token.reveal()
    for document, variables, field in [
        (GET, {"id": made["id"]}, "container"),
        (LIST, {}, "containers"),
        (CREATE, {"input": {"name": "x", **container("nginx")}}, "createContainer"),
        (UPDATE, {"id": made["id"], "input": {"name": "y"}}, "updateContainer"),
    ]:
        body = await tenant.gql(document, variables, token=as_device)
        assert body["data"] == {field: None}, field
        assert [e["code"] for e in body["errors"]] == ["forbidden"], field
    assert await count_rows(pool, "containers", tenant) == 1
    assert (await tenant.gql(GET, {"id": made["id"]}))["data"]["container"]["name"] == "mine"


async def test_a_token_without_subject_is_recorded_as_no_actor(tenant, pool):
    body = await tenant.gql(
        CREATE, {"input": {"name": "anon", **container("nginx")}}, token=tenant.mint(subject=None)
    )
    assert "errors" not in body, body
    actor = await pool.fetchval(
        "SELECT actor FROM audit_events WHERE tenant_id = $1 AND entity_type = 'Container'",
        tenant.id,
    )
    assert actor is None


async def test_container_releases_lists_every_release_that_lists_it(tenant):
    app = await create_application(tenant, "a")
    release = await create_release(tenant, app["id"], "1.0.0", [container("nginx")])
    listed = nodes(release["containers"])[0]
    body = await tenant.gql(
        "query($id: ID!) { container(id: $id) { releases { count edges { node { version } } } } }",
        {"id": listed["id"]},
    )
    assert body["data"]["container"]["releases"] == {
        "count": 1,
        "edges": [{"node": {"version": "1.0.0"}}],
    }

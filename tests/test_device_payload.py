"""devicePayload: the contract's objects and events, who may read them, deliveries."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
    build_client_schema,
    get_introspection_query,
    get_named_type,
    is_leaf_type,
)

from edgehog_creds.containers import store as containers_store
from edgehog_creds.credentials import store as credentials_store
from edgehog_creds.db import Database
from edgehog_creds.deployments import payload_store
from edgehog_creds.deployments import store as deployments_store
from edgehog_creds.deployments.payload import ReleaseTemplates
from edgehog_creds.deployments.payload_service import PayloadService
from edgehog_creds.docker_auth import DOCKER_HUB_SERVER_ADDRESS, decode_registry_auth
from edgehog_creds.domain.principal import Device
from edgehog_creds.graphql.relay import to_global_id
from edgehog_creds.graphql.schema import DEVICE_FIELDS
from edgehog_creds.store import tables
from edgehog_creds.tenants.store import get_by_slug

from .devices_gql import (
    DELETE_CREDENTIALS,
    DELIVERIES,
    PAYLOAD,
    container,
    create_credentials,
    create_device,
    deploy,
    deployed,
    make_release,
    read_payload,
    uuid_of,
)
from .gql import errors_of, until_a_statement_waits_for_a_lock

PASSWORD = "pa?>ss~wörd"
OTHER_PASSWORD = "s3cond~?>"
PRIVATE = "127.0.0.1:5000/edgehog/app:1.0"

FULL = {
    "hostname": "app-1",
    "restartPolicy": "always",
    "env": [{"key": "MODE", "value": "prod"}, {"key": "URL", "value": "a=b&c=d"}],
    "portBindings": ["8080:80/tcp"],
    "binds": ["/data:/data:ro"],
    "networkMode": "bridge",
    "extraHosts": ["db:10.0.0.2"],
    "capAdd": ["NET_ADMIN"],
    "capDrop": ["ALL"],
    "privileged": True,
    "readOnlyRootfs": True,
    "cpuPeriod": 100000,
    "cpuQuota": 50000,
    "cpuRealtimePeriod": 1000000,
    "cpuRealtimeRuntime": 950000,
    "memory": 4 * 2**30,  # above 2^31: needs the 64-bit scalar
    "memoryReservation": 2**30,
    "memorySwap": 8 * 2**30,
    "memorySwappiness": 60,
    "volumeDriver": "local",
    "storageOpt": ["size=1G"],
    "tmpfs": ["/run:rw,size=64m"],
}

RELEASE_CONTAINERS = """
query($id: ID!) {
  deployment(id: $id) {
    release { containers { edges { node { id image { id reference } } } } }
  }
}
"""


async def _credentials(tenant, label: str, username: str, password: str) -> str:
    return (await create_credentials(tenant, label, username, password))["id"]


async def test_payload_carries_every_field_of_the_contract(tenant, pool):
    robot = await _credentials(tenant, "private registry", "robot", PASSWORD)
    other = await _credentials(tenant, "second robot", "robot2", OTHER_PASSWORD)
    deployment_id, token, _ = await deployed(
        tenant,
        pool,
        [
            container(PRIVATE, robot, **FULL),
            container("nginx:1.27"),
            # The same reference again, with other credentials: its own image request.
            container(PRIVATE, other),
        ],
    )
    body = await read_payload(tenant, token, deployment_id)
    assert "errors" not in body, body
    payload = body["data"]["devicePayload"]
    dep = str(uuid_of(deployment_id))

    # Container and image ids are those of the release, as plain UUIDs.
    release = await tenant.gql(RELEASE_CONTAINERS, {"id": deployment_id})
    nodes = [e["node"] for e in release["data"]["deployment"]["release"]["containers"]["edges"]]
    container_ids = [str(uuid_of(n["id"])) for n in nodes]
    image_ids = [str(uuid_of(n["image"]["id"])) for n in nodes]
    assert len(set(image_ids)) == 3

    images = payload["images"]
    assert [i["id"] for i in images] == image_ids
    assert [i["deploymentId"] for i in images] == [dep] * 3
    assert [i["reference"] for i in images] == [PRIVATE, "nginx:1.27", PRIVATE]
    assert decode_registry_auth(images[0]["registryAuth"]) == {
        "username": "robot",
        "password": PASSWORD,
        "serveraddress": "127.0.0.1:5000",
    }
    assert images[1]["registryAuth"] == ""
    assert decode_registry_auth(images[2]["registryAuth"]) == {
        "username": "robot2",
        "password": OTHER_PASSWORD,
        "serveraddress": "127.0.0.1:5000",
    }

    full, bare, _ = payload["containers"]
    assert full == {
        "id": container_ids[0],
        "deploymentId": dep,
        "imageId": image_ids[0],
        "networkIds": [],
        "volumeIds": [],
        "deviceMappingIds": [],
        "deviceRequestIds": [],
        "hostname": "app-1",
        "restartPolicy": "always",
        "env": ["MODE=prod", "URL=a=b&c=d"],
        "binds": ["/data:/data:ro"],
        "networkMode": "bridge",
        "portBindings": ["8080:80/tcp"],
        "extraHosts": ["db:10.0.0.2"],
        "capAdd": ["NET_ADMIN"],
        "capDrop": ["ALL"],
        "cpuPeriod": 100000,
        "cpuQuota": 50000,
        "cpuRealtimePeriod": 1000000,
        "cpuRealtimeRuntime": 950000,
        "memory": 4 * 2**30,
        "memoryReservation": 2**30,
        "memorySwap": 8 * 2**30,
        "memorySwappiness": 60,
        "volumeDriver": "local",
        "storageOpt": ["size=1G"],
        "readOnlyRootfs": True,
        "tmpfs": ["/run:rw,size=64m"],
        "privileged": True,
    }
    # Unset: -1 for every limit but memorySwap (-2: -1 is unlimited swap), empty
    # strings and lists, false flags, and Edgehog's default network mode.
    assert bare == {
        **{k: v for k, v in full.items() if k in ("deploymentId", "networkIds", "volumeIds")},
        "id": container_ids[1],
        "imageId": image_ids[1],
        "deviceMappingIds": [],
        "deviceRequestIds": [],
        "hostname": "",
        "restartPolicy": "",
        "env": [],
        "binds": [],
        "networkMode": "bridge",
        "portBindings": [],
        "extraHosts": [],
        "capAdd": [],
        "capDrop": [],
        **{
            k: -1
            for k in (
                "cpuPeriod",
                "cpuQuota",
                "cpuRealtimePeriod",
                "cpuRealtimeRuntime",
                "memory",
                "memoryReservation",
                "memorySwappiness",
            )
        },
        "memorySwap": -2,
        "volumeDriver": "",
        "storageOpt": [],
        "readOnlyRootfs": False,
        "tmpfs": [],
        "privileged": False,
    }
    assert payload["deployment"] == {"id": dep, "containers": container_ids}

    # events: per container its image and then the container (Edgehog's order),
    # the deployment last, with the same data as the typed objects, field for field.
    events = payload["events"]
    prefix = "io.edgehog.devicemanager.apps."
    assert [(e["interface"], e["path"]) for e in events] == [
        (prefix + "CreateImageRequest", "/image"),
        (prefix + "CreateContainerRequest", "/container"),
    ] * 3 + [(prefix + "CreateDeploymentRequest", "/deployment")]
    interleaved = [x for pair in zip(images, payload["containers"], strict=True) for x in pair]
    assert [e["data"] for e in events] == [*interleaved, payload["deployment"]]
    # Key order too: it is the contract table's order.
    assert list(events[1]["data"]) == list(full)

    # The label is never part of a payload.
    text = json.dumps(body, ensure_ascii=False)
    assert "private registry" not in text and "second robot" not in text


async def test_docker_hub_images_get_the_cli_server_address(tenant, pool):
    creds = await _credentials(tenant, "hub", "hubuser", "hubpass")
    refs = ["alpine", "library/alpine:3", "docker.io/library/alpine:3", "index.docker.io/x/y"]
    deployment_id, token, _ = await deployed(
        tenant, pool, [container(ref, creds) for ref in refs] + [container("ghcr.io/o/i", creds)]
    )
    body = await read_payload(tenant, token, deployment_id)
    images = body["data"]["devicePayload"]["images"]
    assert [i["reference"] for i in images] == [*refs, "ghcr.io/o/i"]
    addresses = [decode_registry_auth(i["registryAuth"])["serveraddress"] for i in images]
    assert addresses == [DOCKER_HUB_SERVER_ADDRESS] * 4 + ["ghcr.io"]


async def test_registry_auth_is_base64url_where_standard_base64_differs(tenant, pool):
    password = "?>?>~~~ä"
    creds = await _credentials(tenant, "url-safe", "u", password)
    deployment_id, token, _ = await deployed(tenant, pool, [container("reg.example:5000/a", creds)])
    body = await read_payload(tenant, token, deployment_id)
    value = body["data"]["devicePayload"]["images"][0]["registryAuth"]
    decoded = decode_registry_auth(value)  # strict: refuses '+' and '/'
    assert decoded["password"] == password
    raw = base64.urlsafe_b64decode(value)
    assert base64.b64encode(raw).decode() != value  # this password is where they differ
    assert raw == json.dumps(decoded, ensure_ascii=False, separators=(",", ":")).encode()


async def test_only_the_deployments_device_may_read_it(tenant, pool):
    creds = await _credentials(tenant, "c", "u", PASSWORD)
    deployment_id, _token, _ = await deployed(tenant, pool, [container(PRIVATE, creds)])
    _, stranger = await create_device(tenant)

    other_device = await read_payload(tenant, stranger, deployment_id)
    assert other_device["data"] == {"devicePayload": None}
    assert errors_of(other_device) == [("forbidden", [])]

    user = await read_payload(tenant, tenant.token, deployment_id)
    assert user["data"] == {"devicePayload": None}
    assert errors_of(user) == [("forbidden", [])]
    assert user["errors"][0]["path"] == ["devicePayload"]

    delivered = await pool.fetchval(
        "SELECT count(*) FROM credential_deliveries WHERE tenant_id = $1", tenant.id
    )
    assert delivered == 0


async def test_unknown_and_malformed_deployment_ids(tenant, other_tenant, pool):
    _, token = await create_device(tenant)
    ghost = to_global_id("Deployment", uuid.uuid4())
    body = await read_payload(tenant, token, ghost)
    assert errors_of(body) == [("not_found", ["deploymentId"])]
    body = await read_payload(tenant, token, "nope")
    assert errors_of(body) == [("invalid_primary_key", ["deploymentId"])]
    body = await read_payload(tenant, token, to_global_id("Device", uuid.uuid4()))
    assert errors_of(body) == [("invalid_primary_key", ["deploymentId"])]
    # Another tenant's deployment does not exist here.
    foreign, _, _ = await deployed(other_tenant, pool, [container("nginx")])
    body = await read_payload(tenant, token, foreign)
    assert errors_of(body) == [("not_found", ["deploymentId"])]


# --- a device may do nothing else -------------------------------------------------


def _sample(type_: Any) -> Any:
    """A valid value for an input type, with only the required fields filled in."""
    if isinstance(type_, GraphQLNonNull):
        return _sample(type_.of_type)
    if isinstance(type_, GraphQLList):
        return [_sample(type_.of_type)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: _sample(field.type)
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        }
    assert isinstance(type_, GraphQLScalarType), type_
    # An id of a type no resolver expects: a resolver that decoded it before
    # checking the caller would answer invalid_primary_key, not forbidden.
    return {
        "ID": to_global_id("Nothing", uuid.uuid4()),
        "String": "x",
        "Int": 1,
        "Float": 1.0,
        "Boolean": False,
        "BigInt": 1,
        "DateTime": "2024-01-01T00:00:00+00:00",
    }.get(type_.name, {})


def _operation(kind: str, name: str, field: Any) -> tuple[str, dict[str, Any]]:
    required = {
        arg_name: arg
        for arg_name, arg in field.args.items()
        if isinstance(arg.type, GraphQLNonNull)
    }
    params = "".join(f"${a}: {arg.type}, " for a, arg in required.items()).rstrip(", ")
    args = ", ".join(f"{a}: ${a}" for a in required)
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    document = (
        f"{kind}{f'({params})' if params else ''} "
        f"{{ {name}{f'({args})' if args else ''}{selection} }}"
    )
    return document, {a: _sample(arg.type) for a, arg in required.items()}


async def test_a_device_is_forbidden_every_other_root_field(tenant, pool):
    introspection = await tenant.gql(get_introspection_query())
    schema = build_client_schema(introspection["data"])
    roots = [("query", schema.query_type), ("mutation", schema.mutation_type)]
    fields = [(kind, name, f) for kind, t in roots if t for name, f in t.fields.items()]
    assert len(fields) > 10  # the whole API, not just this module's part

    _, token = await create_device(tenant)
    audit_before = await pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE tenant_id = $1", tenant.id
    )
    checked = []
    for kind, name, field in fields:
        if name in DEVICE_FIELDS or name == "reportIntrospection":  # what a device may do
            continue
        document, variables = _operation(kind, name, field)
        body = await tenant.gql(document, variables, token=token)
        assert body.get("data") in (None, {name: None}), (name, body)
        assert [(e.get("code"), e.get("path")) for e in body.get("errors", [])] == [
            ("forbidden", [name])
        ], (name, document, variables, body)
        checked.append(name)
    assert {"node", "createImageCredentials", "devices", "listAuditEvents"} <= set(checked)
    # Nothing was created or deleted on the device's behalf.
    audit_after = await pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE tenant_id = $1", tenant.id
    )
    assert audit_after == audit_before


async def test_a_device_cannot_reach_other_data_through_its_payload(tenant):
    # The payload's types have no edges back into the graph: nothing to walk.
    introspection = await tenant.gql(get_introspection_query())
    schema = build_client_schema(introspection["data"])
    payload_type = get_named_type(schema.query_type.fields["devicePayload"].type)
    seen, todo = set(), [payload_type]
    while todo:
        t = todo.pop()
        if t.name in seen or is_leaf_type(t):
            continue
        seen.add(t.name)
        todo.extend(get_named_type(f.type) for f in t.fields.values())
    assert seen == {
        "DevicePayload",
        "CreateImageRequest",
        "CreateVolumeRequest",
        "CreateNetworkRequest",
        "CreateDeviceMappingRequest",
        "CreateDeviceRequest",
        "CreateContainerRequest",
        "CreateDeploymentRequest",
    }


# --- deleted credentials ----------------------------------------------------------


async def test_deleted_credentials_refuse_the_whole_payload(tenant, pool):
    kept = await _credentials(tenant, "kept", "k", "kept-pass")
    doomed = await _credentials(tenant, "doomed", "d", PASSWORD)
    deployment_id, token, _ = await deployed(
        tenant,
        pool,
        [container("nginx"), container(PRIVATE, kept), container("reg.example/b:2", doomed)],
    )
    deleted = await tenant.gql(DELETE_CREDENTIALS, {"id": doomed})
    assert "errors" not in deleted, deleted

    body = await read_payload(tenant, token, deployment_id)
    assert body["data"] == {"devicePayload": None}  # nothing partial
    assert errors_of(body) == [("credentials_deleted", [])]
    message = body["errors"][0]["message"]
    release = await tenant.gql(RELEASE_CONTAINERS, {"id": deployment_id})
    third = release["data"]["deployment"]["release"]["containers"]["edges"][2]["node"]
    assert str(uuid_of(third["image"]["id"])) in message  # the image that lost them
    assert "reg.example/b:2" in message
    assert len(body["errors"]) == 1  # the image of the kept credentials is fine
    assert "kept-pass" not in json.dumps(body)
    # Refused means refused: not even the credentials that still exist were delivered.
    delivered = await pool.fetchval(
        "SELECT count(*) FROM credential_deliveries WHERE tenant_id = $1", tenant.id
    )
    assert delivered == 0


async def test_a_payload_needing_no_deleted_credentials_is_unaffected(tenant, pool):
    doomed = await _credentials(tenant, "doomed", "d", PASSWORD)
    await make_release(tenant, pool, [container(PRIVATE, doomed)])  # another release uses it
    deployment_id, token, _ = await deployed(tenant, pool, [container("nginx")])
    await tenant.gql(DELETE_CREDENTIALS, {"id": doomed})
    body = await read_payload(tenant, token, deployment_id)
    assert "errors" not in body
    assert body["data"]["devicePayload"]["images"][0]["registryAuth"] == ""


# --- deliveries ---------------------------------------------------------------------


async def test_each_payload_records_one_delivery_per_credential(tenant, pool):
    shared = await _credentials(tenant, "shared", "s", PASSWORD)
    single = await _credentials(tenant, "single", "t", OTHER_PASSWORD)
    unused = await _credentials(tenant, "unused", "x", "x")
    deployment_id, token, device = await deployed(
        tenant,
        pool,
        [
            container(PRIVATE, shared),
            container("reg.example/two", shared),
            container("reg.example/three", single),
            container("nginx"),
        ],
    )
    for _ in range(2):
        assert "errors" not in await read_payload(tenant, token, deployment_id)

    rows = await pool.fetch(
        "SELECT image_credentials_id, device_id, deployment_id FROM credential_deliveries "
        "WHERE tenant_id = $1 ORDER BY delivered_at",
        tenant.id,
    )
    # Two reads x two sets of credentials; the shared one counts once per read.
    assert sorted(r["image_credentials_id"] for r in rows) == sorted(
        [uuid_of(shared)] * 2 + [uuid_of(single)] * 2
    )
    assert {(r["device_id"], r["deployment_id"]) for r in rows} == {
        (uuid_of(device["id"]), uuid_of(deployment_id))
    }

    body = await tenant.gql(DELIVERIES, {"id": shared})
    deliveries = body["data"]["imageCredentials"]["deliveries"]
    assert deliveries["count"] == 2
    for edge in deliveries["edges"]:
        node = edge["node"]
        assert node["device"] == {"id": device["id"], "deviceId": device["deviceId"]}
        assert node["deployment"] == {"id": deployment_id}
        assert node["deliveredAt"]
    first = (await tenant.gql(DELIVERIES, {"id": shared, "first": 1}))["data"]
    page = first["imageCredentials"]["deliveries"]
    assert len(page["edges"]) == 1 and page["pageInfo"]["hasNextPage"]
    after = {"id": shared, "first": 1, "after": page["pageInfo"]["endCursor"]}
    rest = (await tenant.gql(DELIVERIES, after))["data"]["imageCredentials"]["deliveries"]
    assert len(rest["edges"]) == 1 and not rest["pageInfo"]["hasNextPage"]
    assert rest["pageInfo"]["hasPreviousPage"]
    assert rest["edges"][0]["node"]["id"] != page["edges"][0]["node"]["id"]

    none = (await tenant.gql(DELIVERIES, {"id": unused}))["data"]["imageCredentials"]
    assert none["deliveries"] == {
        "count": 0,
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "endCursor": None,
            "startCursor": None,
        },
        "edges": [],
    }
    node = await tenant.gql(
        "query($id: ID!) { node(id: $id) { ... on CredentialDelivery { deployment { id } } } }",
        {"id": deliveries["edges"][0]["node"]["id"]},
    )
    assert node["data"]["node"] == {"deployment": {"id": deployment_id}}


async def test_deliveries_of_many_credentials_in_one_list(tenant, pool):
    ids = [await _credentials(tenant, f"c{i}", "u", f"p{i}") for i in range(3)]
    deployment_id, token, _ = await deployed(
        tenant, pool, [container(f"reg.example/i{i}", c) for i, c in enumerate(ids)]
    )
    await read_payload(tenant, token, deployment_id)
    body = await tenant.gql(
        "{ listImageCredentials { edges { node { label deliveries { count "
        "edges { node { deployment { id } } } } } } } }"
    )
    assert "errors" not in body, body
    edges = body["data"]["listImageCredentials"]["edges"]
    lists = {e["node"]["label"]: e["node"]["deliveries"] for e in edges}
    assert {label: d["count"] for label, d in lists.items()} == {"c0": 1, "c1": 1, "c2": 1}
    assert all(d["edges"][0]["node"]["deployment"]["id"] == deployment_id for d in lists.values())


async def test_an_anonymous_payload_records_no_delivery(tenant, pool):
    deployment_id, token, _ = await deployed(tenant, pool, [container("nginx")])
    assert "errors" not in await read_payload(tenant, token, deployment_id)
    count = await pool.fetchval(
        "SELECT count(*) FROM credential_deliveries WHERE tenant_id = $1", tenant.id
    )
    assert count == 0


async def test_payload_document_names_every_contract_field():
    # The PAYLOAD document used across tests asks for every field the contract lists.
    for field in (
        "registryAuth",
        "deviceMappingIds",
        "deviceRequestIds",
        "memorySwappiness",
        "cpuRealtimeRuntime",
        "readOnlyRootfs",
        "storageOpt",
        "volumeDriver",
    ):
        assert field in PAYLOAD


async def test_deploy_helper_round_trip(tenant, pool):
    # deploy() of the same release to two devices gives two payloads, each only
    # for its own device.
    release_id = await make_release(tenant, pool, [container("nginx")])
    one, one_token = await create_device(tenant)
    two, two_token = await create_device(tenant)
    d1 = await deploy(tenant, release_id, one["id"])
    d2 = await deploy(tenant, release_id, two["id"])
    assert "errors" not in await read_payload(tenant, one_token, d1["id"])
    assert "errors" not in await read_payload(tenant, two_token, d2["id"])
    assert errors_of(await read_payload(tenant, one_token, d2["id"])) == [("forbidden", [])]


# --- deletes racing a payload -------------------------------------------------------


async def test_a_delete_waits_until_the_delivery_is_recorded(tenant, pool):
    creds = await _credentials(tenant, "locked", "u", PASSWORD)
    deployment_id, _, device = await deployed(tenant, pool, [container(PRIVATE, creds)])
    async with pool.acquire() as conn, conn.transaction():
        # PayloadService.build's statement, held open here to show its lock.
        source = await payload_store.read_and_record(
            conn, tenant.id, uuid_of(deployment_id), uuid_of(device["id"])
        )
        assert source is not None and len(source.delivery_ids) == 1
        delete = asyncio.create_task(tenant.gql(DELETE_CREDENTIALS, {"id": creds}))
        await until_a_statement_waits_for_a_lock(pool)
        assert not delete.done()  # the share lock holds it back
    body = await asyncio.wait_for(delete, 10)
    assert body["data"]["deleteImageCredentials"]["result"]["id"] == creds


async def test_a_record_is_all_or_nothing(tenant, pool):
    kept = await _credentials(tenant, "kept", "u", PASSWORD)
    gone = await _credentials(tenant, "gone", "u", PASSWORD)
    deployment_id, _, device = await deployed(
        tenant, pool, [container(PRIVATE, kept), container("reg.example/other", gone)]
    )
    two = [container(PRIVATE, kept), container("reg.example/other", kept), container("nginx")]
    intact_id = (await deploy(tenant, await make_release(tenant, pool, two), device["id"]))["id"]
    await tenant.gql(DELETE_CREDENTIALS, {"id": gone})
    device_id = uuid_of(device["id"])

    async def read(deployment, device, **kwargs):
        return await payload_store.read_and_record(pool, tenant.id, deployment, device, **kwargs)

    # One container lost its credentials: the other's are read, nothing recorded.
    lost = await read(uuid_of(deployment_id), device_id)
    assert lost is not None and list(lost.sealed) == [uuid_of(kept)]
    assert lost.delivery_ids == []
    # Another device reads no sealed value and records nothing.
    foreign = await read(uuid_of(intact_id), uuid.uuid4())
    assert foreign is not None and foreign.sealed == {} and foreign.delivery_ids == []
    assert foreign.device_id == device_id
    # A deployment that is not there is None.
    assert await read(uuid.uuid4(), device_id) is None
    # Asked not to record (a server that cannot open passwords): read only.
    unrecorded = await read(uuid_of(intact_id), device_id, record=False)
    assert unrecorded is not None and list(unrecorded.sealed) == [uuid_of(kept)]
    assert unrecorded.delivery_ids == []
    assert await _deliveries(pool, tenant) == 0
    # Deliverable: one row per set of credentials, however many containers use it.
    recorded = await read(uuid_of(intact_id), device_id)
    assert recorded is not None and len(recorded.delivery_ids) == 1
    # Per image (the release's three containers run three images), by image id.
    assert sorted(str(i.image_credentials_id) for i in recorded.images) == sorted(
        [str(uuid_of(kept))] * 2 + ["None"]
    )
    assert await _deliveries(pool, tenant) == 1
    await payload_store.withdraw_deliveries(pool, tenant.id, recorded.delivery_ids)
    assert await _deliveries(pool, tenant) == 0


async def _deliveries(pool, tenant) -> int:
    return await pool.fetchval(
        "SELECT count(*) FROM credential_deliveries WHERE tenant_id = $1", tenant.id
    )


async def _payload_read_during(
    tenant, pool, token, deployment_id, change, while_waiting=None
) -> dict:
    """The payload, read while `change(conn)` is applied but not yet committed."""
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await change(conn)
        reading = asyncio.create_task(read_payload(tenant, token, deployment_id))
        await until_a_statement_waits_for_a_lock(pool)
        assert not reading.done()  # the payload's statement waits for the change's row lock
        if while_waiting is not None:
            while_waiting()
        await tx.commit()
    return await asyncio.wait_for(reading, 10)


async def test_credentials_deleted_while_a_payload_is_read_are_refused(tenant, pool, vault):
    creds = await _credentials(tenant, "racy", "u", PASSWORD)
    deployment_id, token, _ = await deployed(tenant, pool, [container(PRIVATE, creds)])

    # A delete in flight: containers detached, row deleted, not committed. The
    # payload's statement reads the containers as committed, waits on the
    # credentials' row lock, and then finds the row gone: refused, nothing
    # partial, no delivery, and no password opened for it.
    async def delete(conn):
        # What CredentialsService.delete does in its transaction.
        assert await credentials_store.lock_for_delete(conn, tenant.id, uuid_of(creds))
        await containers_store.detach_credentials(conn, tenant.id, uuid_of(creds))
        await tables.delete_by_id(conn, credentials_store.TABLE, tenant.id, uuid_of(creds))

    def not_opened_yet():
        assert not vault.remembers(tenant.id, uuid_of(creds))

    body = await _payload_read_during(
        tenant, pool, token, deployment_id, delete, while_waiting=not_opened_yet
    )
    assert body["data"] == {"devicePayload": None}
    assert errors_of(body) == [("credentials_deleted", [])]
    assert PRIVATE in body["errors"][0]["message"]
    assert await _deliveries(pool, tenant) == 0
    assert not vault.remembers(tenant.id, uuid_of(creds))


async def test_a_deployment_withdrawn_while_its_payload_is_built_is_not_found(tenant, pool):
    creds = await _credentials(tenant, "withdrawn", "u", PASSWORD)
    deployment_id, token, _ = await deployed(tenant, pool, [container(PRIVATE, creds)])

    async def withdraw(conn):
        deployment = uuid_of(deployment_id)
        await tables.delete_by_id(conn, deployments_store.DEPLOYMENTS, tenant.id, deployment)

    body = await _payload_read_during(tenant, pool, token, deployment_id, withdraw)
    assert body["data"] == {"devicePayload": None}
    assert errors_of(body) == [("not_found", ["deploymentId"])]
    assert await _deliveries(pool, tenant) == 0


async def test_deleting_credentials_forgets_their_opened_password(tenant, pool, vault):
    creds = await _credentials(tenant, "remembered", "u", PASSWORD)
    deployment_id, token, _ = await deployed(tenant, pool, [container(PRIVATE, creds)])
    assert "errors" not in await read_payload(tenant, token, deployment_id)
    assert vault.remembers(tenant.id, uuid_of(creds))
    await tenant.gql(DELETE_CREDENTIALS, {"id": creds})
    assert not vault.remembers(tenant.id, uuid_of(creds))
    # And the payload is refused, remembered or not: the row is gone.
    assert errors_of(await read_payload(tenant, token, deployment_id)) == [
        ("credentials_deleted", [])
    ]


# --- release templates ------------------------------------------------------------


async def _build(tenant, pool, vault, templates, device_gid, deployment_gid):
    """The payload as PayloadService builds it for the device, with `templates`."""
    t = await get_by_slug(pool, tenant.slug)
    device = Device(t, uuid_of(device_gid))
    return await PayloadService(Database(pool), device, vault, templates).build(
        uuid_of(deployment_gid)
    )


async def test_deployments_of_one_release_share_its_templates(tenant, pool, vault):
    creds = await _credentials(tenant, "shared-template", "u", PASSWORD)
    release_id = await make_release(tenant, pool, [container(PRIVATE, creds), container("nginx")])
    templates = ReleaseTemplates()
    built = []
    for _ in range(2):
        device, _ = await create_device(tenant)
        deployment = await deploy(tenant, release_id, device["id"])
        built.append(await _build(tenant, pool, vault, templates, device["id"], deployment["id"]))
    one, two = built
    assert [a is b for a, b in zip(one.parts, two.parts, strict=True)] == [True] * len(one.parts)
    for b in built:  # each payload names its own deployment; the template none
        dep = str(b.deployment_id)
        events = b.events()
        assert [e["data"]["deploymentId"] for e in events[:4]] == [dep] * 4
        assert [c.deployment_id for c in b.containers] == [dep] * 2
    assert one.parts[0].data["deploymentId"] == ""


async def test_templates_kept_are_bounded(tenant, pool, vault):
    templates = ReleaseTemplates(max_releases=1)
    read = []
    for _ in range(2):
        deployment_id, _, device = await deployed(tenant, pool, [container("nginx")])
        built = await _build(tenant, pool, vault, templates, device["id"], deployment_id)
        assert built.deployment_id == uuid_of(deployment_id)
        read.append((deployment_id, device))
    assert len(templates) == 1
    # The newest release is the one kept; the older one is built again when asked.
    releases = [
        await pool.fetchval("SELECT release_id FROM deployments WHERE id = $1", uuid_of(d))
        for d, _ in read
    ]
    assert templates.get(tenant.id, releases[0]) is None
    assert templates.get(tenant.id, releases[1]) is not None
    again = await _build(tenant, pool, vault, templates, read[0][1]["id"], read[0][0])
    assert again.events()[1]["data"]["deploymentId"] == str(uuid_of(read[0][0]))
    assert templates.get(tenant.id, releases[0]) is not None
    assert templates.get(tenant.id, releases[1]) is None


# --- volumes, networks, device mappings and device requests ---------------------------

FULL_PAYLOAD = """
query Payload($id: ID!) {
  devicePayload(deploymentId: $id) {
    images { id deploymentId reference registryAuth }
    volumes { id deploymentId driver options }
    networks { id deploymentId driver internal enableIpv6 options }
    deviceMappings { id deploymentId pathOnHost pathInContainer cGroupPermissions }
    deviceRequests {
      id deploymentId driver count deviceIds capabilities optionKeys optionValues
    }
    containers {
      id deploymentId imageId networkIds volumeIds deviceMappingIds deviceRequestIds
      binds restartPolicy networkMode memorySwap memory
    }
    deployment { id containers }
    events
  }
}
"""

CONTAINER_PARTS = """
query($id: ID!) {
  container(id: $id) {
    imageId
    deviceMappings { edges { node { id } } }
    deviceRequests { edges { node { id } } }
  }
}
"""


async def _release_of(tenant, made: list[dict], dependencies=()) -> str:
    from .releases_gql import CREATE_RELEASE, create_application

    app = await create_application(tenant, f"app-{uuid.uuid4().hex[:6]}")
    body = await tenant.gql(
        CREATE_RELEASE,
        {
            "input": {
                "applicationId": app["id"],
                "version": "1.0.0",
                "containers": [{"id": c["id"]} for c in made],
                "containerDependencies": [
                    {"containerId": made[c]["id"], "dependencyId": made[d]["id"]}
                    for c, d in dependencies
                ],
            }
        },
    )
    assert "errors" not in body, body
    return body["data"]["createRelease"]["result"]["id"]


async def _parts_of(tenant, made: dict) -> dict[str, Any]:
    body = await tenant.gql(CONTAINER_PARTS, {"id": made["id"]})
    found = body["data"]["container"]
    return {
        "id": str(uuid_of(made["id"])),
        "image": str(uuid_of(found["imageId"])),
        "mappings": [str(uuid_of(e["node"]["id"])) for e in found["deviceMappings"]["edges"]],
        "requests": [str(uuid_of(e["node"]["id"])) for e in found["deviceRequests"]["edges"]],
    }


async def test_volumes_networks_device_mappings_and_requests_are_sent_as_edgehog_does(tenant, pool):
    from .releases_gql import create_container
    from .test_create_container import create_network, create_volume

    volume = await create_volume(tenant, "data", options=json.dumps({"size": "1G", "type": "x"}))
    network = await create_network(
        tenant,
        "front",
        internal=True,
        options=json.dumps({"com.docker.network.bridge.name": "br0"}),
    )
    first = await create_container(
        tenant,
        container(
            "reg.example/app:1",
            restartPolicy="on_failure",
            binds=["/host:/in/container:ro"],
            volumes=[{"id": volume, "target": "/data"}],
            networks=[{"id": network}],
            deviceMappings=[
                {
                    "pathOnHost": "/dev/ttyUSB0",
                    "pathInContainer": "/dev/tty0",
                    "cgroupPermissions": "rwm",
                }
            ],
            deviceRequests=[
                {
                    "driver": "nvidia",
                    "deviceIds": ["0", "GPU-1"],
                    "capabilities": [["gpu", "nvidia"], ["compute"]],
                    "options": json.dumps({"a": "1", "b": "x=y"}),
                },
                {"count": 2},
            ],
        ),
    )
    # The same image, volume and network again: each is sent once.
    second = await create_container(
        tenant,
        container(
            "reg.example/app:1",
            restartPolicy="unless-stopped",
            memory=2**30,
            memorySwap=-1,  # unlimited swap: kept
            volumes=[{"id": volume, "target": "/shared"}],
            networks=[{"id": network}],
        ),
    )
    one, two = await _parts_of(tenant, first), await _parts_of(tenant, second)
    assert one["image"] == two["image"]
    device, token = await create_device(tenant)
    deployment = await deploy(tenant, await _release_of(tenant, [first, second]), device["id"])
    body = await tenant.gql(FULL_PAYLOAD, {"id": deployment["id"]}, token=token)
    assert "errors" not in body, body
    payload = body["data"]["devicePayload"]
    dep = str(uuid_of(deployment["id"]))
    volume_id, network_id = str(uuid_of(volume)), str(uuid_of(network))
    (mapping_id,) = one["mappings"]
    gpu_id, counted_id = one["requests"]

    assert payload["images"] == [
        {
            "id": one["image"],
            "deploymentId": dep,
            "reference": "reg.example/app:1",
            "registryAuth": "",
        }
    ]
    assert payload["volumes"] == [
        {"id": volume_id, "deploymentId": dep, "driver": "local", "options": ["size=1G", "type=x"]}
    ]
    assert payload["networks"] == [
        {
            "id": network_id,
            "deploymentId": dep,
            "driver": "bridge",
            "internal": True,
            "enableIpv6": False,
            "options": ["com.docker.network.bridge.name=br0"],
        }
    ]
    assert payload["deviceMappings"] == [
        {
            "id": mapping_id,
            "deploymentId": dep,
            "pathOnHost": "/dev/ttyUSB0",
            "pathInContainer": "/dev/tty0",
            "cGroupPermissions": "rwm",
        }
    ]
    gpu, counted = payload["deviceRequests"]
    # Each AND-group of capabilities is one JSON array, as a string.
    assert [json.loads(c) for c in gpu.pop("capabilities")] == [["gpu", "nvidia"], ["compute"]]
    assert gpu == {
        "id": gpu_id,
        "deploymentId": dep,
        "driver": "nvidia",
        "count": -1,  # all
        "deviceIds": ["0", "GPU-1"],
        "optionKeys": ["a", "b"],
        "optionValues": ["1", "x=y"],
    }
    assert counted == {
        "id": counted_id,
        "deploymentId": dep,
        "driver": "",
        "count": 2,
        "deviceIds": [],
        "capabilities": [],
        "optionKeys": [],
        "optionValues": [],
    }
    assert payload["containers"] == [
        {
            "id": one["id"],
            "deploymentId": dep,
            "imageId": one["image"],
            "networkIds": [network_id],
            "volumeIds": [volume_id],
            "deviceMappingIds": [mapping_id],
            "deviceRequestIds": [gpu_id, counted_id],
            # A volume is mounted by its id, before the container's own binds.
            "binds": [f"{volume_id}:/data", "/host:/in/container:ro"],
            "restartPolicy": "on-failure",  # as Docker spells it
            "networkMode": "bridge",
            "memorySwap": -2,  # unset
            "memory": -1,
        },
        {
            "id": two["id"],
            "deploymentId": dep,
            "imageId": one["image"],
            "networkIds": [network_id],
            "volumeIds": [volume_id],
            "deviceMappingIds": [],
            "deviceRequestIds": [],
            "binds": [f"{volume_id}:/shared"],
            "restartPolicy": "unless-stopped",
            "networkMode": "bridge",
            "memorySwap": -1,
            "memory": 2**30,
        },
    ]
    assert payload["deployment"] == {"id": dep, "containers": [one["id"], two["id"]]}

    # The events, in Edgehog's order: per container its image, volumes, networks,
    # device mappings, device requests and the container, each resource once; the
    # deployment last. Their data is the typed objects' (every container field).
    events = payload["events"]
    prefix = "io.edgehog.devicemanager.apps."
    assert [(e["interface"].removeprefix(prefix), e["path"]) for e in events] == [
        ("CreateImageRequest", "/image"),
        ("CreateVolumeRequest", "/volume"),
        ("CreateNetworkRequest", "/network"),
        ("CreateDeviceMappingRequest", "/deviceMapping"),
        ("CreateDeviceRequest", "/deviceRequest"),
        ("CreateDeviceRequest", "/deviceRequest"),
        ("CreateContainerRequest", "/container"),
        ("CreateContainerRequest", "/container"),
        ("CreateDeploymentRequest", "/deployment"),
    ]
    assert all(e["interface"].startswith(prefix) for e in events)
    data = [e["data"] for e in events]
    assert data[:4] == [
        *payload["images"],
        *payload["volumes"],
        *payload["networks"],
        *payload["deviceMappings"],
    ]
    assert data[5] == counted and {**data[4], "capabilities": None} == {**gpu, "capabilities": None}
    for event, typed in zip(data[6:8], payload["containers"], strict=True):
        assert {k: event[k] for k in typed} == typed
        assert len(event) == 29  # every field of CreateContainerRequest, none more
    assert data[8] == payload["deployment"]
    # Exactly the interfaces' fields, in their order.
    assert [list(d) for d in data[1:6]] == [
        ["id", "deploymentId", "driver", "options"],
        ["id", "deploymentId", "driver", "internal", "enableIpv6", "options"],
        ["id", "deploymentId", "pathOnHost", "pathInContainer", "cGroupPermissions"],
        [
            "id",
            "deploymentId",
            "driver",
            "count",
            "deviceIds",
            "capabilities",
            "optionKeys",
            "optionValues",
        ],
        [
            "id",
            "deploymentId",
            "driver",
            "count",
            "deviceIds",
            "capabilities",
            "optionKeys",
            "optionValues",
        ],
    ]


async def test_capabilities_are_encoded_as_edgehog_encodes_them(tenant, pool):
    deployment_id, token, _ = await deployed(
        tenant,
        pool,
        [container("nginx", deviceRequests=[{"capabilities": [["gpu", "nvidia"], ["compute"]]}])],
    )
    body = await tenant.gql(FULL_PAYLOAD, {"id": deployment_id}, token=token)
    (request,) = body["data"]["devicePayload"]["deviceRequests"]
    assert request["capabilities"] == ['["gpu","nvidia"]', '["compute"]']


async def test_shared_images_are_sent_once_with_their_registry_auth(tenant, pool):
    robot = await _credentials(tenant, "robot", "robot", PASSWORD)
    deployment_id, token, _ = await deployed(
        tenant,
        pool,
        [
            container(PRIVATE, robot, hostname="a"),
            container("nginx", hostname="b"),
            container(PRIVATE, robot, hostname="c"),  # the first one's image
            container("nginx", hostname="d"),
        ],
    )
    body = await read_payload(tenant, token, deployment_id)
    assert "errors" not in body, body
    payload = body["data"]["devicePayload"]
    assert [i["reference"] for i in payload["images"]] == [PRIVATE, "nginx"]
    assert decode_registry_auth(payload["images"][0]["registryAuth"])["password"] == PASSWORD
    assert payload["images"][1]["registryAuth"] == ""
    image_ids = [i["id"] for i in payload["images"]]
    assert [c["imageId"] for c in payload["containers"]] == [*image_ids, *image_ids]
    assert [e["path"] for e in payload["events"]] == [
        "/image",
        "/container",
        "/image",
        "/container",
        "/container",
        "/container",
        "/deployment",
    ]
    # One delivery for the one set of credentials.
    assert await _deliveries(pool, tenant) == 1


async def test_dependencies_start_first(tenant, pool):
    from .releases_gql import create_container

    web, api, db, cache = [
        await create_container(tenant, container("nginx", hostname=name))
        for name in ("web", "api", "db", "cache")
    ]
    made = [web, api, db, cache]
    # web needs api and db; api needs db; cache needs nothing.
    release_id = await _release_of(tenant, made, dependencies=[(0, 1), (0, 2), (1, 2)])
    device, token = await create_device(tenant)
    deployment = await deploy(tenant, release_id, device["id"])
    body = await read_payload(tenant, token, deployment["id"])
    assert "errors" not in body, body
    payload = body["data"]["devicePayload"]
    order = [str(uuid_of(c["id"])) for c in (db, api, web, cache)]
    assert payload["deployment"]["containers"] == order
    # The requests themselves keep the release's order.
    assert [c["id"] for c in payload["containers"]] == [str(uuid_of(c["id"])) for c in made]
    assert payload["events"][-1]["data"]["containers"] == order

"""deleteRelease: the release goes, its containers stay (Edgehog's rule), audited,
refused while deployed."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid

from edgehog_creds.graphql.relay import to_global_id

from .gql import create as create_credentials
from .gql import until_a_statement_waits_for_a_lock
from .releases_gql import (
    CREATE_RELEASE,
    DELETE_RELEASE,
    RELEASE,
    container,
    create_application,
    create_release,
    nodes,
    problems,
    uuid_of,
)

CONTAINER = """
query Container($id: ID!) {
  container(id: $id) { id name hostname imageCredentials { id label } releases { count } }
}
"""


async def add_device(conn, tenant_id: uuid.UUID) -> uuid.UUID:
    """A device row, made directly: these tests are about releases, not devices."""
    return await conn.fetchval(
        "INSERT INTO devices (tenant_id, device_id, name, token_hash)"
        " VALUES ($1, $2, 'gw', $3) RETURNING id",
        tenant_id,
        secrets.token_urlsafe(16),
        secrets.token_bytes(32),
    )


async def add_deployment(conn, tenant_id: uuid.UUID, device_id: uuid.UUID, release_id: str):
    await conn.execute(
        "INSERT INTO deployments (tenant_id, device_id, release_id) VALUES ($1, $2, $3)",
        tenant_id,
        device_id,
        uuid_of(release_id),
    )


async def test_deletes_the_release_its_containers_stay_and_records_who(tenant, pool):
    credentials = await create_credentials(tenant, "c")
    app = await create_application(tenant)
    release = await create_release(
        tenant,
        app["id"],
        "1.0.0",
        [container("nginx", credentials["id"], hostname="a"), container("redis")],
    )
    listed = nodes(release["containers"])

    body = await tenant.gql(DELETE_RELEASE, {"id": release["id"]})
    assert "errors" not in body, body
    payload = body["data"]["deleteRelease"]
    assert payload["errors"] == []
    # The response shows the release as it was, containers included.
    assert payload["result"] == release
    assert [n["hostname"] for n in nodes(payload["result"]["containers"])] == ["a", ""]

    release_id = uuid_of(release["id"])
    assert await pool.fetchval("SELECT count(*) FROM releases WHERE id = $1", release_id) == 0
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM release_containers WHERE release_id = $1", release_id
        )
        == 0
    )
    assert (await tenant.gql(RELEASE, {"id": release["id"]}))["data"]["release"] is None
    # The containers stay, as they were, listed by no release now.
    for node in listed:
        body = await tenant.gql(CONTAINER, {"id": node["id"]})
        assert body["data"]["container"] == {
            "id": node["id"],
            "name": node["name"],
            "hostname": node["hostname"],
            "imageCredentials": node["imageCredentials"],
            "releases": {"count": 0},
        }
    audit = await pool.fetch(
        "SELECT actor, action, details FROM audit_events"
        " WHERE tenant_id = $1 AND entity_id = $2 ORDER BY at",
        tenant.id,
        release_id,
    )
    assert [(a["actor"], a["action"]) for a in audit] == [
        ("tester", "create"),
        ("tester", "delete"),
    ]
    assert json.loads(audit[1]["details"]) == {
        "version": "1.0.0",
        "application_id": str(uuid_of(app["id"])),
    }
    # No container was deleted, so nothing of theirs was audited as deleted.
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM audit_events WHERE tenant_id = $1 AND entity_type = 'Container'"
            " AND action = 'delete'",
            tenant.id,
        )
        == 0
    )

    # Gone: a second delete finds nothing, and the version is free again, for
    # a release of the very same containers.
    body = await tenant.gql(DELETE_RELEASE, {"id": release["id"]})
    assert body["data"] == {"deleteRelease": None}
    assert problems(body) == [("not_found", "id")]
    again = await tenant.gql(
        CREATE_RELEASE,
        {
            "input": {
                "applicationId": app["id"],
                "version": "1.0.0",
                "containers": [{"id": n["id"]} for n in listed],
            }
        },
    )
    assert [n["id"] for n in nodes(again["data"]["createRelease"]["result"]["containers"])] == [
        n["id"] for n in listed
    ]


async def test_deleting_one_release_leaves_the_others_listing_its_containers(tenant):
    app = await create_application(tenant)
    first = await create_release(tenant, app["id"], "1.0.0", [container("nginx")])
    shared = nodes(first["containers"])[0]
    body = await tenant.gql(
        CREATE_RELEASE,
        {
            "input": {
                "applicationId": app["id"],
                "version": "2.0.0",
                "containers": [{"id": shared["id"]}],
            }
        },
    )
    second = body["data"]["createRelease"]["result"]
    assert "errors" not in await tenant.gql(DELETE_RELEASE, {"id": first["id"]})
    kept = (await tenant.gql(RELEASE, {"id": second["id"]}))["data"]["release"]
    assert [n["id"] for n in nodes(kept["containers"])] == [shared["id"]]
    body = await tenant.gql(CONTAINER, {"id": shared["id"]})
    assert body["data"]["container"]["releases"] == {"count": 1}


async def test_refused_while_deployed(tenant, pool):
    app = await create_application(tenant)
    release = await create_release(tenant, app["id"], "1.0.0", [container("nginx")])
    async with pool.acquire() as conn:
        first, second = await add_device(conn, tenant.id), await add_device(conn, tenant.id)
        await add_deployment(conn, tenant.id, first, release["id"])
        await add_deployment(conn, tenant.id, first, release["id"])  # redeployed
        await add_deployment(conn, tenant.id, second, release["id"])

    body = await tenant.gql(DELETE_RELEASE, {"id": release["id"]})
    assert body["data"] == {"deleteRelease": None}
    assert problems(body) == [("invalid", "id")]
    assert body["errors"][0]["message"] == (
        "is deployed to 2 device(s); delete those deployments before the release"
    )
    # Nothing changed, nothing recorded.
    assert (await tenant.gql(RELEASE, {"id": release["id"]}))["data"]["release"] == release
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM deployments WHERE release_id = $1", uuid_of(release["id"])
        )
        == 3
    )
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM audit_events WHERE entity_id = $1 AND action = 'delete'",
            uuid_of(release["id"]),
        )
        == 0
    )


async def test_a_deployment_racing_the_delete_is_not_lost(tenant, pool):
    app = await create_application(tenant)
    release = await create_release(tenant, app["id"], "1.0.0")
    async with pool.acquire() as conn:
        device = await add_device(conn, tenant.id)
    # A deployment is being written (not committed yet) when the delete starts:
    # the delete must wait for it and then refuse, not cascade it away.
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await add_deployment(conn, tenant.id, device, release["id"])
        delete = asyncio.ensure_future(tenant.gql(DELETE_RELEASE, {"id": release["id"]}))
        await until_a_statement_waits_for_a_lock(pool)
        assert not delete.done()  # blocked on the release row
        await tx.commit()
    body = await delete
    assert problems(body) == [("invalid", "id")]
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM deployments WHERE release_id = $1", uuid_of(release["id"])
        )
        == 1
    )


async def test_other_tenants_cannot_delete(tenant, other_tenant):
    app = await create_application(tenant)
    release = await create_release(tenant, app["id"], "1.0.0")
    body = await other_tenant.gql(DELETE_RELEASE, {"id": release["id"]})
    assert body["data"] == {"deleteRelease": None}
    assert problems(body) == [("not_found", "id")]
    assert (await tenant.gql(RELEASE, {"id": release["id"]}))["data"]["release"]["id"] == release[
        "id"
    ]


async def test_bad_ids(tenant):
    for bad in ("nope", to_global_id("Application", uuid.uuid4())):
        body = await tenant.gql(DELETE_RELEASE, {"id": bad})
        assert problems(body) == [("invalid_primary_key", "id")]
    body = await tenant.gql(DELETE_RELEASE, {"id": to_global_id("Release", uuid.uuid4())})
    assert problems(body) == [("not_found", "id")]

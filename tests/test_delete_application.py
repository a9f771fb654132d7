"""deleteApplication: takes its releases along (their containers stay), refused while
deployed."""

from __future__ import annotations

import json
import uuid

from edgehog_creds.graphql.relay import to_global_id

from .releases_gql import (
    DELETE_APPLICATION,
    container,
    create_application,
    create_release,
    nodes,
    problems,
    uuid_of,
)
from .test_delete_release import add_deployment, add_device

GET = """
query Get($id: ID!) { application(id: $id) { id releases { count } } }
"""


async def test_deletes_application_with_its_releases(tenant, pool):
    app = await create_application(tenant, "doomed", "bye")
    releases = [
        await create_release(tenant, app["id"], v, [container("nginx"), container("redis")])
        for v in ("1.0.0", "1.1.0")
    ]
    kept = await create_application(tenant, "kept")
    await create_release(tenant, kept["id"], "1.0.0", [container("nginx")])

    body = await tenant.gql(DELETE_APPLICATION, {"id": app["id"]})
    assert "errors" not in body, body
    assert body["data"]["deleteApplication"] == {
        "result": {
            "id": app["id"],
            "name": "doomed",
            "description": "bye",
            "releases": {"count": 0},
        },
        "errors": [],
    }
    assert (await tenant.gql(GET, {"id": app["id"]}))["data"]["application"] is None
    assert (await tenant.gql(GET, {"id": kept["id"]}))["data"]["application"]["releases"] == {
        "count": 1
    }
    release_ids = [uuid_of(r["id"]) for r in releases]
    assert (
        await pool.fetchval("SELECT count(*) FROM releases WHERE id = ANY($1::uuid[])", release_ids)
        == 0
    )
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM release_containers WHERE release_id = ANY($1::uuid[])",
            release_ids,
        )
        == 0
    )
    # The containers stay: a container is a resource of its own, not the release's.
    listed = [n["id"] for r in releases for n in nodes(r["containers"])]
    assert len(listed) == 4
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM containers WHERE id = ANY($1::uuid[])",
            [uuid_of(i) for i in listed],
        )
        == 4
    )
    assert (
        await pool.fetchval("SELECT count(*) FROM containers WHERE tenant_id = $1", tenant.id) == 5
    )
    audit = await pool.fetch(
        "SELECT entity_type, entity_id, details FROM audit_events"
        " WHERE tenant_id = $1 AND action = 'delete' ORDER BY at",
        tenant.id,
    )
    assert [(a["entity_type"], a["entity_id"]) for a in audit] == [
        ("Release", release_ids[0]),
        ("Release", release_ids[1]),
        ("Application", uuid_of(app["id"])),
    ]
    assert json.loads(audit[2]["details"]) == {"name": "doomed", "releases": 2}


async def test_refused_while_a_release_is_deployed(tenant, pool):
    app = await create_application(tenant)
    await create_release(tenant, app["id"], "1.0.0")
    deployed = await create_release(tenant, app["id"], "2.0.0")
    async with pool.acquire() as conn:
        device = await add_device(conn, tenant.id)
        await add_deployment(conn, tenant.id, device, deployed["id"])

    body = await tenant.gql(DELETE_APPLICATION, {"id": app["id"]})
    assert body["data"] == {"deleteApplication": None}
    assert problems(body) == [("invalid", "id")]
    assert body["errors"][0]["short_message"] == (
        "has releases deployed to 1 device(s); delete those deployments before the application"
    )
    assert (await tenant.gql(GET, {"id": app["id"]}))["data"]["application"]["releases"] == {
        "count": 2
    }


async def test_not_found_and_isolation(tenant, other_tenant):
    app = await create_application(tenant)
    body = await other_tenant.gql(DELETE_APPLICATION, {"id": app["id"]})
    assert body["data"] == {"deleteApplication": None}
    assert problems(body) == [("not_found", "id")]
    assert (await tenant.gql(GET, {"id": app["id"]}))["data"]["application"]["id"] == app["id"]

    body = await tenant.gql(DELETE_APPLICATION, {"id": to_global_id("Application", uuid.uuid4())})
    assert problems(body) == [("not_found", "id")]
    body = await tenant.gql(DELETE_APPLICATION, {"id": to_global_id("Release", uuid.uuid4())})
    assert problems(body) == [("invalid_primary_key", "id")]

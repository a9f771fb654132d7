"""ImageCredentials.containers (the audit trail) and deleting credentials still in use.

Credentials belong to images (one per reference and credentials); the
containers listed are those whose image is pulled with them, each once,
however many releases list it.
"""

from __future__ import annotations

import json

from .gql import create as create_credentials
from .releases_gql import (
    CREATE_RELEASE,
    DELETE_CREDENTIALS,
    RELEASE,
    container,
    create_application,
    create_container,
    create_release,
    nodes,
    uuid_of,
)

CONTAINERS = """
query Containers($id: ID!, $first: Int, $after: String, $last: Int, $before: String) {
  imageCredentials(id: $id) {
    label
    containers(first: $first, after: $after, last: $last, before: $before) {
      count
      pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
      edges {
        cursor
        node {
          id hostname image { reference }
          releases { edges { node { id version application { name } } } }
        }
      }
    }
  }
}
"""

ALL_WITH_CONTAINERS = """
query {
  listImageCredentials {
    edges { node { label containers(first: 2) {
      count
      pageInfo { hasNextPage }
      edges { node { hostname releases { edges { node { version } } } } }
    } } }
  }
}
"""


async def detached_images(pool, tenant) -> int:
    return await pool.fetchval(
        "SELECT count(*) FROM images WHERE tenant_id = $1 AND credentials_deleted_at IS NOT NULL",
        tenant.id,
    )


async def setup(tenant):
    """Two credentials and a public image spread over two releases of one application."""
    hub = await create_credentials(tenant, "hub")
    ecr = await create_credentials(tenant, "ecr")
    app = await create_application(tenant, "fleet")
    one = await create_release(
        tenant,
        app["id"],
        "1.0.0",
        [
            container("nginx", hub["id"], hostname="a"),
            container("redis", ecr["id"], hostname="b"),
            container("busybox", hostname="public"),
        ],
    )
    two = await create_release(
        tenant,
        app["id"],
        "2.0.0",
        [container("nginx:2", hub["id"], hostname="c"), container("app", hub["id"], hostname="d")],
    )
    return hub, ecr, one, two


async def test_lists_the_containers_using_credentials_with_their_releases(tenant):
    hub, ecr, one, two = await setup(tenant)
    body = await tenant.gql(CONTAINERS, {"id": hub["id"]})
    assert "errors" not in body, body
    connection = body["data"]["imageCredentials"]["containers"]
    assert connection["count"] == 3
    assert [
        (n["hostname"], n["image"]["reference"], [r["version"] for r in nodes(n["releases"])])
        for n in nodes(connection)
    ] == [("a", "nginx", ["1.0.0"]), ("c", "nginx:2", ["2.0.0"]), ("d", "app", ["2.0.0"])]
    assert nodes(nodes(connection)[0]["releases"]) == [
        {"id": one["id"], "version": "1.0.0", "application": {"name": "fleet"}}
    ]
    assert nodes(nodes(connection)[1]["releases"])[0]["id"] == two["id"]

    body = await tenant.gql(CONTAINERS, {"id": ecr["id"]})
    assert [n["hostname"] for n in nodes(body["data"]["imageCredentials"]["containers"])] == ["b"]


async def test_pages_forwards_and_backwards(tenant):
    hub, *_ = await setup(tenant)
    body = await tenant.gql(CONTAINERS, {"id": hub["id"], "first": 2})
    page = body["data"]["imageCredentials"]["containers"]
    assert [n["hostname"] for n in nodes(page)] == ["a", "c"]
    assert page["pageInfo"]["hasNextPage"] is True and page["pageInfo"]["hasPreviousPage"] is False

    body = await tenant.gql(
        CONTAINERS, {"id": hub["id"], "first": 2, "after": page["pageInfo"]["endCursor"]}
    )
    page = body["data"]["imageCredentials"]["containers"]
    assert [n["hostname"] for n in nodes(page)] == ["d"]
    assert page["pageInfo"]["hasNextPage"] is False and page["pageInfo"]["hasPreviousPage"] is True

    body = await tenant.gql(
        CONTAINERS, {"id": hub["id"], "last": 1, "before": page["pageInfo"]["startCursor"]}
    )
    page = body["data"]["imageCredentials"]["containers"]
    assert [n["hostname"] for n in nodes(page)] == ["c"]
    assert page["pageInfo"]["hasNextPage"] is True and page["pageInfo"]["hasPreviousPage"] is True

    body = await tenant.gql(CONTAINERS, {"id": hub["id"], "first": 1, "last": 1})
    assert body["data"]["imageCredentials"]["containers"] is None
    assert [(e["code"], e["fields"]) for e in body["errors"]] == [("invalid", ["first"])]


async def test_every_credentials_of_a_list_gets_its_own_containers(tenant):
    await setup(tenant)
    body = await tenant.gql(ALL_WITH_CONTAINERS)
    assert "errors" not in body, body
    by_label = {
        e["node"]["label"]: e["node"]["containers"]
        for e in body["data"]["listImageCredentials"]["edges"]
    }
    assert by_label["hub"]["count"] == 3
    assert by_label["hub"]["pageInfo"]["hasNextPage"] is True
    assert [
        (n["hostname"], [r["version"] for r in nodes(n["releases"])])
        for n in nodes(by_label["hub"])
    ] == [("a", ["1.0.0"]), ("c", ["2.0.0"])]
    assert by_label["ecr"]["count"] == 1
    assert by_label["ecr"]["pageInfo"]["hasNextPage"] is False
    assert [n["hostname"] for n in nodes(by_label["ecr"])] == ["b"]


async def test_deleting_credentials_in_use_detaches_their_containers(tenant, pool):
    hub, ecr, one, two = await setup(tenant)
    hub_id = uuid_of(hub["id"])

    body = await tenant.gql(DELETE_CREDENTIALS, {"id": hub["id"]})
    assert "errors" not in body, body
    assert body["data"]["deleteImageCredentials"] == {
        "result": {"id": hub["id"], "label": "hub", "username": "user"},
        "errors": [],
        "detachedContainerCount": 3,
    }
    # The sealed password left the database with the row, at once.
    assert await pool.fetchval("SELECT count(*) FROM image_credentials WHERE id = $1", hub_id) == 0
    # Its images lost them, and say so.
    assert (
        await pool.fetchval("SELECT count(*) FROM images WHERE image_credentials_id = $1", hub_id)
        == 0
    )
    assert await detached_images(pool, tenant) == 3

    release_one = (await tenant.gql(RELEASE, {"id": one["id"]}))["data"]["release"]
    release_two = (await tenant.gql(RELEASE, {"id": two["id"]}))["data"]["release"]
    state = {
        n["hostname"]: (
            n["imageCredentials"],
            n["image"]["credentials"],
            n["credentialsDeleted"],
            n["image"]["reference"],
        )
        for n in nodes(release_one["containers"]) + nodes(release_two["containers"])
    }
    ecr_node = {"id": ecr["id"], "label": "ecr"}
    assert state == {
        "a": (None, None, True, "nginx"),
        "b": (ecr_node, ecr_node, False, "redis"),
        "public": (None, None, False, "busybox"),
        "c": (None, None, True, "nginx:2"),
        "d": (None, None, True, "app"),
    }
    # The credentials are gone from the API too.
    body = await tenant.gql(CONTAINERS, {"id": hub["id"]})
    assert body["data"]["imageCredentials"] is None
    # Deleting unused credentials detaches nothing.
    body = await tenant.gql(DELETE_CREDENTIALS, {"id": ecr["id"]})
    assert body["data"]["deleteImageCredentials"]["detachedContainerCount"] == 1


async def test_nothing_of_one_tenant_is_visible_to_another(tenant, other_tenant):
    hub, _, one, _ = await setup(tenant)
    theirs = await create_credentials(other_tenant, "hub")  # same label, other tenant
    app = await create_application(other_tenant)
    await create_release(other_tenant, app["id"], "1.0.0", [container("x", theirs["id"])])

    assert (await other_tenant.gql(CONTAINERS, {"id": hub["id"]}))["data"][
        "imageCredentials"
    ] is None
    assert (await other_tenant.gql(RELEASE, {"id": one["id"]}))["data"]["release"] is None
    body = await other_tenant.gql(CONTAINERS, {"id": theirs["id"]})
    assert [
        n["image"]["reference"] for n in nodes(body["data"]["imageCredentials"]["containers"])
    ] == ["x"]
    body = await tenant.gql(CONTAINERS, {"id": hub["id"]})
    assert body["data"]["imageCredentials"]["containers"]["count"] == 3


async def test_a_container_is_listed_once_and_an_image_counts_its_containers(tenant, pool):
    hub = await create_credentials(tenant, "hub")
    app = await create_application(tenant)
    # Two containers of one image (same reference, same credentials).
    first = await create_container(tenant, container("nginx", hub["id"], hostname="one"))
    second = await create_container(tenant, container("nginx", hub["id"], hostname="two"))
    assert first["image"]["id"] == second["image"]["id"]
    # The first is in two releases.
    for version, listed in (("1.0.0", [first]), ("2.0.0", [first, second])):
        body = await tenant.gql(
            CREATE_RELEASE,
            {
                "input": {
                    "applicationId": app["id"],
                    "version": version,
                    "containers": [{"id": c["id"]} for c in listed],
                }
            },
        )
        assert "errors" not in body, body

    body = await tenant.gql(CONTAINERS, {"id": hub["id"]})
    connection = body["data"]["imageCredentials"]["containers"]
    assert connection["count"] == 2
    assert [
        (n["hostname"], [r["version"] for r in nodes(n["releases"])]) for n in nodes(connection)
    ] == [("one", ["1.0.0", "2.0.0"]), ("two", ["2.0.0"])]

    # One image detached, two containers that ran it.
    body = await tenant.gql(DELETE_CREDENTIALS, {"id": hub["id"]})
    assert body["data"]["deleteImageCredentials"]["detachedContainerCount"] == 2
    assert await detached_images(pool, tenant) == 1
    audit = await pool.fetchval(
        "SELECT details FROM audit_events WHERE entity_id = $1 AND action = 'delete'",
        uuid_of(hub["id"]),
    )
    assert json.loads(audit) == {"label": "hub", "detached_containers": 2}


async def test_containers_not_in_any_release_are_listed_too(tenant):
    hub = await create_credentials(tenant, "hub")
    made = await create_container(tenant, container("nginx", hub["id"], hostname="loose"))
    body = await tenant.gql(CONTAINERS, {"id": hub["id"]})
    connection = body["data"]["imageCredentials"]["containers"]
    assert [(n["id"], n["hostname"], n["releases"]["edges"]) for n in nodes(connection)] == [
        (made["id"], "loose", [])
    ]

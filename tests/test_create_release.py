"""createRelease and createApplication's initialRelease: existing containers by id, in
order, their dependencies, every rule, uniqueness, immutability. (A container's own
rules: test_create_container.py.)"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

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
    create_container,
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
    ... on Container { name hostname image { reference } }
  }
}
"""

DEPENDENCIES = """
query Dependencies($id: ID!, $first: Int, $after: String) {
  release(id: $id) {
    id version applicationId
    containers { edges { node { id name } } }
    containerDependencies(first: $first, after: $after) {
      count
      pageInfo { hasNextPage hasPreviousPage endCursor }
      edges { node { id container { id name } dependency { id name } } }
    }
  }
}
"""

CREATE_APPLICATION = """
mutation CreateApplication($input: CreateApplicationInput!) {
  createApplication(input: $input) {
    result {
      id name description
      releases { count edges { node {
        id version application { name }
        containers { edges { node { id name hostname } } }
        containerDependencies { edges { node { container { name } dependency { name } } } }
      } } }
    }
    errors { code fields }
  }
}
"""


async def containers(tenant, *names: str, **settings: Any) -> list[dict]:
    """A container per name (createContainer), nginx unless the name says otherwise."""
    return [
        await create_container(tenant, {"name": name, **container(f"{name}:1", **settings)})
        for name in names
    ]


def ids(*made: dict) -> list[dict[str, str]]:
    return [{"id": c["id"]} for c in made]


def depends(container_: dict, dependency: dict) -> dict[str, str]:
    return {"containerId": container_["id"], "dependencyId": dependency["id"]}


async def release_raw(tenant, application_id: str, version: str, **fields: Any) -> dict:
    return await tenant.gql(
        CREATE_RELEASE,
        {"input": {"applicationId": application_id, "version": version, **fields}},
    )


async def count_rows(pool, table: str, tenant) -> int:
    return await pool.fetchval(f"SELECT count(*) FROM {table} WHERE tenant_id = $1", tenant.id)


# --- a release of existing containers -----------------------------------------------


async def test_creates_release_listing_containers_in_order(tenant, pool):
    credentials = await create_credentials(tenant, "registry")
    app = await create_application(tenant, "station")
    web = await create_container(
        tenant,
        {
            "name": "web",
            **container(
                "registry.example.com:5000/team/web:1.4",
                credentials["id"],
                hostname="station-1",
                restartPolicy="on-failure",
                memory=2**40,
            ),
        },
    )
    db, cache = await containers(tenant, "postgres", "redis")

    body = await release_raw(
        tenant, app["id"], "1.0.0-rc.1+build.5", containers=ids(cache, web, db)
    )
    assert "errors" not in body, body
    release = body["data"]["createRelease"]["result"]
    assert release["version"] == "1.0.0-rc.1+build.5"
    assert release["application"] == {"id": app["id"], "name": "station"}
    connection = release["containers"]
    assert connection["count"] == 3
    # Listed in the order given, each the very container created before.
    assert nodes(connection) == [cache, web, db]
    listed_web = nodes(connection)[1]
    assert listed_web["image"]["credentials"] == {"id": credentials["id"], "label": "registry"}
    assert (listed_web["restartPolicy"], listed_web["memory"]) == ("on_failure", 2**40)

    # Stored as the release's list, by position; the containers are untouched.
    rows = await pool.fetch(
        "SELECT tenant_id, container_id, position FROM release_containers"
        " WHERE release_id = $1 ORDER BY position",
        uuid_of(release["id"]),
    )
    assert [(r["tenant_id"], r["container_id"], r["position"]) for r in rows] == [
        (tenant.id, uuid_of(cache["id"]), 0),
        (tenant.id, uuid_of(web["id"]), 1),
        (tenant.id, uuid_of(db["id"]), 2),
    ]
    assert await count_rows(pool, "containers", tenant) == 3

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
        "containers": [str(uuid_of(c["id"])) for c in (cache, web, db)],
        "required_system_models": [],
    }
    # Read back as created.
    assert (await tenant.gql(RELEASE, {"id": release["id"]}))["data"]["release"] == release


async def test_a_container_may_be_in_several_releases(tenant):
    one = await create_application(tenant, "one")
    two = await create_application(tenant, "two")
    shared, own = await containers(tenant, "shared", "own")
    first = await release_raw(tenant, one["id"], "1.0.0", containers=ids(shared))
    second = await release_raw(tenant, one["id"], "2.0.0", containers=ids(own, shared))
    third = await release_raw(tenant, two["id"], "1.0.0", containers=ids(shared))
    made = [b["data"]["createRelease"]["result"] for b in (first, second, third)]
    assert [[n["id"] for n in nodes(r["containers"])] for r in made] == [
        [shared["id"]],
        [own["id"], shared["id"]],
        [shared["id"]],
    ]
    body = await tenant.gql(
        "query($id: ID!) { container(id: $id) { releases { count edges { node {"
        " id version application { name } } } } } }",
        {"id": shared["id"]},
    )
    releases = body["data"]["container"]["releases"]
    assert releases["count"] == 3
    assert [(n["id"], n["version"], n["application"]["name"]) for n in nodes(releases)] == [
        (made[0]["id"], "1.0.0", "one"),
        (made[1]["id"], "2.0.0", "one"),
        (made[2]["id"], "1.0.0", "two"),
    ]


async def test_release_and_its_parts_are_nodes(tenant):
    app = await create_application(tenant)
    release = await create_release(tenant, app["id"], "2.0.0", [container("nginx", hostname="w")])
    (node,) = nodes(release["containers"])
    assert (await tenant.gql(NODE, {"id": release["id"]}))["data"]["node"] == {
        "id": release["id"],
        "version": "2.0.0",
    }
    assert (await tenant.gql(NODE, {"id": node["id"]}))["data"]["node"] == {
        "id": node["id"],
        "name": node["name"],
        "hostname": "w",
        "image": {"reference": "nginx"},
    }
    assert (await tenant.gql(RELEASE, {"id": release["id"]}))["data"]["release"] == release
    missing = to_global_id("Release", uuid.uuid4())
    assert (await tenant.gql(RELEASE, {"id": missing})) == {"data": {"release": None}}
    body = await tenant.gql(RELEASE, {"id": node["id"]})  # a Container's id
    assert problems(body) == [("invalid_primary_key", "id")]


async def test_a_release_may_have_no_containers(tenant):
    app = await create_application(tenant)
    release = await create_release(tenant, app["id"], "0.1.0", [])
    assert release["containers"]["count"] == 0 and release["containers"]["edges"] == []
    body = await release_raw(tenant, app["id"], "0.2.0")  # containers left out
    assert body["data"]["createRelease"]["result"]["containers"]["count"] == 0


async def test_sixty_four_containers_at_most(tenant, pool):
    app = await create_application(tenant)
    made = [await create_container(tenant, container("nginx")) for _ in range(65)]
    body = await release_raw(tenant, app["id"], "1.0.0", containers=ids(*made[:64]))
    assert "errors" not in body, body
    listed = body["data"]["createRelease"]["result"]["containers"]
    assert listed["count"] == 64
    assert [n["id"] for n in nodes(listed)] == [c["id"] for c in made[:64]]
    body = await release_raw(tenant, app["id"], "2.0.0", containers=ids(*made))
    assert problems(body) == [("too_long", "containers")]
    assert body["errors"][0]["message"] == "should have at most 64 item(s)"
    assert await count_rows(pool, "releases", tenant) == 1


async def test_a_container_is_listed_once(tenant):
    app = await create_application(tenant)
    a, b = await containers(tenant, "a", "b")
    body = await release_raw(tenant, app["id"], "1.0.0", containers=ids(a, b, a, b, a))
    assert problems(body) == [
        ("invalid", "containers.2.id"),
        ("invalid", "containers.3.id"),
        ("invalid", "containers.4.id"),
    ]
    assert body["errors"][0]["message"] == "is listed more than once"


async def test_unknown_and_foreign_containers_are_not_found(tenant, other_tenant, pool):
    app = await create_application(tenant)
    (mine,) = await containers(tenant, "mine")
    theirs = await create_container(other_tenant, container("nginx"))
    body = await release_raw(
        tenant,
        app["id"],
        "1.0.0",
        containers=[
            {"id": mine["id"]},
            {"id": theirs["id"]},
            {"id": to_global_id("Container", uuid.uuid4())},
        ],
    )
    assert body["data"] == {"createRelease": None}
    assert problems(body) == [("not_found", "containers.1.id"), ("not_found", "containers.2.id")]
    assert body["errors"][0]["message"] == "could not be found"
    assert await count_rows(pool, "releases", tenant) == 0
    # The other tenant's container is not listed in anything.
    assert await count_rows(pool, "release_containers", other_tenant) == 0


async def test_a_null_container_id_is_required_not_left_out(tenant, pool):
    app = await create_application(tenant)
    (a,) = await containers(tenant, "a")
    body = await release_raw(tenant, app["id"], "1.0.0", containers=[{"id": a["id"]}, {"id": None}])
    assert problems(body) == [("required", "containers.1.id")]
    body = await release_raw(tenant, app["id"], "1.0.0", containers=[{}])
    assert problems(body) == [("required", "containers.0.id")]
    assert await count_rows(pool, "releases", tenant) == 0


# --- dependencies -----------------------------------------------------------------------


async def test_container_dependencies(tenant, pool):
    app = await create_application(tenant)
    db, api, web = await containers(tenant, "db", "api", "web")
    body = await release_raw(
        tenant,
        app["id"],
        "1.0.0",
        containers=ids(web, api, db),
        containerDependencies=[
            depends(api, db),
            depends(web, api),
            depends(web, db),
            depends(web, api),  # the same edge twice: kept once
        ],
    )
    assert "errors" not in body, body
    release = body["data"]["createRelease"]["result"]

    body = await tenant.gql(DEPENDENCIES, {"id": release["id"]})
    found = body["data"]["release"]
    assert found["applicationId"] == app["id"]
    assert [n["name"] for n in nodes(found["containers"])] == ["web", "api", "db"]
    edges = found["containerDependencies"]
    assert edges["count"] == 3
    assert sorted((n["container"]["name"], n["dependency"]["name"]) for n in nodes(edges)) == [
        ("api", "db"),
        ("web", "api"),
        ("web", "db"),
    ]
    assert all(n["container"]["id"] and n["dependency"]["id"] for n in nodes(edges))
    # Paged like any connection.
    body = await tenant.gql(DEPENDENCIES, {"id": release["id"], "first": 2})
    page = body["data"]["release"]["containerDependencies"]
    assert len(page["edges"]) == 2 and page["pageInfo"]["hasNextPage"] is True
    body = await tenant.gql(
        DEPENDENCIES, {"id": release["id"], "first": 2, "after": page["pageInfo"]["endCursor"]}
    )
    rest = body["data"]["release"]["containerDependencies"]
    assert len(rest["edges"]) == 1 and rest["pageInfo"]["hasPreviousPage"] is True
    everything = {n["id"] for n in nodes(page)} | {n["id"] for n in nodes(rest)}
    assert everything == {n["id"] for n in nodes(edges)}

    rows = await pool.fetch(
        "SELECT container_id, dependency_id FROM release_container_dependencies"
        " WHERE release_id = $1",
        uuid_of(release["id"]),
    )
    assert sorted((r["container_id"], r["dependency_id"]) for r in rows) == sorted(
        [
            (uuid_of(api["id"]), uuid_of(db["id"])),
            (uuid_of(web["id"]), uuid_of(api["id"])),
            (uuid_of(web["id"]), uuid_of(db["id"])),
        ]
    )
    # Dependencies belong to the release: another release of the same containers has none.
    other = await release_raw(tenant, app["id"], "2.0.0", containers=ids(db, api, web))
    other_id = other["data"]["createRelease"]["result"]["id"]
    body = await tenant.gql(DEPENDENCIES, {"id": other_id})
    assert body["data"]["release"]["containerDependencies"]["count"] == 0


@pytest.mark.parametrize(
    "edges",
    [
        [("a", "b"), ("b", "a")],
        [("a", "b"), ("b", "c"), ("c", "a")],
        [("a", "a")],
        [("a", "b"), ("c", "b"), ("b", "c")],
    ],
)
async def test_a_cycle_is_refused(tenant, pool, edges):
    app = await create_application(tenant)
    made = dict(zip("abc", await containers(tenant, "a", "b", "c"), strict=True))
    body = await release_raw(
        tenant,
        app["id"],
        "1.0.0",
        containers=ids(*made.values()),
        containerDependencies=[depends(made[c], made[d]) for c, d in edges],
    )
    assert body["data"] == {"createRelease": None}
    assert problems(body) == [("invalid", "containerDependencies")]
    assert body["errors"][0]["message"] == "circular dependencies detected"
    assert await count_rows(pool, "releases", tenant) == 0


async def test_dependencies_must_be_among_the_listed_containers(tenant, other_tenant):
    app = await create_application(tenant)
    a, b, unlisted = await containers(tenant, "a", "b", "unlisted")
    theirs = await create_container(other_tenant, container("nginx"))
    body = await release_raw(
        tenant,
        app["id"],
        "1.0.0",
        containers=ids(a, b),
        containerDependencies=[
            depends(a, b),
            depends(a, unlisted),
            depends(unlisted, b),
            depends(theirs, a),
        ],
    )
    assert problems(body) == [
        ("invalid", "containerDependencies.1.dependencyId"),
        ("invalid", "containerDependencies.2.containerId"),
        ("invalid", "containerDependencies.3.containerId"),
    ]
    assert body["errors"][0]["message"] == "is not one of the release's containers"


async def test_reports_every_problem_of_the_input_at_once(tenant, other_tenant, pool):
    app = await create_application(tenant)
    a, b = await containers(tenant, "a", "b")
    theirs = await create_container(other_tenant, container("nginx"))
    await release_raw(tenant, app["id"], "1.0.0", containers=ids(a))
    body = await release_raw(
        tenant,
        app["id"],
        "1.0.0",  # taken
        containers=[
            {"id": a["id"]},
            {"id": theirs["id"]},
            {"id": "garbage"},
            {"id": a["id"]},
            {"id": app["id"]},  # an Application's id
            {"id": b["id"]},
        ],
        containerDependencies=[
            depends(a, b),
            depends(b, a),
            {"containerId": "x", "dependencyId": a["id"]},
        ],
        requiredSystemModels=[{"id": "nope"}],
    )
    assert body["data"] == {"createRelease": None}
    assert problems(body) == [
        ("invalid", "containerDependencies"),
        ("invalid", "containers.3.id"),
        ("invalid_primary_key", "containerDependencies.2.containerId"),
        ("invalid_primary_key", "containers.2.id"),
        ("invalid_primary_key", "containers.4.id"),
        ("invalid_primary_key", "requiredSystemModels.0.id"),
        ("not_found", "containers.1.id"),
        ("unique", "version"),
    ]
    assert all(e["path"] == ["createRelease"] for e in body["errors"])
    assert await count_rows(pool, "releases", tenant) == 1

    body = await release_raw(tenant, app["id"], "1.0", containers=[{"id": theirs["id"]}])
    assert problems(body) == [("invalid", "version"), ("not_found", "containers.0.id")]
    by_field = {e["fields"][0]: e for e in body["errors"]}
    assert by_field["version"]["message"].startswith("is not a valid Semantic Version")


async def test_unknown_or_foreign_application_is_not_found(tenant, other_tenant):
    theirs = await create_application(other_tenant)
    for application_id in (theirs["id"], to_global_id("Application", uuid.uuid4())):
        body = await release_raw(tenant, application_id, "1.0.0", containers=[])
        assert body["data"] == {"createRelease": None}
        assert problems(body) == [("not_found", "applicationId")]


async def test_undecodable_ids_are_invalid_primary_keys(tenant):
    credentials = await create_credentials(tenant, "c")
    app = await create_application(tenant)
    for application_id in ("%%%", credentials["id"]):  # garbage, and an id of another type
        body = await release_raw(tenant, application_id, "1.0.0", containers=[])
        assert problems(body) == [("invalid_primary_key", "applicationId")]
    body = await tenant.gql(CREATE_RELEASE, {"input": {"version": "1.0.0"}})
    assert problems(body) == [("required", "applicationId")]
    made = await create_container(tenant, container("nginx"))
    body = await release_raw(
        tenant,
        app["id"],
        "1.0.0",
        containers=[
            {"id": made["image"]["id"]},
            {"id": credentials["id"]},
        ],  # an Image, credentials
        containerDependencies=[{"containerId": made["id"], "dependencyId": "%%%"}],
    )
    assert problems(body) == [
        ("invalid", "containerDependencies.0.containerId"),  # not listed
        ("invalid_primary_key", "containerDependencies.0.dependencyId"),
        ("invalid_primary_key", "containers.0.id"),
        ("invalid_primary_key", "containers.1.id"),
    ]


# --- versions ----------------------------------------------------------------------------


async def test_versions_are_unique_per_application(tenant):
    app = await create_application(tenant, "a")
    other = await create_application(tenant, "b")
    await create_release(tenant, app["id"], "1.0.0")
    await create_release(tenant, other["id"], "1.0.0")  # another application: fine

    body = await release_raw(tenant, app["id"], "1.0.0")
    assert body["data"] == {"createRelease": None}
    assert problems(body) == [("unique", "version")]
    assert body["errors"][0]["message"] == "has already been taken"
    assert body["errors"][0]["fields"] == ["version"]
    # A version differing only in build metadata is another version, as written.
    await create_release(tenant, app["id"], "1.0.0+build.2")


async def test_concurrent_creates_of_one_version_yield_one_release(tenant, pool):
    app = await create_application(tenant)
    shared = await create_container(tenant, container("nginx"))
    variables = {
        "input": {"applicationId": app["id"], "version": "3.0.0", "containers": ids(shared)}
    }
    bodies = await asyncio.gather(*(tenant.gql(CREATE_RELEASE, variables) for _ in range(6)))
    created = [b for b in bodies if "errors" not in b]
    refused = [b for b in bodies if "errors" in b]
    assert len(created) == 1
    assert [problems(b) for b in refused] == [[("unique", "version")]] * 5
    assert await count_rows(pool, "releases", tenant) == 1
    assert await count_rows(pool, "release_containers", tenant) == 1


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


async def test_version_rules_through_the_api(tenant):
    app = await create_application(tenant)
    body = await release_raw(tenant, app["id"], "")
    assert problems(body) == [("required", "version")]
    body = await release_raw(tenant, app["id"], "v1.0.0")
    assert problems(body) == [("invalid", "version")]
    body = await release_raw(tenant, app["id"], "1.0.0-" + "a" * 250)
    assert problems(body) == [("too_long", "version")]


# --- immutability, audit, who may -----------------------------------------------------------


async def test_releases_and_their_lists_are_immutable_in_the_database(tenant, pool):
    app = await create_application(tenant)
    a, b = await containers(tenant, "a", "b")
    body = await release_raw(
        tenant, app["id"], "1.0.0", containers=ids(a, b), containerDependencies=[depends(b, a)]
    )
    release_id = uuid_of(body["data"]["createRelease"]["result"]["id"])
    with pytest.raises(asyncpg.RestrictViolationError, match="immutable"):
        await pool.execute("UPDATE releases SET version = '9.9.9' WHERE id = $1", release_id)
    with pytest.raises(asyncpg.RestrictViolationError):
        await pool.execute(
            "UPDATE release_containers SET position = position + 10 WHERE release_id = $1",
            release_id,
        )
    # A container in a release cannot be deleted (no API does; the key refuses it too).
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        await pool.execute("DELETE FROM containers WHERE id = $1", uuid_of(a["id"]))
    body = await tenant.gql(RELEASE, {"id": to_global_id("Release", release_id)})
    assert body["data"]["release"]["version"] == "1.0.0"
    assert [n["name"] for n in nodes(body["data"]["release"]["containers"])] == ["a", "b"]


async def test_release_dependencies_are_immutable_in_the_database(tenant, pool):
    app = await create_application(tenant)
    a, b = await containers(tenant, "a", "b")
    body = await release_raw(
        tenant, app["id"], "1.0.0", containers=ids(a, b), containerDependencies=[depends(b, a)]
    )
    release_id = uuid_of(body["data"]["createRelease"]["result"]["id"])
    with pytest.raises(asyncpg.RestrictViolationError):
        await pool.execute(
            "UPDATE release_container_dependencies"
            " SET container_id = dependency_id, dependency_id = container_id"
            " WHERE release_id = $1",
            release_id,
        )


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


# --- createApplication with its first release --------------------------------------------


async def test_create_application_with_an_initial_release(tenant, pool):
    db, web = await containers(tenant, "db", "web", hostname="h")
    body = await tenant.gql(
        CREATE_APPLICATION,
        {
            "input": {
                "name": "fleet",
                "description": "d",
                "initialRelease": {
                    "version": "1.0.0",
                    "containers": ids(web, db),
                    "containerDependencies": [depends(web, db)],
                    "requiredSystemModels": [],
                },
            }
        },
    )
    assert "errors" not in body, body
    app = body["data"]["createApplication"]["result"]
    assert (app["name"], app["description"], app["releases"]["count"]) == ("fleet", "d", 1)
    (release,) = nodes(app["releases"])
    assert release["version"] == "1.0.0" and release["application"] == {"name": "fleet"}
    assert [(n["id"], n["name"]) for n in nodes(release["containers"])] == [
        (web["id"], "web"),
        (db["id"], "db"),
    ]
    assert nodes(release["containerDependencies"]) == [
        {"container": {"name": "web"}, "dependency": {"name": "db"}}
    ]
    audit = await pool.fetch(
        "SELECT entity_type, entity_id FROM audit_events"
        " WHERE tenant_id = $1 AND entity_type IN ('Application', 'Release') ORDER BY at",
        tenant.id,
    )
    assert [(a["entity_type"], a["entity_id"]) for a in audit] == [
        ("Application", uuid_of(app["id"])),
        ("Release", uuid_of(release["id"])),
    ]


async def test_create_application_and_its_release_are_both_or_nothing(tenant, other_tenant, pool):
    (mine,) = await containers(tenant, "mine")
    theirs = await create_container(other_tenant, container("nginx"))
    body = await tenant.gql(
        CREATE_APPLICATION,
        {
            "input": {
                "name": "fleet",
                "initialRelease": {
                    "version": "1.0",
                    "containers": [{"id": mine["id"]}, {"id": theirs["id"]}, {"id": mine["id"]}],
                    "containerDependencies": [depends(mine, mine)],
                },
            }
        },
    )
    assert body["data"] == {"createApplication": None}
    assert problems(body) == [
        ("invalid", "initialRelease.containerDependencies"),
        ("invalid", "initialRelease.containers.2.id"),
        ("invalid", "initialRelease.version"),
        ("not_found", "initialRelease.containers.1.id"),
    ]
    # With the application's own problems too.
    body = await tenant.gql(
        CREATE_APPLICATION,
        {
            "input": {
                "name": " ",
                "initialRelease": {"version": "1.0.0", "containers": [{"id": "garbage"}]},
            }
        },
    )
    assert problems(body) == [
        ("invalid_primary_key", "initialRelease.containers.0.id"),
        ("required", "name"),
    ]
    assert await count_rows(pool, "applications", tenant) == 0
    assert await count_rows(pool, "releases", tenant) == 0
    # Without an initial release, just the application.
    body = await tenant.gql(CREATE_APPLICATION, {"input": {"name": "bare"}})
    assert body["data"]["createApplication"]["result"]["releases"]["count"] == 0

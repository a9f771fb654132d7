"""createApplication, application(id), applications and node(id) for applications."""

from __future__ import annotations

import json

from .releases_gql import CREATE_APPLICATION, create_application, nodes, problems, uuid_of

GET = """
query Get($id: ID!) { application(id: $id) { id name description } }
"""

NODE = """
query Node($id: ID!) { node(id: $id) { id ... on Application { name } } }
"""

LIST = """
query List($first: Int, $last: Int, $after: String, $before: String,
           $sort: [ApplicationSortInput], $filter: ApplicationFilterInput) {
  applications(first: $first, last: $last, after: $after, before: $before,
                   sort: $sort, filter: $filter) {
    count
    pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
    edges { cursor node { id name description } }
  }
}
"""


async def test_creates_trims_and_records_who(tenant, pool):
    body = await tenant.gql(
        CREATE_APPLICATION, {"input": {"name": "  Weather station  ", "description": " sensors "}}
    )
    assert "errors" not in body
    payload = body["data"]["createApplication"]
    assert payload["errors"] == []
    assert payload["result"]["name"] == "Weather station"
    assert payload["result"]["description"] == "sensors"
    application_id = uuid_of(payload["result"]["id"])
    row = await pool.fetchrow(
        "SELECT tenant_id, name, description FROM applications WHERE id = $1", application_id
    )
    assert dict(row) == {
        "tenant_id": tenant.id,
        "name": "Weather station",
        "description": "sensors",
    }
    audit = await pool.fetch(
        "SELECT actor, action, entity_type, details FROM audit_events"
        " WHERE tenant_id = $1 AND entity_id = $2",
        tenant.id,
        application_id,
    )
    assert [(a["actor"], a["action"], a["entity_type"]) for a in audit] == [
        ("tester", "create", "Application")
    ]
    assert json.loads(audit[0]["details"]) == {"name": "Weather station"}


async def test_description_is_optional(tenant):
    body = await tenant.gql(CREATE_APPLICATION, {"input": {"name": "bare"}})
    assert body["data"]["createApplication"]["result"]["description"] == ""


async def test_reports_every_invalid_field_at_once(tenant):
    body = await tenant.gql(
        CREATE_APPLICATION, {"input": {"name": "   ", "description": "x" * 4097}}
    )
    assert body["data"] == {"createApplication": None}
    assert problems(body) == [("required", "name"), ("too_long", "description")]

    body = await tenant.gql(
        CREATE_APPLICATION, {"input": {"name": "a\x00b" + "", "description": "tab\there"}}
    )
    assert problems(body) == [("invalid", "description"), ("invalid", "name")]

    body = await tenant.gql(CREATE_APPLICATION, {"input": {"name": "n" * 256}})
    assert problems(body) == [("too_long", "name")]


async def test_get_node_and_tenant_isolation(tenant, other_tenant):
    app = await create_application(tenant, "mine", "d")
    body = await tenant.gql(GET, {"id": app["id"]})
    assert body["data"]["application"] == {"id": app["id"], "name": "mine", "description": "d"}
    body = await tenant.gql(NODE, {"id": app["id"]})
    assert body["data"]["node"] == {"id": app["id"], "name": "mine"}

    # The other tenant sees nothing: not by id, not by node, not in its list.
    assert (await other_tenant.gql(GET, {"id": app["id"]}))["data"]["application"] is None
    assert (await other_tenant.gql(NODE, {"id": app["id"]}))["data"]["node"] is None
    listed = (await other_tenant.gql(LIST, {}))["data"]["applications"]
    assert listed["count"] == 0 and listed["edges"] == []


async def test_wrong_kind_of_id_is_invalid_primary_key(tenant):
    body = await tenant.gql(GET, {"id": "not-an-id"})
    assert body["data"] == {"application": None}
    assert problems(body) == [("invalid_primary_key", "id")]


async def test_list_sorts_filters_and_pages(tenant):
    for name in ["charlie", "alpha", "bravo"]:
        await create_application(tenant, name, f"about {name}")

    body = await tenant.gql(LIST, {})
    listed = body["data"]["applications"]
    assert [n["name"] for n in nodes(listed)] == ["charlie", "alpha", "bravo"]  # insertion order
    assert listed["count"] == 3

    body = await tenant.gql(LIST, {"sort": [{"field": "NAME", "order": "DESC"}], "first": 2})
    page = body["data"]["applications"]
    assert [n["name"] for n in nodes(page)] == ["charlie", "bravo"]
    assert page["pageInfo"]["hasNextPage"] is True
    body = await tenant.gql(
        LIST,
        {
            "sort": [{"field": "NAME", "order": "DESC"}],
            "first": 2,
            "after": page["pageInfo"]["endCursor"],
        },
    )
    page = body["data"]["applications"]
    assert [n["name"] for n in nodes(page)] == ["alpha"]
    assert page["pageInfo"]["hasPreviousPage"] is True
    assert page["pageInfo"]["hasNextPage"] is False

    body = await tenant.gql(
        LIST, {"filter": {"or": [{"name": {"eq": "alpha"}}, {"description": {"contains": "bra"}}]}}
    )
    assert sorted(n["name"] for n in nodes(body["data"]["applications"])) == [
        "alpha",
        "bravo",
    ]

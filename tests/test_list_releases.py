"""Application.releases, release(id) and Release.containers: sort, filter, pages, cursors.

Releases have no root list (Edgehog has none): they are read under their
application, or one by id.
"""

from __future__ import annotations

import uuid

from edgehog_creds.graphql.relay import to_global_id

from .releases_gql import container, create_application, create_release, nodes, problems

LIST = """
query List($id: ID!, $first: Int, $last: Int, $after: String, $before: String,
           $sort: [ReleaseSortInput], $filter: ReleaseFilterInput) {
  application(id: $id) {
    releases(first: $first, last: $last, after: $after, before: $before,
             sort: $sort, filter: $filter) {
      count
      pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
      edges { cursor node { id version application { name } } }
    }
  }
}
"""

ONE = """
query One($id: ID!) { release(id: $id) { id version applicationId application { name } } }
"""

APPLICATIONS = """
query Apps($first: Int, $last: Int, $after: String, $before: String,
           $sort: [ReleaseSortInput], $filter: ReleaseFilterInput) {
  applications(sort: [{field: NAME}]) {
    edges { node {
      name
      releases(first: $first, last: $last, after: $after, before: $before,
               sort: $sort, filter: $filter) {
        count
        pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
        edges { cursor node { version application { name } } }
      }
    } }
  }
}
"""

CONTAINERS = """
query Containers($id: ID!, $first: Int, $last: Int, $after: String, $before: String) {
  release(id: $id) {
    containers(first: $first, last: $last, after: $after, before: $before) {
      count
      pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
      edges { cursor node { hostname } }
    }
  }
}
"""


def releases_by_application(body: dict) -> dict[str, dict]:
    return {e["node"]["name"]: e["node"]["releases"] for e in body["data"]["applications"]["edges"]}


def versions(connection: dict) -> list[str]:
    return [n["version"] for n in nodes(connection)]


async def three_applications(tenant) -> dict[str, dict]:
    """alpha: 3 releases, bravo: 1, charlie: none; made in this order."""
    apps = {name: await create_application(tenant, name) for name in ("alpha", "bravo", "charlie")}
    for version in ("1.0.0", "1.10.0", "1.9.0"):
        await create_release(tenant, apps["alpha"]["id"], version)
    await create_release(tenant, apps["bravo"]["id"], "0.1.0")
    return apps


async def test_an_applications_releases_sort_filter_and_page(tenant, other_tenant):
    apps = await three_applications(tenant)
    alpha = apps["alpha"]["id"]

    async def listed(**variables) -> dict:
        body = await tenant.gql(LIST, {"id": alpha, **variables})
        assert "errors" not in body, body
        return body["data"]["application"]["releases"]

    everything = await listed()
    assert versions(everything) == ["1.0.0", "1.10.0", "1.9.0"]  # oldest first
    assert [n["application"]["name"] for n in nodes(everything)] == ["alpha"] * 3
    assert everything["count"] == 3

    # Versions sort as text, as Edgehog sorts them.
    page = await listed(sort=[{"field": "VERSION", "order": "DESC"}], first=2)
    assert versions(page) == ["1.9.0", "1.10.0"]
    assert page["pageInfo"]["hasNextPage"] is True
    page = await listed(
        sort=[{"field": "VERSION", "order": "DESC"}], first=2, after=page["pageInfo"]["endCursor"]
    )
    assert versions(page) == ["1.0.0"]
    assert page["pageInfo"]["hasPreviousPage"] is True and page["pageInfo"]["hasNextPage"] is False

    page = await listed(last=1)
    assert versions(page) == ["1.9.0"]
    page = await listed(last=1, before=page["pageInfo"]["startCursor"])
    assert versions(page) == ["1.10.0"]
    assert page["pageInfo"]["hasPreviousPage"] is True and page["pageInfo"]["hasNextPage"] is True

    page = await listed(filter={"version": {"stringStartsWith": "1.1"}})
    assert versions(page) == ["1.10.0"] and page["count"] == 1
    page = await listed(filter={"application": {"name": {"eq": "alpha"}}})
    assert page["count"] == 3
    page = await listed(filter={"applicationId": {"eq": apps["bravo"]["id"]}})
    assert page["count"] == 0  # bravo's releases are not alpha's

    body = await tenant.gql(LIST, {"id": alpha, "filter": {"applicationId": {"eq": "bogus"}}})
    assert problems(body) == [("invalid_primary_key", "filter.applicationId")]

    # Another tenant sees neither the application nor its releases.
    assert (await other_tenant.gql(LIST, {"id": alpha}))["data"]["application"] is None
    release_id = nodes(everything)[0]["id"]
    assert (await other_tenant.gql(ONE, {"id": release_id}))["data"]["release"] is None


async def test_one_release_by_id(tenant):
    apps = await three_applications(tenant)
    body = await tenant.gql(LIST, {"id": apps["bravo"]["id"]})
    (listed,) = nodes(body["data"]["application"]["releases"])
    body = await tenant.gql(ONE, {"id": listed["id"]})
    assert body["data"]["release"] == {
        "id": listed["id"],
        "version": "0.1.0",
        "applicationId": apps["bravo"]["id"],
        "application": {"name": "bravo"},
    }
    missing = to_global_id("Release", uuid.uuid4())
    assert (await tenant.gql(ONE, {"id": missing})) == {"data": {"release": None}}
    body = await tenant.gql(ONE, {"id": "nope"})
    assert problems(body) == [("invalid_primary_key", "id")]


async def test_there_is_no_root_list_of_releases(tenant):
    body = await tenant.gql("{ listReleases { count } }")
    assert body["data"] is None
    assert "listReleases" in body["errors"][0]["message"]


async def test_application_releases_page_under_every_application(tenant):
    await three_applications(tenant)
    body = await tenant.gql(APPLICATIONS, {"first": 2})
    assert "errors" not in body, body
    by_name = releases_by_application(body)
    assert versions(by_name["alpha"]) == ["1.0.0", "1.10.0"]
    assert by_name["alpha"]["count"] == 3
    assert by_name["alpha"]["pageInfo"]["hasNextPage"] is True
    assert versions(by_name["bravo"]) == ["0.1.0"]
    assert by_name["bravo"]["count"] == 1
    assert by_name["bravo"]["pageInfo"]["hasNextPage"] is False
    assert by_name["charlie"]["edges"] == [] and by_name["charlie"]["count"] == 0
    assert by_name["charlie"]["pageInfo"] == {
        "hasPreviousPage": False,
        "hasNextPage": False,
        "startCursor": None,
        "endCursor": None,
    }
    assert {n["application"]["name"] for n in nodes(by_name["alpha"])} == {"alpha"}

    # A cursor is a position in the sort: alpha continues after it; bravo's
    # only release was made after it, so bravo has nothing before it.
    cursor = by_name["alpha"]["pageInfo"]["endCursor"]
    body = await tenant.gql(APPLICATIONS, {"first": 2, "after": cursor})
    by_name = releases_by_application(body)
    assert versions(by_name["alpha"]) == ["1.9.0"]
    assert by_name["alpha"]["pageInfo"]["hasPreviousPage"] is True
    assert by_name["alpha"]["pageInfo"]["hasNextPage"] is False
    assert versions(by_name["bravo"]) == ["0.1.0"]
    assert by_name["bravo"]["pageInfo"]["hasPreviousPage"] is False

    body = await tenant.gql(
        APPLICATIONS, {"last": 1, "sort": [{"field": "VERSION", "order": "DESC"}]}
    )
    by_name = releases_by_application(body)
    assert versions(by_name["alpha"]) == ["1.0.0"]
    assert by_name["alpha"]["pageInfo"]["hasPreviousPage"] is True
    assert versions(by_name["bravo"]) == ["0.1.0"]
    assert by_name["bravo"]["pageInfo"]["hasPreviousPage"] is False

    body = await tenant.gql(APPLICATIONS, {"filter": {"version": {"in": ["1.9.0", "0.1.0"]}}})
    by_name = releases_by_application(body)
    assert (versions(by_name["alpha"]), by_name["alpha"]["count"]) == (["1.9.0"], 1)
    assert (versions(by_name["bravo"]), by_name["bravo"]["count"]) == (["0.1.0"], 1)

    body = await tenant.gql(APPLICATIONS, {"after": "not-a-cursor"})
    # One error per application asking, each naming the argument.
    assert problems(body) == [("invalid", "after")] * 3


async def test_release_containers_page_in_place_order(tenant):
    app = await create_application(tenant)
    release = await create_release(
        tenant, app["id"], "1.0.0", [container("nginx", hostname=f"h{i}") for i in range(5)]
    )

    def hostnames(body: dict) -> list[str]:
        return [n["hostname"] for n in nodes(body["data"]["release"]["containers"])]

    body = await tenant.gql(CONTAINERS, {"id": release["id"]})
    assert hostnames(body) == ["h0", "h1", "h2", "h3", "h4"]
    assert body["data"]["release"]["containers"]["count"] == 5

    body = await tenant.gql(CONTAINERS, {"id": release["id"], "first": 2})
    page = body["data"]["release"]["containers"]
    assert hostnames(body) == ["h0", "h1"]
    assert page["pageInfo"]["hasNextPage"] is True and page["pageInfo"]["hasPreviousPage"] is False

    body = await tenant.gql(
        CONTAINERS, {"id": release["id"], "first": 2, "after": page["pageInfo"]["endCursor"]}
    )
    page = body["data"]["release"]["containers"]
    assert hostnames(body) == ["h2", "h3"]
    assert page["pageInfo"]["hasNextPage"] is True and page["pageInfo"]["hasPreviousPage"] is True

    body = await tenant.gql(CONTAINERS, {"id": release["id"], "last": 2})
    page = body["data"]["release"]["containers"]
    assert hostnames(body) == ["h3", "h4"]
    assert page["pageInfo"]["hasPreviousPage"] is True and page["pageInfo"]["hasNextPage"] is False

    body = await tenant.gql(
        CONTAINERS, {"id": release["id"], "last": 2, "before": page["pageInfo"]["startCursor"]}
    )
    page = body["data"]["release"]["containers"]
    assert hostnames(body) == ["h1", "h2"]
    assert page["pageInfo"]["hasPreviousPage"] is True and page["pageInfo"]["hasNextPage"] is True

    body = await tenant.gql(CONTAINERS, {"id": release["id"], "first": 0})
    assert hostnames(body) == []
    assert body["data"]["release"]["containers"]["pageInfo"]["hasNextPage"] is True

    body = await tenant.gql(CONTAINERS, {"id": release["id"], "last": 0})
    assert hostnames(body) == []

    # A cursor made under another sort (Application.releases') is refused, as are bad sizes.
    listed = await tenant.gql(LIST, {"id": app["id"]})
    other = listed["data"]["application"]["releases"]["pageInfo"]["endCursor"]
    body = await tenant.gql(CONTAINERS, {"id": release["id"], "after": other})
    assert problems(body) == [("invalid", "after")]
    body = await tenant.gql(CONTAINERS, {"id": release["id"], "first": -1})
    assert problems(body) == [("invalid", "first")]

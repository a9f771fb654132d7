"""listReleases, Application.releases and Release.containers: sort, filter, pages, cursors."""

from __future__ import annotations

from .releases_gql import container, create_application, create_release, nodes, problems

LIST = """
query List($first: Int, $last: Int, $after: String, $before: String,
           $sort: [ReleaseSortInput], $filter: ReleaseFilterInput) {
  listReleases(first: $first, last: $last, after: $after, before: $before,
               sort: $sort, filter: $filter) {
    count
    pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
    edges { cursor node { id version application { name } } }
  }
}
"""

APPLICATIONS = """
query Apps($first: Int, $last: Int, $after: String, $before: String,
           $sort: [ReleaseSortInput], $filter: ReleaseFilterInput) {
  listApplications(sort: [{field: NAME}]) {
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
    return {
        e["node"]["name"]: e["node"]["releases"] for e in body["data"]["listApplications"]["edges"]
    }


def versions(connection: dict) -> list[str]:
    return [n["version"] for n in nodes(connection)]


async def three_applications(tenant) -> dict[str, dict]:
    """alpha: 3 releases, bravo: 1, charlie: none; made in this order."""
    apps = {name: await create_application(tenant, name) for name in ("alpha", "bravo", "charlie")}
    for version in ("1.0.0", "1.10.0", "1.9.0"):
        await create_release(tenant, apps["alpha"]["id"], version)
    await create_release(tenant, apps["bravo"]["id"], "0.1.0")
    return apps


async def test_list_releases_sorts_filters_and_pages(tenant, other_tenant):
    apps = await three_applications(tenant)
    listed = (await tenant.gql(LIST, {}))["data"]["listReleases"]
    assert versions(listed) == ["1.0.0", "1.10.0", "1.9.0", "0.1.0"]
    assert [n["application"]["name"] for n in nodes(listed)] == ["alpha"] * 3 + ["bravo"]
    assert listed["count"] == 4

    # Versions sort as text, as Edgehog sorts them.
    body = await tenant.gql(LIST, {"sort": [{"field": "VERSION", "order": "DESC"}], "first": 2})
    page = body["data"]["listReleases"]
    assert versions(page) == ["1.9.0", "1.10.0"]
    assert page["pageInfo"]["hasNextPage"] is True
    body = await tenant.gql(
        LIST,
        {
            "sort": [{"field": "VERSION", "order": "DESC"}],
            "first": 2,
            "after": page["pageInfo"]["endCursor"],
        },
    )
    page = body["data"]["listReleases"]
    assert versions(page) == ["1.0.0", "0.1.0"]
    assert page["pageInfo"]["hasPreviousPage"] is True and page["pageInfo"]["hasNextPage"] is False

    body = await tenant.gql(LIST, {"last": 1})
    assert versions(body["data"]["listReleases"]) == ["0.1.0"]

    body = await tenant.gql(
        LIST,
        {
            "filter": {
                "applicationId": {"eq": apps["alpha"]["id"]},
                "version": {"stringStartsWith": "1.1"},
            }
        },
    )
    assert versions(body["data"]["listReleases"]) == ["1.10.0"]
    assert body["data"]["listReleases"]["count"] == 1

    body = await tenant.gql(LIST, {"filter": {"applicationId": {"eq": "bogus"}}})
    assert problems(body) == [("invalid_primary_key", "filter.applicationId")]

    theirs = (await other_tenant.gql(LIST, {}))["data"]["listReleases"]
    assert theirs["count"] == 0 and theirs["edges"] == []


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

    # A cursor made under another sort (listReleases') is refused, as are bad sizes.
    other = (await tenant.gql(LIST, {}))["data"]["listReleases"]["pageInfo"]["endCursor"]
    body = await tenant.gql(CONTAINERS, {"id": release["id"], "after": other})
    assert problems(body) == [("invalid", "after")]
    body = await tenant.gql(CONTAINERS, {"id": release["id"], "first": 251})
    assert problems(body) == [("invalid", "first")]

"""listImageCredentials: keyset pages in every sort and direction, count, limits."""

from __future__ import annotations

import base64
import itertools
import json

import pytest

from .gql import LIST, create, errors_of

SORT_FIELDS = {"ID": "id", "LABEL": "label", "USERNAME": "username", "INSERTED_AT": "insertedAt"}
ORDERS = ["ASC", "DESC", "ASC_NULLS_FIRST", "DESC_NULLS_LAST"]


@pytest.fixture
async def seeded(tenant):
    # Usernames repeat so that sorts by username need the id tie-break.
    # Lower-case letters and digits sort the same in every collation.
    nodes = []
    for i in range(23):
        nodes.append(await create(tenant, f"cred{(i * 7) % 23:02d}", username=f"user{i % 4}"))
    return tenant, nodes


def expected_order(nodes, field, order):
    key = SORT_FIELDS[field]
    from edgehog_creds.graphql.relay import parse_global_id

    def value(n):
        return str(parse_global_id(n["id"])[1]) if key == "id" else n[key]

    ids_asc = sorted(nodes, key=lambda n: str(parse_global_id(n["id"])[1]))
    # Tie-break is always id ascending.
    rank = {n["id"]: i for i, n in enumerate(ids_asc)}
    descending = order.startswith("DESC")
    groups = sorted(nodes, key=value, reverse=descending)
    out = []
    for _, group in itertools.groupby(groups, key=value):
        out.extend(sorted(group, key=lambda n: rank[n["id"]]))
    return [n["id"] for n in out]


async def walk_forward(tenant, sort, page=5):
    seen, after, pages = [], None, []
    while True:
        body = await tenant.gql(LIST, {"first": page, "after": after, "sort": sort})
        assert "errors" not in body, body
        conn = body["data"]["listImageCredentials"]
        pages.append(conn["pageInfo"])
        seen += [e["node"]["id"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            return seen, pages
        after = conn["pageInfo"]["endCursor"]


async def walk_backward(tenant, sort, page=5):
    seen, before, pages = [], None, []
    while True:
        body = await tenant.gql(LIST, {"last": page, "before": before, "sort": sort})
        assert "errors" not in body, body
        conn = body["data"]["listImageCredentials"]
        pages.append(conn["pageInfo"])
        seen = [e["node"]["id"] for e in conn["edges"]] + seen
        if not conn["pageInfo"]["hasPreviousPage"]:
            return seen, pages
        before = conn["pageInfo"]["startCursor"]


@pytest.mark.parametrize("field", list(SORT_FIELDS))
async def test_every_sort_pages_forward_and_backward(seeded, field):
    tenant, nodes = seeded
    for order in ORDERS:
        sort = [{"field": field, "order": order}]
        expected = expected_order(nodes, field, order)
        forward, pages = await walk_forward(tenant, sort)
        assert forward == expected, (field, order)
        assert len(pages) == 5
        assert [p["hasPreviousPage"] for p in pages] == [False, True, True, True, True]
        backward, pages = await walk_backward(tenant, sort)
        assert backward == expected, (field, order)
        assert [p["hasNextPage"] for p in pages] == [False, True, True, True, True]


async def test_two_key_sort_with_mixed_directions(seeded):
    tenant, nodes = seeded
    sort = [{"field": "USERNAME", "order": "DESC"}, {"field": "LABEL", "order": "ASC"}]
    expected = [
        n["id"]
        for n in sorted(
            sorted(nodes, key=lambda n: n["label"]), key=lambda n: n["username"], reverse=True
        )
    ]
    assert (await walk_forward(tenant, sort, page=4))[0] == expected
    assert (await walk_backward(tenant, sort, page=4))[0] == expected


async def test_default_order_is_insertion_then_id(seeded):
    tenant, nodes = seeded
    body = await tenant.gql(LIST, {})
    conn = body["data"]["listImageCredentials"]
    assert [e["node"]["id"] for e in conn["edges"]] == [n["id"] for n in nodes]
    assert conn["count"] == 23
    assert conn["pageInfo"]["hasNextPage"] is False
    assert conn["pageInfo"]["hasPreviousPage"] is False


async def test_count_is_the_total_matching_the_filter_on_every_page(seeded):
    tenant, _ = seeded
    body = await tenant.gql(LIST, {"first": 2, "filter": {"username": {"eq": "user1"}}})
    conn = body["data"]["listImageCredentials"]
    assert conn["count"] == 6
    assert len(conn["edges"]) == 2


async def test_after_and_before_together_bound_the_page(seeded):
    tenant, _ = seeded
    sort = [{"field": "LABEL", "order": "ASC"}]
    body = await tenant.gql(LIST, {"first": 23, "sort": sort})
    cursors = [e["cursor"] for e in body["data"]["listImageCredentials"]["edges"]]
    body = await tenant.gql(
        LIST, {"first": 10, "after": cursors[2], "before": cursors[6], "sort": sort}
    )
    labels = [e["node"]["label"] for e in body["data"]["listImageCredentials"]["edges"]]
    assert labels == ["cred03", "cred04", "cred05"]


async def test_deleted_cursor_row_keeps_the_position(seeded):
    from .gql import DELETE

    tenant, _ = seeded
    sort = [{"field": "LABEL", "order": "ASC"}]
    first = (await tenant.gql(LIST, {"first": 3, "sort": sort}))["data"]["listImageCredentials"]
    last_node = first["edges"][-1]["node"]
    await tenant.gql(DELETE, {"id": last_node["id"]})
    body = await tenant.gql(
        LIST, {"first": 2, "after": first["pageInfo"]["endCursor"], "sort": sort}
    )
    assert [e["node"]["label"] for e in body["data"]["listImageCredentials"]["edges"]] == [
        "cred03",
        "cred04",
    ]


async def test_page_size_rules(tenant):
    for i in range(3):
        await create(tenant, f"c{i}")
    body = await tenant.gql(LIST, {"first": -1})
    assert body["data"] == {"listImageCredentials": None}
    assert errors_of(body) == [("invalid", ["first"])]
    body = await tenant.gql(LIST, {"last": -1})
    assert errors_of(body) == [("invalid", ["last"])]
    body = await tenant.gql(LIST, {"first": 1, "last": 1})
    assert errors_of(body) == [("invalid", ["first"])]
    body = await tenant.gql(LIST, {"first": 250})
    assert len(body["data"]["listImageCredentials"]["edges"]) == 3
    body = await tenant.gql(LIST, {"first": 0})
    conn = body["data"]["listImageCredentials"]
    assert conn["edges"] == [] and conn["pageInfo"]["hasNextPage"] is True


async def test_more_than_250_is_a_page_of_250_as_edgehog_answers(tenant, pool):
    # Edgehog's UI asks for first: 10000 on the device page; Ash answers a full
    # page (and hasNextPage) rather than an error, and so does this service.
    await pool.executemany(
        "INSERT INTO image_credentials (tenant_id, id, label, username, sealed_key_id,"
        " sealed_password) VALUES ($1, gen_random_uuid(), $2, 'u', 'k', '\\x00')",
        [(tenant.id, f"bulk{i:03d}") for i in range(251)],
    )
    for arguments in ({"first": 10_000}, {"last": 251}):
        body = await tenant.gql(LIST, arguments)
        conn = body["data"]["listImageCredentials"]
        assert len(conn["edges"]) == 250, arguments
        more = "hasNextPage" if "first" in arguments else "hasPreviousPage"
        assert conn["pageInfo"][more] is True


async def test_no_first_or_last_gives_the_first_250(tenant, pool):
    # Insert directly: 260 rows through the API would only slow the test down.
    await pool.executemany(
        "INSERT INTO image_credentials"
        " (tenant_id, id, label, username, sealed_key_id, sealed_password)"
        " VALUES ($1, gen_random_uuid(), $2, 'u', 'k', '\\x00')",
        [(tenant.id, f"bulk{i:03d}") for i in range(260)],
    )
    body = await tenant.gql(LIST, {})
    conn = body["data"]["listImageCredentials"]
    assert len(conn["edges"]) == 250
    assert conn["pageInfo"]["hasNextPage"] is True
    assert conn["count"] == 260


async def test_cursors_are_checked(seeded):
    tenant, _ = seeded
    body = await tenant.gql(LIST, {"first": 2, "sort": [{"field": "LABEL"}]})
    label_cursor = body["data"]["listImageCredentials"]["pageInfo"]["endCursor"]
    body = await tenant.gql(
        LIST, {"first": 2, "after": label_cursor, "sort": [{"field": "USERNAME"}]}
    )
    assert body["data"] == {"listImageCredentials": None}
    assert errors_of(body) == [("invalid", ["after"])]
    for garbage in ["", "!!!", "eyJ9", "bm90IGpzb24"]:
        body = await tenant.gql(LIST, {"before": garbage, "last": 2})
        assert errors_of(body) == [("invalid", ["before"])], garbage
    # A cursor of the right sort whose id is a number, not a string.
    body = await tenant.gql(LIST, {"first": 1})
    real = json.loads(_unb64(body["data"]["listImageCredentials"]["pageInfo"]["endCursor"]))
    forged = {**real, "v": [*real["v"][:-1], 5]}
    body = await tenant.gql(LIST, {"first": 2, "after": _b64(json.dumps(forged))})
    assert errors_of(body) == [("invalid", ["after"])]


def _unb64(cursor: str) -> bytes:
    return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def test_tenants_see_only_their_own(tenant, other_tenant):
    await create(tenant, "mine")
    await create(other_tenant, "theirs")
    body = await tenant.gql(LIST, {})
    conn = body["data"]["listImageCredentials"]
    assert [e["node"]["label"] for e in conn["edges"]] == ["mine"]
    assert conn["count"] == 1


async def test_count_is_the_same_on_later_and_empty_pages(seeded):
    tenant, _ = seeded
    f = {"username": {"notEq": "user0"}}
    sort = [{"field": "LABEL", "order": "DESC"}]
    first = (await tenant.gql(LIST, {"first": 10, "filter": f, "sort": sort}))["data"]
    conn = first["listImageCredentials"]
    assert conn["count"] == 17 and len(conn["edges"]) == 10
    after = conn["pageInfo"]["endCursor"]
    second = await tenant.gql(LIST, {"first": 10, "after": after, "filter": f, "sort": sort})
    conn = second["data"]["listImageCredentials"]
    assert conn["count"] == 17 and len(conn["edges"]) == 7
    empty = await tenant.gql(
        LIST, {"first": 10, "after": conn["pageInfo"]["endCursor"], "filter": f, "sort": sort}
    )
    conn = empty["data"]["listImageCredentials"]
    assert conn["count"] == 17 and conn["edges"] == []
    # count only, through a fragment: still the total
    body = await tenant.gql(
        "query { listImageCredentials(first: 1) { ...C } } "
        "fragment C on ImageCredentialsConnection { count }"
    )
    assert body["data"]["listImageCredentials"]["count"] == 23

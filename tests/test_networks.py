"""Networks: createNetwork, network, networks, deleteNetwork, node; every rule, through HTTP."""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
import pytest

from edgehog_creds.graphql.relay import parse_global_id, to_global_id

from .devices_gql import create_device
from .gql import errors_of, until_a_statement_waits_for_a_lock
from .releases_gql import container, create_container

FIELDS = "id label driver internal enableIpv6 options insertedAt"

CREATE = f"""
mutation Create($input: CreateNetworkInput) {{
  createNetwork(input: $input) {{ result {{ {FIELDS} }} errors {{ code fields message }} }}
}}
"""

DELETE = f"""
mutation Delete($id: ID!) {{
  deleteNetwork(id: $id) {{ result {{ {FIELDS} }} errors {{ code fields }} }}
}}
"""

GET = f"query Get($id: ID!) {{ network(id: $id) {{ {FIELDS} }} }}"

NODE = f"query Node($id: ID!) {{ node(id: $id) {{ __typename ... on Network {{ {FIELDS} }} }} }}"

LIST = f"""
query List($first: Int, $last: Int, $after: String, $before: String,
           $sort: [NetworkSortInput], $filter: NetworkFilterInput) {{
  networks(first: $first, last: $last, after: $after, before: $before,
           sort: $sort, filter: $filter) {{
    count
    pageInfo {{ hasPreviousPage hasNextPage startCursor endCursor }}
    edges {{ cursor node {{ {FIELDS} }} }}
  }}
}}
"""


async def create(tenant, **fields) -> dict:
    body = await tenant.gql(CREATE, {"input": fields})
    assert "errors" not in body, body
    return body["data"]["createNetwork"]["result"]


def uuid_of(global_id: str) -> uuid.UUID:
    parsed = parse_global_id(global_id)
    assert parsed is not None and parsed[0] == "Network", global_id
    return parsed[1]


async def count_rows(pool, tenant) -> int:
    return await pool.fetchval("SELECT count(*) FROM networks WHERE tenant_id = $1", tenant.id)


async def audit_rows(pool, tenant) -> list[tuple[str, str, str]]:
    rows = await pool.fetch(
        "SELECT actor, action, entity_type FROM audit_events WHERE tenant_id = $1 ORDER BY at",
        tenant.id,
    )
    return [(r["actor"], r["action"], r["entity_type"]) for r in rows]


async def a_container(tenant) -> uuid.UUID:
    """A container made through the API (createContainer), as a release would list it."""
    made = await create_container(tenant, container("nginx:1.27"))
    parsed = parse_global_id(made["id"])
    assert parsed is not None and parsed[0] == "Container", made
    return parsed[1]


async def join(conn, tenant, container_id: uuid.UUID, network: dict):
    await conn.execute(
        "INSERT INTO container_networks (tenant_id, container_id, network_id) VALUES ($1, $2, $3)",
        tenant.id,
        container_id,
        uuid_of(network["id"]),
    )


# --- create ---------------------------------------------------------------------


async def test_creates_with_edgehogs_defaults(tenant, pool):
    body = await tenant.gql(CREATE, {"input": {"label": "  backend  "}})
    assert "errors" not in body, body
    payload = body["data"]["createNetwork"]
    assert payload["errors"] == []
    network = payload["result"]
    assert {k: network[k] for k in ("label", "driver", "internal", "enableIpv6", "options")} == {
        "label": "backend",
        "driver": "bridge",
        "internal": False,
        "enableIpv6": False,
        "options": "{}",
    }
    row = await pool.fetchrow(
        "SELECT tenant_id, label, driver, internal, enable_ipv6, options::text AS options"
        " FROM networks WHERE id = $1",
        uuid_of(network["id"]),
    )
    assert dict(row) == {
        "tenant_id": tenant.id,
        "label": "backend",
        "driver": "bridge",
        "internal": False,
        "enable_ipv6": False,
        "options": "{}",
    }
    assert (await tenant.gql(GET, {"id": network["id"]}))["data"]["network"] == network
    node = (await tenant.gql(NODE, {"id": network["id"]}))["data"]["node"]
    assert node == {"__typename": "Network", **network}
    listed = (await tenant.gql(LIST, {}))["data"]["networks"]
    assert [e["node"] for e in listed["edges"]] == [network]


async def test_creates_with_everything_given(tenant, pool):
    options = {"com.docker.network.bridge.name": "br-edge", "mtu": "1400", "ü": "ö"}
    network = await create(
        tenant,
        label="iot",
        driver="macvlan",
        internal=True,
        enableIpv6=True,
        options=json.dumps(options),
    )
    assert (network["driver"], network["internal"], network["enableIpv6"]) == (
        "macvlan",
        True,
        True,
    )
    assert json.loads(network["options"]) == options
    assert network["options"] == json.dumps(options, separators=(",", ":"), sort_keys=True)
    stored = await pool.fetchrow(
        "SELECT internal, enable_ipv6, options FROM networks WHERE id = $1",
        uuid_of(network["id"]),
    )
    assert (stored["internal"], stored["enable_ipv6"]) == (True, True)
    assert json.loads(stored["options"]) == options


async def test_no_input_at_all_is_a_network_of_defaults(tenant):
    # Edgehog's createNetwork takes an optional input, and every field of it is optional.
    body = await tenant.gql("mutation { createNetwork { result { label driver options } } }")
    assert body["data"]["createNetwork"]["result"] == {
        "label": None,
        "driver": "bridge",
        "options": "{}",
    }
    explicit_nulls = await create(
        tenant, label=None, driver=None, internal=None, enableIpv6=None, options=None
    )
    assert (explicit_nulls["label"], explicit_nulls["internal"]) == (None, False)


async def test_a_label_is_optional_and_unique_when_present(tenant, pool):
    first = await create(tenant)
    blank = await create(tenant, label="   ")  # blank is no label, as Ash casts "" to nil
    assert (first["label"], blank["label"]) == (None, None)
    await create(tenant, label="front")
    body = await tenant.gql(CREATE, {"input": {"label": "front\t"}})
    assert body["data"] == {"createNetwork": None}
    [error] = body["errors"]
    assert (error["code"], error["fields"], error["message"]) == (
        "unique",
        ["label"],
        "has already been taken",
    )
    assert await count_rows(pool, tenant) == 3


async def test_twenty_concurrent_creates_of_one_label(tenant, pool):
    bodies = await asyncio.gather(
        *(tenant.gql(CREATE, {"input": {"label": "race"}}) for _ in range(20))
    )
    assert sum("errors" not in b for b in bodies) == 1
    assert all(errors_of(b) == [("unique", ["label"])] for b in bodies if "errors" in b)
    assert await count_rows(pool, tenant) == 1


async def test_every_problem_of_an_input_is_reported_at_once(tenant, pool):
    body = await tenant.gql(
        CREATE,
        {"input": {"label": "x" * 256, "driver": "bad driver", "options": '{"mtu": 1400}'}},
    )
    assert body["data"] == {"createNetwork": None}
    assert errors_of(body) == [
        ("invalid", ["driver"]),
        ("invalid", ["options"]),
        ("too_long", ["label"]),
    ]
    assert await count_rows(pool, tenant) == 0
    assert await audit_rows(pool, tenant) == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"label": "x" * 10_000}, ("too_long", ["label"])),
        ({"label": "tab\tinside"}, ("invalid", ["label"])),
        ({"label": "nul\x00"}, ("invalid", ["label"])),
        ({"driver": "-x"}, ("invalid", ["driver"])),
        ({"driver": "d" * 256}, ("too_long", ["driver"])),
        ({"options": "[]"}, ("invalid", ["options"])),
        ({"options": '"text"'}, ("invalid", ["options"])),
        ({"options": '{"a": {"b": "c"}}'}, ("invalid", ["options"])),
        ({"options": '{"a=b": "c"}'}, ("invalid", ["options"])),
        ({"options": json.dumps({f"k{i}": "v" for i in range(65)})}, ("too_long", ["options"])),
        ({"options": json.dumps({"k": "v" * 4097})}, ("too_long", ["options"])),
    ],
)
async def test_rules(tenant, pool, fields, expected):
    body = await tenant.gql(CREATE, {"input": fields})
    assert errors_of(body) == [expected], body
    assert await count_rows(pool, tenant) == 0


async def test_text_that_is_not_json_is_refused_before_anything_runs(tenant, pool):
    for options in ["{oops", "{'a': 'b'}"]:
        body = await tenant.gql(CREATE, {"input": {"options": options}})
        assert body.get("data") is None
        assert "JsonString must be a string of JSON" in body["errors"][0]["message"]
    assert await count_rows(pool, tenant) == 0


async def test_create_is_audited_with_names_only(tenant, pool):
    token = tenant.mint(subject="bob")
    body = await tenant.gql(
        CREATE,
        {"input": {"label": "vpn", "options": json.dumps({"secret": "s3cr3t"})}},
        token=token,
    )
    network = body["data"]["createNetwork"]["result"]
    row = await pool.fetchrow(
        "SELECT actor, action, entity_type, details FROM audit_events"
        " WHERE tenant_id = $1 AND entity_id = $2",
        tenant.id,
        uuid_of(network["id"]),
    )
    assert (row["actor"], row["action"], row["entity_type"]) == ("bob", "create", "Network")
    assert json.loads(row["details"]) == {"label": "vpn", "driver": "bridge"}
    assert "s3cr3t" not in row["details"]


# --- read -----------------------------------------------------------------------


async def test_unknown_and_foreign_ids(tenant):
    body = await tenant.gql(GET, {"id": to_global_id("Network", uuid.uuid4())})
    assert body["data"] == {"network": None}
    for bad in ["nope", to_global_id("Volume", uuid.uuid4())]:
        assert errors_of(await tenant.gql(GET, {"id": bad})) == [("invalid_primary_key", ["id"])]


@pytest.fixture
async def seeded(tenant):
    # Drivers repeat, so sorting by driver needs the id tie-break; some have no label.
    nodes = []
    for i in range(11):
        label = None if i % 4 == 3 else f"net{(i * 7) % 11:02d}"
        nodes.append(await create(tenant, label=label, driver=f"drv{i % 3}", internal=i % 2 == 0))
    return tenant, nodes


async def _walk(tenant, sort, *, backward: bool, page: int = 3, filter=None) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        if backward:
            variables = {"last": page, "before": cursor}
        else:
            variables = {"first": page, "after": cursor}
        body = await tenant.gql(LIST, {**variables, "sort": sort, "filter": filter})
        assert "errors" not in body, body
        connection = body["data"]["networks"]
        ids = [e["node"]["id"] for e in connection["edges"]]
        info = connection["pageInfo"]
        if backward:
            seen = ids + seen
            if not info["hasPreviousPage"]:
                return seen
            cursor = info["startCursor"]
        else:
            seen += ids
            if not info["hasNextPage"]:
                return seen
            cursor = info["endCursor"]


@pytest.mark.parametrize("field", ["ID", "DRIVER"])
async def test_every_sort_pages_both_ways(seeded, field):
    tenant, nodes = seeded
    by_id = sorted(nodes, key=lambda n: str(uuid_of(n["id"])))

    def value(n):
        return str(uuid_of(n["id"])) if field == "ID" else n["driver"]

    for order in ("ASC", "DESC"):
        # Ties are broken by id ascending (sorted() is stable, reverse=True too).
        expected = [n["id"] for n in sorted(by_id, key=value, reverse=order == "DESC")]
        sort = [{"field": field, "order": order}]
        assert await _walk(tenant, sort, backward=False) == expected, (field, order)
        assert await _walk(tenant, sort, backward=True) == expected, (field, order)


async def test_default_order_is_creation_order(seeded):
    tenant, nodes = seeded
    assert await _walk(tenant, None, backward=False) == [n["id"] for n in nodes]
    sort = [{"field": "INSERTED_AT", "order": "DESC"}]
    assert await _walk(tenant, sort, backward=True) == [n["id"] for n in reversed(nodes)]


async def test_filters(seeded):
    tenant, nodes = seeded

    async def ids(filter):
        body = await tenant.gql(LIST, {"filter": filter})
        assert "errors" not in body, body
        connection = body["data"]["networks"]
        found = [e["node"]["id"] for e in connection["edges"]]
        assert connection["count"] == len(found)
        return found

    def where(predicate):
        return [n["id"] for n in nodes if predicate(n)]

    assert await ids({}) == where(lambda n: True)
    assert await ids({"label": {"isNil": True}}) == where(lambda n: n["label"] is None)
    assert await ids({"label": {"isNil": False}}) == where(lambda n: n["label"] is not None)
    assert await ids({"label": {"eq": "net07"}}) == where(lambda n: n["label"] == "net07")
    assert await ids({"label": {"stringStartsWith": "net0"}}) == where(
        lambda n: (n["label"] or "").startswith("net0")
    )
    assert await ids({"driver": {"eq": "drv2"}}) == where(lambda n: n["driver"] == "drv2")
    assert await ids({"id": {"eq": nodes[4]["id"]}}) == [nodes[4]["id"]]
    assert await ids({"or": [{"driver": {"eq": "drv0"}}, {"label": {"isNil": True}}]}) == where(
        lambda n: n["driver"] == "drv0" or n["label"] is None
    )
    # The search box of Edgehog's Networks page.
    search = {"or": [{"label": {"ilike": "%NET1%"}}, {"driver": {"ilike": "%RV2%"}}]}
    assert await ids(search) == where(
        lambda n: (n["label"] or "").startswith("net1") or n["driver"] == "drv2"
    )
    # Pages of a filtered list.
    drv1 = where(lambda n: n["driver"] == "drv1")
    assert (
        await _walk(tenant, None, backward=False, page=1, filter={"driver": {"eq": "drv1"}}) == drv1
    )


# --- delete ---------------------------------------------------------------------


async def test_deletes_and_records_who(tenant, pool):
    network = await create(tenant, label="gone", internal=True)
    body = await tenant.gql(DELETE, {"id": network["id"]})
    assert "errors" not in body, body
    assert body["data"]["deleteNetwork"] == {"result": network, "errors": []}
    assert await count_rows(pool, tenant) == 0
    assert (await tenant.gql(GET, {"id": network["id"]}))["data"]["network"] is None
    assert await audit_rows(pool, tenant) == [
        ("tester", "create", "Network"),
        ("tester", "delete", "Network"),
    ]
    again = await tenant.gql(DELETE, {"id": network["id"]})
    assert errors_of(again) == [("not_found", ["id"])]


async def test_a_network_in_use_cannot_be_deleted(tenant, pool):
    network = await create(tenant, label="used")
    spare = await create(tenant, label="spare")
    first, second = await a_container(tenant), await a_container(tenant)
    async with pool.acquire() as conn:
        await join(conn, tenant, first, network)
        await join(conn, tenant, first, spare)
        await join(conn, tenant, second, network)

    body = await tenant.gql(DELETE, {"id": network["id"]})
    assert body["data"] == {"deleteNetwork": None}
    [error] = body["errors"]
    assert (error["code"], error["fields"]) == ("invalid", ["id"])
    assert error["message"].startswith("is used by 2 container(s)")
    body = await tenant.gql(DELETE, {"id": spare["id"]})
    assert body["errors"][0]["message"].startswith("is used by 1 container(s)")
    assert await count_rows(pool, tenant) == 2
    assert [a for _, a, _ in await audit_rows(pool, tenant) if a == "delete"] == []

    await pool.execute("DELETE FROM container_networks WHERE tenant_id = $1", tenant.id)
    assert "errors" not in await tenant.gql(DELETE, {"id": network["id"]})


async def test_a_container_joining_is_waited_for_and_counted(tenant, pool):
    network = await create(tenant, label="racing")
    container_id = await a_container(tenant)
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await join(conn, tenant, container_id, network)
        delete = asyncio.ensure_future(tenant.gql(DELETE, {"id": network["id"]}))
        await until_a_statement_waits_for_a_lock(pool)
        await tx.commit()
    body = await delete
    assert errors_of(body) == [("invalid", ["id"])]
    assert body["errors"][0]["message"].startswith("is used by 1 container(s)")
    assert await count_rows(pool, tenant) == 1


async def test_the_database_guards_the_relation(tenant, pool):
    network = await create(tenant, label="guarded")
    container_id = await a_container(tenant)
    async with pool.acquire() as conn:
        await join(conn, tenant, container_id, network)
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await conn.execute("DELETE FROM networks WHERE tenant_id = $1", tenant.id)
        with pytest.raises(asyncpg.UniqueViolationError):  # a container joins a network once
            await join(conn, tenant, container_id, network)
        with pytest.raises(asyncpg.RestrictViolationError, match="immutable"):
            await conn.execute(
                "UPDATE networks SET internal = true WHERE tenant_id = $1", tenant.id
            )
    # Joining goes with the container.
    await pool.execute("DELETE FROM containers WHERE tenant_id = $1", tenant.id)
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM container_networks WHERE tenant_id = $1", tenant.id
        )
        == 0
    )
    assert "errors" not in await tenant.gql(DELETE, {"id": network["id"]})


async def test_removing_a_tenant_removes_its_networks_even_in_use(tenant, pool):
    network = await create(tenant, label="doomed")
    container_id = await a_container(tenant)
    async with pool.acquire() as conn:
        await join(conn, tenant, container_id, network)
    await pool.execute("DELETE FROM tenants WHERE id = $1", tenant.id)
    assert await count_rows(pool, tenant) == 0


# --- who may ----------------------------------------------------------------------


async def test_another_tenant_sees_and_deletes_nothing(tenant, other_tenant, pool):
    network = await create(tenant, label="mine")
    assert (await other_tenant.gql(GET, {"id": network["id"]}))["data"]["network"] is None
    assert (await other_tenant.gql(NODE, {"id": network["id"]}))["data"]["node"] is None
    listed = (await other_tenant.gql(LIST, {}))["data"]["networks"]
    assert (listed["count"], listed["edges"]) == (0, [])
    assert errors_of(await other_tenant.gql(DELETE, {"id": network["id"]})) == [
        ("not_found", ["id"])
    ]
    assert await count_rows(pool, tenant) == 1
    await create(other_tenant, label="mine")


async def test_a_device_token_is_refused(tenant, pool):
    network = await create(tenant, label="device-proof")
    _, token = await create_device(tenant)
    audit_before = await audit_rows(pool, tenant)
    for document, variables in [
        (GET, {"id": network["id"]}),
        (LIST, {}),
        (CREATE, {"input": {"label": "by-device"}}),
        ("mutation { createNetwork { result { id } } }", {}),
        (DELETE, {"id": network["id"]}),
    ]:
        body = await tenant.gql(document, variables, token=token)
        assert [e["code"] for e in body["errors"]] == ["forbidden"], (document, body)
        assert list(body["data"].values()) == [None]
    assert await count_rows(pool, tenant) == 1
    assert await audit_rows(pool, tenant) == audit_before

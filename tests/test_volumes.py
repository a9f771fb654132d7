"""Volumes: createVolume, volume, volumes, deleteVolume, node; every rule, through HTTP."""

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

FIELDS = "id label driver options insertedAt"

CREATE = f"""
mutation Create($input: CreateVolumeInput!) {{
  createVolume(input: $input) {{ result {{ {FIELDS} }} errors {{ code fields message }} }}
}}
"""

DELETE = f"""
mutation Delete($id: ID!) {{
  deleteVolume(id: $id) {{ result {{ {FIELDS} }} errors {{ code fields }} }}
}}
"""

GET = f"query Get($id: ID!) {{ volume(id: $id) {{ {FIELDS} }} }}"

NODE = f"query Node($id: ID!) {{ node(id: $id) {{ __typename ... on Volume {{ {FIELDS} }} }} }}"

LIST = f"""
query List($first: Int, $last: Int, $after: String, $before: String,
           $sort: [VolumeSortInput], $filter: VolumeFilterInput) {{
  volumes(first: $first, last: $last, after: $after, before: $before,
          sort: $sort, filter: $filter) {{
    count
    pageInfo {{ hasPreviousPage hasNextPage startCursor endCursor }}
    edges {{ cursor node {{ {FIELDS} }} }}
  }}
}}
"""


async def create(tenant, label: str, **fields) -> dict:
    body = await tenant.gql(CREATE, {"input": {"label": label, **fields}})
    assert "errors" not in body, body
    return body["data"]["createVolume"]["result"]


def uuid_of(global_id: str) -> uuid.UUID:
    parsed = parse_global_id(global_id)
    assert parsed is not None and parsed[0] == "Volume", global_id
    return parsed[1]


async def count_rows(pool, tenant) -> int:
    return await pool.fetchval("SELECT count(*) FROM volumes WHERE tenant_id = $1", tenant.id)


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


async def mount(conn, tenant, container_id: uuid.UUID, volume: dict, target: str = "/data"):
    await conn.execute(
        "INSERT INTO container_volumes (tenant_id, container_id, volume_id, target)"
        " VALUES ($1, $2, $3, $4)",
        tenant.id,
        container_id,
        uuid_of(volume["id"]),
        target,
    )


# --- create ---------------------------------------------------------------------


async def test_creates_with_edgehogs_defaults(tenant, pool):
    body = await tenant.gql(CREATE, {"input": {"label": "  data  "}})
    assert "errors" not in body, body
    payload = body["data"]["createVolume"]
    assert payload["errors"] == []
    volume = payload["result"]
    assert (volume["label"], volume["driver"], volume["options"]) == ("data", "local", "{}")
    row = await pool.fetchrow(
        "SELECT tenant_id, label, driver, options::text AS options FROM volumes WHERE id = $1",
        uuid_of(volume["id"]),
    )
    assert dict(row) == {
        "tenant_id": tenant.id,
        "label": "data",
        "driver": "local",
        "options": "{}",
    }
    # The same, read back by id, as a node, and in the list.
    assert (await tenant.gql(GET, {"id": volume["id"]}))["data"]["volume"] == volume
    node = (await tenant.gql(NODE, {"id": volume["id"]}))["data"]["node"]
    assert node == {"__typename": "Volume", **volume}
    listed = (await tenant.gql(LIST, {}))["data"]["volumes"]
    assert [e["node"] for e in listed["edges"]] == [volume]


async def test_options_round_trip_as_json_text(tenant, pool):
    options = {
        "type": "nfs",
        "o": "addr=10.0.0.1,rw,nfsvers=4",
        "device": ":/export/data",
        "empty": "",
        "ünï": 'cödé 😀 "quoted" \\ back',
    }
    sent = json.dumps(options, indent=2, ensure_ascii=True)  # any spelling of the JSON
    volume = await create(tenant, "nfs", driver=" local ", options=sent)
    assert volume["driver"] == "local"
    assert json.loads(volume["options"]) == options
    # Printed compactly, keys sorted: the same text every time.
    assert volume["options"] == json.dumps(options, separators=(",", ":"), sort_keys=True)
    stored = await pool.fetchval("SELECT options FROM volumes WHERE id = $1", uuid_of(volume["id"]))
    assert json.loads(stored) == options
    assert (await tenant.gql(GET, {"id": volume["id"]}))["data"]["volume"]["options"] == volume[
        "options"
    ]


async def test_duplicate_label_is_refused_with_edgehogs_error(tenant, pool):
    await create(tenant, "cache")
    body = await tenant.gql(CREATE, {"input": {"label": " cache\t"}})  # same after trimming
    assert body["data"] == {"createVolume": None}
    [error] = body["errors"]
    assert (error["code"], error["fields"], error["message"]) == (
        "unique",
        ["label"],
        "has already been taken",
    )
    assert await count_rows(pool, tenant) == 1


async def test_twenty_concurrent_creates_of_one_label(tenant, pool):
    bodies = await asyncio.gather(
        *(tenant.gql(CREATE, {"input": {"label": "race"}}) for _ in range(20))
    )
    assert sum("errors" not in b for b in bodies) == 1
    assert all(errors_of(b) == [("unique", ["label"])] for b in bodies if "errors" in b)
    assert await count_rows(pool, tenant) == 1


async def test_every_problem_of_an_input_is_reported_at_once(tenant, pool):
    body = await tenant.gql(
        CREATE, {"input": {"label": "   ", "driver": "not a driver", "options": "[1, 2]"}}
    )
    assert body["data"] == {"createVolume": None}
    assert errors_of(body) == [
        ("invalid", ["driver"]),
        ("invalid", ["options"]),
        ("required", ["label"]),
    ]
    assert await count_rows(pool, tenant) == 0
    assert await audit_rows(pool, tenant) == []


@pytest.mark.parametrize(
    ("label", "code"),
    [
        ("", "required"),
        (" \t ", "required"),
        ("x" * 256, "too_long"),
        ("x" * 10_000, "too_long"),
        ("new\nline", "invalid"),
        ("nul\x00", "invalid"),
        ("c1\x85inside", "invalid"),
    ],
)
async def test_label_rules(tenant, pool, label, code):
    body = await tenant.gql(CREATE, {"input": {"label": label}})
    assert errors_of(body) == [(code, ["label"])]
    assert await count_rows(pool, tenant) == 0


async def test_label_limit_is_255_characters(tenant):
    assert (await create(tenant, "é" * 255))["label"] == "é" * 255


@pytest.mark.parametrize(
    "driver",
    ["local", "nfs", "vieux/sshfs:latest", "registry.example.com:5000/acme/plugin:1.0", "x" * 255],
)
async def test_plausible_drivers_are_accepted(tenant, driver):
    assert (await create(tenant, "v", driver=driver))["driver"] == driver


@pytest.mark.parametrize("driver", [None, "", "   "])
async def test_no_driver_is_the_local_driver(tenant, driver):
    assert (await create(tenant, "v", driver=driver))["driver"] == "local"


@pytest.mark.parametrize(
    ("driver", "code"),
    [
        ("two words", "invalid"),
        ("-leading-dash", "invalid"),
        ("semi;colon", "invalid"),
        ("new\nline", "invalid"),
        ("ünïcode", "invalid"),
        ("x" * 256, "too_long"),
    ],
)
async def test_implausible_drivers_are_refused(tenant, pool, driver, code):
    body = await tenant.gql(CREATE, {"input": {"label": "v", "driver": driver}})
    assert errors_of(body) == [(code, ["driver"])]
    assert await count_rows(pool, tenant) == 0


def _many(n: int) -> str:
    return json.dumps({f"k{i}": "v" for i in range(n)})


@pytest.mark.parametrize(
    ("options", "code", "says"),
    [
        ("[]", "invalid", "must be a JSON object"),
        ('"a string"', "invalid", "must be a JSON object"),
        ("42", "invalid", "must be a JSON object"),
        ("true", "invalid", "must be a JSON object"),
        ('{"size": 10}', "invalid", 'not a string (write it in quotes): "size"'),
        ('{"ro": true}', "invalid", "not a string"),
        ('{"none": null}', "invalid", "not a string"),
        ('{"nested": {"a": "b"}}', "invalid", "not a string"),
        ('{"list": ["a"]}', "invalid", "not a string"),
        ('{"": "empty key"}', "invalid", "empty key"),
        ('{"a=b": "c"}', "invalid", "'=' in it"),
        ('{"a\\nb": "c"}', "invalid", "key with control characters"),
        ('{"a": "b\\u0000"}', "invalid", "value with control characters"),
        ('{"a": "b\\u0007"}', "invalid", "value with control characters"),
        ('{"a": "\\ud800"}', "invalid", "value with control characters"),
        (json.dumps({"k" * 256: "v"}), "too_long", "key longer than 255"),
        (json.dumps({"k": "v" * 4097}), "too_long", "value longer than 4096"),
        (_many(65), "too_long", "at most 64 entries"),
        (_many(10_000), "too_long", "at most 64 entries"),
    ],
)
async def test_option_rules(tenant, pool, options, code, says):
    body = await tenant.gql(CREATE, {"input": {"label": "v", "options": options}})
    assert errors_of(body) == [(code, ["options"])], body
    assert says in body["errors"][0]["message"]
    assert await count_rows(pool, tenant) == 0


async def test_options_at_their_limits_are_accepted(tenant):
    options = {f"{i:03d}" + "k" * 252: "v" * 4096 for i in range(64)}
    volume = await create(tenant, "big", options=json.dumps(options))
    assert json.loads(volume["options"]) == options


@pytest.mark.parametrize("options", ["{not json", "", "{'single': 'quotes'}", '{"a": "b"'])
async def test_text_that_is_not_json_is_refused_before_anything_runs(tenant, pool, options):
    body = await tenant.gql(CREATE, {"input": {"label": "v", "options": options}})
    assert body.get("data") is None
    [error] = body["errors"]
    assert "JsonString must be a string of JSON" in error["message"]
    assert await count_rows(pool, tenant) == 0


async def test_options_must_be_json_text_not_an_object(tenant, pool):
    # Edgehog's JsonString is a string holding JSON, as its UI sends it.
    body = await tenant.gql(CREATE, {"input": {"label": "v", "options": {"a": "b"}}})
    assert body.get("data") is None
    assert "JsonString must be a string of JSON" in body["errors"][0]["message"]
    assert await count_rows(pool, tenant) == 0


async def test_options_written_inline_in_the_document(tenant):
    body = await tenant.gql(
        'mutation { createVolume(input: {label: "inline", options: "{\\"a\\": \\"b\\"}"})'
        " { result { options } } }"
    )
    assert body["data"]["createVolume"]["result"]["options"] == '{"a":"b"}'


async def test_null_options_are_no_options(tenant):
    assert (await create(tenant, "a", options=None))["options"] == "{}"
    assert (await create(tenant, "b", options="null"))["options"] == "{}"
    assert (await create(tenant, "c", options="{}"))["options"] == "{}"


async def test_create_is_audited_with_names_only(tenant, pool):
    token = tenant.mint(subject="alice@example.com")
    body = await tenant.gql(
        CREATE,
        {"input": {"label": "smb", "options": json.dumps({"o": "password=hunter2"})}},
        token=token,
    )
    volume = body["data"]["createVolume"]["result"]
    row = await pool.fetchrow(
        "SELECT actor, action, entity_type, details FROM audit_events"
        " WHERE tenant_id = $1 AND entity_id = $2",
        tenant.id,
        uuid_of(volume["id"]),
    )
    assert (row["actor"], row["action"], row["entity_type"]) == (
        "alice@example.com",
        "create",
        "Volume",
    )
    assert json.loads(row["details"]) == {"label": "smb", "driver": "local"}
    assert "hunter2" not in row["details"]


# --- read -----------------------------------------------------------------------


async def test_unknown_and_foreign_ids(tenant):
    assert (await tenant.gql(GET, {"id": to_global_id("Volume", uuid.uuid4())}))["data"] == {
        "volume": None
    }
    for bad in ["nope", to_global_id("Network", uuid.uuid4())]:
        body = await tenant.gql(GET, {"id": bad})
        assert errors_of(body) == [("invalid_primary_key", ["id"])]


async def test_many_by_id_in_one_request(tenant):
    volumes = [await create(tenant, f"v{i}") for i in range(3)]
    aliases = " ".join(f'v{i}: volume(id: "{v["id"]}") {{ label }}' for i, v in enumerate(volumes))
    body = await tenant.gql(f"{{ {aliases} }}")
    assert body["data"] == {f"v{i}": {"label": f"v{i}"} for i in range(3)}


# --- list -----------------------------------------------------------------------


@pytest.fixture
async def seeded(tenant):
    # Drivers repeat, so sorting by driver needs the id tie-break.
    nodes = []
    for i in range(11):
        nodes.append(await create(tenant, f"vol{(i * 7) % 11:02d}", driver=f"drv{i % 3}"))
    return tenant, nodes


def _value(field: str):
    if field == "ID":
        return lambda n: str(uuid_of(n["id"]))
    return lambda n: n[{"LABEL": "label", "DRIVER": "driver"}[field]]


async def _walk(tenant, sort, *, backward: bool, page: int = 3) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        if backward:
            variables = {"last": page, "before": cursor, "sort": sort}
        else:
            variables = {"first": page, "after": cursor, "sort": sort}
        body = await tenant.gql(LIST, variables)
        assert "errors" not in body, body
        connection = body["data"]["volumes"]
        assert connection["count"] == 11
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


@pytest.mark.parametrize("field", ["ID", "LABEL", "DRIVER"])
async def test_every_sort_pages_both_ways(seeded, field):
    tenant, nodes = seeded
    by_id = sorted(nodes, key=lambda n: str(uuid_of(n["id"])))
    for order in ("ASC", "DESC"):
        # Ties (same driver) are broken by id ascending, whatever the order
        # (sorted() is stable, reverse=True too).
        expected = [n["id"] for n in sorted(by_id, key=_value(field), reverse=order == "DESC")]
        sort = [{"field": field, "order": order}]
        assert await _walk(tenant, sort, backward=False) == expected, (field, order)
        assert await _walk(tenant, sort, backward=True) == expected, (field, order)


async def test_default_order_is_creation_order(seeded):
    tenant, nodes = seeded
    assert await _walk(tenant, None, backward=False) == [n["id"] for n in nodes]
    sort = [{"field": "INSERTED_AT", "order": "DESC"}]
    assert await _walk(tenant, sort, backward=False) == [n["id"] for n in reversed(nodes)]


async def test_filters(seeded):
    tenant, nodes = seeded

    async def labels(filter):
        body = await tenant.gql(LIST, {"filter": filter, "sort": [{"field": "LABEL"}]})
        assert "errors" not in body, body
        connection = body["data"]["volumes"]
        found = [e["node"]["label"] for e in connection["edges"]]
        assert connection["count"] == len(found)
        return found

    assert await labels({}) == [f"vol{i:02d}" for i in range(11)]
    assert await labels({"label": {"eq": "vol03"}}) == ["vol03"]
    assert await labels({"label": {"ilike": "VOL0%"}}) == [f"vol0{i}" for i in range(10)]
    by_driver = sorted(n["label"] for n in nodes if n["driver"] == "drv1")
    assert await labels({"driver": {"eq": "drv1"}}) == by_driver
    assert await labels({"driver": {"in": ["drv0", "drv2"]}}) == sorted(
        n["label"] for n in nodes if n["driver"] != "drv1"
    )
    picked = [nodes[0], nodes[5]]
    assert await labels({"id": {"in": [n["id"] for n in picked]}}) == sorted(
        n["label"] for n in picked
    )
    assert await labels(
        {"or": [{"label": {"eq": "vol01"}}, {"label": {"stringEndsWith": "10"}}]}
    ) == ["vol01", "vol10"]
    assert await labels({"not": [{"driver": {"notEq": "drv2"}}]}) == sorted(
        n["label"] for n in nodes if n["driver"] == "drv2"
    )
    # The search box of Edgehog's Volumes page.
    search = {"or": [{"label": {"ilike": "%VOL1%"}}, {"driver": {"ilike": "%RV2%"}}]}
    assert await labels(search) == sorted(
        n["label"] for n in nodes if n["label"].startswith("vol1") or n["driver"] == "drv2"
    )
    body = await tenant.gql(LIST, {"filter": {"id": {"eq": "nope"}}})
    assert errors_of(body) == [("invalid_primary_key", ["filter.id"])]


async def test_page_size_and_cursor_rules(seeded):
    tenant, _ = seeded
    assert errors_of(await tenant.gql(LIST, {"first": -1})) == [("invalid", ["first"])]
    assert errors_of(await tenant.gql(LIST, {"first": 1, "last": 1})) == [("invalid", ["first"])]
    by_label = await tenant.gql(LIST, {"first": 1, "sort": [{"field": "LABEL"}]})
    cursor = by_label["data"]["volumes"]["pageInfo"]["endCursor"]
    other_sort = await tenant.gql(LIST, {"first": 1, "after": cursor})
    assert errors_of(other_sort) == [("invalid", ["after"])]


# --- delete ---------------------------------------------------------------------


async def test_deletes_and_records_who(tenant, pool):
    volume = await create(tenant, "gone", options='{"a": "b"}')
    body = await tenant.gql(DELETE, {"id": volume["id"]})
    assert "errors" not in body, body
    assert body["data"]["deleteVolume"] == {"result": volume, "errors": []}
    assert await count_rows(pool, tenant) == 0
    assert (await tenant.gql(GET, {"id": volume["id"]}))["data"]["volume"] is None
    assert await audit_rows(pool, tenant) == [
        ("tester", "create", "Volume"),
        ("tester", "delete", "Volume"),
    ]
    again = await tenant.gql(DELETE, {"id": volume["id"]})
    assert again["data"] == {"deleteVolume": None}
    assert errors_of(again) == [("not_found", ["id"])]
    wrong = await tenant.gql(DELETE, {"id": to_global_id("Network", uuid_of(volume["id"]))})
    assert errors_of(wrong) == [("invalid_primary_key", ["id"])]


async def test_a_volume_in_use_cannot_be_deleted(tenant, pool):
    volume = await create(tenant, "used")
    first, second = await a_container(tenant), await a_container(tenant)
    async with pool.acquire() as conn:
        await mount(conn, tenant, first, volume, "/a")
        await mount(conn, tenant, second, volume, "/b")

    body = await tenant.gql(DELETE, {"id": volume["id"]})
    assert body["data"] == {"deleteVolume": None}
    [error] = body["errors"]
    assert (error["code"], error["fields"]) == ("invalid", ["id"])
    assert error["message"].startswith("is used by 2 container(s)")
    assert await count_rows(pool, tenant) == 1
    assert [a for _, a, _ in await audit_rows(pool, tenant) if a == "delete"] == []

    # Unused again: the delete goes through.
    await pool.execute("DELETE FROM container_volumes WHERE tenant_id = $1", tenant.id)
    assert "errors" not in await tenant.gql(DELETE, {"id": volume["id"]})


async def test_a_mount_being_written_is_waited_for_and_counted(tenant, pool):
    volume = await create(tenant, "racing")
    container_id = await a_container(tenant)
    # A container is being created with this volume (not committed yet) when
    # the delete starts: the delete must wait for it and then refuse.
    async with pool.acquire() as conn:
        tx = conn.transaction()
        await tx.start()
        await mount(conn, tenant, container_id, volume)
        delete = asyncio.ensure_future(tenant.gql(DELETE, {"id": volume["id"]}))
        await until_a_statement_waits_for_a_lock(pool)
        await tx.commit()
    body = await delete
    assert errors_of(body) == [("invalid", ["id"])]
    assert body["errors"][0]["message"].startswith("is used by 1 container(s)")
    assert await count_rows(pool, tenant) == 1


async def test_the_database_refuses_to_orphan_a_mount(tenant, pool):
    volume = await create(tenant, "guarded")
    container_id = await a_container(tenant)
    async with pool.acquire() as conn:
        await mount(conn, tenant, container_id, volume)
        with pytest.raises(asyncpg.ForeignKeyViolationError):
            await conn.execute("DELETE FROM volumes WHERE tenant_id = $1", tenant.id)
        # A container mounts a volume once, and one volume per target.
        other = await create(tenant, "other")
        with pytest.raises(asyncpg.UniqueViolationError):
            await mount(conn, tenant, container_id, volume, "/elsewhere")
        with pytest.raises(asyncpg.UniqueViolationError):
            await mount(conn, tenant, container_id, other, "/data")
    # A mount goes with its container.
    await pool.execute("DELETE FROM containers WHERE tenant_id = $1", tenant.id)
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM container_volumes WHERE tenant_id = $1", tenant.id
        )
        == 0
    )
    assert "errors" not in await tenant.gql(DELETE, {"id": volume["id"]})


async def test_volumes_are_immutable_in_sql(tenant, pool):
    await create(tenant, "fixed")
    with pytest.raises(asyncpg.RestrictViolationError, match="immutable"):
        await pool.execute("UPDATE volumes SET driver = 'nfs' WHERE tenant_id = $1", tenant.id)


async def test_removing_a_tenant_removes_its_volumes_even_in_use(tenant, pool):
    volume = await create(tenant, "doomed")
    container_id = await a_container(tenant)
    async with pool.acquire() as conn:
        await mount(conn, tenant, container_id, volume)
    await pool.execute("DELETE FROM tenants WHERE id = $1", tenant.id)
    assert await count_rows(pool, tenant) == 0


# --- who may ----------------------------------------------------------------------


async def test_another_tenant_sees_and_deletes_nothing(tenant, other_tenant, pool):
    volume = await create(tenant, "mine")
    assert (await other_tenant.gql(GET, {"id": volume["id"]}))["data"]["volume"] is None
    assert (await other_tenant.gql(NODE, {"id": volume["id"]}))["data"]["node"] is None
    listed = (await other_tenant.gql(LIST, {}))["data"]["volumes"]
    assert (listed["count"], listed["edges"]) == (0, [])
    body = await other_tenant.gql(DELETE, {"id": volume["id"]})
    assert errors_of(body) == [("not_found", ["id"])]
    assert await count_rows(pool, tenant) == 1
    # Labels are unique per tenant only.
    await create(other_tenant, "mine")


async def test_a_device_token_is_refused(tenant, pool):
    volume = await create(tenant, "device-proof")
    _, token = await create_device(tenant)
    audit_before = await audit_rows(pool, tenant)
    for document, variables in [
        (GET, {"id": volume["id"]}),
        (LIST, {}),
        (CREATE, {"input": {"label": "by-device"}}),
        (DELETE, {"id": volume["id"]}),
    ]:
        body = await tenant.gql(document, variables, token=token)
        assert [e["code"] for e in body["errors"]] == ["forbidden"], (document, body)
        assert list(body["data"].values()) == [None]
    assert await count_rows(pool, tenant) == 1
    assert await audit_rows(pool, tenant) == audit_before

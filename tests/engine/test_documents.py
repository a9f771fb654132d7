"""The fast engine's document cache: bounded, and never holding what must not stay."""

from __future__ import annotations

import gc
import uuid
from typing import Any

import pytest
from graphql import StringValueNode, parse
from strawberry.extensions import SchemaExtension

from edgehog_creds.app import create_app
from edgehog_creds.domain.principal import Device
from edgehog_creds.engine import Engine
from edgehog_creds.engine.documents import MAX_LENGTH, Documents, safe_to_keep
from edgehog_creds.graphql.execute import execute
from edgehog_creds.graphql.schema import build_schema

from ..conftest import serving, test_settings
from ..gql import create
from .conftest import ENGINE_NAMES, engine_schema, kept_documents, schema_with

INLINE = (
    'mutation { createImageCredentials(input: {label: "l", username: "u", '
    'password: "inline-secret"}) { result { label } } }'
)
# An enum value where a string goes: fails validation, and its error quotes `inline_secret`.
MISTYPED = (
    'mutation { createImageCredentials(input: {label: "l", username: "u", '
    "password: inline_secret}) { result { label } } }"
)
VARIABLES_ONLY = (
    "mutation($i: CreateImageCredentialsInput!) { createImageCredentials(input: $i) "
    "{ result { label } } }"
)
LIST_SORTED = """
query($order: SortOrder!) {
  listImageCredentials(sort: [{field: LABEL, order: $order}]) { edges { node { label } } }
}
"""


def fast_with(**limits: int) -> tuple[Any, Documents]:
    """The app's schema with a fast engine of these limits, and the documents it keeps."""
    engine = Engine("fast", **limits)
    schema = build_schema(engine)
    assert engine.documents is not None
    return schema, engine.documents


def test_the_cache_is_bounded_and_the_least_recently_used_goes_first():
    documents = Documents(max_documents=3)
    queries = [f"{{ a{i}: __typename }}" for i in range(5)]
    for q in queries:
        documents.offer(q, parse(q), True, None)
    assert documents.texts() == queries[2:] and len(documents) == 3
    assert documents.get(queries[0]) is None
    assert documents.get(queries[2]) is not None  # used again: now the most recent
    documents.offer("{ b: __typename }", parse("{ b: __typename }"), True, None)
    assert documents.texts() == [queries[4], queries[2], "{ b: __typename }"]


async def test_a_kept_document_is_served_and_the_cache_is_bounded_through_the_extension():
    served: list[Any] = []

    class Sees(SchemaExtension):
        def on_execute(self):
            served.append(self.execution_context.graphql_document)
            yield

    engine = Engine("fast", max_documents=3)
    schema = schema_with(engine, Sees)
    documents = engine.documents
    assert documents is not None
    queries = [f"{{ a{i}: __typename }}" for i in range(5)]
    for q in queries:
        result = await schema.execute(q)
        assert result.errors is None
    assert documents.texts() == queries[2:]
    await schema.execute(queries[2])  # used again: now the most recent
    assert served[-1] is served[2]  # the very document parsed the first time
    await schema.execute(queries[0])  # gone: parsed again, and kept again
    assert served[-1] is not served[0]
    assert documents.texts() == [queries[4], queries[2], queries[0]]


async def test_long_documents_are_answered_but_not_kept():
    schema, documents = fast_with(max_length=40)
    short = "{ __typename }"
    long = short[:-1] + " " * (41 - len(short)) + "}"
    assert len(long) == 41
    for q in (short, long):
        result = await schema.execute(q)
        assert result.data == {"__typename": "RootQueryType"}
    assert documents.texts() == [short]
    # The default limit, through the app's own engine.
    engine, schema = engine_schema("fast")
    longest = short[:-1] + " " * (MAX_LENGTH + 1 - len(short)) + "}"
    result = await schema.execute(longest)
    assert result.data == {"__typename": "RootQueryType"}
    assert longest not in engine.documents and len(engine.documents) == 0
    result = await schema.execute(longest[:-2] + "}")  # MAX_LENGTH exactly
    assert result.errors is None and len(engine.documents) == 1


async def test_mutations_with_literals_unparsable_and_invalid_documents_are_never_kept(
    new_context,
):
    engine, schema = engine_schema("fast")

    async def run(query: str, variables: Any = None) -> dict[str, Any]:
        return await execute(schema, query, variables, None, new_context())

    body = await run(INLINE)  # runs, and is forgotten
    assert body == {"data": {"createImageCredentials": {"result": {"label": "l"}}}}
    body = await run(MISTYPED)
    assert body["data"] is None and body["errors"]
    body = await run('{ broken "inline-secret"')
    assert body["data"] is None and body["errors"]
    # The mutation's field sent as a query: fails validation, literals and all.
    body = await run(INLINE.removeprefix("mutation "))
    assert body["data"] is None and body["errors"]
    # A query failing validation, with no literal at all.
    body = await run("{ listImageCredentials { nope } }")
    assert body["data"] is None and body["errors"]
    # A literal default value of a variable is a literal too.
    with_default = (
        'mutation($p: String! = "default-secret") { createImageCredentials('
        'input: {label: "d", username: "u", password: $p}) { result { label } } }'
    )
    body = await run(with_default)
    assert body == {"data": {"createImageCredentials": {"result": {"label": "d"}}}}
    assert len(engine.documents) == 0
    # A mutation that takes every value from variables is kept, as queries are.
    body = await run(VARIABLES_ONLY, {"i": {"label": "v", "username": "u", "password": "pw"}})
    assert body == {"data": {"createImageCredentials": {"result": {"label": "v"}}}}
    assert engine.documents.texts() == [VARIABLES_ONLY]


def test_only_documents_without_literals_are_safe_to_keep_unless_valid_queries():
    assert safe_to_keep(parse(INLINE), True) is False
    assert safe_to_keep(parse(INLINE), False) is False
    assert safe_to_keep(parse(VARIABLES_ONLY), True) is True
    assert safe_to_keep(parse('{ node(id: "x") { id } }'), True) is True
    assert safe_to_keep(parse('{ node(id: "x") { id } }'), False) is False
    documents = Documents()
    documents.offer(INLINE, parse(INLINE), True, None)
    documents.offer("{ nope }", parse("{ nope }"), False, None)
    documents.offer(VARIABLES_ONLY, parse(VARIABLES_ONLY), False, None)  # failed validation
    assert len(documents) == 0


def test_the_may_keep_policy_is_asked_with_the_request_context():
    asked: list[tuple[Any, Any]] = []

    def policy(context: Any, document: Any) -> bool:
        asked.append((context, document))
        return context == "yes"

    documents = Documents(policy)
    document = parse("{ __typename }")
    documents.offer("{ __typename }", document, True, "no")
    assert len(documents) == 0 and asked == [("no", document)]
    documents.offer("{ __typename }", document, True, "yes")
    assert documents.texts() == ["{ __typename }"]


async def test_the_apps_policy_keeps_only_a_devices_payload_documents(new_context):
    engine, schema = engine_schema("fast")
    device = Device(new_context.tenant, uuid.uuid4())
    listing = "{ listImageCredentials { count } }"
    payload = "query($d: ID!) { devicePayload(deploymentId: $d) { events } }"
    body = await execute(schema, listing, None, None, new_context(device))
    assert body["data"] == {"listImageCredentials": None} and body["errors"]
    assert listing not in engine.documents  # refused to devices: not worth keeping
    body = await execute(schema, payload, {"d": str(uuid.uuid4())}, None, new_context(device))
    assert payload in engine.documents
    body = await execute(schema, "{ __typename }", None, None, new_context(device))
    assert "{ __typename }" in engine.documents
    # A tenant user's listing is kept.
    body = await execute(schema, listing, None, None, new_context())
    assert body == {"data": {"listImageCredentials": {"count": 0}}}
    assert listing in engine.documents


async def test_a_literal_password_sent_over_http_does_not_stay(tenant, pool, vault, database_url):
    app = create_app(
        test_settings(database_url=database_url, engine="fast"), pool=pool, vault=vault
    )
    documents = kept_documents(app_schema(app))
    assert documents is not None
    secret = "pw-literal-must-go"
    headers = {"Authorization": f"Bearer {tenant.token}"}
    async with serving(app) as client:
        for label in ("h0", "h1"):
            query = INLINE.replace("inline-secret", secret).replace('"l"', f'"{label}"')
            response = await client.post(tenant.url, json={"query": query}, headers=headers)
            assert response.json() == {
                "data": {"createImageCredentials": {"result": {"label": label}}}
            }
        # The same way in, a document is kept: this is the app's cache.
        variables = {"i": {"label": "v", "username": "u", "password": secret}}
        response = await client.post(
            tenant.url, json={"query": VARIABLES_ONLY, "variables": variables}, headers=headers
        )
        assert response.json() == {"data": {"createImageCredentials": {"result": {"label": "v"}}}}
    assert documents.texts() == [VARIABLES_ONLY]
    del response
    gc.collect()
    assert not [
        node
        for node in gc.get_objects()
        if isinstance(node, StringValueNode) and secret in node.value
    ]


def app_schema(app: Any) -> Any:
    """The schema the app's GraphQL endpoint runs."""
    for route in app.routes:
        if getattr(route, "path", None) == "/tenants/{slug}/api":
            return route.endpoint.__self__.schema
    raise AssertionError("no GraphQL route")


@pytest.mark.parametrize("name", ENGINE_NAMES)
async def test_the_same_document_with_other_variables_sorts_each_way(tenant, new_context, name):
    for label in ("b", "a", "c"):
        await create(tenant, label)
    _engine, schema = engine_schema(name)
    for order, expected in (("ASC", ["a", "b", "c"]), ("DESC", ["c", "b", "a"])) * 2:
        body = await execute(schema, LIST_SORTED, {"order": order}, None, new_context())
        edges = body["data"]["listImageCredentials"]["edges"]
        assert [e["node"]["label"] for e in edges] == expected


@pytest.mark.parametrize("name", ENGINE_NAMES)
async def test_a_field_given_no_arguments_gets_its_defaults(tenant, new_context, name):
    for label in ("b", "a", "c"):
        await create(tenant, label)
    engine, schema = engine_schema(name)
    field = schema._schema.query_type.fields["listImageCredentials"]
    assert {arg: field.args[arg].default_value for arg in field.args} == dict.fromkeys(
        ("sort", "filter", "first", "before", "after", "last")
    )
    selection = "{ count edges { node { label } } }"
    given = "(sort: null, filter: null, first: null, before: null, after: null, last: null)"
    bodies = []
    for arguments in ("", given, "", given):  # twice: the second time from the cache
        query = f"{{ listImageCredentials{arguments} {selection} }}"
        bodies.append(await execute(schema, query, None, None, new_context()))
    assert bodies[0] == bodies[1] == bodies[2] == bodies[3]
    page = bodies[0]["data"]["listImageCredentials"]
    assert page["count"] == 3
    assert sorted(e["node"]["label"] for e in page["edges"]) == ["a", "b", "c"]
    if engine.documents is not None:
        assert len(engine.documents) == 2

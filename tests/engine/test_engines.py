"""Both engines answer every document alike, and both run Strawberry's extensions."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension

from edgehog_creds.app import create_app
from edgehog_creds.config import ConfigError, load_settings
from edgehog_creds.engine import ENGINES, Engine
from edgehog_creds.graphql.errors import invalid
from edgehog_creds.graphql.execute import execute
from edgehog_creds.graphql.schema import build_schema, may_keep

from ..conftest import serving, test_settings
from ..gql import create
from .conftest import (
    ENGINE_NAMES,
    engine_schema,
    kept_documents,
    live_plans,
    plans_of,
    schema_with,
    summary,
)

# (document, variables, operationName, whether the fast engine keeps it)
CASES = [
    pytest.param(
        "{ listImageCredentials(first: 2) { count edges { node { label } } } }",
        None,
        None,
        True,
        id="page",
    ),
    pytest.param(
        "query A { listImageCredentials(last: 1) { edges { node { label } } } } "
        "query B { listImageCredentials(first: 1) { count } }",
        None,
        "B",
        True,
        id="operation-name",
    ),
    pytest.param(
        "query($f: Int) { listImageCredentials(first: $f) { count } }",
        {"f": "two"},
        None,
        True,
        id="bad-variable",
    ),
    pytest.param("{ listImageCredentials { nope } }", None, None, False, id="invalid"),
    pytest.param(
        "{ listImageCredentials(first: 1) { count }", None, None, False, id="syntax-error"
    ),
    pytest.param(
        "{ listImageCredentials(first: -1) { count } }", None, None, True, id="domain-error"
    ),
    pytest.param('{ node(id: "bad") { id } }', None, None, True, id="bad-node-id"),
    pytest.param(
        "query($no: Boolean!) { listImageCredentials(first: 2) { edges { node "
        "{ __typename @skip(if: $no) t: __typename @include(if: $no) label } } } }",
        {"no": True},
        None,
        True,
        id="directives",
    ),
    pytest.param(
        "mutation($i: CreateImageCredentialsInput!) { createImageCredentials(input: $i) "
        "{ result { label } errors { code } } }",
        {"i": {"label": "", "username": "u", "password": "pw"}},
        None,
        True,
        id="mutation-error",
    ),
]

QUERY = """
query($f: Int, $s: [ImageCredentialsSortInput], $no: Boolean!) {
  __typename
  a: listImageCredentials(first: $f, sort: $s) {
    count
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor __typename }
    edges { cursor node { __typename id label username insertedAt l2: label } }
  }
  b: listImageCredentials(first: 1, after: "bad") { count }
  c: listImageCredentials(first: 2) {
    edges { node {
      ... on ImageCredentials { label } id @skip(if: $no) username @include(if: $no)
    } }
  }
  d: listImageCredentials(last: 2) { edges { node { label label } } pageInfo { ...P } }
}

fragment P on PageInfo {
  hasPreviousPage
}
"""

LIST = "{ listImageCredentials { count edges { cursor node { id label username } } } }"


async def answers(
    new_context: Any, query: str, variables: Any = None, operation: str | None = None
) -> dict[str, list[Any]]:
    """Each engine's answers to `query`, run twice: raw results and response bodies.

    The fast engine parses a document it keeps for the first run only: the
    other three are served from its document cache.
    """
    got: dict[str, list[Any]] = {}
    for name in ENGINE_NAMES:
        _engine, schema = engine_schema(name)
        runs: list[Any] = []
        for _ in range(2):
            result = await schema.execute(
                query,
                variable_values=variables,
                context_value=new_context(),
                operation_name=operation,
            )
            runs.append(summary(result))
            runs.append(await execute(schema, query, variables, operation, new_context()))
        got[name] = runs
    return got


@pytest.mark.parametrize(("query", "variables", "operation", "kept"), CASES)
async def test_both_engines_give_the_same_answers_and_errors(
    tenant, new_context, query, variables, operation, kept
):
    for i in range(3):
        await create(tenant, f"e{i}")
    got = await answers(new_context, query, variables, operation)
    assert got["fast"] == got["strawberry"]
    assert got["fast"][0] == got["fast"][2]  # the same again, from the kept document
    # The second fast run was served from the cache exactly when the document is kept.
    engine, schema = engine_schema("fast")
    await schema.execute(
        query, variable_values=variables, context_value=new_context(), operation_name=operation
    )
    assert (query in engine.documents) is kept


async def test_both_engines_answer_a_big_document_alike(tenant, new_context):
    # Aliases, fragments, @skip/@include, a bad cursor, merged fields, __typename.
    for i in range(7):
        await create(tenant, f"c{i}", username=f"u{i % 2}")
    variables = {"f": 5, "s": [{"field": "USERNAME", "order": "DESC"}], "no": True}
    got = await answers(new_context, QUERY, variables)
    assert got["fast"] == got["strawberry"]
    data, errors = got["fast"][2]
    assert len(data["a"]["edges"]) == 5
    assert data["a"]["edges"][0]["node"]["username"] == "u1"
    assert data["b"] is None and errors and errors[0][1] == ["b"]
    assert data["c"]["edges"][0]["node"] == {"label": "c0", "username": "u0"}
    assert data["d"]["pageInfo"] == {"hasPreviousPage": True}
    assert data["d"]["edges"] == [{"node": {"label": "c5"}}, {"node": {"label": "c6"}}]


async def test_an_unknown_operation_name_is_a_graphql_error(tenant, new_context):
    want = {"data": None, "errors": [invalid("Unknown operation named 'B'.")]}
    for name in ENGINE_NAMES:
        engine, schema = engine_schema(name)
        for _ in range(2):
            assert await execute(schema, "query A { __typename }", None, "B", new_context()) == want
        # Also once the document is kept (it was run by its right name).
        assert await execute(schema, "query A { __typename }", None, "A", new_context()) == {
            "data": {"__typename": "RootQueryType"}
        }
        if engine.documents is not None:
            assert "query A { __typename }" in engine.documents
        assert await execute(schema, "query A { __typename }", None, "B", new_context()) == want


@pytest.mark.parametrize("name", ENGINE_NAMES)
async def test_an_unknown_operation_name_over_http_is_answered_not_a_crash(
    tenant, pool, vault, database_url, name
):
    app = create_app(test_settings(database_url=database_url, engine=name), pool=pool, vault=vault)
    headers = {"Authorization": f"Bearer {tenant.token}"}
    async with serving(app) as client:
        for _ in range(2):
            response = await client.post(
                tenant.url,
                json={"query": "query A { __typename }", "operationName": "B"},
                headers=headers,
            )
            assert response.status_code == 200
            assert response.json() == {
                "data": None,
                "errors": [invalid("Unknown operation named 'B'.")],
            }


@pytest.mark.parametrize(
    ("limiter", "refused"),
    [
        pytest.param(
            lambda: MaxAliasesLimiter(max_alias_count=1),
            "{ a: listImageCredentials { count } b: listImageCredentials { count } }",
            id="aliases",
        ),
        pytest.param(
            lambda: QueryDepthLimiter(max_depth=2),
            "{ listImageCredentials { edges { node { label } } } }",
            id="depth",
        ),
    ],
)
async def test_a_validation_rule_extension_refuses_with_both_engines(
    tenant, new_context, limiter, refused
):
    await create(tenant, "v0")
    allowed = "{ a: listImageCredentials { count } }"
    for name in ENGINE_NAMES:
        engine = Engine.named(name, may_keep)
        schema = schema_with(engine, limiter)
        for _ in range(2):  # refused again: a refused document is never kept
            result = await schema.execute(refused, context_value=new_context())
            assert result.data is None, name
            assert result.errors and len(result.errors) == 1, name
        for _ in range(2):
            result = await schema.execute(allowed, context_value=new_context())
            assert result.errors is None and result.data == {"a": {"count": 1}}, name
        if engine.documents is not None:
            assert engine.documents.texts() == [allowed]


def test_the_schema_with_more_extensions_is_the_apps_schema():
    assert schema_with(Engine.named("fast")).as_str() == build_schema().as_str()


async def test_two_schemas_of_one_engine_do_not_share_what_one_of_them_validated():
    engine = Engine.named("fast")
    lenient = build_schema(engine)
    strict = schema_with(engine, lambda: MaxAliasesLimiter(max_alias_count=1))
    aliased = "{ a: __typename b: __typename }"
    assert (await lenient.execute(aliased)).errors is None
    result = await strict.execute(aliased)
    assert result.data is None and result.errors


class SeesFields(SchemaExtension):
    """Middleware: records the path of every field it resolves."""

    def __init__(self, seen: list[tuple[Any, ...]]) -> None:
        self.seen = seen

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        self.seen.append(tuple(info.path.as_list()))
        return _next(root, info, *args, **kwargs)


async def test_a_resolve_extension_sees_every_field_with_both_engines(tenant, new_context):
    for i in range(4):
        await create(tenant, f"m{i}")
    seen: dict[str, list[tuple[Any, ...]]] = {}
    data = {}
    for name in ENGINE_NAMES:
        engine = Engine.named(name, may_keep)
        seen[name] = []
        schema = schema_with(engine, lambda name=name: SeesFields(seen[name]))
        for _ in range(2):
            result = await schema.execute(LIST, context_value=new_context())
            assert result.errors is None
        data[name] = result.data
    assert data["fast"] == data["strawberry"]
    assert seen["fast"] == seen["strawberry"]
    # Twice: the root field, count, edges, and per edge cursor, node, id, label, username.
    assert len(seen["fast"]) == 2 * (3 + 4 * 5)
    assert ("listImageCredentials", "edges", 3, "node", "label") in seen["fast"]


async def test_the_fast_engine_is_fast_only_where_the_strawberry_engine_is_plain(
    tenant, new_context
):
    # The fast engine keeps documents and runs plans; the strawberry engine neither.
    await create(tenant, "p0")
    fast, fast_schema = engine_schema("fast")
    plain, plain_schema = engine_schema("strawberry")
    for schema in (fast_schema, plain_schema):
        result = await schema.execute(LIST, context_value=new_context())
        assert result.errors is None
    assert plain.documents is None and plain.plans is None
    assert kept_documents(plain_schema) is None and plans_of(plain_schema) is None
    assert kept_documents(fast_schema) is fast.documents and LIST in fast.documents
    assert plans_of(fast_schema) is fast.plans and live_plans(fast.plans) > 0


def test_an_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="nope"):
        Engine.named("nope")
    assert Engine.named("strawberry").name == "strawberry"
    assert set(ENGINES) == {"fast", "strawberry"}


def test_the_engine_setting():
    assert load_settings({"EDGEHOG_CREDS_ENGINE": "strawberry"}).engine == "strawberry"
    assert load_settings({"EDGEHOG_CREDS_ENGINE": "fast"}).engine == "fast"
    assert load_settings({}).engine == "fast"
    with pytest.raises(ConfigError, match="EDGEHOG_CREDS_ENGINE"):
        load_settings({"EDGEHOG_CREDS_ENGINE": "graphql-core"})

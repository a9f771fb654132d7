"""The leaf fast path answers exactly as graphql-core's own execution does."""

from __future__ import annotations

import gc
import weakref
from types import SimpleNamespace

import pytest
import strawberry
from graphql import parse
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from edgehog_creds.graphql import execution
from edgehog_creds.graphql.context import Context
from edgehog_creds.graphql.executor import Executor
from edgehog_creds.graphql.scalars import SCALAR_MAP
from edgehog_creds.graphql.schema import RootMutationType, RootQueryType, build_schema

from .gql import create

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


async def test_same_answers_as_graphql_core(tenant, pool, vault):
    for i in range(7):
        await create(tenant, f"c{i}", username=f"u{i % 2}")
    fast = build_schema()
    plain = strawberry.Schema(
        query=RootQueryType,
        mutation=RootMutationType,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        execution_context_class=StrawberryGraphQLCoreExecutionContext,
    )
    from edgehog_creds.auth import TenantUser
    from edgehog_creds.store.tenants import get_by_slug

    t = await get_by_slug(pool, tenant.slug)
    variables = {"f": 5, "s": [{"field": "USERNAME", "order": "DESC"}], "no": True}
    ours = Executor(fast)  # as the app runs it; it keeps the document, and so its plans
    runs = (
        lambda ctx: ours.run(QUERY, variables, ctx),
        lambda ctx: plain.execute(QUERY, variable_values=variables, context_value=ctx),
    )
    execution._plans.clear()
    results = []
    for run in runs:
        ctx = Context(pool=pool, tenant=t, principal=TenantUser(t, "x"), vault=vault)
        r = await run(ctx)
        results.append((r.data, [(e.message, e.path) for e in r.errors or []]))
    assert results[0] == results[1]
    assert len(results[0][0]["a"]["edges"]) == 5
    assert results[0][0]["c"]["edges"][0]["node"] == {"label": "c0", "username": "u0"}
    assert results[0][0]["d"]["pageInfo"] == {"hasPreviousPage": True}
    assert execution._plans  # the fast path was taken
    assert any(plan is not None for _, plan in execution._plans.values())


async def test_a_request_ends_without_waiting_for_the_cyclic_gc(tenant, pool, vault):
    # graphql-core's execution context referred to itself (its resolver
    # helpers were its own bound methods), so every request's context, and
    # our Context with it, stayed until a GC pass found the cycle.
    from edgehog_creds.auth import TenantUser
    from edgehog_creds.store.tenants import get_by_slug

    await create(tenant, "c0")
    t = await get_by_slug(pool, tenant.slug)
    executor = Executor(build_schema())
    gc.collect()
    gc.disable()
    try:
        ctx = Context(pool=pool, tenant=t, principal=TenantUser(t, "x"), vault=vault)
        ended = weakref.ref(ctx)
        result = await executor.run("{ listImageCredentials(first: 1) { count } }", None, ctx)
        assert result.errors is None and result.data == {"listImageCredentials": {"count": 1}}
        del ctx, result
        assert ended() is None
    finally:
        gc.enable()


def test_a_plan_lives_only_as_long_as_its_document():
    schema = build_schema()._schema
    document = parse("{ listImageCredentials { edges { cursor } } }")
    edges = document.definitions[0].selection_set.selections[0].selection_set.selections[0]
    connection = schema.get_type("ImageCredentialsConnection")
    assert execution.plan_for(schema, connection, [SimpleNamespace(node=edges)]) is not None
    key = (connection.name, id(edges))
    assert key in execution._plans
    del document, edges
    gc.collect()
    assert key not in execution._plans


@strawberry.type
class Leafy:
    name: str
    code: strawberry.ID
    note: str | None
    size: int


@strawberry.type
class Outer:
    leafy: Leafy | None
    leafies: list[Leafy]


@strawberry.type
class OuterQuery:
    outer: Outer


def _plan(selection: str):
    schema = strawberry.Schema(query=OuterQuery)._schema
    document = parse(f"{{ outer {{ {selection} }} }}")
    field = document.definitions[0].selection_set.selections[0].selection_set.selections[0]
    plan = execution.plan_for(schema, schema.get_type("Outer"), [SimpleNamespace(node=field)])
    assert plan is not None
    return plan, document  # the plan lives as long as its document


def test_an_object_plan_reads_every_kind_of_field():
    plan, _doc = _plan("leafy { __typename name n2: name code note size }")
    leafy = Leafy(name="a", code="id-1", note=None, size=3)
    assert plan(Outer(leafy=leafy, leafies=[])) == {
        "__typename": "Leafy",
        "name": "a",
        "n2": "a",
        "code": "id-1",
        "note": None,
        "size": 3,
    }
    assert plan(Outer(leafy=None, leafies=[])) is None  # a nullable object


def test_an_object_plan_serialises_what_is_not_a_str_as_graphql_core_does():
    plan, _doc = _plan("leafies { name code }")
    odd = Leafy(name=5, code=7, note=None, size=1)  # type: ignore[arg-type]
    assert plan(Outer(leafy=None, leafies=[odd])) == [{"name": "5", "code": "7"}]


def test_an_object_plan_leaves_a_forbidden_null_to_graphql_core():
    plan, _doc = _plan("leafy { name }")
    with pytest.raises(execution._NotPlain):
        plan(Outer(leafy=Leafy(name=None, code="x", note=None, size=1), leafies=[]))  # type: ignore[arg-type]

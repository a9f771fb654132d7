"""Compiled plans: taken for plain data, answering as graphql-core does, gone with their nodes."""

from __future__ import annotations

import gc
import uuid
import weakref
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
import strawberry
from graphql import FieldNode, parse
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission

from edgehog_creds.credentials import model
from edgehog_creds.engine import Engine, plain
from edgehog_creds.engine.plans import NotPlain, Plans
from edgehog_creds.graphql.execute import execute
from edgehog_creds.graphql.relay import to_global_id
from edgehog_creds.graphql.schema import build_schema

from ..gql import create
from .conftest import ENGINE_NAMES, engine_schema, live_plans, summary

LIST = "{ listImageCredentials { count edges { cursor node { id label username insertedAt } } } }"


def first_field(node: Any, *names: str) -> FieldNode:
    """The field reached from `node` by the first selection at each level, checked by name."""
    for name in names:
        node = node.selection_set.selections[0]
        assert node.name.value == name
    return node


def app_graphql_schema() -> Any:
    return build_schema()._schema


# A small schema of every kind of plain field.


@strawberry.type
class Leafy:
    name: str
    code: strawberry.ID
    note: str | None
    size: int


def _shout(root: Leafy) -> str:
    return root.name.upper()


@strawberry.type
class Loud:
    name: str
    shout: str = strawberry.field(resolver=_shout, metadata=plain(_shout))


@strawberry.type
class Outer:
    leafy: Leafy | None
    leafies: list[Leafy]


@strawberry.type
class OuterQuery:
    outer: Outer


def _plan(selection: str) -> tuple[Any, Any]:
    schema = strawberry.Schema(query=OuterQuery)._schema
    document = parse(f"{{ outer {{ {selection} }} }}")
    field = first_field(document.definitions[0], "outer").selection_set.selections[0]
    plan = Plans().for_field(schema, schema.get_type("Outer"), [SimpleNamespace(node=field)])
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
    plan, _doc = _plan("leafies { name size }")
    assert plan(Outer(leafy=None, leafies=[leafy, leafy])) == [{"name": "a", "size": 3}] * 2


def test_an_object_plan_serialises_what_is_not_a_str_as_graphql_core_does():
    plan, _doc = _plan("leafies { name code note }")
    odd = Leafy(name=5, code=7, note=True, size=1)  # type: ignore[arg-type]
    assert plan(Outer(leafy=None, leafies=[odd])) == [{"name": "5", "code": "7", "note": "true"}]


def test_an_object_plan_leaves_a_forbidden_null_or_a_bad_value_to_graphql_core():
    plan, _doc = _plan("leafy { name }")
    with pytest.raises(NotPlain):
        plan(Outer(leafy=Leafy(name=None, code="x", note=None, size=1), leafies=[]))  # type: ignore[arg-type]
    plan, _doc = _plan("leafy { size }")
    with pytest.raises(NotPlain):
        plan(Outer(leafy=Leafy(name="a", code="x", note=None, size=1.5), leafies=[]))  # type: ignore[arg-type]
    plan, _doc = _plan("leafies { name }")
    with pytest.raises(NotPlain):
        plan(Outer(leafy=None, leafies=None))  # type: ignore[arg-type]


def test_what_is_not_plain_data_gets_no_plan():
    schema = strawberry.Schema(query=OuterQuery)._schema
    outer = schema.get_type("Outer")
    for selection in (
        "leafy { ... on Leafy { name } }",  # a fragment
        "leafy { name @include(if: true) }",  # a directive
        "leafy { __typename @include(if: true) }",
        "leafy @skip(if: false) { name }",
        "leafy { name name }",  # merged fields
        "leafy { nope }",
    ):
        document = parse(f"{{ outer {{ {selection} }} }}")
        field = first_field(document.definitions[0], "outer").selection_set.selections[0]
        assert Plans().for_field(schema, outer, [SimpleNamespace(node=field)]) is None, selection
    # The same field twice in the executor's grouping: graphql-core merges them.
    document = parse("{ outer { leafy { name } } }")
    field = first_field(document.definitions[0], "outer", "leafy")
    details = [SimpleNamespace(node=field)] * 2
    assert Plans().for_field(schema, outer, details) is None


@strawberry.type
class OddQuery:
    @strawberry.field
    def outer(self) -> Outer:
        odd = Leafy(name=5, code=7, note=False, size=True)  # type: ignore[arg-type]
        bad = Leafy(name=None, code="x", note=None, size=2)  # type: ignore[arg-type]
        return Outer(leafy=bad, leafies=[odd, Leafy(name="n", code="c", note="t", size=2)])

    @strawberry.field
    def loud(self) -> list[Loud]:
        return [Loud(name="a"), Loud(name="b")]


@pytest.mark.parametrize(
    "query",
    [
        "{ outer { leafies { __typename name code note size } } }",
        "{ outer { leafy { name } leafies { name } } }",  # a forbidden null in the first
        "{ loud { name shout } }",
    ],
)
async def test_plans_answer_as_graphql_core_does(query):
    got = {}
    for name in ENGINE_NAMES:
        engine = Engine.named(name)
        schema = strawberry.Schema(query=OddQuery, **engine.schema_options())
        got[name] = summary(await schema.execute(query))
        if engine.plans is not None:
            assert live_plans(engine.plans) > 0  # the plans were taken
    assert got["fast"] == got["strawberry"]


# Where the compiled plans answer other than graphql-core (engine bugs, see the reasons).


class Deny(BasePermission):
    message = "denied"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


class Upper(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Any, **kwargs: Any) -> Any:
        return next_(source, info, **kwargs).upper()


def _whisper(root: Guarded) -> str:
    return root.name.lower()


def _repeat(root: Guarded, times: int = 2) -> str:
    return root.name * times


@strawberry.type
class Guarded:
    name: str
    secret: str = strawberry.field(permission_classes=[Deny])
    shout: str = strawberry.field(extensions=[Upper()])
    # Declared plain, but guarded or given arguments: left to graphql-core.
    whisper: str = strawberry.field(
        resolver=_whisper, metadata=plain(_whisper), permission_classes=[Deny]
    )
    repeat: str = strawberry.field(resolver=_repeat, metadata=plain(_repeat))

    @classmethod
    def is_type_of(cls, obj: Any, _info: Any) -> bool:
        return isinstance(obj, Guarded)


class NotGuarded:
    name = "impostor"


@strawberry.type
class Holder:
    guarded: Guarded | None
    impostor: Guarded | None
    letters: list[str] | None


@strawberry.type
class GuardedQuery:
    @strawberry.field
    def holder(self) -> Holder:
        return Holder(
            guarded=Guarded(name="n", secret="s3cret", shout="quiet"),
            impostor=NotGuarded(),  # type: ignore[arg-type]
            letters="ab",  # type: ignore[arg-type]
        )


@pytest.mark.parametrize(
    "query",
    [
        "{ holder { guarded { name } } }",
        "{ holder { guarded { name whisper } } }",
        "{ holder { guarded { name repeat } } }",
        "{ holder { guarded { name r: repeat(times: 3) } } }",
        pytest.param(
            "{ holder { guarded { secret } } }",
        ),
        pytest.param(
            "{ holder { guarded { shout } } }",
        ),
        pytest.param(
            "{ holder { impostor { name } } }",
        ),
        pytest.param(
            "{ holder { letters } }",
        ),
    ],
)
async def test_plans_keep_what_strawberry_and_graphql_core_check(query):
    got = {}
    for name in ENGINE_NAMES:
        schema = strawberry.Schema(query=GuardedQuery, **Engine.named(name).schema_options())
        got[name] = summary(await schema.execute(query))
    assert got["fast"] == got["strawberry"]


def test_a_plan_lives_only_as_long_as_its_document():
    schema = app_graphql_schema()
    plans = Plans()
    document = parse("{ listImageCredentials { edges { cursor } } }")
    edges = first_field(document.definitions[0], "listImageCredentials", "edges")
    connection = schema.get_type("ImageCredentialsConnection")
    plan = plans.for_field(schema, connection, [SimpleNamespace(node=edges)])
    assert plan is not None and len(plans) == 1
    # Asked again: the same plan, not compiled again.
    assert plans.for_field(schema, connection, [SimpleNamespace(node=edges)]) is plan
    del document, edges
    gc.collect()
    assert len(plans) == 0


def test_plans_are_bounded():
    schema = app_graphql_schema()
    plans = Plans(max_plans=2)
    connection = schema.get_type("ImageCredentialsConnection")
    documents = [
        parse(f"{{ listImageCredentials {{ e{i}: edges {{ cursor }} }} }}") for i in range(5)
    ]
    for document in documents:
        edges = first_field(document.definitions[0], "listImageCredentials", "edges")
        assert plans.for_field(schema, connection, [SimpleNamespace(node=edges)]) is not None
        assert len(plans) <= 2
    # The field asked for last still has its plan, and it still answers.
    page = SimpleNamespace(edges=[SimpleNamespace(cursor="c")])
    assert plans.for_field(schema, connection, [SimpleNamespace(node=edges)])(page) == [
        {"cursor": "c"}
    ]


async def test_the_fast_path_is_taken_for_a_list_query(tenant, new_context):
    for i in range(5):
        await create(tenant, f"f{i}")
    infos: dict[str, int] = {}
    results = {}
    for name in ENGINE_NAMES:
        engine, schema = engine_schema(name)
        built = 0
        base = schema.execution_context_class

        class Counting(base):  # type: ignore[misc, valid-type]
            def build_resolve_info(self, *args: Any, **kwargs: Any) -> Any:
                nonlocal built
                built += 1
                return super().build_resolve_info(*args, **kwargs)

        schema.execution_context_class = Counting
        results[name] = summary(await schema.execute(LIST, context_value=new_context()))
        infos[name] = built
        if engine.plans is not None:
            assert live_plans(engine.plans) > 0
    assert results["fast"] == results["strawberry"]
    assert results["fast"][0]["listImageCredentials"]["count"] == 5
    # graphql-core resolves the root field, count and edges, then every field of 5 edges.
    assert infos["strawberry"] == 3 + 5 * 6
    assert infos["fast"] == 1  # count and edges, with every field below, by plans


async def test_a_plain_resolver_is_inlined_and_answers_as_strawberry(tenant, new_context):
    created = await create(tenant, "g0")
    schema = app_graphql_schema()
    connection = schema.get_type("ImageCredentialsConnection")
    document = parse("{ listImageCredentials { edges { node { id label } } } }")
    edges = first_field(document.definitions[0], "listImageCredentials", "edges")
    plan = Plans().for_field(schema, connection, [SimpleNamespace(node=edges)])
    assert plan is not None  # `id` has a resolver, declared plain
    node = model.ImageCredentials(uuid.uuid4(), "x", "u", datetime.now(UTC))
    assert plan(SimpleNamespace(edges=[SimpleNamespace(node=node)])) == [
        {"node": {"id": to_global_id(model.ENTITY, node.id), "label": "x"}}
    ]
    # A resolver not declared plain is left to graphql-core.
    document = parse("{ listImageCredentials { edges { node { deliveries { count } } } } }")
    edges = first_field(document.definitions[0], "listImageCredentials", "edges")
    assert Plans().for_field(schema, connection, [SimpleNamespace(node=edges)]) is None
    # Through both engines, the same ids.
    query = "{ listImageCredentials { edges { node { id label } } } }"
    bodies = {}
    for name in ENGINE_NAMES:
        engine, built = engine_schema(name)
        bodies[name] = await execute(built, query, None, None, new_context())
        if engine.plans is not None:
            assert live_plans(engine.plans) > 0
    assert bodies["fast"] == bodies["strawberry"]
    assert bodies["fast"]["data"]["listImageCredentials"]["edges"] == [
        {"node": {"id": created["id"], "label": "g0"}}
    ]


async def test_a_request_ends_without_waiting_for_the_cyclic_gc(tenant, new_context):
    # graphql-core's executor refers to itself (its resolver helpers are its
    # own bound methods), so every request's executor, and our Context with
    # it, stayed until a GC pass found the cycle.
    await create(tenant, "c0")
    _engine, schema = engine_schema("fast")
    gc.collect()
    gc.disable()
    try:
        context = new_context()
        ended = weakref.ref(context)
        result = await schema.execute(LIST, context_value=context)
        assert result.errors is None and result.data["listImageCredentials"]["count"] == 1
        del context, result
        assert ended() is None
    finally:
        gc.enable()

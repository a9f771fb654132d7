"""A faster path through graphql-core for plain data.

A list of 50 credentials asks for some 250 fields, and nearly all of them just
read an attribute (`edges`, `node`, `label`, `cursor`, `hasNextPage`).
graphql-core runs each through its full machinery: a path, a resolve-info
object, Strawberry's resolver wrapper, value completion.

Here, a field whose whole subtree is plain data is compiled once per document
into a small function that reads and serialises it directly. Plain data means:
every field is one Strawberry marks basic (no resolver, no extensions, no
permissions), has no arguments and no directives; types are scalars, concrete
object types and lists of them; selections are plain fields (no fragments).
Anything else, and any null where the schema forbids one, or any value that
fails to serialise, takes graphql-core's own path, so answers and errors are
exactly what they would have been.

An object's plan is one generated function (`_compile_object`) that reads
each selected field inline and returns the answer as one dict display: a
page of 50 edges completes 100 objects, and a loop calling a function per
field was a tenth of the CPU of a whole list request. The generated text
holds only attribute names from our Strawberry types (checked to be plain
identifiers) and response names as string literals; values stay in the
function's namespace.
"""

from __future__ import annotations

import keyword
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from graphql import (
    FieldNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfoHelpers,
    GraphQLScalarType,
)
from graphql.pyutils import Path, Undefined, gather_with_cancel
from graphql.type.scalars import serialize_id, serialize_string
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

_DEFINITION = "strawberry-definition"
_MAX_PLANS = 4096

Complete = Callable[[Any], Any]

# (parent type name, id of the field's AST node) -> (weak reference to the
# node, plan or None). Plans depend only on the schema and the (cached,
# immutable) document. An entry lives only as long as its node: holding the
# node would keep the whole query text alive, and an uncached document (a
# mutation with a password literal, a long query) must not outlive its request.
_plans: dict[tuple[str, int], tuple[weakref.ref[FieldNode], Complete | None]] = {}


class _NotPlain(Exception):
    """Raised while running a plan: let graphql-core handle this field."""


@dataclass(frozen=True, slots=True)
class _Field:
    """A plain field's plan, and what an object's generated plan may read inline."""

    plan: Complete  # source -> the field's answer
    attribute: str | None = None  # the attribute it reads, if it reads one
    str_leaf: bool = False  # a String or ID: a str value is its own answer
    complete: Complete | None = None  # the value read -> its answer (object fields)


def _field_plan(schema: Any, parent_type: GraphQLObjectType, node: FieldNode) -> Complete | None:
    field = _field(schema, parent_type, node)
    return field.plan if field is not None else None


def _field(schema: Any, parent_type: GraphQLObjectType, node: FieldNode) -> _Field | None:
    field_def = schema.get_field(parent_type, node.name.value)
    definition = field_def.extensions.get(_DEFINITION) if field_def else None
    if (
        definition is None
        or node.arguments
        or node.directives
        or not getattr(field_def.resolve, "_is_default", False)
    ):
        return None
    attribute = definition.python_name
    get = attrgetter(attribute)
    leaf = _leaf_plan(field_def.type, node, get)
    if leaf is not None:
        return _Field(leaf, attribute, str_leaf=_passes_str(field_def.type))
    complete = _type_plan(schema, field_def.type, node)
    if complete is None:
        return None
    return _Field(lambda source: complete(get(source)), attribute, complete=complete)


def _none(nullable: bool) -> None:
    """What a None becomes: null where the schema allows it."""
    if nullable:
        return None
    raise _NotPlain  # graphql-core reports the null where it is not allowed


def _passes_str(type_: GraphQLOutputType) -> bool:
    # String and ID serialise a str to itself: skip the call for the common case.
    named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    serialize = getattr(named, "serialize", None)
    return serialize is serialize_string or serialize is serialize_id


def _leaf_plan(type_: GraphQLOutputType, node: FieldNode, get: Complete) -> Complete | None:
    """A scalar field in one function: most of a page's fields are these."""
    nullable = not isinstance(type_, GraphQLNonNull)
    scalar = type_ if nullable else type_.of_type
    if not isinstance(scalar, GraphQLScalarType) or node.selection_set is not None:
        return None
    serialize = scalar.serialize
    passes_str = _passes_str(type_)

    def leaf(source: Any) -> Any:
        value = get(source)
        if value is None:
            return _none(nullable)
        if passes_str and type(value) is str:
            return value
        return serialize(value)

    return leaf


def _type_plan(schema: Any, type_: GraphQLOutputType, node: FieldNode) -> Complete | None:
    """value -> its answer, null included; each kind checks null itself (one call less)."""
    nullable = not isinstance(type_, GraphQLNonNull)
    named = type_ if nullable else type_.of_type
    if isinstance(named, GraphQLScalarType) and node.selection_set is None:
        serialize = named.serialize
        return lambda value: _none(nullable) if value is None else serialize(value)
    if isinstance(named, GraphQLList):
        item = _type_plan(schema, named.of_type, node)
        if item is None:
            return None
        return lambda values: _none(nullable) if values is None else [item(v) for v in values]
    if isinstance(named, GraphQLObjectType) and node.selection_set is not None:
        fields = _object_fields(schema, named, node)
        if fields is None:
            return None

        return _compile_object(fields, nullable)
    return None  # enums, interfaces, unions: graphql-core's job


def _object_fields(
    schema: Any, type_: GraphQLObjectType, node: FieldNode
) -> list[tuple[str, _Field]] | None:
    fields: list[tuple[str, _Field]] = []
    assert node.selection_set is not None
    for selection in node.selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.directives:
            return None
        key = selection.alias.value if selection.alias else selection.name.value
        if any(k == key for k, _ in fields):
            return None  # merged fields: leave the merging rules to graphql-core
        if selection.name.value == "__typename":
            name = type_.name
            fields.append((key, _Field(lambda _, name=name: name)))
            continue
        field = _field(schema, type_, selection)
        if field is None:
            return None
        fields.append((key, field))
    return fields


def _readable(attribute: str | None) -> bool:
    return attribute is not None and attribute.isidentifier() and not keyword.iskeyword(attribute)


def _compile_object(fields: list[tuple[str, _Field]], nullable: bool) -> Complete:
    """One function for an object's whole selection, e.g. for `{ cursor node { id } }`:

    def complete_object(source):
        if source is None:
            return _none(nullable)
        v0 = source.cursor
        if type(v0) is not str:
            v0 = plan0(source)      # the leaf plan: nulls, other types
        return {'cursor': v0, 'node': complete1(source.node)}
    """
    namespace: dict[str, Any] = {"_none": _none, "nullable": nullable, "str": str, "type": type}
    lines = [
        "def complete_object(source):",
        "    if source is None:",
        "        return _none(nullable)",
    ]
    answers = []
    for i, (key, field) in enumerate(fields):
        namespace[f"plan{i}"] = field.plan
        if field.str_leaf and _readable(field.attribute):
            lines += [
                f"    v{i} = source.{field.attribute}",
                f"    if type(v{i}) is not str:",
                f"        v{i} = plan{i}(source)",
            ]
            answers.append(f"{key!r}: v{i}")
        elif field.complete is not None and _readable(field.attribute):
            namespace[f"complete{i}"] = field.complete
            answers.append(f"{key!r}: complete{i}(source.{field.attribute})")
        else:
            answers.append(f"{key!r}: plan{i}(source)")
    lines.append(f"    return {{{', '.join(answers)}}}")
    exec("\n".join(lines), namespace)  # noqa: S102 - names and literals only, see above
    return namespace["complete_object"]


def plan_for(schema: Any, parent_type: GraphQLObjectType, details: list[Any]) -> Complete | None:
    if len(details) != 1:
        return None
    node = details[0].node
    key = (parent_type.name, id(node))
    cached = _plans.get(key)
    if cached is not None and cached[0]() is node:
        return cached[1]
    plan = _field_plan(schema, parent_type, node)
    if len(_plans) >= _MAX_PLANS:
        _plans.clear()
    _plans[key] = (weakref.ref(node, lambda _, key=key: _plans.pop(key, None)), plan)
    return plan


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # graphql-core hands resolvers two helpers that are bound methods of
        # this context, so the context refers to itself: when a request ends,
        # it, its variables and our Context wait for the cyclic GC instead of
        # going at once. That kept a payload request's collections running at
        # one per two requests, each promoting whatever the request still held.
        # The same helpers through a weak reference: no cycle.
        context = weakref.ref(self)
        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=lambda values: context().gather_async_work(values),  # type: ignore[union-attr]
            track=lambda values: context().track_async_work(values),  # type: ignore[union-attr]
        )

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        is_awaitable = self.is_awaitable
        try:
            for response_name, details in grouped_field_set.items():
                plan = plan_for(self.schema, parent_type, details)
                if plan is not None:
                    try:
                        results[response_name] = plan(source_value)
                        continue
                    except Exception:  # noqa: S110 - the normal path reports it
                        pass
                result = self.execute_field(
                    parent_type,
                    source_value,
                    details,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[f] for f in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._await_fields(results, awaitable_fields)

    async def _await_fields(self, results: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        # As graphql-core does: await every pending field, then fill them in.
        if len(fields) == 1:
            results[fields[0]] = await results[fields[0]]
        else:
            values = await gather_with_cancel(*(results[f] for f in fields))
            results.update(zip(fields, values, strict=True))
        return results

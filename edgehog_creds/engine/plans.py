"""Compiled plans: plain-data fields completed without graphql-core's per-field machinery.

A list of 50 credentials asks for some 250 fields, and nearly all of them just
read an attribute (`edges`, `node`, `label`, `cursor`, `hasNextPage`).
graphql-core runs each through its full machinery: a path, a resolve-info
object, Strawberry's resolver wrapper, value completion.

Here, a field whose whole subtree is plain data is compiled once per document
into a small function that reads and serialises it directly. Plain data means:
every field either has no resolver (Strawberry marks it basic: no extensions,
no permissions) or has a resolver declared `plain` (a pure function of its
parent object, like a Node's global id: see `plain()`); it has no arguments
and no directives; types are scalars, concrete object types and lists of
them; selections are plain fields (no fragments). Anything else, any null
where the schema forbids one, and any value that does not serialise, takes
graphql-core's own path (`NotPlain`), so answers and errors are exactly what
they would have been. When any Strawberry extension resolves fields
(middleware), no plan runs at all.

An object's plan is one generated function (`_compile_object`) that reads each
selected field inline and returns the answer as one dict display: a page of
50 edges completes 100 objects, and a loop calling a function per field was a
tenth of the CPU of a whole list request. The generated text holds only
attribute names from our Strawberry types (checked to be plain identifiers)
and response names as string literals; values stay in the function's namespace.

Plans depend only on the schema and the (cached, immutable) document: they are
kept per field node, for as long as the node lives (a weak reference), and at
most MAX_PLANS of them.
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
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfoHelpers,
    GraphQLScalarType,
    GraphQLSchema,
)
from graphql.pyutils import Path
from graphql.type.scalars import serialize_id, serialize_string

from .events import PerEventExecutionContext

# The graphql-core extension key under which Strawberry keeps a field's definition.
_DEFINITION = "strawberry-definition"
# The metadata key of a plain resolver (see `plain`).
PLAIN = "edgehog_creds.engine.plain"
MAX_PLANS = 4096

Complete = Callable[[Any], Any]


def plain(resolver: Callable[[Any], Any]) -> dict[str, Any]:
    """Field metadata declaring `resolver` a pure function of the parent object.

    `strawberry.field(resolver=f, metadata=plain(f))`: the compiled plans call
    `f(parent)` directly; everywhere else Strawberry calls it as usual.
    """
    return {PLAIN: resolver}


class NotPlain(Exception):
    """Raised while running a plan: let graphql-core complete this field."""


@dataclass(frozen=True, slots=True)
class _Field:
    """A plain field's plan, and what an object's generated plan may inline."""

    plan: Complete  # source -> the field's answer
    attribute: str | None = None  # the attribute it reads, if it reads one
    str_leaf: bool = False  # a String or ID: a str value is its own answer
    complete: Complete | None = None  # the value read -> its answer (object fields)
    plain: Complete | None = None  # the plain resolver it calls, if it calls one


class Plans:
    """Plans by field node, for one schema; bounded, and gone with their nodes."""

    def __init__(self, max_plans: int = MAX_PLANS) -> None:
        self._max = max_plans
        # (parent type name, id of the field's AST node) -> (weak reference to
        # the node, plan or None). Holding the node itself would keep the whole
        # query text alive, and an uncached document (a mutation with a
        # password literal, a long query) must not outlive its request.
        self._plans: dict[tuple[str, int], tuple[weakref.ref[FieldNode], Complete | None]] = {}

    def __len__(self) -> int:
        return len(self._plans)

    def for_field(
        self, schema: GraphQLSchema, parent_type: GraphQLObjectType, details: list[Any]
    ) -> Complete | None:
        """The plan of a field as the executor groups it (None: not plain data)."""
        if len(details) != 1:
            return None  # merged fields: leave the merging rules to graphql-core
        node = details[0].node
        key = (parent_type.name, id(node))
        cached = self._plans.get(key)
        if cached is not None and cached[0]() is node:
            return cached[1]
        plan = _field_plan(schema, parent_type, node)
        if len(self._plans) >= self._max:
            self._plans.clear()
        self._plans[key] = (weakref.ref(node, self._dropper(key)), plan)
        return plan

    def _dropper(self, key: tuple[str, int]) -> Callable[[weakref.ref[FieldNode]], None]:
        """What forgets a plan when its node goes (without keeping this object alive)."""
        plans = self._plans

        def drop(_: weakref.ref[FieldNode]) -> None:
            plans.pop(key, None)

        return drop


def _field_plan(
    schema: GraphQLSchema, parent_type: GraphQLObjectType, node: FieldNode
) -> Complete | None:
    field = _field(schema, parent_type, node)
    return field.plan if field is not None else None


def _field(schema: GraphQLSchema, parent_type: GraphQLObjectType, node: FieldNode) -> _Field | None:
    field_def = parent_type.fields.get(node.name.value)
    definition = field_def.extensions.get(_DEFINITION) if field_def else None
    if field_def is None or definition is None or node.arguments or node.directives:
        return None
    if definition.extensions or definition.permission_classes:
        return None  # Strawberry must run them: permissions, field extensions
    if getattr(field_def.resolve, "_is_default", False):
        attribute: str | None = definition.python_name
        get: Complete = attrgetter(definition.python_name)
    else:
        resolver = definition.metadata.get(PLAIN) if definition.metadata else None
        if resolver is None or definition.arguments:
            return None
        attribute, get = None, resolver
    plain_resolver = get if attribute is None else None
    leaf = _leaf_plan(field_def.type, node, get)
    if leaf is not None:
        return _Field(leaf, attribute, _passes_str(field_def.type), plain=plain_resolver)
    complete = _type_plan(schema, field_def.type, node)
    if complete is None:
        return None
    return _Field(lambda source: complete(get(source)), attribute, complete=complete)


def _none(nullable: bool) -> None:
    """What a None becomes: null where the schema allows it."""
    if nullable:
        return None
    raise NotPlain  # graphql-core reports the null where it is not allowed


def _passes_str(type_: GraphQLOutputType) -> bool:
    # String and ID serialise a str to itself: skip the call for the common case.
    named = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    serialize = getattr(named, "serialize", None)
    return serialize is serialize_string or serialize is serialize_id


def _serializer(scalar: GraphQLScalarType) -> Complete:
    serialize = scalar.serialize

    def checked(value: Any) -> Any:
        try:
            return serialize(value)
        except (GraphQLError, TypeError, ValueError):
            raise NotPlain from None  # graphql-core reports what does not serialise

    return checked


def _leaf_plan(type_: GraphQLOutputType, node: FieldNode, get: Complete) -> Complete | None:
    """A scalar field in one function: most of a page's fields are these."""
    nullable = not isinstance(type_, GraphQLNonNull)
    scalar = type_ if nullable else type_.of_type  # type: ignore[union-attr]
    if not isinstance(scalar, GraphQLScalarType) or node.selection_set is not None:
        return None
    serialize = _serializer(scalar)
    passes_str = _passes_str(type_)

    def leaf(source: Any) -> Any:
        value = get(source)
        if value is None:
            return _none(nullable)
        if passes_str and type(value) is str:
            return value
        return serialize(value)

    return leaf


def _type_plan(schema: GraphQLSchema, type_: GraphQLOutputType, node: FieldNode) -> Complete | None:
    """value -> its answer, null included; each kind checks null itself (one call less)."""
    nullable = not isinstance(type_, GraphQLNonNull)
    named = type_ if nullable else type_.of_type  # type: ignore[union-attr]
    if isinstance(named, GraphQLScalarType) and node.selection_set is None:
        serialize = _serializer(named)
        return lambda value: _none(nullable) if value is None else serialize(value)
    if isinstance(named, GraphQLList):
        item = _type_plan(schema, named.of_type, node)
        if item is None:
            return None
        return _list_plan(item, nullable)
    if isinstance(named, GraphQLObjectType) and node.selection_set is not None:
        fields = _object_fields(schema, named, node)
        if fields is None:
            return None
        return _compile_object(fields, nullable, named.is_type_of)
    return None  # enums, interfaces, unions: graphql-core's job


def _list_plan(item: Complete, nullable: bool) -> Complete:
    def complete_list(values: Any) -> Any:
        if values is None:
            return _none(nullable)
        if type(values) is not list and type(values) is not tuple:
            raise NotPlain  # any other iterable, or none: graphql-core decides
        return [item(v) for v in values]

    return complete_list


def _object_fields(
    schema: GraphQLSchema, type_: GraphQLObjectType, node: FieldNode
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
            fields.append((key, _Field(_constant(type_.name))))
            continue
        field = _field(schema, type_, selection)
        if field is None:
            return None
        fields.append((key, field))
    return fields


def _constant(value: str) -> Complete:
    def answer(_source: Any) -> str:
        return value

    return answer


def _readable(attribute: str | None) -> bool:
    return attribute is not None and attribute.isidentifier() and not keyword.iskeyword(attribute)


def _compile_object(
    fields: list[tuple[str, _Field]], nullable: bool, is_type_of: Callable[..., Any] | None
) -> Complete:
    """One function for an object's whole selection, e.g. for `{ cursor node { id } }`:

    def complete_object(source):
        if source is None:
            return _none(nullable)
        if is_type_of is not None and not is_type_of(source, None):
            raise NotPlain          # graphql-core says what it expected
        v0 = source.cursor
        if type(v0) is not str:
            v0 = plan0(source)      # the leaf plan: nulls, other types
        return {'cursor': v0, 'node': complete1(source.node)}
    """
    namespace: dict[str, Any] = {
        "_none": _none,
        "nullable": nullable,
        "str": str,
        "type": type,
        "is_type_of": is_type_of,
        "NotPlain": NotPlain,
    }
    lines = [
        "def complete_object(source):",
        "    if source is None:",
        "        return _none(nullable)",
    ]
    if is_type_of is not None:
        # Our types' is_type_of reads only the object (no resolve info exists here).
        lines += ["    if not is_type_of(source, None):", "        raise NotPlain"]
    answers = []
    for i, (key, field) in enumerate(fields):
        namespace[f"plan{i}"] = field.plan
        if field.str_leaf and (_readable(field.attribute) or field.plain is not None):
            if field.plain is not None:
                namespace[f"plain{i}"] = field.plain
                read = f"plain{i}(source)"
            else:
                read = f"source.{field.attribute}"
            lines += [
                f"    v{i} = {read}",
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
    exec("\n".join(lines), namespace)  # noqa: S102 - identifiers and literals only, see above
    compiled: Complete = namespace["complete_object"]
    return compiled


class PlannedExecutionContext(PerEventExecutionContext):
    """Strawberry's graphql-core executor, with plain-data fields run by their plans.

    Built per request by graphql-core (`execute(..., executor_class=...)`,
    which Strawberry passes on as its `execution_context_class`); each engine
    makes its own subclass holding its own Plans (`with_plans`).
    """

    plans: Plans | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # graphql-core hands resolvers two helpers that are bound methods of
        # this executor, so the executor refers to itself: when a request
        # ends, it, its variables and our Context wait for the cyclic GC
        # instead of going at once. The same helpers through a weak reference:
        # no cycle.
        executor = weakref.ref(self)
        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=lambda values: executor().gather_async_work(values),  # type: ignore[union-attr]
            track=lambda values: executor().track_async_work(values),  # type: ignore[union-attr]
        )
        middleware = self.middleware_manager
        # A Strawberry extension that resolves fields must see every field.
        self._plans = None if middleware and middleware.middlewares else self.plans

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        if self._plans is not None:
            plan = self._plans.for_field(self.schema, parent_type, field_details_list)
            if plan is not None:
                try:
                    return plan(source)
                except (NotPlain, AttributeError):
                    pass  # graphql-core completes it, and reports what it must
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )


def with_plans(plans: Plans) -> type[PlannedExecutionContext]:
    """The executor class of one engine: it runs the plans it holds."""
    return type("PlannedExecutionContext", (PlannedExecutionContext,), {"plans": plans})

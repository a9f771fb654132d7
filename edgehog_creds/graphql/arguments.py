"""Argument values, remembered: graphql-core's coercion and Strawberry's conversion.

Before every resolver call Strawberry turns graphql-core's coerced arguments
into input-type instances (`convert_arguments`). It resolves the arguments'
type annotations again on every call, so a `sort` of one key costs about
170 µs here, as much as all the other field work of a 50-row list page.
Clients send the same few argument values over and over, so for queries the
result is kept per (field, argument values) and each call gets its own copy
of it: a resolver that changes an input it was given changes only its own.

Mutations are never remembered: their inputs carry passwords, which must not
outlive the request. Values that cannot be used as a key (none in our schema)
are converted every time.

Before that, graphql-core coerces the argument literals of the document
(`first: 50, sort: [{field: LABEL, order: ASC}]`) again on every request.
When a field's arguments hold no variable, that result depends only on the
field's definition and its node in the (cached, immutable) document, so
`get_argument_values` keeps it for as long as the node lives, as
execution.py keeps its plans. A mutation with a literal password is never
cached by executor.py, so its node, and the entry with it, goes when its
request ends. Each call gets a new dict; the values inside are graphql-core's
plain lists and dicts, which Strawberry's conversion only reads.

Installed by replacing the name `convert_arguments` in Strawberry's schema
converter and `get_argument_values` in graphql-core's executor, the one place
each is called for fields; tests/test_arguments.py fails if an upgrade moves
either call elsewhere.
"""

from __future__ import annotations

import enum
import uuid
import weakref
from typing import Any

from graphql import (
    FieldNode,
    ListValueNode,
    ObjectValueNode,
    OperationType,
    ValueNode,
    VariableNode,
)
from graphql.execution import executor as graphql_executor
from graphql.execution.values import get_argument_values as graphql_get_argument_values
from strawberry.schema import schema_converter
from strawberry.types.arguments import convert_arguments as strawberry_convert_arguments

_MAX_ENTRIES = 4096
_SCALARS = (str, int, float, bool, enum.Enum, uuid.UUID, type(None))

# (id of the field's argument list, frozen values) -> (that list, converted kwargs)
_converted: dict[tuple[int, Any], tuple[list[Any], dict[str, Any]]] = {}


class _NoKey(Exception):
    pass


def _freeze(value: Any) -> Any:
    # The type goes into the key: 1, 1.0 and True are equal and hash alike,
    # but convert differently.
    if isinstance(value, _SCALARS):
        return (type(value), value)
    if isinstance(value, dict):
        return (dict, tuple((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return (list, tuple(_freeze(v) for v in value))
    raise _NoKey


def _copy(value: Any) -> Any:
    """A copy of converted arguments: new lists, dicts and input objects; shared scalars."""
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__") and hasattr(value, "__dict__"):
        copied = object.__new__(type(value))
        copied.__dict__.update({k: _copy(v) for k, v in value.__dict__.items()})
        return copied
    return value


def convert_arguments(
    value: dict[str, Any],
    arguments: list[Any],
    scalar_registry: Any,
    config: Any,
    info: Any = None,
) -> dict[str, Any]:
    if not arguments or info is None or info.operation.operation is not OperationType.QUERY:
        return strawberry_convert_arguments(value, arguments, scalar_registry, config, info)
    try:
        key = (id(arguments), _freeze(value))
    except _NoKey:
        return strawberry_convert_arguments(value, arguments, scalar_registry, config, info)
    held = _converted.get(key)
    if held is None or held[0] is not arguments:
        converted = strawberry_convert_arguments(value, arguments, scalar_registry, config, info)
        if len(_converted) >= _MAX_ENTRIES:
            _converted.clear()
        _converted[key] = (arguments, converted)
        return _copy(converted)
    return _copy(held[1])


# (id of the field definition, id of the field node) -> (weak reference to the
# node, coerced values, or None when they come from variables)
_coerced: dict[tuple[int, int], tuple[weakref.ref[FieldNode], dict[str, Any] | None]] = {}


def _holds_variable(value: ValueNode) -> bool:
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_holds_variable(v) for v in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_holds_variable(f.value) for f in value.fields)
    return False


def get_argument_values(
    type_def: Any,
    node: Any,
    variable_values: Any = None,
    fragment_variable_values: Any = None,
    hide_suggestions: bool = False,
) -> dict[str, Any]:
    def coerce() -> dict[str, Any]:
        return graphql_get_argument_values(
            type_def, node, variable_values, fragment_variable_values, hide_suggestions
        )

    if fragment_variable_values is not None or not isinstance(node, FieldNode):
        return coerce()
    key = (id(type_def), id(node))
    held = _coerced.get(key)
    if held is None or held[0]() is not node:
        arguments = node.arguments or ()  # None when the field is given none
        values = None if any(_holds_variable(a.value) for a in arguments) else coerce()
        if len(_coerced) >= _MAX_ENTRIES:
            _coerced.clear()
        _coerced[key] = (weakref.ref(node, lambda _, key=key: _coerced.pop(key, None)), values)
        held = _coerced[key]
    return coerce() if held[1] is None else dict(held[1])


def install() -> None:
    schema_converter.convert_arguments = convert_arguments  # type: ignore[assignment]
    graphql_executor.get_argument_values = get_argument_values  # type: ignore[assignment]

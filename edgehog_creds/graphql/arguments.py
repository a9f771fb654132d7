"""Strawberry's argument conversion, remembered for queries.

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

Installed by replacing the name `convert_arguments` in Strawberry's schema
converter, the one place that calls it for resolvers; tests/test_arguments.py
fails if an upgrade of Strawberry moves that call elsewhere.
"""

from __future__ import annotations

import enum
import uuid
from typing import Any

from graphql import OperationType
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


def install() -> None:
    schema_converter.convert_arguments = convert_arguments  # type: ignore[assignment]

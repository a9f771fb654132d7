"""Scalars named as Edgehog names them."""

from __future__ import annotations

import json
from typing import NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

# Annotate fields with `Json`; the schema maps it to the scalar below.
Json = NewType("Json", object)

JSON_SCALAR = strawberry.scalar(
    name="Json",
    description="Arbitrary JSON.",
    serialize=lambda v: v,
    parse_value=lambda v: v,
)

SCALAR_MAP: dict[object, ScalarDefinition] = {Json: JSON_SCALAR}

# GraphQL's Int is 32-bit; Docker's limits (memory in bytes, CPU periods in
# microseconds) are 64-bit. Edgehog sends them as plain JSON numbers in `Int`
# fields (Absinthe's Int is not range-limited), so BigInt is a JSON number on
# the wire too: an Edgehog client reads and writes the same JSON. Values above
# 2^53 lose precision in JavaScript, but no real limit comes near that.
BigInt = NewType("BigInt", int)

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def _parse_bigint(value: object) -> int:
    # JSON has one number type: 1.0 is an integer, 1.5 and true are not.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("BigInt must be an integer")
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError("BigInt must fit in 64 bits")
    return value


BIGINT_SCALAR = strawberry.scalar(
    name="BigInt",
    description="A signed 64-bit integer, as a JSON number.",
    serialize=int,
    parse_value=_parse_bigint,
)

SCALAR_MAP[BigInt] = BIGINT_SCALAR

# Edgehog's JsonString: JSON carried as a string ("{\"size\": \"1G\"}"), as
# its UI writes volume and network options. Parsed on the way in (a value
# that is not a string of JSON is refused), printed compactly on the way out.
JsonString = NewType("JsonString", object)


def _parse_json_string(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("JsonString must be a string of JSON")
    try:
        return json.loads(value)
    except ValueError:
        raise ValueError("JsonString must be a string of JSON") from None


def _serialize_json_string(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


JSON_STRING_SCALAR = strawberry.scalar(
    name="JsonString",
    description="JSON, as a string.",
    serialize=_serialize_json_string,
    parse_value=_parse_json_string,
)

SCALAR_MAP[JsonString] = JSON_STRING_SCALAR

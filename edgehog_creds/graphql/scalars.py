"""Scalars named as Edgehog names them."""

from __future__ import annotations

from typing import Any, NewType

import strawberry

Json = strawberry.scalar(
    NewType("Json", object),
    name="Json",
    description="Arbitrary JSON.",
    serialize=lambda v: v,
    parse_value=lambda v: v,
)

JsonValue = Any

"""Scalars named as Edgehog names them."""

from __future__ import annotations

from typing import NewType

import strawberry

# Annotate fields with `Json`; the schema maps it to the scalar below.
Json = NewType("Json", object)

JSON_SCALAR = strawberry.scalar(
    name="Json",
    description="Arbitrary JSON.",
    serialize=lambda v: v,
    parse_value=lambda v: v,
)

SCALAR_MAP = {Json: JSON_SCALAR}

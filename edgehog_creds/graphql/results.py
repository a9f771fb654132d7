"""The result/errors shape every mutation returns (as Edgehog's Ash API)."""

from __future__ import annotations

import strawberry

from .scalars import Json


@strawberry.type
class MutationError:
    message: str | None = None
    short_message: str | None = None
    vars: Json | None = None
    code: str | None = None
    fields: list[str] | None = None

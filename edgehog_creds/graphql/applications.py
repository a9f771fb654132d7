"""(stub: being written) applications types, queries and mutations."""

from __future__ import annotations

import strawberry

NODE_LOADERS: dict = {}


@strawberry.type
class ApplicationsQueries:
    pass


@strawberry.type
class ApplicationsMutations:
    pass

"""(stub: being written) devices types, queries and mutations."""

from __future__ import annotations

import strawberry

NODE_LOADERS: dict = {}


@strawberry.type
class DevicesQueries:
    pass


@strawberry.type
class DevicesMutations:
    pass

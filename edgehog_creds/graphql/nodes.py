"""Every Node type and how to load one by its uuid: for `node(id:)` and live updates."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from ..applications import graphql as applications
from ..audit import graphql as audit
from ..containers import graphql as containers
from ..credentials import graphql as credentials
from ..deployments import graphql as deployments
from ..devices import graphql as devices
from ..networks import graphql as networks
from ..systemmodels import graphql as systemmodels
from ..volumes import graphql as volumes
from .context import Context

# Every Node type: how to load one by its uuid for `node(id:)`.
NODE_LOADERS: dict[str, Callable[[Context, uuid.UUID], Awaitable[Any]]] = {
    **credentials.NODE_LOADERS,
    **applications.NODE_LOADERS,
    **containers.NODE_LOADERS,
    **devices.NODE_LOADERS,
    **systemmodels.NODE_LOADERS,
    **deployments.NODE_LOADERS,
    **audit.NODE_LOADERS,
    **volumes.NODE_LOADERS,
    **networks.NODE_LOADERS,
}

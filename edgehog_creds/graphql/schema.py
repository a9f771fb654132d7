"""The schema: Edgehog's root type names, the Node lookup, error handling."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from ..errors import InvalidPrimaryKey
from . import applications, arguments, audit, devices, image_credentials
from .context import Context
from .execution import ExecutionContext
from .relay import Node, parse_global_id
from .scalars import SCALAR_MAP

# Every Node type: how to load one by its uuid for `node(id:)`.
NODE_LOADERS: dict[str, Callable[[Context, uuid.UUID], Awaitable[Any]]] = {
    **image_credentials.NODE_LOADERS,
    **applications.NODE_LOADERS,
    **devices.NODE_LOADERS,
    **audit.NODE_LOADERS,
}


@strawberry.type
class RootQueryType(
    image_credentials.ImageCredentialsQueries,
    applications.ApplicationsQueries,
    devices.DevicesQueries,
    audit.AuditQueries,
):
    @strawberry.field(description="Any object by its global id; null when absent.")
    async def node(self, info: Info[Context, None], id: strawberry.ID) -> Node | None:
        ctx = info.context
        ctx.require_user()
        parsed = parse_global_id(id)
        if parsed is None or parsed[0] not in NODE_LOADERS:
            raise InvalidPrimaryKey("id")
        return await NODE_LOADERS[parsed[0]](ctx, parsed[1])


@strawberry.type
class RootMutationType(
    image_credentials.ImageCredentialsMutations,
    applications.ApplicationsMutations,
    devices.DevicesMutations,
):
    pass


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Strawberry would log every error with its message, and graphql-core's
        # messages can quote a password. graphql/errors.py logs what is safe.
        return None


def build_schema() -> Schema:
    arguments.install()
    return Schema(
        query=RootQueryType,
        mutation=RootMutationType,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        # Requests run through executor.py, which caches parsed and validated
        # documents; this serves Schema.execute (tests) the same way.
        execution_context_class=ExecutionContext,
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"

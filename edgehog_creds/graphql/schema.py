"""The schema: Edgehog's root type names, every aggregate's fields, the Node lookup.

`build_schema(engine)` assembles the root types from each aggregate's
GraphQL module; the engine (engine/) decides how documents are executed.
"""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import DocumentNode, FieldNode, GraphQLError, OperationDefinitionNode
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from ..applications import graphql as applications
from ..audit import graphql as audit
from ..containers import graphql as containers
from ..credentials import graphql as credentials
from ..deployments import graphql as deployments
from ..deployments import graphql_device as device_protocol
from ..devices import graphql as devices
from ..domain.errors import InvalidPrimaryKey
from ..domain.principal import Device
from ..engine import Engine
from ..networks import graphql as networks
from ..systemmodels import graphql as systemmodels
from ..tenants import graphql as tenants
from ..volumes import graphql as volumes
from .context import Context
from .limits import QueryLimits
from .nodes import NODE_LOADERS
from .relay import Node, parse_global_id
from .scalars import SCALAR_MAP
from .subscriptions import RootSubscriptionType


async def _node(info: Info[Context, None], id: strawberry.ID) -> Any:
    ctx = info.context
    ctx.user()
    parsed = parse_global_id(id)
    if parsed is None or parsed[0] not in NODE_LOADERS:
        raise InvalidPrimaryKey("id")
    return await NODE_LOADERS[parsed[0]](ctx, parsed[1])


@strawberry.type
class RootQueryType(
    tenants.TenantQueries,
    credentials.ImageCredentialsQueries,
    applications.ApplicationsQueries,
    containers.ContainersQueries,
    devices.DevicesQueries,
    systemmodels.SystemModelsQueries,
    deployments.DeploymentsQueries,
    device_protocol.DeviceQueries,
    audit.AuditQueries,
    volumes.VolumesQueries,
    networks.NetworksQueries,
):
    node: Node | None = strawberry.field(
        resolver=_node,
        graphql_type=Node | None,
        description="Any object by its global id; null when absent.",
    )


@strawberry.type
class RootMutationType(
    credentials.ImageCredentialsMutations,
    applications.ApplicationsMutations,
    containers.ContainersMutations,
    devices.DevicesMutations,
    systemmodels.SystemModelsMutations,
    deployments.DeploymentsMutations,
    device_protocol.DeviceMutations,
    volumes.VolumesMutations,
    networks.NetworksMutations,
):
    pass


class Schema(strawberry.Schema):
    """Strawberry's schema, with the engine that runs its requests (engine/)."""

    engine: Engine

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Strawberry would log every error with its message, and graphql-core's
        # messages can quote a password. graphql/errors.py logs what is safe.
        return None


# What a device may run: its payload (and __typename). Anything else is
# refused at run time, so its documents are not worth keeping.
DEVICE_FIELDS = frozenset({"devicePayload", "deviceMessages", "reportDeviceMessages", "__typename"})


def may_keep(context: Any, document: DocumentNode) -> bool:
    """Whether the fast engine may keep `document` for this request's principal."""
    if not isinstance(getattr(context, "principal", None), Device):
        return True
    return all(
        isinstance(d, OperationDefinitionNode)
        and all(
            isinstance(s, FieldNode) and s.name.value in DEVICE_FIELDS
            for s in d.selection_set.selections
        )
        for d in document.definitions
    )


def build_schema(engine: Engine | None = None, limits: QueryLimits | None = None) -> Schema:
    """The schema, run by `engine`, refusing documents beyond `limits` (limits.py)."""
    engine = engine or Engine.named("strawberry")
    options = engine.schema_options()
    options["extensions"] = [*options["extensions"], *(limits or QueryLimits()).extensions()]
    schema = Schema(
        query=RootQueryType,
        mutation=RootMutationType,
        subscription=RootSubscriptionType,
        types=[
            credentials.ImageCredentials,
            containers.Container,
            containers.Image,
            deployments.CredentialDelivery,
            audit.AuditEvent,
            volumes.Volume,
            networks.Network,
        ],
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        **options,
    )
    schema.engine = engine
    engine.prepare(schema)
    return schema


def export_sdl() -> str:
    return build_schema().as_str() + "\n"

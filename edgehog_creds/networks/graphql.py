"""Network in Edgehog's dialect: the type, its list, create and delete.

The GraphQL type is a view of the domain object (networks/model.py).
`options` is Edgehog's JsonString: JSON text in, JSON text out.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from ..graphql.context import Context
from ..graphql.fields import list_field, node_field
from ..graphql.listing import Id, Listing, Text
from ..graphql.loaders import load_by_id
from ..graphql.relay import Connection, Node, from_global_id, global_id_field, view_of
from ..graphql.results import mutation_field, mutation_result
from ..graphql.scalars import JsonString
from . import model
from .service import NetworksService

TYPE = model.ENTITY

# No LABEL sort: a label may be null, and keyset cursors need non-null
# values. No internal/enableIpv6 filters or sorts yet: the shared listing has
# no boolean kind.
LISTING = Listing(
    TYPE,
    filters={"id": Id("id", TYPE), "label": Text("label"), "driver": Text("driver")},
    sorts=["id", "driver", "inserted_at"],
)


def service(ctx: Context) -> NetworksService:
    return NetworksService(ctx.db, ctx.user())


# Networks by id, batched with every other look-up of the request.
load = load_by_id(TYPE, lambda ctx: service(ctx).get_many)


@strawberry.type(description="A Docker network that containers join. Immutable once created.")
class Network(Node):
    id: strawberry.ID = global_id_field(TYPE)
    label: str | None
    driver: str = strawberry.field(description="The Docker network driver, bridge by default.")
    internal: bool = strawberry.field(description="No access to outside networks.")
    enable_ipv6: bool
    options: JsonString = strawberry.field(
        description="The driver's options (Docker's Options): an object of strings."
    )
    inserted_at: datetime

    is_type_of = view_of(model.Network)


@strawberry.input
class CreateNetworkInput:
    label: str | None = None
    driver: str | None = None
    internal: bool | None = None
    enable_ipv6: bool | None = None
    options: JsonString | None = None


CreateNetworkResult = mutation_result(
    "CreateNetworkResult", Network, "The result of the :create_network mutation"
)
DeleteNetworkResult = mutation_result("DeleteNetworkResult", Network)


async def _create(info: Info[Context, None], input: CreateNetworkInput | None = None) -> Any:
    networks = service(info.context)  # a device token is refused before the input is read
    given = input or CreateNetworkInput()
    created = await networks.create(
        label=given.label,
        driver=given.driver,
        internal=given.internal,
        enable_ipv6=given.enable_ipv6,
        options=given.options,
    )
    return CreateNetworkResult(result=created)


async def _delete(info: Info[Context, None], id: strawberry.ID) -> Any:
    deleted = await service(info.context).delete(from_global_id(id, TYPE))
    return DeleteNetworkResult(result=deleted)


@strawberry.type
class NetworksQueries:
    network: Network | None = node_field(
        TYPE, Network, load, description="Returns the desired network."
    )
    networks: Connection[Network] | None = list_field(
        Network,
        lambda ctx, query, request: service(ctx).list_networks(query, request),
        listing=LISTING,
        description="Returns all available networks.",
    )


@strawberry.type
class NetworksMutations:
    create_network: Any = mutation_field(_create, CreateNetworkResult, "Create a new network.")
    delete_network: Any = mutation_field(
        _delete,
        DeleteNetworkResult,
        "Delete a network if not used by any container.",
    )


NODE_LOADERS = {TYPE: load}

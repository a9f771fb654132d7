"""Volume in Edgehog's dialect: the type, its list, create and delete.

The GraphQL type is a view of the domain object (volumes/model.py).
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
from .service import VolumesService

TYPE = model.ENTITY

LISTING = Listing(
    TYPE,
    filters={"id": Id("id", TYPE), "label": Text("label"), "driver": Text("driver")},
    sorts=["id", "label", "driver", "inserted_at"],
)


def service(ctx: Context) -> VolumesService:
    return VolumesService(ctx.db, ctx.user())


# Volumes by id, batched with every other look-up of the request.
load = load_by_id(TYPE, lambda ctx: service(ctx).get_many)


@strawberry.type(description="A Docker volume that containers mount. Immutable once created.")
class Volume(Node):
    id: strawberry.ID = global_id_field(TYPE)
    label: str
    driver: str = strawberry.field(description="The Docker volume driver, local by default.")
    options: JsonString = strawberry.field(
        description="The driver's options (Docker's DriverOpts): an object of strings."
    )
    inserted_at: datetime

    is_type_of = view_of(model.Volume)


@strawberry.input
class CreateVolumeInput:
    label: str
    driver: str | None = None
    options: JsonString | None = None


CreateVolumeResult = mutation_result(
    "CreateVolumeResult", Volume, "The result of the :create_volume mutation"
)
DeleteVolumeResult = mutation_result("DeleteVolumeResult", Volume)


async def _create(info: Info[Context, None], input: CreateVolumeInput) -> Any:
    created = await service(info.context).create(
        label=input.label, driver=input.driver, options=input.options
    )
    return CreateVolumeResult(result=created)


async def _delete(info: Info[Context, None], id: strawberry.ID) -> Any:
    deleted = await service(info.context).delete(from_global_id(id, TYPE))
    return DeleteVolumeResult(result=deleted)


@strawberry.type
class VolumesQueries:
    volume: Volume | None = node_field(
        TYPE, Volume, load, description="Returns the desired volume."
    )
    volumes: Connection[Volume] | None = list_field(
        Volume,
        lambda ctx, query, request: service(ctx).list_volumes(query, request),
        listing=LISTING,
        description="Returns all available volumes.",
    )


@strawberry.type
class VolumesMutations:
    create_volume: Any = mutation_field(_create, CreateVolumeResult, "Create a new volume.")
    delete_volume: Any = mutation_field(
        _delete,
        DeleteVolumeResult,
        "Delete a volume if not used by any container.",
    )


NODE_LOADERS = {TYPE: load}

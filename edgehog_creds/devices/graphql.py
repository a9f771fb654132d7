"""Devices in Edgehog's dialect: the type, its list, create (with the token, once) and delete."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from ..deployments.service import DeploymentsService
from ..domain.listing import ListQuery, Page, PageRequest
from ..domain.secret import Secret
from ..graphql.context import Context
from ..graphql.fields import connection_field, list_field, node_field
from ..graphql.listing import Id, Listing, Text
from ..graphql.loaders import load_by_id
from ..graphql.relay import Connection, Node, from_global_id, global_id_field, view_of
from ..graphql.results import MutationError, mutation_field, mutation_result
from . import model
from .service import DevicesService

if TYPE_CHECKING:
    from ..deployments.graphql import Deployment

TYPE = model.ENTITY

LISTING = Listing(
    TYPE,
    filters={"id": Id("id", TYPE), "device_id": Text("device_id"), "name": Text("name")},
    sorts=["id", "device_id", "name", "inserted_at"],
)


def service(ctx: Context) -> DevicesService:
    return DevicesService(ctx.db, ctx.user())


load = load_by_id(TYPE, lambda ctx: service(ctx).get_many)


async def _deployments_of(
    ctx: Context, ids: Sequence[uuid.UUID], _query: ListQuery, request: PageRequest
) -> list[Page[Any]]:
    return await DeploymentsService(ctx.db, ctx.user()).of_devices(ids, request)


@strawberry.type(description="A device that runs releases; it reads payloads with its own token.")
class Device(Node):
    id: strawberry.ID = global_id_field(TYPE)
    device_id: str = strawberry.field(description="The device's own identifier, unique per tenant.")
    name: str
    inserted_at: datetime
    deployments: (
        Connection[Annotated[Deployment, strawberry.lazy("edgehog_creds.deployments.graphql")]]
        | None
    ) = connection_field(
        Annotated["Deployment", strawberry.lazy("edgehog_creds.deployments.graphql")],
        _deployments_of,
        name="Device.deployments",
        description="Releases deployed to this device, oldest first.",
    )

    is_type_of = view_of(model.Device)


@strawberry.input
class CreateDeviceInput:
    device_id: str
    name: str


def _device_token(root: strawberry.Parent[CreateDeviceResult]) -> str | None:
    return root._token.reveal() if root._token is not None else None


@strawberry.type
class CreateDeviceResult:
    result: model.Device | None = strawberry.field(graphql_type=Device | None)
    errors: list[MutationError]
    _token: strawberry.Private[Secret | None] = None
    device_token: str | None = strawberry.field(
        resolver=_device_token,
        description="The device's bearer token. Returned this once: only its hash is stored.",
    )


DeleteDeviceResult = mutation_result("DeleteDeviceResult", Device)


async def _create(info: Info[Context, None], input: CreateDeviceInput) -> CreateDeviceResult:
    device, token = await service(info.context).create(device_id=input.device_id, name=input.name)
    return CreateDeviceResult(result=device, errors=[], _token=token)


async def _delete(info: Info[Context, None], id: strawberry.ID) -> Any:
    deleted = await service(info.context).delete(from_global_id(id, TYPE))
    return DeleteDeviceResult(result=deleted)


@strawberry.type
class DevicesQueries:
    device: Device | None = node_field(
        TYPE, Device, load, description="One device, or null when absent."
    )
    list_devices: Connection[Device] | None = list_field(
        Device,
        lambda ctx, query, request: service(ctx).list_devices(query, request),
        listing=LISTING,
        description="Devices of this tenant, keyset-paginated.",
    )


@strawberry.type
class DevicesMutations:
    create_device: Any = mutation_field(
        _create,
        CreateDeviceResult,
        "Register a device. Its token is in this result only.",
    )
    delete_device: Any = mutation_field(
        _delete,
        DeleteDeviceResult,
        "Forget a device: its token stops working and its deployments go. "
        "To replace a lost token, delete the device and create it again.",
    )


NODE_LOADERS = {TYPE: load}

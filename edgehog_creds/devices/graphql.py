"""Devices in Edgehog's dialect: `devices`, `device(id:)`, tags, and the mutations of its pages.

The Device type carries what Edgehog's device list and device page read:
presence (`online`, `lastConnection`, `lastDisconnection`, from the device's
own requests: store.py), `capabilities` (from the interfaces it declared:
graphql_protocol.py), its `systemModel`, `tags` and `applicationDeployments`.
What Edgehog reads from Astarte answers null or empty (graphql_astarte.py).
`createDevice` returns the device's token, once; nothing else ever does.

Relations are read through per-request loaders, so a list of N devices with
their system models, hardware types, tags and capabilities costs a fixed
number of queries.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from ..deployments.service import DeploymentsService
from ..domain.errors import Collector
from ..domain.listing import ListQuery, Page, PageRequest
from ..domain.secret import Secret
from ..graphql.context import Context
from ..graphql.fields import connection_field, list_field, node_field, relation_field
from ..graphql.listing import Id, Listing, Relation, Text
from ..graphql.loaders import by_id, load_by_id
from ..graphql.relay import Connection, Node, from_global_id, global_id_field, view_of
from ..graphql.results import MutationError, mutation_field, mutation_result
from ..systemmodels.graphql import SYSTEM_MODELS, SystemModel, load_system_model, non_null
from ..systemmodels.model import SYSTEM_MODEL
from . import model
from .graphql_astarte import (
    AstarteFields,
    AstarteQueries,
    RequestForwarderSessionInput,
    SetDeviceLedBehaviorInput,
    no_astarte,
)
from .graphql_protocol import DeviceCapability, DeviceProtocolMutations
from .model import TAG
from .service import DevicesService, capabilities_of

if TYPE_CHECKING:
    from ..deployments.graphql import Deployment

TYPE = model.ENTITY

LISTING = Listing(
    TYPE,
    filters={
        "id": Id("id", TYPE),
        "device_id": Text("device_id", "The device's own identifier."),
        "name": Text("name", "The display name of the device."),
        "system_model": Relation("system_model", SYSTEM_MODELS, "The system model of the device."),
    },
    sorts=["id", "device_id", "name", "inserted_at"],
)
TAGS = Listing(TAG, filters={"id": Id("id", TAG), "name": Text("name")}, sorts=["id", "name"])


def service(ctx: Context) -> DevicesService:
    return DevicesService(ctx.db, ctx.user())


load = load_by_id(TYPE, lambda ctx: service(ctx).get_many)


async def _deployments_of(
    ctx: Context, ids: Sequence[uuid.UUID], _query: ListQuery, request: PageRequest
) -> list[Page[Any]]:
    return await DeploymentsService(ctx.db, ctx.user()).of_devices(ids, request)


async def _tags_of(
    ctx: Context, ids: Sequence[uuid.UUID], query: ListQuery, request: PageRequest
) -> list[Page[Any]]:
    return await service(ctx).tags_of(ids, query, request)


async def _system_model_of(root: strawberry.Parent[model.Device], info: Info[Context, None]) -> Any:
    if root.system_model_id is None:
        return None
    return await load_system_model(info.context, root.system_model_id)


async def _capabilities(
    root: strawberry.Parent[model.Device], info: Info[Context, None]
) -> list[DeviceCapability]:
    found = None
    if root.introspection_reported_at is not None:
        ctx = info.context
        interfaces = by_id(ctx, "Device.interfaces", service(ctx).interfaces_of)
        found = await interfaces.load(root.id)
    return [DeviceCapability(c) for c in capabilities_of(root, found)]


_DEPLOYMENT = Annotated["Deployment", strawberry.lazy("edgehog_creds.deployments.graphql")]


@strawberry.type(
    description="A device that runs releases; it reads its payloads with its own token. "
    "Fields Edgehog reads from Astarte answer null or empty here."
)
class Device(AstarteFields, Node):
    id: strawberry.ID = global_id_field(TYPE)
    device_id: str = strawberry.field(description="The device's own identifier, unique per tenant.")
    name: str = strawberry.field(description="The display name of the device.")
    inserted_at: datetime
    online: bool = strawberry.field(
        description="Whether the device made a request within the online window "
        "(EDGEHOG_CREDS_DEVICE_ONLINE_SECONDS)."
    )
    last_connection: datetime | None = strawberry.field(
        description="When the current (or last) streak of the device's requests began."
    )
    last_disconnection: datetime | None = strawberry.field(
        description="When the streak before the current one ended (the last request of it "
        "plus the window); offline, when the last one ended. Null if none ended."
    )
    capabilities: list[DeviceCapability] = relation_field(
        _capabilities,
        list[DeviceCapability],
        description="What the device can do, from the interfaces it declared "
        "(reportIntrospection); empty until it declares them.",
    )
    system_model: SystemModel | None = relation_field(
        _system_model_of, SystemModel | None, description="The system model of the device."
    )
    tags: Connection[Tag] = non_null(
        connection_field(
            Annotated["Tag", strawberry.lazy("edgehog_creds.devices.graphql")],
            _tags_of,
            name="Device.tags",
            listing=TAGS,
            description="The tags of the device, by name.",
        )
    )
    application_deployments: Connection[Deployment] = non_null(
        connection_field(
            _DEPLOYMENT,
            _deployments_of,
            name="Device.applicationDeployments",
            description="Releases deployed to this device, oldest first.",
        )
    )
    deployments: Connection[Deployment] | None = connection_field(
        _DEPLOYMENT,
        _deployments_of,
        name="Device.deployments",
        description="The same as applicationDeployments (this service's earlier name).",
    )

    is_type_of = view_of(model.Device)


@strawberry.type(description="A Tag that can be applied to a resource.")
class Tag:
    id: strawberry.ID = global_id_field(TAG)
    name: str

    is_type_of = view_of(model.Tag, model.DeviceTag)


# --- mutations ------------------------------------------------------------------------------


@strawberry.input
class CreateDeviceInput:
    device_id: str
    name: str
    system_model_id: strawberry.ID | None = strawberry.field(
        default=None, description="The system model of the device, if any."
    )
    tags: list[str] | None = strawberry.field(
        default=None, description="Tags to give it (trimmed and lower-cased)."
    )


@strawberry.input
class UpdateDeviceInput:
    name: str | None = strawberry.field(
        default=UNSET, description="The display name of the device."
    )
    system_model_id: strawberry.ID | None = strawberry.field(
        default=UNSET, description="Its system model; null for none."
    )


@strawberry.input
class AddDeviceTagsInput:
    tags: list[str]


@strawberry.input
class RemoveDeviceTagsInput:
    tags: list[str]


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


UpdateDeviceResult = mutation_result("UpdateDeviceResult", Device)
AddDeviceTagsResult = mutation_result("AddDeviceTagsResult", Device)
RemoveDeviceTagsResult = mutation_result("RemoveDeviceTagsResult", Device)
DeleteDeviceResult = mutation_result("DeleteDeviceResult", Device)


def _system_model_id(check: Collector, value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    return check.check(from_global_id, value, SYSTEM_MODEL, "system_model_id")


async def _create(info: Info[Context, None], input: CreateDeviceInput) -> CreateDeviceResult:
    devices = service(info.context)  # first: a device token is refused before any input
    check = Collector()
    system_model_id = _system_model_id(check, input.system_model_id)
    check.raise_all()
    device, token = await devices.create(
        device_id=input.device_id,
        name=input.name,
        system_model_id=system_model_id,
        tags=input.tags or (),
    )
    return CreateDeviceResult(result=device, errors=[], _token=token)


async def _update(
    info: Info[Context, None], id: strawberry.ID, input: UpdateDeviceInput | None = None
) -> Any:
    devices = service(info.context)
    check = Collector()
    device_id = check.check(from_global_id, id, TYPE)
    changes: dict[str, Any] = {}
    if input is not None and input.name is not UNSET:
        changes["name"] = input.name
    if input is not None and input.system_model_id is not UNSET:
        changes["system_model_id"] = _system_model_id(check, input.system_model_id)
    check.raise_all()
    assert device_id is not None
    return UpdateDeviceResult(result=await devices.update(device_id, changes))


async def _add_tags(info: Info[Context, None], id: strawberry.ID, input: AddDeviceTagsInput) -> Any:
    devices = service(info.context)
    device = await devices.add_tags(from_global_id(id, TYPE), input.tags)
    return AddDeviceTagsResult(result=device)


async def _remove_tags(
    info: Info[Context, None], id: strawberry.ID, input: RemoveDeviceTagsInput
) -> Any:
    devices = service(info.context)
    device = await devices.remove_tags(from_global_id(id, TYPE), input.tags)
    return RemoveDeviceTagsResult(result=device)


async def _delete(info: Info[Context, None], id: strawberry.ID) -> Any:
    deleted = await service(info.context).delete(from_global_id(id, TYPE))
    return DeleteDeviceResult(result=deleted)


def _prime(ctx: Context, page: Page[model.Device]) -> None:
    # Devices a list read also answer look-ups by id (Deployment.device).
    by_id(ctx, TYPE, service(ctx).get_many).prime_many({d.id: d for d in page.items})


@strawberry.type
class DevicesQueries(AstarteQueries):
    device: Device | None = node_field(
        TYPE, Device, load, description="One device, or null when absent."
    )
    devices: Connection[Device] | None = list_field(
        Device,
        lambda ctx, query, request: service(ctx).list_devices(query, request),
        listing=LISTING,
        on_page=_prime,
        description="Devices of this tenant, keyset-paginated.",
    )
    existing_device_tags: Connection[Tag] | None = list_field(
        Tag,
        lambda ctx, query, request: service(ctx).tags_in_use(query, request),
        listing=TAGS,
        description="The tags some device of this tenant carries, by name.",
    )


def _set_led_behavior(
    info: Info[Context, None], id: strawberry.ID, input: SetDeviceLedBehaviorInput
) -> Any:
    return no_astarte(info.context, "LED behaviours")


def _request_forwarder_session(
    info: Info[Context, None], input: RequestForwarderSessionInput
) -> str:
    return no_astarte(info.context, "remote terminal sessions")  # type: ignore[no-any-return]


SetDeviceLedBehaviorResult = mutation_result("SetDeviceLedBehaviorResult", Device)


@strawberry.type
class DevicesMutations(DeviceProtocolMutations):
    set_device_led_behavior: Any = mutation_field(
        _set_led_behavior,
        SetDeviceLedBehaviorResult,
        "Unavailable here (unavailable): LED behaviours are sent through Astarte.",
    )
    request_forwarder_session: str | None = strawberry.mutation(
        resolver=_request_forwarder_session,
        description="Unavailable here (unavailable): remote terminals use Edgehog's forwarder.",
    )
    create_device: Any = mutation_field(
        _create,
        CreateDeviceResult,
        "Register a device. Its token is in this result only.",
    )
    update_device: Any = mutation_field(
        _update, UpdateDeviceResult, "Rename a device, or set (null: clear) its system model."
    )
    add_device_tags: Any = mutation_field(
        _add_tags,
        AddDeviceTagsResult,
        "Add tags to a device (trimmed, lower-cased; new ones are made). Tags it has stay.",
    )
    remove_device_tags: Any = mutation_field(
        _remove_tags,
        RemoveDeviceTagsResult,
        "Remove tags from a device; tags it does not carry are ignored.",
    )
    delete_device: Any = mutation_field(
        _delete,
        DeleteDeviceResult,
        "Forget a device: its token stops working and its deployments go. "
        "To replace a lost token, delete the device and create it again.",
    )


NODE_LOADERS = {TYPE: load}

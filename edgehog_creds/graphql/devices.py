"""Devices, deployments, credential deliveries and the device payload.

Tenant users create devices and deploy releases to them. A device, with the
token `createDevice` returned once, may read `devicePayload` for its own
deployments and nothing else; every other resolver calls `require_user()`.
The payload itself is built in edgehog_creds/payload.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from .. import payload as payloads
from .. import validate
from ..auth import new_device_token
from ..errors import NotFound, raise_all
from ..secrets import Secret
from ..store import devices as store
from .applications import RELEASE, Release, load_release
from .context import Context
from .filters import IdFilter, StringFilter, to_filter
from .image_credentials import ImageCredentials
from .image_credentials import load as load_credentials
from .loaders import loader, page_per_parent
from .relay import (
    Connection,
    Node,
    PageArgs,
    SortOrder,
    from_global_id,
    id_filter,
    page_args,
    paginate,
    sort_key,
    to_global_id,
)
from .results import MutationError
from .scalars import BigInt, Json

DEVICE = "Device"
DEPLOYMENT = "Deployment"
DELIVERY = "CredentialDelivery"

# --- loaders ------------------------------------------------------------------


async def _batch_devices(ctx: Context, ids: Sequence[uuid.UUID]) -> list[store.Device | None]:
    async with ctx.pool.acquire() as conn:
        found = await store.get_devices(conn, ctx.tenant.id, list(ids))
    return [found.get(i) for i in ids]


async def _batch_deployments(
    ctx: Context, ids: Sequence[uuid.UUID]
) -> list[store.Deployment | None]:
    async with ctx.pool.acquire() as conn:
        found = await store.get_deployments(conn, ctx.tenant.id, list(ids))
    return [found.get(i) for i in ids]


async def _device(ctx: Context, device_id: uuid.UUID) -> Device | None:
    row = await loader(ctx, "devices.device", _batch_devices).load(device_id)
    return Device.from_store(row) if row else None


async def _deployment(ctx: Context, deployment_id: uuid.UUID) -> Deployment | None:
    row = await loader(ctx, "devices.deployment", _batch_deployments).load(deployment_id)
    return Deployment.from_store(row) if row else None


# --- types --------------------------------------------------------------------


@strawberry.type(description="A device that runs releases; it reads payloads with its own token.")
class Device(Node):
    device_id: str = strawberry.field(description="The device's own identifier, unique per tenant.")
    name: str
    inserted_at: datetime
    _uuid: strawberry.Private[uuid.UUID]

    @classmethod
    def from_store(cls, row: store.Device) -> Device:
        return cls(
            id=to_global_id(DEVICE, row.id),
            device_id=row.device_id,
            name=row.name,
            inserted_at=row.inserted_at,
            _uuid=row.id,
        )

    @strawberry.field(description="Releases deployed to this device, oldest first.")
    async def deployments(
        self,
        info: Info[Context, None],
        first: int | None = None,
        before: str | None = None,
        after: str | None = None,
        last: int | None = None,
    ) -> Connection[Deployment] | None:
        ctx = info.context
        pages = page_per_parent(
            ctx,
            "devices.deployments",
            store.deployments_query(ctx.tenant.id, None, []),
            store.DEPLOYMENT_DEVICE,
            page_args(info, first, last, after, before),
            lambda r: Deployment.from_store(store.deployment_from_row(r)),
        )
        return await pages.load(self._uuid)


@strawberry.type(description="A release sent to one device.")
class Deployment(Node):
    state: str = strawberry.field(description="'pending' until the device reports otherwise.")
    inserted_at: datetime
    _uuid: strawberry.Private[uuid.UUID]
    _device_id: strawberry.Private[uuid.UUID]
    _release_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_store(cls, row: store.Deployment) -> Deployment:
        return cls(
            id=to_global_id(DEPLOYMENT, row.id),
            state=row.state,
            inserted_at=row.inserted_at,
            _uuid=row.id,
            _device_id=row.device_id,
            _release_id=row.release_id,
        )

    @strawberry.field
    async def device(self, info: Info[Context, None]) -> Device | None:
        return await _device(info.context, self._device_id)

    @strawberry.field
    async def release(self, info: Info[Context, None]) -> Release | None:
        return await load_release(info.context, self._release_id)


@strawberry.type(description="One set of credentials handed to one device for one deployment.")
class CredentialDelivery(Node):
    delivered_at: datetime
    _uuid: strawberry.Private[uuid.UUID]
    _credentials_id: strawberry.Private[uuid.UUID]
    _device_id: strawberry.Private[uuid.UUID]
    _deployment_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_store(cls, row: store.CredentialDelivery) -> CredentialDelivery:
        return cls(
            id=to_global_id(DELIVERY, row.id),
            delivered_at=row.delivered_at,
            _uuid=row.id,
            _credentials_id=row.image_credentials_id,
            _device_id=row.device_id,
            _deployment_id=row.deployment_id,
        )

    @strawberry.field(description="Null once the device has been deleted.")
    async def device(self, info: Info[Context, None]) -> Device | None:
        return await _device(info.context, self._device_id)

    @strawberry.field(description="Null once the deployment has been deleted.")
    async def deployment(self, info: Info[Context, None]) -> Deployment | None:
        return await _deployment(info.context, self._deployment_id)

    @strawberry.field(description="Null once the credentials have been deleted.")
    async def image_credentials(self, info: Info[Context, None]) -> ImageCredentials | None:
        return await load_credentials(info.context, self._credentials_id)


async def deliveries_of(
    ctx: Context, credentials_id: uuid.UUID, args: PageArgs
) -> Connection[CredentialDelivery]:
    """ImageCredentials.deliveries: the deliveries of one set of credentials."""
    pages = page_per_parent(
        ctx,
        "devices.deliveries",
        store.deliveries_query(ctx.tenant.id),
        store.DELIVERY_CREDENTIALS,
        args,
        lambda r: CredentialDelivery.from_store(store.delivery_from_row(r)),
    )
    return await pages.load(credentials_id)


# --- the device payload -------------------------------------------------------


@strawberry.type(description='Pull one image; registryAuth is Docker\'s X-Registry-Auth, or "".')
class CreateImageRequest:
    id: str
    deployment_id: str
    reference: str
    _registry_auth: strawberry.Private[Secret]

    @strawberry.field(description="base64url (padded) JSON {username, password, serveraddress}.")
    def registry_auth(self) -> str:
        return self._registry_auth.reveal()


@strawberry.type(description="Create one container; unset numeric limits are -1.")
class CreateContainerRequest:
    id: str
    deployment_id: str
    image_id: str
    network_ids: list[str]
    volume_ids: list[str]
    device_mapping_ids: list[str]
    device_request_ids: list[str]
    hostname: str
    restart_policy: str
    env: list[str] = strawberry.field(description="KEY=VALUE")
    binds: list[str]
    network_mode: str
    port_bindings: list[str]
    extra_hosts: list[str]
    cap_add: list[str]
    cap_drop: list[str]
    cpu_period: BigInt
    cpu_quota: BigInt
    cpu_realtime_period: BigInt
    cpu_realtime_runtime: BigInt
    memory: BigInt
    memory_reservation: BigInt
    memory_swap: BigInt
    memory_swappiness: int
    volume_driver: str
    storage_opt: list[str]
    read_only_rootfs: bool
    tmpfs: list[str]
    privileged: bool


@strawberry.type(description="Start the deployment once its images and containers exist.")
class CreateDeploymentRequest:
    id: str
    containers: list[str]


@strawberry.type(description="What a device needs to run one deployment. Ids are plain UUIDs.")
class DevicePayload:
    # Built only when asked for: a device runtime reads `events` alone.
    _built: strawberry.Private[payloads.DevicePayload]

    @classmethod
    def from_payload(cls, built: payloads.DevicePayload) -> DevicePayload:
        return cls(_built=built)

    @strawberry.field
    def images(self) -> list[CreateImageRequest]:
        return [
            CreateImageRequest(
                id=i.id,
                deployment_id=i.deployment_id,
                reference=i.reference,
                _registry_auth=i.registry_auth,
            )
            for i in self._built.images
        ]

    @strawberry.field
    def containers(self) -> list[CreateContainerRequest]:
        return [
            CreateContainerRequest(**{f.name: getattr(c, f.name) for f in fields(c)})
            for c in self._built.containers
        ]

    @strawberry.field
    def deployment(self) -> CreateDeploymentRequest:
        built = self._built.deployment
        return CreateDeploymentRequest(id=built.id, containers=built.containers)

    @strawberry.field(
        description="The same requests as [{interface, path, data}], images first, "
        "in the format Edgehog's device runtime consumes."
    )
    def events(self) -> Json:
        return self._built.events()


# --- inputs, results, list arguments --------------------------------------------


@strawberry.input
class CreateDeviceInput:
    device_id: str
    name: str


@strawberry.type
class CreateDeviceResult:
    result: Device | None
    errors: list[MutationError]
    _token: strawberry.Private[Secret | None] = None

    @strawberry.field(
        description="The device's bearer token. Returned this once: only its hash is stored."
    )
    def device_token(self) -> str | None:
        return self._token.reveal() if self._token is not None else None


@strawberry.input
class DeployReleaseInput:
    release_id: strawberry.ID
    device_id: strawberry.ID


@strawberry.type
class DeployReleaseResult:
    result: Deployment | None
    errors: list[MutationError]


@strawberry.type
class DeleteDeviceResult:
    result: Device | None
    errors: list[MutationError]


@strawberry.type
class DeleteDeploymentResult:
    result: Deployment | None
    errors: list[MutationError]


@strawberry.enum
class DeviceSortField(Enum):
    ID = "id"
    DEVICE_ID = "device_id"
    NAME = "name"
    INSERTED_AT = "inserted_at"


@strawberry.input
class DeviceSortInput:
    field: DeviceSortField
    order: SortOrder | None = SortOrder.ASC


@strawberry.input
class DeviceFilterId(IdFilter):
    pass


@strawberry.input
class DeviceFilterDeviceId(StringFilter):
    pass


@strawberry.input
class DeviceFilterName(StringFilter):
    pass


@strawberry.input
class DeviceFilterInput:
    and_: list[DeviceFilterInput] | None = strawberry.field(name="and", default=None)
    or_: list[DeviceFilterInput] | None = strawberry.field(name="or", default=None)
    not_: list[DeviceFilterInput] | None = strawberry.field(name="not", default=None)
    id: DeviceFilterId | None = None
    device_id: DeviceFilterDeviceId | None = None
    name: DeviceFilterName | None = None


@strawberry.enum
class DeploymentSortField(Enum):
    ID = "id"
    INSERTED_AT = "inserted_at"


@strawberry.input
class DeploymentSortInput:
    field: DeploymentSortField
    order: SortOrder | None = SortOrder.ASC


@strawberry.input
class DeploymentFilterId(IdFilter):
    pass


@strawberry.input
class DeploymentFilterState(StringFilter):
    pass


@strawberry.input
class DeploymentFilterInput:
    and_: list[DeploymentFilterInput] | None = strawberry.field(name="and", default=None)
    or_: list[DeploymentFilterInput] | None = strawberry.field(name="or", default=None)
    not_: list[DeploymentFilterInput] | None = strawberry.field(name="not", default=None)
    id: DeploymentFilterId | None = None
    device: DeploymentFilterId | None = strawberry.field(
        default=None, description="By the device's global id."
    )
    release: DeploymentFilterId | None = strawberry.field(
        default=None, description="By the release's global id."
    )
    state: DeploymentFilterState | None = None


# Filter input attribute -> store column (devices' are named as their columns).
_DEPLOYMENT_FILTERS = {
    "id": store.DEPLOYMENT_ID,
    "device": store.DEPLOYMENT_DEVICE,
    "release": store.DEPLOYMENT_RELEASE,
    "state": store.DEPLOYMENT_STATE,
}


# --- node loaders ---------------------------------------------------------------


async def load_delivery(ctx: Context, delivery_id: uuid.UUID) -> CredentialDelivery | None:
    async with ctx.pool.acquire() as conn:
        row = await store.get_delivery(conn, ctx.tenant.id, delivery_id)
    return CredentialDelivery.from_store(row) if row else None


NODE_LOADERS = {
    DEVICE: _device,
    DEPLOYMENT: _deployment,
    DELIVERY: load_delivery,
}


# --- root fields ----------------------------------------------------------------


@strawberry.type
class DevicesQueries:
    @strawberry.field(description="One device, or null when absent.")
    async def device(self, info: Info[Context, None], id: strawberry.ID) -> Device | None:
        info.context.require_user()
        return await _device(info.context, from_global_id(id, DEVICE))

    @strawberry.field(description="Devices of this tenant, keyset-paginated.")
    async def list_devices(
        self,
        info: Info[Context, None],
        sort: list[DeviceSortInput | None] | None = None,
        filter: DeviceFilterInput | None = None,
        first: int | None = None,
        before: str | None = None,
        after: str | None = None,
        last: int | None = None,
    ) -> Connection[Device] | None:
        ctx = info.context
        ctx.require_user()
        sort_keys = [
            sort_key(store.DEVICE_SORTABLE[s.field.value], s.order) for s in sort or [] if s
        ]
        where = to_filter(filter, store.DEVICE_FILTERABLE, {"id": id_filter(DEVICE, "filter.id")})
        return await paginate(
            ctx.pool,
            store.devices_query(ctx.tenant.id, where, sort_keys),
            page_args(info, first, last, after, before),
            lambda r: Device.from_store(store.device_from_row(r)),
        )

    @strawberry.field(description="One deployment, or null when absent.")
    async def deployment(self, info: Info[Context, None], id: strawberry.ID) -> Deployment | None:
        info.context.require_user()
        return await _deployment(info.context, from_global_id(id, DEPLOYMENT))

    @strawberry.field(description="Deployments of this tenant, keyset-paginated.")
    async def list_deployments(
        self,
        info: Info[Context, None],
        sort: list[DeploymentSortInput | None] | None = None,
        filter: DeploymentFilterInput | None = None,
        first: int | None = None,
        before: str | None = None,
        after: str | None = None,
        last: int | None = None,
    ) -> Connection[Deployment] | None:
        ctx = info.context
        ctx.require_user()
        sort_keys = [
            sort_key(store.DEPLOYMENT_SORTABLE[s.field.value], s.order) for s in sort or [] if s
        ]
        where = to_filter(
            filter,
            _DEPLOYMENT_FILTERS,
            {
                "id": id_filter(DEPLOYMENT, "filter.id"),
                "device": id_filter(DEVICE, "filter.device"),
                "release": id_filter(RELEASE, "filter.release"),
            },
        )
        return await paginate(
            ctx.pool,
            store.deployments_query(ctx.tenant.id, where, sort_keys),
            page_args(info, first, last, after, before),
            lambda r: Deployment.from_store(store.deployment_from_row(r)),
        )

    @strawberry.field(
        description="For a device token only: what the device needs to run one of its "
        "deployments, images first. Refused (credentials_deleted) when a container's "
        "credentials were deleted; nothing partial is ever returned."
    )
    async def device_payload(
        self, info: Info[Context, None], deployment_id: strawberry.ID
    ) -> DevicePayload | None:
        ctx = info.context
        device = ctx.require_device()
        built = await payloads.build_device_payload(
            ctx.pool,
            ctx.vault,
            ctx.tenant.id,
            device.device_id,
            from_global_id(deployment_id, DEPLOYMENT, "deploymentId"),
        )
        return DevicePayload.from_payload(built)


@strawberry.type
class DevicesMutations:
    @strawberry.mutation(description="Register a device. Its token is in this result only.")
    async def create_device(
        self, info: Info[Context, None], input: CreateDeviceInput
    ) -> CreateDeviceResult | None:
        ctx = info.context
        ctx.require_user()
        check = validate.Collector()
        device_id = check.check(validate.text, "deviceId", input.device_id)
        name = check.check(validate.text, "name", input.name)
        raise_all(check.errors)
        assert device_id is not None and name is not None

        token, token_hash = new_device_token()
        async with ctx.pool.acquire() as conn:
            row = await store.create_device(
                conn,
                ctx.tenant.id,
                device_id=device_id,
                name=name,
                token_hash=token_hash,
                actor=ctx.actor,
            )
        return CreateDeviceResult(result=Device.from_store(row), errors=[], _token=token)

    @strawberry.mutation(
        description="Forget a device: its token stops working and its deployments go. "
        "To replace a lost token, delete the device and create it again."
    )
    async def delete_device(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> DeleteDeviceResult | None:
        ctx = info.context
        ctx.require_user()
        device_id = from_global_id(id, DEVICE)
        async with ctx.pool.acquire() as conn:
            row = await store.delete_device(conn, ctx.tenant.id, device_id, actor=ctx.actor)
        if row is None:
            raise NotFound()
        return DeleteDeviceResult(result=Device.from_store(row), errors=[])

    @strawberry.mutation(description="Deploy a release to a device (both by global id).")
    async def deploy_release(
        self, info: Info[Context, None], input: DeployReleaseInput
    ) -> DeployReleaseResult | None:
        ctx = info.context
        ctx.require_user()
        check = validate.Collector()
        release_id = check.check(from_global_id, input.release_id, RELEASE, "releaseId")
        device_id = check.check(from_global_id, input.device_id, DEVICE, "deviceId")
        raise_all(check.errors)
        assert release_id is not None and device_id is not None

        async with ctx.pool.acquire() as conn:
            row = await store.create_deployment(
                conn, ctx.tenant.id, device_id=device_id, release_id=release_id, actor=ctx.actor
            )
        return DeployReleaseResult(result=Deployment.from_store(row), errors=[])

    @strawberry.mutation(description="Withdraw a release from a device. Its delivery records stay.")
    async def delete_deployment(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> DeleteDeploymentResult | None:
        ctx = info.context
        ctx.require_user()
        deployment_id = from_global_id(id, DEPLOYMENT)
        async with ctx.pool.acquire() as conn:
            row = await store.delete_deployment(conn, ctx.tenant.id, deployment_id, actor=ctx.actor)
        if row is None:
            raise NotFound()
        return DeleteDeploymentResult(result=Deployment.from_store(row), errors=[])

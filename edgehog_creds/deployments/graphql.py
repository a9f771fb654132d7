"""Deployments in Edgehog's dialect: their state, readiness, containers and events,
the lifecycle mutations, and credential deliveries.

Tenant users deploy, start, stop, upgrade, redeploy and delete; a device
reads what it must do and reports what it did (graphql_device.py), and its
payload (graphql_payload.py). Readiness comes from one query for all the
deployments of a request (resources_of), however many are listed.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from ..applications.graphql import RELEASES, Release, load_release
from ..applications.model import RELEASE
from ..containers import graphql as containers_graphql
from ..containers.graphql import Container, Image
from ..containers.model import CONTAINER
from ..credentials import graphql as credentials_graphql
from ..credentials.graphql import ImageCredentials
from ..devices import graphql as devices_graphql
from ..devices.graphql import Device
from ..devices.model import ENTITY as DEVICE
from ..domain.errors import Collector, Invalid
from ..domain.listing import ListQuery, Page, PageRequest
from ..engine import direct
from ..graphql.context import Context
from ..graphql.fields import connection_field, list_field, node_field, relation_field
from ..graphql.listing import Id, Listing, Relation, Text
from ..graphql.loaders import by_id, load_by_id, loader
from ..graphql.relay import (
    Connection,
    Node,
    connection,
    from_global_id,
    global_id_field,
    page_request,
    to_global_id,
    view_of,
)
from ..graphql.results import mutation_field, mutation_result
from ..networks import graphql as networks_graphql
from ..volumes import graphql as volumes_graphql
from . import model
from .graphql_payload import DevicePayload
from .model import DELIVERY, DEPLOYMENT, EVENT
from .payload_service import PayloadService
from .service import DeploymentsService

LISTING = Listing(
    DEPLOYMENT,
    filters={
        "id": Id("id", DEPLOYMENT),
        "state": Text("state", "pending, sent, started or stopped."),
        "release_id": Id("release_id", RELEASE),
        "device": Relation("device", devices_graphql.LISTING),
        "release": Relation("release", RELEASES),
    },
    sorts=["id", "state", "release_id", "inserted_at"],
)
EVENTS = Listing(
    EVENT,
    filters={"id": Id("id", EVENT), "type": Text("type"), "message": Text("message")},
    sorts=["id", "type", "message", "inserted_at"],
)


def service(ctx: Context) -> DeploymentsService:
    return DeploymentsService(ctx.db, ctx.user(), ctx.templates)


load = load_by_id(DEPLOYMENT, lambda ctx: service(ctx).get_many)
load_delivery = load_by_id(DELIVERY, lambda ctx: service(ctx).get_deliveries)
# Not a Node: read by id for live updates only (`deploymentEvent { created }`).
load_event = load_by_id(EVENT, lambda ctx: service(ctx).get_events)


def _deployments(ctx: Context) -> DataLoader[uuid.UUID, model.Deployment | None]:
    return by_id(ctx, DEPLOYMENT, service(ctx).get_many)


def _readiness(ctx: Context) -> DataLoader[model.Deployment, model.Readiness]:
    """Each deployment's containers on its device, batched over the request."""

    async def batch(deployments: Sequence[model.Deployment]) -> list[model.Readiness]:
        return await service(ctx).readiness_of(deployments)

    return loader(ctx, "Deployment.readiness", batch)


def _prime(ctx: Context, page: Page[model.Deployment]) -> None:
    _deployments(ctx).prime_many({d.id: d for d in page.items})


# --- types ------------------------------------------------------------------------------


@strawberry.enum
class ApplicationDeploymentState(enum.Enum):
    PENDING = "pending"  # created; the device has not read it yet
    SENT = "sent"  # the device read it
    STARTED = "started"
    STOPPED = "stopped"


@strawberry.enum
class DeploymentEventType(enum.Enum):
    DELETING = "deleting"
    ERROR = "error"
    STARTED = "started"
    STARTING = "starting"
    STOPPED = "stopped"
    STOPPING = "stopping"
    UPDATING = "updating"


def _event_type(root: strawberry.Parent[model.DeploymentEvent]) -> DeploymentEventType:
    return DeploymentEventType(root.type)


def _updated_at(root: strawberry.Parent[model.DeploymentEvent]) -> datetime:
    return root.inserted_at  # events never change


@strawberry.type(description="Something that happened to a deployment, as its device reported it.")
class DeploymentEvent:
    id: strawberry.ID = global_id_field(EVENT)
    type: DeploymentEventType = strawberry.field(resolver=_event_type)
    message: str | None
    add_info: list[str] | None
    inserted_at: datetime
    updated_at: datetime = strawberry.field(resolver=_updated_at)

    is_type_of = view_of(model.DeploymentEvent)


def _state(root: strawberry.Parent[model.ResourceDeployment]) -> str:
    # Nothing reported yet: "created", as Edgehog names a resource not yet on the device.
    return root.resource.state or "created"


def _is_ready(root: strawberry.Parent[model.ResourceDeployment]) -> bool:
    return root.resource.ready


def resource_deployment(
    name: str, field: str, type_name: str, load: Any, graphql_type: Any, description: str
) -> Any:
    """A `<X>Deployment` type: one resource on one device, its state as the device
    reported it, the resource (`field`) and its id (`<field>Id`), and isReady."""

    def resolve_id(root: strawberry.Parent[model.ResourceDeployment]) -> strawberry.ID:
        return to_global_id(type_name, root.resource.resource_id)

    async def resolve(
        root: strawberry.Parent[model.ResourceDeployment], info: Info[Context, None]
    ) -> Any:
        return await load(info.context, root.resource.resource_id)

    cls = type(
        name,
        (),
        {
            "__annotations__": {
                "id": strawberry.ID,
                "state": str | None,
                f"{field}_id": strawberry.ID | None,
                field: Any,
                "is_ready": bool | None,
            },
            "id": global_id_field(name),
            "state": strawberry.field(resolver=_state),
            f"{field}_id": strawberry.field(resolver=resolve_id, graphql_type=strawberry.ID | None),
            field: strawberry.field(resolver=resolve, graphql_type=graphql_type | None),
            "is_ready": strawberry.field(resolver=_is_ready),
        },
    )
    return strawberry.type(cls, description=description)


ImageDeployment = resource_deployment(
    "ImageDeployment",
    "image",
    "Image",
    containers_graphql.load_image,
    Image,
    "A container's image on a device.",
)
VolumeDeployment = resource_deployment(
    "VolumeDeployment",
    "volume",
    "Volume",
    volumes_graphql.load,
    volumes_graphql.Volume,
    "A volume on a device.",
)
NetworkDeployment = resource_deployment(
    "NetworkDeployment",
    "network",
    "Network",
    networks_graphql.load,
    networks_graphql.Network,
    "A network on a device.",
)
DeviceMappingDeployment = resource_deployment(
    "DeviceMappingDeployment",
    "device_mapping",
    "DeviceMapping",
    containers_graphql.load_device_mapping,
    containers_graphql.DeviceMapping,
    "A container's device mapping on a device.",
)
DeviceRequestDeployment = resource_deployment(
    "DeviceRequestDeployment",
    "device_request",
    "DeviceRequest",
    containers_graphql.load_device_request,
    containers_graphql.DeviceRequest,
    "A container's device request on a device.",
)


def _resources_field(pick: str, node_type: Any, description: str) -> Any:
    """A container deployment's resources of one kind, paged in memory (they are few)."""

    def resolve(
        root: strawberry.Parent[model.ContainerDeployment],
        info: Info[Context, None],
        first: int | None = None,
        before: str | None = None,
        after: str | None = None,
        last: int | None = None,
    ) -> Any:
        items = [model.ResourceDeployment.of(root.device_id, r) for r in getattr(root, pick)]
        request = page_request(info, first, last, after, before)
        return connection(service(info.context).page_of_resources(items, request))

    return strawberry.field(
        resolver=resolve, graphql_type=Connection[node_type], description=description
    )


def _container_state(root: strawberry.Parent[model.ContainerDeployment]) -> str:
    return root.container.state or "created"


def _container_ready(root: strawberry.Parent[model.ContainerDeployment]) -> bool:
    return root.ready


def _container_id(root: strawberry.Parent[model.ContainerDeployment]) -> strawberry.ID:
    return to_global_id(CONTAINER, root.container_id)


def _image_deployment_id(root: strawberry.Parent[model.ContainerDeployment]) -> strawberry.ID:
    return to_global_id(
        "ImageDeployment", model.ResourceDeployment.of(root.device_id, root.image).id
    )


async def _container_of(
    root: strawberry.Parent[model.ContainerDeployment], info: Info[Context, None]
) -> Any:
    return await containers_graphql.load_container(info.context, root.container_id)


async def _device_of_container(
    root: strawberry.Parent[model.ContainerDeployment], info: Info[Context, None]
) -> Any:
    return await devices_graphql.load(info.context, root.device_id)


def _image_deployment(
    root: strawberry.Parent[model.ContainerDeployment],
) -> model.ResourceDeployment:
    return model.ResourceDeployment.of(root.device_id, root.image)


def _null() -> None:
    return None


@strawberry.type(description="A container of a deployed release on its device.")
class ContainerDeployment:
    id: strawberry.ID = global_id_field("ContainerDeployment")
    state: str | None = strawberry.field(
        resolver=_container_state,
        description="created (nothing reported yet), received, device_created, running or "
        "stopped, as the device reports it.",
    )
    container_id: strawberry.ID | None = strawberry.field(resolver=_container_id)
    device_id: int | None = strawberry.field(
        resolver=_null, description="Edgehog's integer device key; null here (see device)."
    )
    image_deployment_id: strawberry.ID | None = strawberry.field(resolver=_image_deployment_id)
    container: Container | None = strawberry.field(resolver=_container_of)
    device: Device | None = strawberry.field(resolver=_device_of_container)
    image_deployment: Any = strawberry.field(
        resolver=_image_deployment, graphql_type=ImageDeployment | None
    )
    network_deployments: Any = _resources_field(
        "networks", NetworkDeployment, "Its networks on the device."
    )
    volume_deployments: Any = _resources_field(
        "volumes", VolumeDeployment, "Its volumes on the device."
    )
    device_mapping_deployments: Any = _resources_field(
        "device_mappings", DeviceMappingDeployment, "Its device mappings on the device."
    )
    device_request_deployments: Any = _resources_field(
        "device_requests", DeviceRequestDeployment, "Its device requests on the device."
    )
    is_ready: bool | None = strawberry.field(resolver=_container_ready)


async def _device_of(
    root: strawberry.Parent[model.Deployment | model.CredentialDelivery], info: Info[Context, None]
) -> Any:
    return await devices_graphql.load(info.context, root.device_id)


async def _release_of(root: strawberry.Parent[model.Deployment], info: Info[Context, None]) -> Any:
    return await load_release(info.context, root.release_id)


def _deployment_state(root: strawberry.Parent[model.Deployment]) -> ApplicationDeploymentState:
    return ApplicationDeploymentState(root.state)


async def _deployment_ready(
    root: strawberry.Parent[model.Deployment], info: Info[Context, None]
) -> bool:
    return (await _readiness(info.context).load(root)).ready


async def _container_deployments(
    root: strawberry.Parent[model.Deployment],
    info: Info[Context, None],
    first: int | None = None,
    before: str | None = None,
    after: str | None = None,
    last: int | None = None,
) -> Any:
    found = await _readiness(info.context).load(root)
    request = page_request(info, first, last, after, before)
    return connection(service(info.context).page_of_containers(found.containers, request))


async def _events_of(
    ctx: Context, ids: Sequence[uuid.UUID], query: ListQuery, request: PageRequest
) -> list[Page[Any]]:
    return await service(ctx).events_of(ids, query, request)


def _release_id_of(root: strawberry.Parent[model.Deployment]) -> strawberry.ID:
    return to_global_id(RELEASE, root.release_id)


@strawberry.type(description="A release deployed to one device.")
class Deployment(Node):
    id: strawberry.ID = global_id_field(DEPLOYMENT)
    state: ApplicationDeploymentState | None = strawberry.field(
        resolver=_deployment_state,
        description="PENDING until its device reads it, SENT once read, then STARTED or "
        "STOPPED as the device reports.",
    )
    timed_out: bool = strawberry.field(
        description="Always false here: a device reads its messages when it can, "
        "so sending one never times out."
    )
    device_id: int | None = strawberry.field(
        resolver=_null, description="Edgehog's integer device key; null here (see device)."
    )
    release_id: strawberry.ID | None = strawberry.field(resolver=_release_id_of)
    inserted_at: datetime
    device: Device | None = relation_field(_device_of, Device | None)
    release: Release | None = relation_field(_release_of, Release | None)
    container_deployments: Any = strawberry.field(
        resolver=_container_deployments,
        graphql_type=Connection[ContainerDeployment],
        description="Its release's containers on the device, with what each needs there.",
    )
    events: Connection[DeploymentEvent] = connection_field(
        DeploymentEvent,
        _events_of,
        name="Deployment.events",
        listing=EVENTS,
        description="What its device reported, oldest first unless sorted.",
    )
    is_ready: bool | None = strawberry.field(
        resolver=_deployment_ready,
        description="Started or stopped, with every container and what it needs on the "
        "device: only then can it be started, stopped, upgraded or deleted.",
    )

    is_type_of = view_of(model.Deployment)


async def _deployment_of(
    root: strawberry.Parent[model.CredentialDelivery], info: Info[Context, None]
) -> Any:
    return await load(info.context, root.deployment_id)


async def _credentials_of(
    root: strawberry.Parent[model.CredentialDelivery], info: Info[Context, None]
) -> Any:
    return await credentials_graphql.load(info.context, root.image_credentials_id)


@strawberry.type(description="One set of credentials handed to one device for one deployment.")
class CredentialDelivery(Node):
    id: strawberry.ID = global_id_field(DELIVERY)
    delivered_at: datetime
    device: Device | None = relation_field(
        _device_of,
        Device | None,
        description="Null once the device has been deleted.",
    )
    deployment: Deployment | None = relation_field(
        _deployment_of,
        Deployment | None,
        description="Null once the deployment has been deleted.",
    )
    image_credentials: ImageCredentials | None = relation_field(
        _credentials_of,
        ImageCredentials | None,
        description="Null once the credentials have been deleted.",
    )

    is_type_of = view_of(model.CredentialDelivery)


# --- mutations ------------------------------------------------------------------------


@strawberry.input
class DeployReleaseInput:
    release_id: strawberry.ID | None = None
    device_id: strawberry.ID


@strawberry.input
class UpgradeDeploymentInput:
    target: strawberry.ID = strawberry.field(description="The newer release to run instead.")


DeployReleaseResult = mutation_result("DeployReleaseResult", Deployment)
StartDeploymentResult = mutation_result("StartDeploymentResult", Deployment)
StopDeploymentResult = mutation_result("StopDeploymentResult", Deployment)
DeleteDeploymentResult = mutation_result("DeleteDeploymentResult", Deployment)
SendDeploymentResult = mutation_result("SendDeploymentResult", Deployment)
UpgradeDeploymentResult = mutation_result("UpgradeDeploymentResult", Deployment)


async def _deploy_release(info: Info[Context, None], input: DeployReleaseInput) -> Any:
    deployments = service(info.context)  # first: a device token is refused before any input
    check = Collector()
    release_id = None
    if input.release_id is None:
        check.add(_required("release_id"))
    else:
        release_id = check.check(from_global_id, input.release_id, RELEASE, "release_id")
    device_id = check.check(from_global_id, input.device_id, DEVICE, "device_id")
    check.raise_all()
    assert release_id is not None and device_id is not None
    deployment = await deployments.deploy(release_id=release_id, device_id=device_id)
    return DeployReleaseResult(result=deployment)


def _required(field: str) -> Invalid:
    return Invalid(field, "is required", code="required")


def _action(method: str, result_type: Any) -> Any:
    """A mutation of one deployment by id: start, stop, delete, send."""

    async def resolve(info: Info[Context, None], id: strawberry.ID) -> Any:
        deployments = service(info.context)
        done = await getattr(deployments, method)(from_global_id(id, DEPLOYMENT))
        return result_type(result=done)

    resolve.__name__ = f"_{method}_deployment"
    return resolve


async def _upgrade(
    info: Info[Context, None], id: strawberry.ID, input: UpgradeDeploymentInput
) -> Any:
    deployments = service(info.context)
    check = Collector()
    deployment_id = check.check(from_global_id, id, DEPLOYMENT)
    target = check.check(from_global_id, input.target, RELEASE, "target")
    check.raise_all()
    assert deployment_id is not None and target is not None
    return UpgradeDeploymentResult(result=await deployments.upgrade(deployment_id, target))


async def _payload(ctx: Context, deployment_id: str) -> Any:
    payloads = PayloadService(ctx.db, ctx.device(), ctx.vault, ctx.templates)
    built = await payloads.build(from_global_id(deployment_id, DEPLOYMENT, "deployment_id"))
    ctx.delivered += 1
    return built


async def _device_payload(info: Info[Context, None], deployment_id: strawberry.ID) -> Any:
    return await _payload(info.context, deployment_id)


def _device_payload_direct(_root: Any, info: Any, args: dict[str, Any]) -> Any:
    # Every payload a fleet reads comes this way: no per-call conversion.
    return _payload(info.context, args["deploymentId"])


@strawberry.type
class DeploymentsQueries:
    deployment: Deployment | None = node_field(
        DEPLOYMENT, Deployment, load, description="One deployment, or null when absent."
    )
    deployments: Connection[Deployment] | None = list_field(
        Deployment,
        lambda ctx, query, request: service(ctx).list_deployments(query, request),
        listing=LISTING,
        on_page=_prime,
        description="Deployments of this tenant, keyset-paginated.",
    )
    device_payload: DevicePayload | None = strawberry.field(
        resolver=_device_payload,
        metadata=direct(_device_payload_direct),
        graphql_type=DevicePayload | None,
        description="For a device token only: every request of one of its deployments at "
        "once. Refused (credentials_deleted) when an image's credentials were deleted; "
        "nothing partial is ever returned.",
    )


@strawberry.type
class DeploymentsMutations:
    deploy_release: Any = mutation_field(
        _deploy_release,
        DeployReleaseResult,
        "Deploy a release to a device (both by global id): its device is sent what it "
        "needs, and the deployment is STOPPED once the device has it all.",
    )
    start_deployment: Any = mutation_field(
        _action("start", StartDeploymentResult),
        StartDeploymentResult,
        "Tell the device to start a ready deployment; STARTED once it says so.",
    )
    stop_deployment: Any = mutation_field(
        _action("stop", StopDeploymentResult),
        StopDeploymentResult,
        "Tell the device to stop a ready deployment; STOPPED once it says so.",
    )
    delete_deployment: Any = mutation_field(
        _action("delete", DeleteDeploymentResult),
        DeleteDeploymentResult,
        "Tell the device to delete a ready deployment; it goes once the device says it is "
        "gone (at once if the device never read it). Its delivery records stay.",
    )
    send_deployment: Any = mutation_field(
        _action("send", SendDeploymentResult),
        SendDeploymentResult,
        "Send a deployment that is not ready to its device again.",
    )
    upgrade_deployment: Any = mutation_field(
        _upgrade,
        UpgradeDeploymentResult,
        "Replace a ready deployment with a newer release of the same application on the "
        "same device; returns the new deployment.",
    )


NODE_LOADERS = {DEPLOYMENT: load, DELIVERY: load_delivery}

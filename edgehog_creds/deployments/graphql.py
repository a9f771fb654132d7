"""Deployments, credential deliveries and the device payload in Edgehog's dialect.

Tenant users deploy releases to devices and withdraw them. A device, with the
token `createDevice` returned once, may read `devicePayload` for its own
deployments and nothing else: every other resolver asks for a tenant user.
The payload is built by payload_service.py, from payload.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from ..applications.graphql import Release, load_release
from ..applications.model import RELEASE
from ..credentials import graphql as credentials_graphql
from ..credentials.graphql import ImageCredentials
from ..devices import graphql as devices_graphql
from ..devices.graphql import Device
from ..devices.model import ENTITY as DEVICE
from ..domain.errors import Collector
from ..engine import direct
from ..graphql.context import Context
from ..graphql.fields import list_field, node_field, relation_field
from ..graphql.listing import Id, Listing, Text
from ..graphql.loaders import load_by_id
from ..graphql.relay import Connection, Node, from_global_id, global_id_field, view_of
from ..graphql.results import mutation_field, mutation_result
from . import model
from .graphql_payload import DevicePayload
from .model import DELIVERY, DEPLOYMENT
from .payload_service import PayloadService
from .service import DeploymentsService

LISTING = Listing(
    DEPLOYMENT,
    filters={
        "id": Id("id", DEPLOYMENT),
        "device": Id("device_id", DEVICE, "By the device's global id."),
        "release": Id("release_id", RELEASE, "By the release's global id."),
        "state": Text("state"),
    },
    sorts=["id", "inserted_at"],
)


def service(ctx: Context) -> DeploymentsService:
    return DeploymentsService(ctx.db, ctx.user())


load = load_by_id(DEPLOYMENT, lambda ctx: service(ctx).get_many)


load_delivery = load_by_id(DELIVERY, lambda ctx: service(ctx).get_deliveries)


async def _device_of(
    root: strawberry.Parent[model.Deployment | model.CredentialDelivery], info: Info[Context, None]
) -> Any:
    return await devices_graphql.load(info.context, root.device_id)


async def _release_of(root: strawberry.Parent[model.Deployment], info: Info[Context, None]) -> Any:
    return await load_release(info.context, root.release_id)


@strawberry.type(description="A release sent to one device.")
class Deployment(Node):
    id: strawberry.ID = global_id_field(DEPLOYMENT)
    state: str = strawberry.field(description="'pending' until the device reports otherwise.")
    inserted_at: datetime
    device: Device | None = relation_field(_device_of, Device | None)
    release: Release | None = relation_field(_release_of, Release | None)

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


@strawberry.input
class DeployReleaseInput:
    release_id: strawberry.ID
    device_id: strawberry.ID


DeployReleaseResult = mutation_result("DeployReleaseResult", Deployment)
DeleteDeploymentResult = mutation_result("DeleteDeploymentResult", Deployment)


async def _deploy_release(info: Info[Context, None], input: DeployReleaseInput) -> Any:
    deployments = service(info.context)  # first: a device token is refused before any input
    check = Collector()
    release_id = check.check(from_global_id, input.release_id, RELEASE, "release_id")
    device_id = check.check(from_global_id, input.device_id, DEVICE, "device_id")
    check.raise_all()
    assert release_id is not None and device_id is not None
    deployment = await deployments.deploy(release_id=release_id, device_id=device_id)
    return DeployReleaseResult(result=deployment)


async def _delete_deployment(info: Info[Context, None], id: strawberry.ID) -> Any:
    deleted = await service(info.context).delete(from_global_id(id, DEPLOYMENT))
    return DeleteDeploymentResult(result=deleted)


async def _payload(ctx: Context, deployment_id: str) -> Any:
    payloads = PayloadService(ctx.db, ctx.device(), ctx.vault, ctx.templates)
    return await payloads.build(from_global_id(deployment_id, DEPLOYMENT, "deployment_id"))


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
    list_deployments: Connection[Deployment] | None = list_field(
        Deployment,
        lambda ctx, query, request: service(ctx).list_deployments(query, request),
        listing=LISTING,
        description="Deployments of this tenant, keyset-paginated.",
    )
    device_payload: DevicePayload | None = strawberry.field(
        resolver=_device_payload,
        metadata=direct(_device_payload_direct),
        graphql_type=DevicePayload | None,
        description="For a device token only: what the device needs to run one of its "
        "deployments, images first. Refused (credentials_deleted) when a container's "
        "credentials were deleted; nothing partial is ever returned.",
    )


@strawberry.type
class DeploymentsMutations:
    deploy_release: Any = mutation_field(
        _deploy_release,
        DeployReleaseResult,
        "Deploy a release to a device (both by global id).",
    )
    delete_deployment: Any = mutation_field(
        _delete_deployment,
        DeleteDeploymentResult,
        "Withdraw a release from a device. Its delivery records stay.",
    )


NODE_LOADERS = {DEPLOYMENT: load, DELIVERY: load_delivery}

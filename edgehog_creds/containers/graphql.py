"""Containers, images, device mappings and requests in Edgehog's dialect.

The types are views of the domain objects (containers/model.py,
domain/container.py). Relations are read through per-request loaders, so a
list of N containers with their images, credentials and children costs a
fixed number of queries:

- `Container.image`, `Image.credentials`: batched look-ups by id.
- `Container.containerVolumes`, `networks`, `deviceMappings`,
  `deviceRequests`: one loader reads every child of every container asked
  about (four queries; a container has few, and at most a bounded number);
  each connection is paged in memory with the usual cursors and limits.
- `Container.releases`: one keyset query for all parents.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from ..applications.service import ApplicationsService
from ..credentials import graphql as credentials_graphql
from ..credentials.model import ENTITY as CREDENTIALS
from ..domain.container import Container as ContainerModel
from ..domain.errors import Collector, Invalid, NotFound
from ..domain.listing import ListQuery, Page, PageRequest
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
from ..graphql.scalars import JsonString
from ..networks import graphql as networks_graphql
from ..volumes import graphql as volumes_graphql
from . import model
from .graphql_settings import add_input_fields, add_output_fields, settings_of
from .model import CONTAINER, DEVICE_MAPPING, DEVICE_REQUEST, IMAGE
from .service import ContainersService

if TYPE_CHECKING:
    from ..applications.graphql import Release
    from ..credentials.graphql import ImageCredentials
    from ..networks.graphql import Network
    from ..volumes.graphql import Volume

VOLUME = "Volume"  # the global id type names of volumes and networks
NETWORK = "Network"

IMAGES = Listing(
    IMAGE,
    filters={
        "id": Id("id", IMAGE),
        "reference": Text("reference"),
        "image_credentials_id": Id("image_credentials_id", CREDENTIALS),
    },
    sorts=["id", "reference", "inserted_at"],
)
CONTAINERS = Listing(
    CONTAINER,
    filters={
        "id": Id("id", CONTAINER),
        "name": Text("name"),
        "hostname": Text("hostname"),
        "restart_policy": Text("restart_policy"),
        "network_mode": Text("network_mode"),
        "volume_driver": Text("volume_driver"),
        "image_id": Id("image_id", IMAGE),
        "image": Relation("image", IMAGES),
    },
    sorts=["id", "name", "inserted_at"],
)


def service(ctx: Context) -> ContainersService:
    return ContainersService(ctx.db, ctx.user())


# --- loaders: one per relation, per request ----------------------------------------

load_container = load_by_id(CONTAINER, lambda ctx: service(ctx).get_many)
load_image = load_by_id(IMAGE, lambda ctx: service(ctx).get_images)
load_device_mapping = load_by_id(DEVICE_MAPPING, lambda ctx: service(ctx).get_device_mappings)
load_device_request = load_by_id(DEVICE_REQUEST, lambda ctx: service(ctx).get_device_requests)


def _containers(ctx: Context) -> DataLoader[uuid.UUID, ContainerModel | None]:
    return by_id(ctx, CONTAINER, service(ctx).get_many)


def _images(ctx: Context) -> DataLoader[uuid.UUID, model.Image | None]:
    return by_id(ctx, IMAGE, service(ctx).get_images)


def _children(ctx: Context) -> DataLoader[uuid.UUID, model.ContainerParts]:
    """Everything each container points to but its image (left as None here)."""

    async def batch(ids: Sequence[uuid.UUID]) -> list[model.ContainerParts]:
        found = await service(ctx).children_of(ids)
        return [
            model.ContainerParts(
                None,  # type: ignore[arg-type]  # not needed by the children's fields
                None,  # type: ignore[arg-type]
                found.volumes[i],
                found.networks[i],
                found.device_mappings[i],
                found.device_requests[i],
            )
            for i in ids
        ]

    return loader(ctx, "Container.children", batch)


def prime(ctx: Context, parts: model.ContainerParts) -> None:
    """A container just written answers later look-ups without reading it again."""
    _containers(ctx).prime(parts.container.id, parts.container)
    _images(ctx).prime(parts.image.id, parts.image)
    _children(ctx).prime(parts.container.id, parts)


def prime_containers(ctx: Context, containers: Sequence[ContainerModel]) -> None:
    _containers(ctx).prime_many({c.id: c for c in containers})


def _prime_page(ctx: Context, page: Page[ContainerModel]) -> None:
    prime_containers(ctx, page.items)


# --- types ------------------------------------------------------------------------------


async def _credentials_of_image(
    root: strawberry.Parent[model.Image], info: Info[Context, None]
) -> Any:
    if root.image_credentials_id is None:
        return None
    return await credentials_graphql.load(info.context, root.image_credentials_id)


def _credentials_id_of_image(root: strawberry.Parent[model.Image]) -> strawberry.ID | None:
    if root.image_credentials_id is None:
        return None
    return to_global_id(CREDENTIALS, root.image_credentials_id)


@strawberry.type(description="An image a device pulls, with the credentials it pulls it with.")
class Image(Node):
    id: strawberry.ID = global_id_field(IMAGE)
    reference: str
    image_credentials_id: strawberry.ID | None = strawberry.field(resolver=_credentials_id_of_image)
    credentials: ImageCredentials | None = relation_field(
        _credentials_of_image,
        Annotated["ImageCredentials", strawberry.lazy("edgehog_creds.credentials.graphql")] | None,
        description="Credentials to pull it: null for a public image, and after the "
        "credentials were deleted (see credentialsDeleted).",
    )
    credentials_deleted: bool = strawberry.field(
        description="True when the credentials it was pulled with were deleted: "
        "credentials is then null and a payload that needs them is refused."
    )

    is_type_of = view_of(model.Image)


def _container_of_child(root: Any, info: Info[Context, None]) -> Any:
    return load_container(info.context, root.container_id)


def _container_id_of_child(root: Any) -> strawberry.ID:
    return to_global_id(CONTAINER, root.container_id)


async def _volume_of_mount(
    root: strawberry.Parent[model.ContainerVolume], info: Info[Context, None]
) -> Any:
    volume = await volumes_graphql.load(info.context, root.volume_id)
    if volume is None:  # a volume in use cannot be deleted: never absent
        raise NotFound("volume")
    return volume


def _volume_id_of_mount(root: strawberry.Parent[model.ContainerVolume]) -> strawberry.ID:
    return to_global_id(VOLUME, root.volume_id)


@strawberry.type(description="A volume mounted into a container at a target path.")
class ContainerVolume:
    id: strawberry.ID = global_id_field("ContainerVolume")
    target: str
    volume_id: strawberry.ID = strawberry.field(resolver=_volume_id_of_mount)
    volume: Volume = relation_field(
        _volume_of_mount,
        Annotated["Volume", strawberry.lazy("edgehog_creds.volumes.graphql")],
    )


@strawberry.type(description="A host device made visible in a container.")
class DeviceMapping:
    id: strawberry.ID = global_id_field(DEVICE_MAPPING)
    path_on_host: str
    path_in_container: str
    cgroup_permissions: str
    container_id: strawberry.ID | None = strawberry.field(resolver=_container_id_of_child)
    container: Container | None = strawberry.field(
        resolver=_container_of_child,
        graphql_type=Annotated["Container", strawberry.lazy("edgehog_creds.containers.graphql")]
        | None,
    )


@strawberry.type(description="Devices (GPUs and the like) a container requests from a driver.")
class DeviceRequest:
    id: strawberry.ID = global_id_field(DEVICE_REQUEST)
    driver: str | None = strawberry.field(
        description="The device driver; when set, capabilities are not used to pick one."
    )
    count: int | None = strawberry.field(description="How many devices; -1: all.")
    device_ids: list[str] | None
    options: JsonString | None = strawberry.field(description="Driver-specific options.")
    container_id: strawberry.ID | None = strawberry.field(resolver=_container_id_of_child)
    container: Container | None = strawberry.field(
        resolver=_container_of_child,
        graphql_type=Annotated["Container", strawberry.lazy("edgehog_creds.containers.graphql")]
        | None,
    )
    capabilities: list[list[str]] | None = strawberry.field(
        description="An OR list of AND lists of capabilities."
    )


def _image_of(root: strawberry.Parent[ContainerModel], info: Info[Context, None]) -> Any:
    return _images(info.context).load(root.image_id)


async def _credentials_of_container(
    root: strawberry.Parent[ContainerModel], info: Info[Context, None]
) -> Any:
    image = await _images(info.context).load(root.image_id)
    if image is None or image.image_credentials_id is None:
        return None
    return await credentials_graphql.load(info.context, image.image_credentials_id)


async def _credentials_deleted_of_container(
    root: strawberry.Parent[ContainerModel], info: Info[Context, None]
) -> bool:
    image = await _images(info.context).load(root.image_id)
    return image is not None and image.credentials_deleted


def _image_id_of(root: strawberry.Parent[ContainerModel]) -> strawberry.ID:
    return to_global_id(IMAGE, root.image_id)


def _children_field(pick: str, node_type: Any, description: str) -> Any:
    """A connection of one kind of a container's children, paged in memory."""

    async def resolve(
        root: strawberry.Parent[ContainerModel],
        info: Info[Context, None],
        first: int | None = None,
        before: str | None = None,
        after: str | None = None,
        last: int | None = None,
    ) -> Any:
        ctx = info.context
        parts = await _children(ctx).load(root.id)
        request = page_request(info, first, last, after, before)
        return connection(service(ctx).page_of_children(pick, getattr(parts, pick), request))

    return strawberry.field(
        resolver=resolve, graphql_type=Connection[node_type], description=description
    )


async def _networks_of(
    root: strawberry.Parent[ContainerModel],
    info: Info[Context, None],
    first: int | None = None,
    before: str | None = None,
    after: str | None = None,
    last: int | None = None,
) -> Any:
    ctx = info.context
    parts = await _children(ctx).load(root.id)
    # A network in use cannot be deleted: each is found (batched in one query).
    found = await asyncio.gather(
        *(networks_graphql.load(ctx, n.network_id) for n in parts.networks)
    )
    request = page_request(info, first, last, after, before)
    return connection(service(ctx).page_of_children("networks", [n for n in found if n], request))


async def _releases_of(
    ctx: Context, ids: Sequence[uuid.UUID], query: ListQuery, request: PageRequest
) -> list[Page[Any]]:
    applications = ApplicationsService(ctx.db, ctx.user())
    return await applications.releases_of_containers(ids, query, request)


@strawberry.type(description="A container: its image and how Docker runs it. Settings are fixed.")
@add_output_fields
class Container(Node):
    id: strawberry.ID = global_id_field(CONTAINER)
    name: str
    image_id: strawberry.ID = strawberry.field(resolver=_image_id_of)
    image: model.Image = strawberry.field(resolver=_image_of, graphql_type=Image)
    image_credentials: ImageCredentials | None = relation_field(
        _credentials_of_container,
        Annotated["ImageCredentials", strawberry.lazy("edgehog_creds.credentials.graphql")] | None,
        description="The same credentials as image.credentials: null for a public image "
        "and after the credentials were deleted.",
    )
    credentials_deleted: bool = strawberry.field(
        resolver=_credentials_deleted_of_container,
        description="True when the credentials its image is pulled with were deleted: "
        "imageCredentials is then null and a payload that needs them is refused.",
    )
    releases: Connection[Release] = connection_field(
        Annotated["Release", strawberry.lazy("edgehog_creds.applications.graphql")],
        _releases_of,
        name="Container.releases",
        description="The releases that list this container, oldest first.",
    )
    networks: Any = strawberry.field(
        resolver=_networks_of,
        graphql_type=Connection[
            Annotated["Network", strawberry.lazy("edgehog_creds.networks.graphql")]
        ],
        description="The networks it joins.",
    )
    container_volumes: Any = _children_field(
        "volumes", ContainerVolume, "The volumes it mounts, by target."
    )
    device_mappings: Any = _children_field(
        "device_mappings", DeviceMapping, "Host devices it sees, in order."
    )
    device_requests: Any = _children_field(
        "device_requests", DeviceRequest, "Devices it requests, in order."
    )

    is_type_of = view_of(ContainerModel)


# --- inputs and results ------------------------------------------------------------------


@strawberry.input(description="An existing image by id, or a reference and its credentials.")
class ContainerCreateWithNestedImageInput:
    id: strawberry.ID | None = None
    image_credentials_id: strawberry.ID | None = strawberry.field(
        default=None, description="Credentials to pull it with; omit for a public image."
    )
    reference: str | None = strawberry.field(
        default=None, description="A Docker image reference: [host[:port]/]path[:tag][@digest]."
    )


@strawberry.input
class ContainerCreateWithNestedNetworksInput:
    id: strawberry.ID | None = None


@strawberry.input
class ContainerCreateWithNestedVolumesInput:
    id: strawberry.ID | None = None
    target: str | None = strawberry.field(default=None, description="Where it is mounted.")


@strawberry.input
class ContainerCreateWithNestedDeviceMappingsInput:
    cgroup_permissions: str = strawberry.field(description="Some of r, w and m, e.g. rwm.")
    path_in_container: str
    path_on_host: str


@strawberry.input
class ContainerCreateWithNestedDeviceRequestsInput:
    capabilities: list[list[str]] | None = None
    count: int | None = None
    device_ids: list[str] | None = None
    driver: str | None = None
    options: JsonString | None = None


@strawberry.input(description="A container; unset settings take Docker's defaults.")
@add_input_fields
class CreateContainerInput:
    name: str
    image: ContainerCreateWithNestedImageInput | None = None
    networks: list[ContainerCreateWithNestedNetworksInput] | None = None
    volumes: list[ContainerCreateWithNestedVolumesInput] | None = None
    device_mappings: list[ContainerCreateWithNestedDeviceMappingsInput] | None = None
    device_requests: list[ContainerCreateWithNestedDeviceRequestsInput] | None = None


@strawberry.input
class UpdateContainerInput:
    name: str | None = None


CreateContainerResult = mutation_result("CreateContainerResult", Container)
UpdateContainerResult = mutation_result("UpdateContainerResult", Container)


def _id(check: Collector, given: Any, type_name: str, field: str) -> uuid.UUID | None:
    """A global id of `type_name`, or None (with the problem noted) when it is not one."""
    if given is None:
        return None
    return check.check(from_global_id, given, type_name, field)


def _required_id(check: Collector, given: Any, type_name: str, field: str) -> uuid.UUID | None:
    """Like `_id`, but a null id is a problem too (not an item silently left out)."""
    if given is None:
        check.add(Invalid(field, "is required", code="required"))
        return None
    return _id(check, given, type_name, field)


def new_container(check: Collector, given: CreateContainerInput) -> model.NewContainer:
    """The service's input, from the API's: global ids decoded, problems collected."""
    image = None
    if given.image is not None:
        image = model.NewImage(
            id=_id(check, given.image.id, IMAGE, "image.id"),
            reference=given.image.reference,
            credentials_id=_id(
                check, given.image.image_credentials_id, CREDENTIALS, "image.image_credentials_id"
            ),
        )
    return model.NewContainer(
        name=given.name,
        image=image,
        settings=settings_of(given),
        volumes=tuple(
            model.NewVolumeMount(_id(check, v.id, VOLUME, f"volumes.{i}.id"), v.target)
            for i, v in enumerate(given.volumes or ())
        ),
        network_ids=tuple(
            _required_id(check, n.id, NETWORK, f"networks.{i}.id")
            for i, n in enumerate(given.networks or ())
        ),
        device_mappings=tuple(
            model.NewDeviceMapping(m.path_on_host, m.path_in_container, m.cgroup_permissions)
            for m in given.device_mappings or ()
        ),
        device_requests=tuple(
            model.NewDeviceRequest(
                driver=r.driver,
                count=r.count,
                device_ids=tuple(r.device_ids) if r.device_ids is not None else None,
                capabilities=tuple(tuple(c) for c in r.capabilities)
                if r.capabilities is not None
                else None,
                options=r.options,
            )
            for r in given.device_requests or ()
        ),
    )


async def _create(info: Info[Context, None], input: CreateContainerInput) -> Any:
    ctx = info.context
    containers = service(ctx)  # first: a device token is refused before any input is read
    check = Collector()
    created = await containers.create(new_container(check, input), check)
    prime(ctx, created)
    return CreateContainerResult(result=created.container)


async def _update(
    info: Info[Context, None], id: strawberry.ID, input: UpdateContainerInput | None = None
) -> Any:
    ctx = info.context
    containers = service(ctx)
    container_id = from_global_id(id, CONTAINER)
    if input is None or input.name is None:
        found = await load_container(ctx, container_id)
        if found is None:
            raise NotFound()
        return UpdateContainerResult(result=found)
    renamed = await containers.rename(container_id, input.name)
    _containers(ctx).prime(container_id, renamed, force=True)  # read before: replaced
    return UpdateContainerResult(result=renamed)


@strawberry.type
class ContainersQueries:
    container: Container | None = node_field(
        CONTAINER, Container, load_container, description="One container, or null when absent."
    )
    containers: Connection[Container] | None = list_field(
        Container,
        lambda ctx, query, request: service(ctx).list_containers(query, request),
        listing=CONTAINERS,
        on_page=_prime_page,
        description="Containers of this tenant, keyset-paginated.",
    )


@strawberry.type
class ContainersMutations:
    create_container: Any = mutation_field(
        _create,
        CreateContainerResult,
        "Create a container: its image (and the credentials to pull it), settings, "
        "volumes, networks, device mappings and requests. Releases list containers by id.",
    )
    update_container: Any = mutation_field(
        _update,
        UpdateContainerResult,
        "Rename a container; its settings never change (create a new container instead).",
    )


NODE_LOADERS = {CONTAINER: load_container, IMAGE: load_image}

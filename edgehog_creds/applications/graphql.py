"""Applications, releases, containers and images in Edgehog's dialect.

The types are views of the domain objects (applications/model.py,
domain/container.py). Every relation is read through a per-request loader,
so a list of N releases with their application, containers, images and
credentials costs a fixed number of queries:

- `Release.application`, `Container.release`, `Container.imageCredentials`
  (= `Image.credentials`): batched look-ups by id; lists prime them.
- `Release.containers`: one query reads every container of all the releases
  asked about (releases have few containers); each connection is paged in
  memory, with the same cursors and limits as any other connection.
- `Application.releases` and `ImageCredentials.containers`: connections with
  their own arguments under every parent, one keyset query for all parents.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from ..credentials import graphql as credentials_graphql
from ..credentials.model import ENTITY as CREDENTIALS
from ..domain.container import Container as ContainerModel
from ..domain.errors import Collector, NotFound
from ..domain.listing import ListQuery, Page, PageRequest
from ..engine import direct, plain
from ..graphql.context import Context
from ..graphql.fields import connection_field, list_field, node_field, relation_field
from ..graphql.listing import Id, Listing, Text
from ..graphql.loaders import by_id, load_by_id, loader
from ..graphql.relay import (
    Connection,
    Node,
    connection,
    from_global_id,
    global_id_field,
    page_request,
    view_of,
)
from ..graphql.results import mutation_field, mutation_result
from . import model
from .graphql_container import add_input_fields, add_output_fields, settings_of
from .model import APPLICATION, CONTAINER, IMAGE, RELEASE
from .service import ApplicationsService, NewContainer, credentials_field

if TYPE_CHECKING:
    from ..credentials.graphql import ImageCredentials

APPLICATIONS = Listing(
    APPLICATION,
    filters={"id": Id("id", APPLICATION), "name": Text("name"), "description": Text("description")},
    sorts=["id", "name", "inserted_at"],
)
RELEASES = Listing(
    RELEASE,
    filters={
        "id": Id("id", RELEASE),
        "version": Text("version"),
        "application_id": Id("application_id", APPLICATION),
    },
    sorts=["id", "version", "inserted_at"],
)


def service(ctx: Context) -> ApplicationsService:
    return ApplicationsService(ctx.db, ctx.user())


# --- loaders: one per relation, per request ---------------------------------------


def _applications(ctx: Context) -> DataLoader[uuid.UUID, model.Application | None]:
    return by_id(ctx, APPLICATION, service(ctx).get_applications)


def _releases(ctx: Context) -> DataLoader[uuid.UUID, model.Release | None]:
    return by_id(ctx, RELEASE, service(ctx).get_releases)


def _release_containers(ctx: Context) -> DataLoader[uuid.UUID, list[ContainerModel]]:
    async def batch(release_ids: Sequence[uuid.UUID]) -> list[list[ContainerModel]]:
        found = await service(ctx).containers_of_releases(release_ids)
        return [found[i] for i in release_ids]

    return loader(ctx, "Release.containers", batch)


async def load_application(ctx: Context, application_id: uuid.UUID) -> model.Application | None:
    return await _applications(ctx).load(application_id)


async def load_release(ctx: Context, release_id: uuid.UUID) -> model.Release | None:
    """One release of the request's tenant, or None; batched with every other
    release look-up of the request (Deployment.release and the like)."""
    return await _releases(ctx).load(release_id)


load_container = load_by_id(CONTAINER, lambda ctx: service(ctx).get_containers)


async def load_image(ctx: Context, image_id: uuid.UUID) -> model.Image | None:
    container = await by_id(ctx, IMAGE, service(ctx).get_containers_by_image).load(image_id)
    return model.Image.of(container) if container else None


def _prime_releases(ctx: Context, page: Page[model.Release]) -> None:
    # Releases read by a list also answer later look-ups by id (Container.release).
    _releases(ctx).prime_many({r.id: r for r in page.items})


def _prime_applications(ctx: Context, page: Page[model.Application]) -> None:
    _applications(ctx).prime_many({a.id: a for a in page.items})


async def _releases_of(
    ctx: Context, ids: Sequence[uuid.UUID], query: ListQuery, request: PageRequest
) -> list[Page[model.Release]]:
    return await service(ctx).releases_of_applications(ids, query, request)


# --- types ----------------------------------------------------------------------------


@strawberry.type(description="An application: what a fleet runs, one release at a time.")
class Application(Node):
    id: strawberry.ID = global_id_field(APPLICATION)
    name: str
    description: str
    releases: Connection[Release] | None = connection_field(
        Annotated["Release", strawberry.lazy("edgehog_creds.applications.graphql")],
        _releases_of,
        name="Application.releases",
        listing=RELEASES,
        on_page=_prime_releases,
        description="Its releases, keyset-paginated (oldest first by default).",
    )

    is_type_of = view_of(model.Application)


async def _application_of(
    root: strawberry.Parent[model.Release], info: Info[Context, None]
) -> model.Application:
    application = await load_application(info.context, root.application_id)
    if application is None:  # deleted since the release was read
        raise NotFound("application")
    return application


async def _containers_of(
    root: strawberry.Parent[model.Release],
    info: Info[Context, None],
    first: int | None = None,
    before: str | None = None,
    after: str | None = None,
    last: int | None = None,
) -> Connection[Any] | None:
    return await _page_of_containers(root, info, page_request(info, first, last, after, before))


def _containers_of_direct(root: model.Release, info: Any, args: dict[str, Any]) -> Any:
    request = page_request(
        info, args.get("first"), args.get("last"), args.get("after"), args.get("before")
    )
    return _page_of_containers(root, info, request)


async def _page_of_containers(
    root: model.Release, info: Any, request: PageRequest
) -> Connection[Any]:
    containers = await _release_containers(info.context).load(root.id)
    return connection(service(info.context).page_of_release(containers, request))


@strawberry.type(description="A version of an application and the containers it runs. Immutable.")
class Release(Node):
    id: strawberry.ID = global_id_field(RELEASE)
    version: str
    application: model.Application = relation_field(_application_of, Application)
    containers: Connection[Container] | None = strawberry.field(
        resolver=_containers_of,
        metadata=direct(_containers_of_direct),
        graphql_type=Connection[
            Annotated["Container", strawberry.lazy("edgehog_creds.applications.graphql")]
        ]
        | None,
        description="Its containers, in the order the release lists them.",
    )

    is_type_of = view_of(model.Release)


async def _credentials_of_image(
    root: strawberry.Parent[model.Image], info: Info[Context, None]
) -> Any:
    if root.credentials_id is None:
        return None
    return await credentials_graphql.load(info.context, root.credentials_id)


@strawberry.type(description="The image a container runs, as its release wrote it.")
class Image(Node):
    id: strawberry.ID = global_id_field(IMAGE)
    reference: str
    credentials: ImageCredentials | None = relation_field(
        _credentials_of_image,
        Annotated["ImageCredentials", strawberry.lazy("edgehog_creds.credentials.graphql")] | None,
        description="Credentials to pull it: null for a public image, and after the "
        "credentials were deleted (see Container.credentialsDeleted).",
    )

    is_type_of = view_of(model.Image)


def _image_of(root: strawberry.Parent[ContainerModel]) -> model.Image:
    return model.Image.of(root)


async def _credentials_of_container(
    root: strawberry.Parent[ContainerModel], info: Info[Context, None]
) -> Any:
    if root.image_credentials_id is None:
        return None
    return await credentials_graphql.load(info.context, root.image_credentials_id)


async def _release_of(
    root: strawberry.Parent[ContainerModel], info: Info[Context, None]
) -> model.Release:
    release = await load_release(info.context, root.release_id)
    if release is None:  # deleted since the container was read
        raise NotFound("release")
    return release


@strawberry.type(description="A container of a release: its image and how Docker runs it.")
@add_output_fields
class Container(Node):
    id: strawberry.ID = global_id_field(CONTAINER)
    image: model.Image = strawberry.field(
        resolver=_image_of, graphql_type=Image, metadata=plain(_image_of)
    )
    credentials_deleted: bool = strawberry.field(
        description="True when the credentials this container used were deleted: "
        "imageCredentials is then null and a payload that needs them is refused."
    )
    image_credentials: ImageCredentials | None = relation_field(
        _credentials_of_container,
        Annotated["ImageCredentials", strawberry.lazy("edgehog_creds.credentials.graphql")] | None,
        description="The same credentials as image.credentials: null for a public image "
        "and after the credentials were deleted.",
    )
    release: model.Release = relation_field(_release_of, Release)

    is_type_of = view_of(ContainerModel)


# --- inputs and results ------------------------------------------------------------


@strawberry.input
class CreateApplicationInput:
    name: str
    description: str | None = None


@strawberry.input
class CreateReleaseImageInput:
    reference: str = strawberry.field(
        description="A Docker image reference: [host[:port]/]path[:tag][@digest]."
    )
    image_credentials_id: strawberry.ID | None = strawberry.field(
        default=None, description="Credentials to pull it with; omit for a public image."
    )


@strawberry.input(description="A container; unset fields take Docker's defaults.")
@add_input_fields
class CreateReleaseContainerInput:
    image: CreateReleaseImageInput


@strawberry.input
class CreateReleaseInput:
    application_id: strawberry.ID
    version: str = strawberry.field(description="A Semantic Version 2.0.0, new in the application.")
    containers: list[CreateReleaseContainerInput] | None = None


CreateApplicationResult = mutation_result("CreateApplicationResult", Application)
DeleteApplicationResult = mutation_result("DeleteApplicationResult", Application)
CreateReleaseResult = mutation_result("CreateReleaseResult", Release)
DeleteReleaseResult = mutation_result("DeleteReleaseResult", Release)


async def _create_application(info: Info[Context, None], input: CreateApplicationInput) -> Any:
    created = await service(info.context).create_application(
        name=input.name, description=input.description
    )
    return CreateApplicationResult(result=created)


async def _create_release(info: Info[Context, None], input: CreateReleaseInput) -> Any:
    ctx = info.context
    applications = service(ctx)  # first: a device token is refused before any input is read
    check = Collector()
    application_id = check.check(
        from_global_id, input.application_id, APPLICATION, "application_id"
    )
    containers = []
    for i, given in enumerate(input.containers or []):
        credentials_id = None
        if given.image.image_credentials_id is not None:
            credentials_id = check.check(
                from_global_id, given.image.image_credentials_id, CREDENTIALS, credentials_field(i)
            )
        containers.append(NewContainer(given.image.reference, credentials_id, settings_of(given)))
    created = await applications.create_release(
        application_id=application_id, version=input.version, containers=containers, check=check
    )
    # The response shows the release with its containers, without reading them again.
    _releases(ctx).prime(created.release.id, created.release)
    _release_containers(ctx).prime(created.release.id, created.containers)
    return CreateReleaseResult(result=created.release)


async def _delete_release(info: Info[Context, None], id: strawberry.ID) -> Any:
    ctx = info.context
    applications = service(ctx)  # first: a device token is refused before any input is read
    release_id = from_global_id(id, RELEASE)
    deleted = await applications.delete_release(release_id)
    # The response shows the release as it was, containers included.
    _releases(ctx).prime(release_id, deleted.release)
    _release_containers(ctx).prime(release_id, deleted.containers)
    return DeleteReleaseResult(result=deleted.release)


async def _delete_application(info: Info[Context, None], id: strawberry.ID) -> Any:
    deleted = await service(info.context).delete_application(from_global_id(id, APPLICATION))
    return DeleteApplicationResult(result=deleted)


@strawberry.type
class ApplicationsQueries:
    application: Application | None = node_field(
        APPLICATION,
        Application,
        load_application,
        description="One application, or null when absent.",
    )
    list_applications: Connection[Application] | None = list_field(
        Application,
        lambda ctx, query, request: service(ctx).list_applications(query, request),
        listing=APPLICATIONS,
        on_page=_prime_applications,
        description="Applications of this tenant, keyset-paginated.",
    )
    release: Release | None = node_field(
        RELEASE, Release, load_release, description="One release, or null when absent."
    )
    list_releases: Connection[Release] | None = list_field(
        Release,
        lambda ctx, query, request: service(ctx).list_releases(query, request),
        listing=RELEASES,
        on_page=_prime_releases,
        description="Releases of every application of this tenant, keyset-paginated.",
    )


@strawberry.type
class ApplicationsMutations:
    create_application: Any = mutation_field(
        _create_application,
        CreateApplicationResult,
        "Create an application; releases are added to it later.",
    )
    create_release: Any = mutation_field(
        _create_release,
        CreateReleaseResult,
        "Create a release with its containers, all at once. Releases are "
        "immutable: to change one, create a new version.",
    )
    delete_release: Any = mutation_field(
        _delete_release,
        DeleteReleaseResult,
        "Delete a release and its containers. Refused while it is deployed.",
    )
    delete_application: Any = mutation_field(
        _delete_application,
        DeleteApplicationResult,
        "Delete an application with its releases. Refused while any of its releases is deployed.",
    )


NODE_LOADERS = {
    APPLICATION: load_application,
    RELEASE: load_release,
    CONTAINER: load_container,
    IMAGE: load_image,
}

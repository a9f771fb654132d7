"""Applications and releases in Edgehog's dialect.

The types are views of the domain objects (applications/model.py). Every
relation is read through a per-request loader, so a list of N releases with
their application, containers and dependencies costs a fixed number of queries:

- `Release.application`: batched look-ups by id; lists prime them.
- `Release.containers`, `Release.containerDependencies`: one query reads
  those of all the releases asked about (a release lists few containers);
  each connection is paged in memory, with the same cursors and limits as
  any other connection.
- `Application.releases`, `Release.deployments`, `Container.releases`:
  connections with their own arguments under every parent, one keyset query
  for all parents.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from ..containers import graphql as containers_graphql
from ..containers.model import CONTAINER
from ..deployments.service import DeploymentsService
from ..domain.errors import Collector, Invalid, NotFound
from ..domain.listing import ListQuery, Page, PageRequest
from ..engine import direct
from ..graphql.context import Context
from ..graphql.fields import connection_field, list_field, node_field, relation_field
from ..graphql.listing import Id, Listing, Relation, Text
from ..graphql.loaders import by_id, loader
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
from ..systemmodels import graphql as systemmodels_graphql
from . import model
from .model import APPLICATION, RELEASE
from .service import ApplicationsService

if TYPE_CHECKING:
    from ..containers.graphql import Container
    from ..deployments.graphql import Deployment
    from ..systemmodels.graphql import SystemModel

SYSTEM_MODEL = "SystemModel"

APPLICATIONS = Listing(
    APPLICATION,
    filters={
        "id": Id("id", APPLICATION),
        "name": Text("name"),
        "description": Text("description"),
        "releases": Relation(
            "releases",
            lambda: _releases_listing(),
            lazy=("ReleaseFilterInput", "edgehog_creds.applications.graphql"),
        ),
    },
    sorts=["id", "name", "inserted_at"],
)
RELEASES: Listing = Listing(
    RELEASE,
    filters={
        "id": Id("id", RELEASE),
        "version": Text("version"),
        "application_id": Id("application_id", APPLICATION),
        "application": Relation("application", APPLICATIONS),
        "system_models": Relation("system_models", systemmodels_graphql.SYSTEM_MODELS),
    },
    sorts=["id", "version", "application_id", "inserted_at"],
)


def _releases_listing() -> Listing:
    return RELEASES


# Named here so that ApplicationFilterInput.releases can refer to it (lazily).
ReleaseFilterInput = RELEASES.FilterInput


def service(ctx: Context) -> ApplicationsService:
    return ApplicationsService(ctx.db, ctx.user())


# --- loaders: one per relation, per request ---------------------------------------


def _applications(ctx: Context) -> DataLoader[uuid.UUID, model.Application | None]:
    return by_id(ctx, APPLICATION, service(ctx).get_applications)


def _releases(ctx: Context) -> DataLoader[uuid.UUID, model.Release | None]:
    return by_id(ctx, RELEASE, service(ctx).get_releases)


def _release_containers(ctx: Context) -> DataLoader[uuid.UUID, list[model.ContainerInRelease]]:
    async def batch(release_ids: Sequence[uuid.UUID]) -> list[list[model.ContainerInRelease]]:
        found = await service(ctx).containers_of_releases(release_ids)
        containers_graphql.prime_containers(ctx, [c for cs in found.values() for c in cs])
        return [found[i] for i in release_ids]

    return loader(ctx, "Release.containers", batch)


def _release_dependencies(
    ctx: Context,
) -> DataLoader[uuid.UUID, list[model.ContainerDependency]]:
    async def batch(release_ids: Sequence[uuid.UUID]) -> list[list[model.ContainerDependency]]:
        found = await service(ctx).dependencies_of_releases(release_ids)
        return [found[i] for i in release_ids]

    return loader(ctx, "Release.containerDependencies", batch)


async def load_application(ctx: Context, application_id: uuid.UUID) -> model.Application | None:
    return await _applications(ctx).load(application_id)


async def load_release(ctx: Context, release_id: uuid.UUID) -> model.Release | None:
    """One release of the request's tenant, or None; batched with every other
    release look-up of the request (Deployment.release and the like)."""
    return await _releases(ctx).load(release_id)


def _prime_releases(ctx: Context, page: Page[model.Release]) -> None:
    # Releases read by a list also answer later look-ups by id.
    _releases(ctx).prime_many({r.id: r for r in page.items})


def _prime_applications(ctx: Context, page: Page[model.Application]) -> None:
    _applications(ctx).prime_many({a.id: a for a in page.items})


def prime_release(ctx: Context, created: model.ReleaseWithContainers) -> None:
    """A release just written (or deleted) answers with its containers, unread again."""
    _releases(ctx).prime(created.release.id, created.release)
    _release_containers(ctx).prime(created.release.id, created.containers)


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
    releases: Connection[Release] = connection_field(
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
) -> Connection[Any]:
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


async def _dependencies_of(
    root: strawberry.Parent[model.Release],
    info: Info[Context, None],
    first: int | None = None,
    before: str | None = None,
    after: str | None = None,
    last: int | None = None,
) -> Connection[Any]:
    found = await _release_dependencies(info.context).load(root.id)
    request = page_request(info, first, last, after, before)
    return connection(service(info.context).page_of_dependencies(found, request))


async def _deployments_of(
    ctx: Context, ids: Sequence[uuid.UUID], _query: ListQuery, request: PageRequest
) -> list[Page[Any]]:
    return await DeploymentsService(ctx.db, ctx.user()).of_releases(ids, request)


def _application_id_of(root: strawberry.Parent[model.Release]) -> strawberry.ID:
    return to_global_id(APPLICATION, root.application_id)


def _release_system_models(ctx: Context) -> DataLoader[uuid.UUID, list[uuid.UUID]]:
    async def batch(release_ids: Sequence[uuid.UUID]) -> list[list[uuid.UUID]]:
        found = await service(ctx).system_models_of_releases(release_ids)
        return [found[i] for i in release_ids]

    return loader(ctx, "Release.systemModels", batch)


async def _system_models_of(
    root: strawberry.Parent[model.Release], info: Info[Context, None]
) -> list[Any]:
    ids = await _release_system_models(info.context).load(root.id)
    found = await asyncio.gather(
        *(systemmodels_graphql.load_system_model(info.context, i) for i in ids)
    )
    return [m for m in found if m is not None]


@strawberry.type(description="A version of an application and the containers it runs. Immutable.")
class Release(Node):
    id: strawberry.ID = global_id_field(RELEASE)
    version: str
    application_id: strawberry.ID | None = strawberry.field(resolver=_application_id_of)
    application: model.Application = relation_field(_application_of, Application)
    containers: Connection[Container] = strawberry.field(
        resolver=_containers_of,
        metadata=direct(_containers_of_direct),
        graphql_type=Connection[
            Annotated["Container", strawberry.lazy("edgehog_creds.containers.graphql")]
        ],
        description="Its containers, in the order the release lists them.",
    )
    container_dependencies: Connection[ReleaseContainerDependencies] = strawberry.field(
        resolver=_dependencies_of,
        graphql_type=Connection[
            Annotated[
                "ReleaseContainerDependencies",
                strawberry.lazy("edgehog_creds.applications.graphql"),
            ]
        ],
        description="Which of its containers start after which.",
    )
    deployments: Connection[Deployment] = connection_field(
        Annotated["Deployment", strawberry.lazy("edgehog_creds.deployments.graphql")],
        _deployments_of,
        name="Release.deployments",
        description="Where it is deployed, oldest first.",
    )
    system_models: Any = strawberry.field(
        resolver=_system_models_of,
        graphql_type=list[
            Annotated["SystemModel", strawberry.lazy("edgehog_creds.systemmodels.graphql")]
        ],
        description="The system models it requires; none: any device may run it.",
    )

    is_type_of = view_of(model.Release)


async def _container_of_dependency(
    root: strawberry.Parent[model.ContainerDependency], info: Info[Context, None]
) -> Any:
    return await containers_graphql.load_container(info.context, root.container_id)


async def _dependency_of_dependency(
    root: strawberry.Parent[model.ContainerDependency], info: Info[Context, None]
) -> Any:
    return await containers_graphql.load_container(info.context, root.dependency_id)


@strawberry.type(description="In a release, `container` starts after `dependency`.")
class ReleaseContainerDependencies:
    id: strawberry.ID = global_id_field("ReleaseContainerDependencies")
    # A container in a release cannot be deleted: both are always there.
    container: Container = strawberry.field(
        resolver=_container_of_dependency,
        graphql_type=Annotated["Container", strawberry.lazy("edgehog_creds.containers.graphql")],
    )
    dependency: Container = strawberry.field(
        resolver=_dependency_of_dependency,
        graphql_type=Annotated["Container", strawberry.lazy("edgehog_creds.containers.graphql")],
    )


# --- inputs and results ------------------------------------------------------------


@strawberry.input
class ReleaseCreateContainersInput:
    id: strawberry.ID | None = None


@strawberry.input(description="`containerId` starts after `dependencyId`.")
class ReleaseCreateContainerDependenciesInput:
    container_id: strawberry.ID
    dependency_id: strawberry.ID


@strawberry.input
class ReleaseCreateRequiredSystemModelsInput:
    id: strawberry.ID | None = None


@strawberry.input
class CreateReleaseInput:
    version: str = strawberry.field(description="A Semantic Version 2.0.0, new in the application.")
    application_id: strawberry.ID | None = None
    containers: list[ReleaseCreateContainersInput] | None = strawberry.field(
        default=None, description="Existing containers, by id, in the order they are listed."
    )
    container_dependencies: list[ReleaseCreateContainerDependenciesInput] | None = None
    required_system_models: list[ReleaseCreateRequiredSystemModelsInput] | None = None


@strawberry.input
class ApplicationCreateInitialReleaseInput:
    container_dependencies: list[ReleaseCreateContainerDependenciesInput] | None = None
    containers: list[ReleaseCreateContainersInput] | None = None
    required_system_models: list[ReleaseCreateRequiredSystemModelsInput] | None = None
    version: str


@strawberry.input
class CreateApplicationInput:
    name: str
    description: str | None = None
    initial_release: ApplicationCreateInitialReleaseInput | None = None
    system_model_id: strawberry.ID | None = strawberry.field(
        default=None, description="Accepted as Edgehog accepts it, and not used."
    )


CreateApplicationResult = mutation_result("CreateApplicationResult", Application)
DeleteApplicationResult = mutation_result("DeleteApplicationResult", Application)
CreateReleaseResult = mutation_result("CreateReleaseResult", Release)
DeleteReleaseResult = mutation_result("DeleteReleaseResult", Release)


def _id(check: Collector, given: Any, type_name: str, field: str) -> uuid.UUID | None:
    if given is None:
        return None
    return check.check(from_global_id, given, type_name, field)


def _required_id(check: Collector, given: Any, type_name: str, field: str) -> uuid.UUID | None:
    """Like `_id`, but a null id is a problem too (not an item silently left out)."""
    if given is None:
        check.add(Invalid(field, "is required", code="required"))
        return None
    return _id(check, given, type_name, field)


def new_release(
    check: Collector, prefix: str, given: CreateReleaseInput | ApplicationCreateInitialReleaseInput
) -> model.NewRelease:
    """The service's input, from the API's: global ids decoded, problems collected."""
    return model.NewRelease(
        version=given.version,
        container_ids=tuple(
            _required_id(check, c.id, CONTAINER, f"{prefix}containers.{i}.id")
            for i, c in enumerate(given.containers or ())
        ),
        dependencies=tuple(
            (
                _id(
                    check,
                    d.container_id,
                    CONTAINER,
                    f"{prefix}container_dependencies.{i}.container_id",
                ),
                _id(
                    check,
                    d.dependency_id,
                    CONTAINER,
                    f"{prefix}container_dependencies.{i}.dependency_id",
                ),
            )
            for i, d in enumerate(given.container_dependencies or ())
        ),
        system_model_ids=tuple(
            _id(check, m.id, SYSTEM_MODEL, f"{prefix}required_system_models.{i}.id")
            for i, m in enumerate(given.required_system_models or ())
        ),
    )


async def _create_application(info: Info[Context, None], input: CreateApplicationInput) -> Any:
    ctx = info.context
    applications = service(ctx)  # first: a device token is refused before any input is read
    check = Collector()
    initial = None
    if input.initial_release is not None:
        initial = new_release(check, "initial_release.", input.initial_release)
    created, release = await applications.create_application(
        name=input.name, description=input.description, initial_release=initial, check=check
    )
    if release is not None:
        prime_release(ctx, release)
    return CreateApplicationResult(result=created)


async def _create_release(info: Info[Context, None], input: CreateReleaseInput) -> Any:
    ctx = info.context
    applications = service(ctx)  # first: a device token is refused before any input is read
    check = Collector()
    application_id = _id(check, input.application_id, APPLICATION, "application_id")
    created = await applications.create_release(
        application_id, new_release(check, "", input), check
    )
    # The response shows the release with its containers, without reading them again.
    prime_release(ctx, created)
    return CreateReleaseResult(result=created.release)


async def _delete_release(info: Info[Context, None], id: strawberry.ID) -> Any:
    ctx = info.context
    applications = service(ctx)  # first: a device token is refused before any input is read
    deleted = await applications.delete_release(from_global_id(id, RELEASE))
    # The response shows the release as it was, containers included.
    prime_release(ctx, deleted)
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
    applications: Connection[Application] | None = list_field(
        Application,
        lambda ctx, query, request: service(ctx).list_applications(query, request),
        listing=APPLICATIONS,
        on_page=_prime_applications,
        description="Applications of this tenant, keyset-paginated.",
    )
    release: Release | None = node_field(
        RELEASE, Release, load_release, description="One release, or null when absent."
    )


@strawberry.type
class ApplicationsMutations:
    create_application: Any = mutation_field(
        _create_application,
        CreateApplicationResult,
        "Create an application, with its first release if `initialRelease` is given.",
    )
    create_release: Any = mutation_field(
        _create_release,
        CreateReleaseResult,
        "Create a release listing existing containers by id. Releases are "
        "immutable: to change one, create a new version.",
    )
    delete_release: Any = mutation_field(
        _delete_release,
        DeleteReleaseResult,
        "Delete a release (its containers stay). Refused while it is deployed.",
    )
    delete_application: Any = mutation_field(
        _delete_application,
        DeleteApplicationResult,
        "Delete an application with its releases. Refused while any of its releases is deployed.",
    )


NODE_LOADERS = {APPLICATION: load_application, RELEASE: load_release}

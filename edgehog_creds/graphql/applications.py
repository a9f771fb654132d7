"""Applications, releases, containers and images: types, queries and mutations.

Every relation is read through a per-request DataLoader, so a list of N
releases with their application, containers, images and credentials costs a
fixed number of queries:

- `Release.application`, `Container.release`, `Container.imageCredentials`
  (= `Image.credentials`): batched look-ups by id.
- `Release.containers`: one query fetches every container of all the
  releases asked about (releases have few containers); each connection is
  then paged in memory over its release's list, with the same cursors and
  limits as any other connection (`relay.paginate_list`).
- `Application.releases` and `ImageCredentials.containers`: connections with
  their own sort, filter and page under every parent; `relay.paginate_many`
  runs one keyset query for all parents (a LATERAL join per parent key).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from enum import Enum

import asyncpg
import strawberry
from strawberry.dataloader import DataLoader
from strawberry.types import Info

from .. import container_rules as rules
from .. import validate
from ..docker_auth import InvalidImageReference, parse_image_reference
from ..errors import Invalid, NotFound, raise_all
from ..store import applications as application_store
from ..store import containers as container_store
from ..store import releases as release_store
from ..store.containers import ContainerSpec, EnvVar
from ..store.query import ListQuery, SortKey
from .context import Context
from .filters import IdFilter, StringFilter, to_filter
from .image_credentials import TYPE as CREDENTIALS_TYPE
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
    paginate_list,
    sort_key,
    to_global_id,
)
from .results import MutationError
from .scalars import BigInt

APPLICATION = "Application"
RELEASE = "Release"
CONTAINER = "Container"
IMAGE = "Image"
MAX_DESCRIPTION = 4096

# Containers are paged by their place in the release, which is unique there.
CONTAINER_SORT = [SortKey(container_store.POSITION)]


# --- loaders ------------------------------------------------------------------------
# Named "applications.*" so that no other module's loader can collide with them.


async def _batch_applications(ctx: Context, ids: Sequence[uuid.UUID]) -> list[Application | None]:
    async with ctx.pool.acquire() as conn:
        found = await application_store.get_many(conn, ctx.tenant.id, list(ids))
    return [Application.from_store(found[i]) if i in found else None for i in ids]


async def _batch_releases(ctx: Context, ids: Sequence[uuid.UUID]) -> list[Release | None]:
    async with ctx.pool.acquire() as conn:
        found = await release_store.get_many(conn, ctx.tenant.id, list(ids))
    return [Release.from_store(found[i]) if i in found else None for i in ids]


async def _batch_release_containers(
    ctx: Context, release_ids: Sequence[uuid.UUID]
) -> list[list[container_store.Container]]:
    async with ctx.pool.acquire() as conn:
        found = await container_store.of_releases(conn, ctx.tenant.id, list(release_ids))
    return [found[i] for i in release_ids]


async def _batch_containers(ctx: Context, ids: Sequence[uuid.UUID]) -> list[Container | None]:
    async with ctx.pool.acquire() as conn:
        found = await container_store.get_many(conn, ctx.tenant.id, list(ids))
    return [Container.from_store(found[i]) if i in found else None for i in ids]


async def _batch_images(ctx: Context, image_ids: Sequence[uuid.UUID]) -> list[Image | None]:
    async with ctx.pool.acquire() as conn:
        found = await container_store.get_many_by_image(conn, ctx.tenant.id, list(image_ids))
    return [Image.from_store(found[i]) if i in found else None for i in image_ids]


def _applications(ctx: Context) -> DataLoader[uuid.UUID, Application | None]:
    return loader(ctx, "applications.Application", _batch_applications)


def _releases(ctx: Context) -> DataLoader[uuid.UUID, Release | None]:
    return loader(ctx, "applications.Release", _batch_releases)


def _release_containers(ctx: Context) -> DataLoader[uuid.UUID, list[container_store.Container]]:
    return loader(ctx, "applications.Release.containers", _batch_release_containers)


def _containers(ctx: Context) -> DataLoader[uuid.UUID, Container | None]:
    return loader(ctx, "applications.Container", _batch_containers)


def _images(ctx: Context) -> DataLoader[uuid.UUID, Image | None]:
    return loader(ctx, "applications.Image", _batch_images)


async def load_application(ctx: Context, application_id: uuid.UUID) -> Application | None:
    return await _applications(ctx).load(application_id)


async def load_release(ctx: Context, release_id: uuid.UUID) -> Release | None:
    """One release of the request's tenant, or None; batched with every other
    release look-up of the request (for Deployment.release and the like)."""
    return await _releases(ctx).load(release_id)


async def load_container(ctx: Context, container_id: uuid.UUID) -> Container | None:
    return await _containers(ctx).load(container_id)


async def load_image(ctx: Context, image_id: uuid.UUID) -> Image | None:
    return await _images(ctx).load(image_id)


async def _load_credentials(
    ctx: Context, credentials_id: uuid.UUID | None
) -> ImageCredentials | None:
    if credentials_id is None:
        return None
    return await load_credentials(ctx, credentials_id)


NODE_LOADERS = {
    APPLICATION: load_application,
    RELEASE: load_release,
    CONTAINER: load_container,
    IMAGE: load_image,
}


# --- sorting and filtering ------------------------------------------------------------


@strawberry.enum
class ApplicationSortField(Enum):
    ID = "id"
    NAME = "name"
    INSERTED_AT = "inserted_at"


@strawberry.input
class ApplicationSortInput:
    field: ApplicationSortField
    order: SortOrder | None = SortOrder.ASC


@strawberry.input
class ApplicationFilterId(IdFilter):
    pass


@strawberry.input
class ApplicationFilterName(StringFilter):
    pass


@strawberry.input
class ApplicationFilterDescription(StringFilter):
    pass


@strawberry.input
class ApplicationFilterInput:
    and_: list[ApplicationFilterInput] | None = strawberry.field(name="and", default=None)
    or_: list[ApplicationFilterInput] | None = strawberry.field(name="or", default=None)
    not_: list[ApplicationFilterInput] | None = strawberry.field(name="not", default=None)
    id: ApplicationFilterId | None = None
    name: ApplicationFilterName | None = None
    description: ApplicationFilterDescription | None = None


@strawberry.enum
class ReleaseSortField(Enum):
    ID = "id"
    VERSION = "version"
    INSERTED_AT = "inserted_at"


@strawberry.input
class ReleaseSortInput:
    field: ReleaseSortField
    order: SortOrder | None = SortOrder.ASC


@strawberry.input
class ReleaseFilterId(IdFilter):
    pass


@strawberry.input
class ReleaseFilterVersion(StringFilter):
    pass


@strawberry.input
class ReleaseFilterApplicationId(IdFilter):
    pass


@strawberry.input
class ReleaseFilterInput:
    and_: list[ReleaseFilterInput] | None = strawberry.field(name="and", default=None)
    or_: list[ReleaseFilterInput] | None = strawberry.field(name="or", default=None)
    not_: list[ReleaseFilterInput] | None = strawberry.field(name="not", default=None)
    id: ReleaseFilterId | None = None
    version: ReleaseFilterVersion | None = None
    application_id: ReleaseFilterApplicationId | None = None


def _application_query(
    ctx: Context,
    sort: list[ApplicationSortInput | None] | None,
    filter: ApplicationFilterInput | None,
) -> ListQuery:
    keys = [sort_key(application_store.SORTABLE[s.field.value], s.order) for s in sort or [] if s]
    where = to_filter(
        filter,
        application_store.FILTERABLE,
        {"id": id_filter(APPLICATION, "filter.id")},
    )
    return application_store.list_query(ctx.tenant.id, where, keys)


def _release_query(
    ctx: Context,
    sort: list[ReleaseSortInput | None] | None,
    filter: ReleaseFilterInput | None,
) -> ListQuery:
    keys = [sort_key(release_store.SORTABLE[s.field.value], s.order) for s in sort or [] if s]
    where = to_filter(
        filter,
        release_store.FILTERABLE,
        {
            "id": id_filter(RELEASE, "filter.id"),
            "application_id": id_filter(APPLICATION, "filter.applicationId"),
        },
    )
    return release_store.list_query(ctx.tenant.id, where, keys)


def _release_node(ctx: Context) -> Callable[[asyncpg.Record], Release]:
    """Releases read by a list also answer later look-ups by id (Container.release)."""
    cache = _releases(ctx)

    def to_node(row: asyncpg.Record) -> Release:
        release = Release.from_store(release_store.from_row(row))
        cache.prime(release._uuid, release)
        return release

    return to_node


def _container_node(row: asyncpg.Record) -> Container:
    return Container.from_store(container_store.from_row(row))


# --- types ----------------------------------------------------------------------------


@strawberry.type(description="An application: what a fleet runs, one release at a time.")
class Application(Node):
    name: str
    description: str
    _uuid: strawberry.Private[uuid.UUID]

    @classmethod
    def from_store(cls, row: application_store.Application) -> Application:
        return cls(
            id=to_global_id(APPLICATION, row.id),
            name=row.name,
            description=row.description,
            _uuid=row.id,
        )

    @strawberry.field(description="Its releases, keyset-paginated (oldest first by default).")
    async def releases(
        self,
        info: Info[Context, None],
        sort: list[ReleaseSortInput | None] | None = None,
        filter: ReleaseFilterInput | None = None,
        first: int | None = None,
        before: str | None = None,
        after: str | None = None,
        last: int | None = None,
    ) -> Connection[Release] | None:
        ctx = info.context
        query = _release_query(ctx, sort, filter)
        args = page_args(info, first, last, after, before)

        # Every application listed with the same arguments shares one query.
        pages = page_per_parent(
            ctx,
            "applications.Application.releases",
            query,
            release_store.APPLICATION_ID,
            args,
            _release_node(ctx),
        )
        return await pages.load(self._uuid)


@strawberry.type(description="A version of an application and the containers it runs. Immutable.")
class Release(Node):
    version: str
    _uuid: strawberry.Private[uuid.UUID]
    _application_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_store(cls, row: release_store.Release) -> Release:
        return cls(
            id=to_global_id(RELEASE, row.id),
            version=row.version,
            _uuid=row.id,
            _application_id=row.application_id,
        )

    @strawberry.field
    async def application(self, info: Info[Context, None]) -> Application:
        application = await _applications(info.context).load(self._application_id)
        if application is None:  # deleted since the release was read
            raise NotFound("application")
        return application

    @strawberry.field(description="Its containers, in the order the release lists them.")
    async def containers(
        self,
        info: Info[Context, None],
        first: int | None = None,
        before: str | None = None,
        after: str | None = None,
        last: int | None = None,
    ) -> Connection[Container] | None:
        items = await _release_containers(info.context).load(self._uuid)
        return paginate_list(
            items,
            CONTAINER_SORT,
            page_args(info, first, last, after, before),
            lambda c: {"position": c.position},
            Container.from_store,
        )


@strawberry.type(description="One environment variable of a container.")
class ContainerEnv:
    key: str
    value: str


@strawberry.type(description="The image a container runs, as its release wrote it.")
class Image(Node):
    reference: str
    _credentials_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_store(cls, row: container_store.Container) -> Image:
        return cls(
            id=to_global_id(IMAGE, row.image_id),
            reference=row.image_reference,
            _credentials_id=row.image_credentials_id,
        )

    @strawberry.field(
        description="Credentials to pull it: null for a public image, and after the "
        "credentials were deleted (see Container.credentialsDeleted)."
    )
    async def credentials(self, info: Info[Context, None]) -> ImageCredentials | None:
        return await _load_credentials(info.context, self._credentials_id)


@strawberry.type(description="A container of a release: its image and how Docker runs it.")
class Container(Node):
    image: Image
    credentials_deleted: bool = strawberry.field(
        description="True when the credentials this container used were deleted: "
        "imageCredentials is then null and a payload that needs them is refused."
    )
    hostname: str
    restart_policy: str
    env: list[ContainerEnv]
    port_bindings: list[str]
    binds: list[str]
    network_mode: str
    extra_hosts: list[str]
    cap_add: list[str]
    cap_drop: list[str]
    privileged: bool
    read_only_rootfs: bool
    # 64-bit limits; null means unset (a device payload sends -1).
    cpu_period: BigInt | None
    cpu_quota: BigInt | None
    cpu_realtime_period: BigInt | None
    cpu_realtime_runtime: BigInt | None
    memory: BigInt | None
    memory_reservation: BigInt | None
    memory_swap: BigInt | None
    memory_swappiness: int | None
    volume_driver: str
    storage_opt: list[str]
    tmpfs: list[str]
    _uuid: strawberry.Private[uuid.UUID]
    _release_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_store(cls, row: container_store.Container) -> Container:
        return cls(
            id=to_global_id(CONTAINER, row.id),
            image=Image.from_store(row),
            credentials_deleted=row.credentials_deleted,
            hostname=row.hostname,
            restart_policy=row.restart_policy,
            env=[ContainerEnv(key=e.key, value=e.value) for e in row.env],
            port_bindings=list(row.port_bindings),
            binds=list(row.binds),
            network_mode=row.network_mode,
            extra_hosts=list(row.extra_hosts),
            cap_add=list(row.cap_add),
            cap_drop=list(row.cap_drop),
            privileged=row.privileged,
            read_only_rootfs=row.read_only_rootfs,
            cpu_period=row.cpu_period,
            cpu_quota=row.cpu_quota,
            cpu_realtime_period=row.cpu_realtime_period,
            cpu_realtime_runtime=row.cpu_realtime_runtime,
            memory=row.memory,
            memory_reservation=row.memory_reservation,
            memory_swap=row.memory_swap,
            memory_swappiness=row.memory_swappiness,
            volume_driver=row.volume_driver,
            storage_opt=list(row.storage_opt),
            tmpfs=list(row.tmpfs),
            _uuid=row.id,
            _release_id=row.release_id,
        )

    @strawberry.field(
        description="The same credentials as image.credentials: null for a public image "
        "and after the credentials were deleted."
    )
    async def image_credentials(self, info: Info[Context, None]) -> ImageCredentials | None:
        return await _load_credentials(info.context, self.image._credentials_id)

    @strawberry.field
    async def release(self, info: Info[Context, None]) -> Release:
        release = await _releases(info.context).load(self._release_id)
        if release is None:  # deleted since the container was read
            raise NotFound("release")
        return release


async def containers_using_credentials(
    ctx: Context, credentials_id: uuid.UUID, args: PageArgs
) -> Connection[Container]:
    """`ImageCredentials.containers`: the containers that use these credentials,
    oldest first, batched over every credentials object of the request."""
    query = container_store.list_query(ctx.tenant.id)

    pages = page_per_parent(
        ctx,
        "applications.ImageCredentials.containers",
        query,
        container_store.IMAGE_CREDENTIALS_ID,
        args,
        _container_node,
    )
    return await pages.load(credentials_id)


# --- inputs and results -------------------------------------------------------------


@strawberry.input
class CreateApplicationInput:
    name: str
    description: str | None = None


@strawberry.input
class ContainerEnvInput:
    key: str
    value: str


@strawberry.input
class CreateReleaseImageInput:
    reference: str = strawberry.field(
        description="A Docker image reference: [host[:port]/]path[:tag][@digest]."
    )
    image_credentials_id: strawberry.ID | None = strawberry.field(
        default=None, description="Credentials to pull it with; omit for a public image."
    )


@strawberry.input(description="A container; unset fields take Docker's defaults.")
class CreateReleaseContainerInput:
    image: CreateReleaseImageInput
    hostname: str | None = None
    restart_policy: str | None = strawberry.field(
        default=None, description='"", "no", "always", "on-failure" or "unless-stopped".'
    )
    env: list[ContainerEnvInput] | None = None
    port_bindings: list[str] | None = None
    binds: list[str] | None = None
    network_mode: str | None = None
    extra_hosts: list[str] | None = None
    cap_add: list[str] | None = None
    cap_drop: list[str] | None = None
    privileged: bool | None = None
    read_only_rootfs: bool | None = None
    cpu_period: BigInt | None = None
    cpu_quota: BigInt | None = None
    cpu_realtime_period: BigInt | None = None
    cpu_realtime_runtime: BigInt | None = None
    memory: BigInt | None = None
    memory_reservation: BigInt | None = None
    memory_swap: BigInt | None = None
    memory_swappiness: int | None = None
    volume_driver: str | None = None
    storage_opt: list[str] | None = None
    tmpfs: list[str] | None = None


@strawberry.input
class CreateReleaseInput:
    application_id: strawberry.ID
    version: str = strawberry.field(description="A Semantic Version 2.0.0, new in the application.")
    containers: list[CreateReleaseContainerInput] | None = None


@strawberry.type
class CreateApplicationResult:
    result: Application | None
    errors: list[MutationError]


@strawberry.type
class DeleteApplicationResult:
    result: Application | None
    errors: list[MutationError]


@strawberry.type
class CreateReleaseResult:
    result: Release | None
    errors: list[MutationError]


@strawberry.type
class DeleteReleaseResult:
    result: Release | None
    errors: list[MutationError]


# --- release input checks ---------------------------------------------------------------


def _image_reference(field: str, value: str) -> str:
    try:
        parse_image_reference(value)
    except InvalidImageReference as exc:
        # The parser's reason ("repository name must be lowercase") is the part
        # after its last ": "; references are not secret.
        reason = str(exc).rsplit(": ", 1)[-1]
        raise Invalid(field, f"is not a valid Docker image reference: {reason}") from exc
    return value  # stored exactly as written: that is what the device pulls


def _each(
    check: validate.Collector,
    field: str,
    values: list[str] | None,
    rule: Callable[[str, str], str],
) -> tuple[str, ...]:
    return tuple(check.check(rule, f"{field}.{i}", v) or "" for i, v in enumerate(values or []))


def _container_spec(
    check: validate.Collector, path: str, given: CreateReleaseContainerInput
) -> tuple[ContainerSpec, uuid.UUID | None]:
    """The container as stored, and its credentials id (None: none, or undecodable).

    Problems go to `check`, named by their path in the input; the spec is
    only used when there are none.
    """
    reference = check.check(_image_reference, f"{path}.image.reference", given.image.reference)
    credentials_id = None
    if given.image.image_credentials_id is not None:
        credentials_id = check.check(
            from_global_id,
            given.image.image_credentials_id,
            CREDENTIALS_TYPE,
            f"{path}.image.imageCredentialsId",
        )
    env: list[EnvVar] = []
    seen: set[str] = set()
    for i, var in enumerate(given.env or []):
        key = check.check(rules.env_key, f"{path}.env.{i}.key", var.key)
        value = check.check(rules.env_value, f"{path}.env.{i}.value", var.value)
        if key is not None and key in seen:
            check.add(Invalid(f"{path}.env.{i}.key", "is set more than once"))
        seen.add(key or "")
        env.append(EnvVar(key or "", value or ""))

    def limit(name: str, value: int | None) -> int | None:
        return check.check(rules.limit, f"{path}.{name}", value)

    spec = ContainerSpec(
        image_reference=reference or "",
        image_credentials_id=credentials_id,
        hostname=check.check(rules.hostname, f"{path}.hostname", given.hostname) or "",
        restart_policy=check.check(
            rules.restart_policy, f"{path}.restartPolicy", given.restart_policy
        )
        or "",
        env=tuple(env),
        port_bindings=_each(check, f"{path}.portBindings", given.port_bindings, rules.port_binding),
        binds=_each(check, f"{path}.binds", given.binds, rules.bind),
        network_mode=check.check(rules.text, f"{path}.networkMode", given.network_mode) or "",
        extra_hosts=_each(check, f"{path}.extraHosts", given.extra_hosts, rules.extra_host),
        cap_add=_each(check, f"{path}.capAdd", given.cap_add, rules.capability),
        cap_drop=_each(check, f"{path}.capDrop", given.cap_drop, rules.capability),
        privileged=bool(given.privileged),
        read_only_rootfs=bool(given.read_only_rootfs),
        cpu_period=limit("cpuPeriod", given.cpu_period),
        cpu_quota=limit("cpuQuota", given.cpu_quota),
        cpu_realtime_period=limit("cpuRealtimePeriod", given.cpu_realtime_period),
        cpu_realtime_runtime=limit("cpuRealtimeRuntime", given.cpu_realtime_runtime),
        memory=limit("memory", given.memory),
        memory_reservation=limit("memoryReservation", given.memory_reservation),
        memory_swap=limit("memorySwap", given.memory_swap),
        memory_swappiness=check.check(
            rules.swappiness, f"{path}.memorySwappiness", given.memory_swappiness
        ),
        volume_driver=check.check(rules.text, f"{path}.volumeDriver", given.volume_driver) or "",
        storage_opt=_each(check, f"{path}.storageOpt", given.storage_opt, rules.storage_opt),
        tmpfs=_each(check, f"{path}.tmpfs", given.tmpfs, rules.tmpfs),
    )
    return spec, credentials_id


# --- queries and mutations --------------------------------------------------------------


@strawberry.type
class ApplicationsQueries:
    @strawberry.field(description="One application, or null when absent.")
    async def application(self, info: Info[Context, None], id: strawberry.ID) -> Application | None:
        info.context.require_user()
        return await load_application(info.context, from_global_id(id, APPLICATION))

    @strawberry.field(description="Applications of this tenant, keyset-paginated.")
    async def list_applications(
        self,
        info: Info[Context, None],
        sort: list[ApplicationSortInput | None] | None = None,
        filter: ApplicationFilterInput | None = None,
        first: int | None = None,
        before: str | None = None,
        after: str | None = None,
        last: int | None = None,
    ) -> Connection[Application] | None:
        ctx = info.context
        ctx.require_user()
        cache = _applications(ctx)

        def to_node(row: asyncpg.Record) -> Application:
            application = Application.from_store(application_store.from_row(row))
            cache.prime(application._uuid, application)
            return application

        return await paginate(
            ctx.pool,
            _application_query(ctx, sort, filter),
            page_args(info, first, last, after, before),
            to_node,
        )

    @strawberry.field(description="One release, or null when absent.")
    async def release(self, info: Info[Context, None], id: strawberry.ID) -> Release | None:
        info.context.require_user()
        return await load_release(info.context, from_global_id(id, RELEASE))

    @strawberry.field(description="Releases of every application of this tenant, keyset-paginated.")
    async def list_releases(
        self,
        info: Info[Context, None],
        sort: list[ReleaseSortInput | None] | None = None,
        filter: ReleaseFilterInput | None = None,
        first: int | None = None,
        before: str | None = None,
        after: str | None = None,
        last: int | None = None,
    ) -> Connection[Release] | None:
        ctx = info.context
        ctx.require_user()
        return await paginate(
            ctx.pool,
            _release_query(ctx, sort, filter),
            page_args(info, first, last, after, before),
            _release_node(ctx),
        )


@strawberry.type
class ApplicationsMutations:
    @strawberry.mutation(description="Create an application; releases are added to it later.")
    async def create_application(
        self, info: Info[Context, None], input: CreateApplicationInput
    ) -> CreateApplicationResult | None:
        ctx = info.context
        ctx.require_user()
        check = validate.Collector()
        name = check.check(validate.text, "name", input.name)
        description = check.check(
            validate.optional_text, "description", input.description, max_length=MAX_DESCRIPTION
        )
        raise_all(check.errors)
        assert name is not None and description is not None
        async with ctx.pool.acquire() as conn:
            row = await application_store.create(
                conn, ctx.tenant.id, name=name, description=description, actor=ctx.actor
            )
        return CreateApplicationResult(result=Application.from_store(row), errors=[])

    @strawberry.mutation(
        description="Create a release with its containers, all at once. Releases are "
        "immutable: to change one, create a new version."
    )
    async def create_release(
        self, info: Info[Context, None], input: CreateReleaseInput
    ) -> CreateReleaseResult | None:
        ctx = info.context
        ctx.require_user()
        check = validate.Collector()
        application_id = check.check(
            from_global_id, input.application_id, APPLICATION, "applicationId"
        )
        version = check.check(validate.semver, "version", input.version)
        specs: list[ContainerSpec] = []
        credentials_ids: list[uuid.UUID | None] = []
        for i, given in enumerate(input.containers or []):
            spec, credentials_id = _container_spec(check, f"containers.{i}", given)
            specs.append(spec)
            credentials_ids.append(credentials_id)

        async with ctx.pool.acquire() as conn:
            if check.errors:
                # Report every problem of the input at once, including those
                # only the database knows (unknown ids, a version taken).
                check.errors.extend(
                    await release_store.problems(
                        conn,
                        ctx.tenant.id,
                        application_id=application_id,
                        version=version,
                        credentials_ids=credentials_ids,
                    )
                )
                raise_all(check.errors)
            assert application_id is not None and version is not None
            release, containers = await release_store.create(
                conn,
                ctx.tenant.id,
                application_id=application_id,
                version=version,
                specs=specs,
                actor=ctx.actor,
            )
        node = Release.from_store(release)
        _releases(ctx).prime(release.id, node)
        _release_containers(ctx).prime(release.id, containers)
        return CreateReleaseResult(result=node, errors=[])

    @strawberry.mutation(
        description="Delete a release and its containers. Refused while it is deployed."
    )
    async def delete_release(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> DeleteReleaseResult | None:
        ctx = info.context
        ctx.require_user()
        release_id = from_global_id(id, RELEASE)
        async with ctx.pool.acquire() as conn:
            deleted = await release_store.delete(conn, ctx.tenant.id, release_id, actor=ctx.actor)
        if deleted is None:
            raise NotFound()
        node = Release.from_store(deleted.release)
        # The response shows the release as it was, containers included.
        _releases(ctx).prime(release_id, node)
        _release_containers(ctx).prime(release_id, deleted.containers)
        return DeleteReleaseResult(result=node, errors=[])

    @strawberry.mutation(
        description="Delete an application with its releases. Refused while any of "
        "its releases is deployed."
    )
    async def delete_application(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> DeleteApplicationResult | None:
        ctx = info.context
        ctx.require_user()
        application_id = from_global_id(id, APPLICATION)
        async with ctx.pool.acquire() as conn:
            deleted = await application_store.delete(
                conn, ctx.tenant.id, application_id, actor=ctx.actor
            )
        if deleted is None:
            raise NotFound()
        return DeleteApplicationResult(result=Application.from_store(deleted), errors=[])

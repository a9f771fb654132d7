"""ImageCredentials: types, the list query and the create/delete mutations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import asyncpg
import strawberry
from strawberry.types import Info

from .. import validate
from ..errors import NotFound, raise_all
from ..secrets import Secret
from ..store import image_credentials as store
from .context import Context
from .filters import IdFilter, StringFilter, to_filter
from .loaders import loader
from .relay import (
    Connection,
    Node,
    SortOrder,
    from_global_id,
    id_filter,
    page_args,
    paginate,
    sort_key,
    to_global_id,
)
from .results import MutationError

if TYPE_CHECKING:
    from .applications import Container
    from .devices import CredentialDelivery

TYPE = "ImageCredentials"


@strawberry.type(description="Credentials for one container registry. The password is write-only.")
class ImageCredentials(Node):
    label: str
    username: str
    inserted_at: datetime
    _uuid: strawberry.Private[uuid.UUID]

    @classmethod
    def from_record(cls, row: asyncpg.Record) -> ImageCredentials:
        # Lists build 50 at a time straight from the rows; no dataclass between.
        return cls(
            id=to_global_id(TYPE, row["id"]),
            label=row["label"],
            username=row["username"],
            inserted_at=row["inserted_at"],
            _uuid=row["id"],
        )

    @classmethod
    def from_store(cls, row: store.ImageCredentials) -> ImageCredentials:
        return cls(
            id=to_global_id(TYPE, row.id),
            label=row.label,
            username=row.username,
            inserted_at=row.inserted_at,
            _uuid=row.id,
        )

    @strawberry.field(
        description="Every delivery of these credentials to a device, oldest first: "
        "which device, for which deployment, when. Never the password."
    )
    async def deliveries(
        self,
        info: Info[Context, None],
        first: int | None = None,
        before: str | None = None,
        after: str | None = None,
        last: int | None = None,
    ) -> (
        Connection[Annotated[CredentialDelivery, strawberry.lazy("edgehog_creds.graphql.devices")]]
        | None
    ):
        # Imported here: devices.py imports this module at its top.
        from .devices import deliveries_of

        args = page_args(info, first, last, after, before)
        return await deliveries_of(info.context, self._uuid, args)

    @strawberry.field(
        description="The containers that use these credentials, with their releases, "
        "oldest first: where a password is needed. Containers whose credentials were "
        "deleted are no longer listed (they say credentialsDeleted)."
    )
    async def containers(
        self,
        info: Info[Context, None],
        first: int | None = None,
        before: str | None = None,
        after: str | None = None,
        last: int | None = None,
    ) -> (
        Connection[Annotated[Container, strawberry.lazy("edgehog_creds.graphql.applications")]]
        | None
    ):
        # Imported here: applications.py imports this module at its top.
        from .applications import containers_using_credentials

        args = page_args(info, first, last, after, before)
        return await containers_using_credentials(info.context, self._uuid, args)


@strawberry.enum
class ImageCredentialsSortField(Enum):
    ID = "id"
    LABEL = "label"
    USERNAME = "username"
    INSERTED_AT = "inserted_at"


@strawberry.input
class ImageCredentialsSortInput:
    field: ImageCredentialsSortField
    order: SortOrder | None = SortOrder.ASC


@strawberry.input
class ImageCredentialsFilterId(IdFilter):
    pass


@strawberry.input
class ImageCredentialsFilterLabel(StringFilter):
    pass


@strawberry.input
class ImageCredentialsFilterUsername(StringFilter):
    pass


@strawberry.input
class ImageCredentialsFilterInput:
    and_: list[ImageCredentialsFilterInput] | None = strawberry.field(name="and", default=None)
    or_: list[ImageCredentialsFilterInput] | None = strawberry.field(name="or", default=None)
    not_: list[ImageCredentialsFilterInput] | None = strawberry.field(name="not", default=None)
    id: ImageCredentialsFilterId | None = None
    label: ImageCredentialsFilterLabel | None = None
    username: ImageCredentialsFilterUsername | None = None


@strawberry.input
class CreateImageCredentialsInput:
    label: str
    username: str
    password: str

    def __repr__(self) -> str:
        # Inputs end up in tracebacks and debug logs; the password must not.
        return (
            f"CreateImageCredentialsInput(label={self.label!r}, "
            f"username={self.username!r}, password='***')"
        )


@strawberry.type
class CreateImageCredentialsResult:
    result: ImageCredentials | None
    errors: list[MutationError]


@strawberry.type
class DeleteImageCredentialsResult:
    result: ImageCredentials | None
    errors: list[MutationError]
    detached_container_count: int = strawberry.field(
        default=0,
        description="How many containers used these credentials and lost them with this delete.",
    )


async def _batch(ctx: Context, ids: Sequence[uuid.UUID]) -> list[ImageCredentials | None]:
    async with ctx.pool.acquire() as conn:
        found = await store.get_many(conn, ctx.tenant.id, list(ids))
    return [ImageCredentials.from_store(found[i]) if i in found else None for i in ids]


async def load(ctx: Context, credentials_id: uuid.UUID) -> ImageCredentials | None:
    """Credentials by id, batched with every other look-up of the request
    (imageCredentials(id:), node(id:), Container.imageCredentials, deliveries)."""
    return await loader(ctx, "image_credentials.ImageCredentials", _batch).load(credentials_id)


NODE_LOADERS = {TYPE: load}


@strawberry.type
class ImageCredentialsQueries:
    @strawberry.field(description="One set of image credentials, or null when absent.")
    async def image_credentials(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> ImageCredentials | None:
        info.context.require_user()
        return await load(info.context, from_global_id(id, TYPE))

    @strawberry.field(description="Image credentials of this tenant, keyset-paginated.")
    async def list_image_credentials(
        self,
        info: Info[Context, None],
        sort: list[ImageCredentialsSortInput | None] | None = None,
        filter: ImageCredentialsFilterInput | None = None,
        first: int | None = None,
        before: str | None = None,
        after: str | None = None,
        last: int | None = None,
    ) -> Connection[ImageCredentials] | None:
        ctx = info.context
        ctx.require_user()
        sort_keys = [sort_key(store.SORTABLE[s.field.value], s.order) for s in sort or [] if s]
        where = to_filter(filter, store.FILTERABLE, {"id": id_filter(TYPE, "filter.id")})
        query = store.list_query(ctx.tenant.id, where, sort_keys)
        return await paginate(
            ctx.pool,
            query,
            page_args(info, first, last, after, before),
            ImageCredentials.from_record,
        )


@strawberry.type
class ImageCredentialsMutations:
    @strawberry.mutation(
        description="Store new credentials. The password is sealed and never shown again."
    )
    async def create_image_credentials(
        self, info: Info[Context, None], input: CreateImageCredentialsInput
    ) -> CreateImageCredentialsResult | None:
        ctx = info.context
        ctx.require_user()
        check = validate.Collector()
        label = check.check(validate.text, "label", input.label)
        username = check.check(validate.text, "username", input.username)
        password = check.check(validate.password, "password", input.password)
        raise_all(check.errors)
        assert label is not None and username is not None and password is not None

        credentials_id = uuid.uuid4()
        sealed = ctx.vault.seal(ctx.tenant.id, credentials_id, Secret(password))
        async with ctx.pool.acquire() as conn:
            row = await store.create(
                conn,
                ctx.tenant.id,
                credentials_id,
                label=label,
                username=username,
                sealed=sealed,
                actor=ctx.actor,
            )
        return CreateImageCredentialsResult(result=ImageCredentials.from_store(row), errors=[])

    @strawberry.mutation(
        description="Delete credentials; their sealed password is destroyed at once."
    )
    async def delete_image_credentials(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> DeleteImageCredentialsResult | None:
        ctx = info.context
        ctx.require_user()
        credentials_id = from_global_id(id, TYPE)
        async with ctx.pool.acquire() as conn:
            deleted = await store.delete(conn, ctx.tenant.id, credentials_id, actor=ctx.actor)
        if deleted is None:
            raise NotFound()
        # Payloads would refuse them anyway (the row is gone); this drops the
        # opened password from memory now rather than when it expires.
        ctx.vault.forget(ctx.tenant.id, credentials_id)
        return DeleteImageCredentialsResult(
            result=ImageCredentials.from_store(deleted.credentials),
            errors=[],
            detached_container_count=deleted.detached_containers,
        )

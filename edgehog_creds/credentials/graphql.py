"""ImageCredentials in Edgehog's dialect: the type, its list, create and delete.

The GraphQL type is a view of the domain object (credentials/model.py):
Strawberry reads its fields straight from it; only `id` is derived.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from ..containers.service import ContainersService
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
from .service import CredentialsService

if TYPE_CHECKING:
    from ..containers.graphql import Container
    from ..deployments.graphql import CredentialDelivery

TYPE = model.ENTITY

LISTING = Listing(
    TYPE,
    filters={"id": Id("id", TYPE), "label": Text("label"), "username": Text("username")},
    sorts=["id", "label", "username", "inserted_at"],
)


def service(ctx: Context) -> CredentialsService:
    return CredentialsService(ctx.db, ctx.user(), ctx.vault)


# Credentials by id, batched with every other look-up of the request
# (imageCredentials(id:), node(id:), Container.imageCredentials, deliveries).
load = load_by_id(TYPE, lambda ctx: service(ctx).get_many)


async def _deliveries(
    ctx: Context, ids: Sequence[uuid.UUID], _query: ListQuery, request: PageRequest
) -> list[Page[Any]]:
    return await DeploymentsService(ctx.db, ctx.user()).deliveries_of_credentials(ids, request)


async def _containers(
    ctx: Context, ids: Sequence[uuid.UUID], _query: ListQuery, request: PageRequest
) -> list[Page[Any]]:
    return await ContainersService(ctx.db, ctx.user()).using_credentials(ids, request)


@strawberry.type(description="Credentials for one container registry. The password is write-only.")
class ImageCredentials(Node):
    id: strawberry.ID = global_id_field(TYPE)
    label: str
    username: str
    inserted_at: datetime
    deliveries: (
        Connection[
            Annotated[CredentialDelivery, strawberry.lazy("edgehog_creds.deployments.graphql")]
        ]
        | None
    ) = connection_field(
        Annotated["CredentialDelivery", strawberry.lazy("edgehog_creds.deployments.graphql")],
        _deliveries,
        name="ImageCredentials.deliveries",
        description="Every delivery of these credentials to a device, oldest first: "
        "which device, for which deployment, when. Never the password.",
    )
    containers: (
        Connection[Annotated[Container, strawberry.lazy("edgehog_creds.containers.graphql")]] | None
    ) = connection_field(
        Annotated["Container", strawberry.lazy("edgehog_creds.containers.graphql")],
        _containers,
        name="ImageCredentials.containers",
        description="The containers whose image is pulled with these credentials, oldest "
        "first: where a password is needed. Once the credentials are deleted they are no "
        "longer listed (their image says credentialsDeleted).",
    )

    is_type_of = view_of(model.ImageCredentials)


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


CreateImageCredentialsResult = mutation_result("CreateImageCredentialsResult", ImageCredentials)


@strawberry.type
class DeleteImageCredentialsResult:
    result: ImageCredentials | None
    errors: list[MutationError]
    detached_container_count: int = strawberry.field(
        default=0,
        description="How many containers used these credentials and lost them with this delete.",
    )


async def _create(info: Info[Context, None], input: CreateImageCredentialsInput) -> Any:
    created = await service(info.context).create(
        label=input.label, username=input.username, password=Secret(input.password)
    )
    return CreateImageCredentialsResult(result=created)


async def _delete(info: Info[Context, None], id: strawberry.ID) -> Any:
    deleted = await service(info.context).delete(from_global_id(id, TYPE))
    return DeleteImageCredentialsResult(
        result=deleted.credentials,  # type: ignore[arg-type]  # viewed as ImageCredentials
        errors=[],
        detached_container_count=deleted.detached_containers,
    )


@strawberry.type
class ImageCredentialsQueries:
    image_credentials: ImageCredentials | None = node_field(
        TYPE,
        ImageCredentials,
        load,
        description="One set of image credentials, or null when absent.",
    )
    list_image_credentials: Connection[ImageCredentials] | None = list_field(
        ImageCredentials,
        lambda ctx, query, request: service(ctx).list_credentials(query, request),
        listing=LISTING,
        description="Image credentials of this tenant, keyset-paginated.",
    )


@strawberry.type
class ImageCredentialsMutations:
    create_image_credentials: Any = mutation_field(
        _create,
        CreateImageCredentialsResult,
        "Store new credentials. The password is sealed and never shown again.",
    )
    delete_image_credentials: Any = mutation_field(
        _delete,
        DeleteImageCredentialsResult,
        "Delete credentials; their sealed password is destroyed at once.",
    )


NODE_LOADERS = {TYPE: load}

"""Root and connection fields made from one line each: look-ups by id and lists.

Every list the API offers has the same arguments (Edgehog's: `sort`,
`filter`, `first`, `before`, `after`, `last`), the same limits and the same
connection shape; these factories make the resolvers, so each resource
declares only what it lists and how it fetches a page.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

import strawberry
from strawberry.parent import StrawberryParent
from strawberry.types import Info

from ..domain.listing import ListQuery, Page, PageRequest
from .context import Context
from .listing import Listing
from .loaders import pages_by_parent
from .relay import Connection, connection, from_global_id, page_request

FetchPage = Callable[[Context, ListQuery, PageRequest], Awaitable[Page[Any]]]
FetchPages = Callable[
    [Context, Sequence[uuid.UUID], ListQuery, PageRequest], Awaitable[Sequence[Page[Any]]]
]
Load = Callable[[Context, uuid.UUID], Awaitable[Any]]


def _list_arguments(listing: Listing | None) -> dict[str, Any]:
    """The annotations of a list's arguments, in Edgehog's order."""
    arguments: dict[str, Any] = {}
    if listing is not None:
        sort_input: Any = listing.SortInput  # a class made at run time
        arguments["sort"] = Annotated[
            Any, strawberry.argument(graphql_type=list[sort_input | None] | None)
        ]
        arguments["filter"] = Annotated[
            Any, strawberry.argument(graphql_type=listing.FilterInput | None)
        ]
    arguments.update(first=int | None, before=str | None, after=str | None, last=int | None)
    return arguments


OnPage = Callable[[Context, Page[Any]], None]


def list_field(
    node_type: Any,
    fetch: FetchPage,
    *,
    listing: Listing | None = None,
    on_page: OnPage | None = None,
    description: str,
) -> Any:
    """A root list field: the tenant's `node_type` objects, keyset-paginated.

    `on_page(ctx, page)` sees each page fetched (to prime a loader with it).
    """

    async def resolve(
        info: Info[Context, None],
        sort: Any = None,
        filter: Any = None,
        first: int | None = None,
        before: str | None = None,
        after: str | None = None,
        last: int | None = None,
    ) -> Any:
        query = listing.query(filter, sort) if listing is not None else ListQuery()
        request = page_request(info, first, last, after, before)
        page = await fetch(info.context, query, request)
        if on_page is not None:
            on_page(info.context, page)
        return connection(page)

    _annotate(resolve, listing)
    return strawberry.field(
        resolver=resolve, graphql_type=Connection[node_type] | None, description=description
    )


def connection_field(
    node_type: Any,
    fetch: FetchPages,
    *,
    name: str,
    listing: Listing | None = None,
    on_page: OnPage | None = None,
    description: str,
) -> Any:
    """A connection field of every object of a type (`Application.releases`).

    The pages under all the objects of a request come from the same few
    queries: a loader batches the parents' ids, per field arguments.
    """

    async def resolve(
        root: Any,
        info: Info[Context, None],
        sort: Any = None,
        filter: Any = None,
        first: int | None = None,
        before: str | None = None,
        after: str | None = None,
        last: int | None = None,
    ) -> Any:
        ctx = info.context
        query = listing.query(filter, sort) if listing is not None else ListQuery()
        request = page_request(info, first, last, after, before)
        pages = pages_by_parent(
            ctx, name, (query, request), lambda ids: fetch(ctx, ids, query, request)
        )
        page = await pages.load(root.id)
        if on_page is not None:
            on_page(ctx, page)
        return connection(page)

    _annotate(resolve, listing, parent=True)
    return strawberry.field(
        resolver=resolve, graphql_type=Connection[node_type] | None, description=description
    )


def node_field(type_name: str, node_type: Any, load: Load, *, description: str) -> Any:
    """A root field `x(id: ID!)`: one object by its global id, null when absent."""

    async def resolve(info: Info[Context, None], id: strawberry.ID) -> Any:
        info.context.user()
        return await load(info.context, from_global_id(id, type_name))

    resolve.__annotations__ = {
        "info": Info[Context, None],
        "id": strawberry.ID,
        "return": Any,
    }
    return strawberry.field(
        resolver=resolve, graphql_type=node_type | None, description=description
    )


def _annotate(
    resolve: Callable[..., Any], listing: Listing | None, *, parent: bool = False
) -> None:
    # Real objects, not strings: the input types live in `listing`, which
    # no module namespace could name. A list without a listing takes no
    # sort or filter.
    annotations: dict[str, Any] = {}
    if parent:
        annotations["root"] = Annotated[Any, StrawberryParent()]
    annotations["info"] = Info[Context, None]
    annotations.update(_list_arguments(listing))
    annotations["return"] = Any
    resolve.__annotations__ = annotations
    if listing is None:
        _drop_parameters(resolve, ("sort", "filter"))


def _drop_parameters(resolve: Callable[..., Any], names: tuple[str, ...]) -> None:
    signature = inspect.signature(resolve)
    resolve.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for p in signature.parameters.values() if p.name not in names]
    )

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
from strawberry import UNSET
from strawberry.parent import StrawberryParent
from strawberry.types import Info

from ..domain.listing import ListQuery, Page, PageRequest
from ..engine import direct
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
    """The annotations of a list's arguments: Edgehog's, with its descriptions."""
    arguments: dict[str, Any] = {}
    if listing is not None:
        sort_input: Any = listing.SortInput  # a class made at run time
        arguments["sort"] = Annotated[
            Any,
            strawberry.argument(
                description="How to sort the records in the response",
                graphql_type=list[sort_input | None] | None,
            ),
        ]
        arguments["filter"] = Annotated[
            Any,
            strawberry.argument(
                description="A filter to limit the results",
                graphql_type=listing.FilterInput | None,
            ),
        ]
    for name, value_type, description in (
        ("first", int, "The number of records to return from the beginning. Maximum 250"),
        ("before", str, "Show records before the specified keyset."),
        ("after", str, "Show records after the specified keyset."),
        ("last", int, "The number of records to return to the end. Maximum 250"),
    ):
        arguments[name] = Annotated[value_type | None, strawberry.argument(description=description)]
    return arguments


def _given(value: Any) -> Any:
    """An argument's value, None when the client left it out (Strawberry's UNSET)."""
    return None if value is UNSET else value


OnPage = Callable[[Context, Page[Any]], None]
# One list's arguments, whichever way they came: (query, page request).
ListArguments = tuple[ListQuery, PageRequest]


def _from_strawberry(
    info: Any,
    listing: Listing | None,
    sort: Any,
    filter: Any,
    first: Any,
    before: Any,
    after: Any,
    last: Any,
) -> ListArguments:
    """A list's arguments as Strawberry converted them (filter and sort already domain values)."""
    query = listing.query(_given(filter), _given(sort)) if listing is not None else ListQuery()
    request = page_request(info, _given(first), _given(last), _given(after), _given(before))
    return query, request


def _from_graphql_core(info: Any, listing: Listing | None, args: dict[str, Any]) -> ListArguments:
    """A list's arguments as graphql-core coerced them (the fast engine's direct resolvers)."""
    query = listing.raw_query(args) if listing is not None else ListQuery()
    request = page_request(
        info, args.get("first"), args.get("last"), args.get("after"), args.get("before")
    )
    return query, request


Answer = Callable[[Any, Context, ListArguments], Awaitable[Any]]


def _paged_field(node_type: Any, answer: Answer, listing: Listing | None, description: str) -> Any:
    """A connection field answered by `answer(parent, ctx, (query, page request))`,
    however its arguments arrive: converted by Strawberry, or as graphql-core
    coerced them (the fast engine's direct resolver)."""

    async def resolve(
        root: Any,
        info: Info[Context, None],
        sort: Any = UNSET,
        filter: Any = UNSET,
        first: Any = UNSET,
        before: Any = UNSET,
        after: Any = UNSET,
        last: Any = UNSET,
    ) -> Any:
        arguments = _from_strawberry(info, listing, sort, filter, first, before, after, last)
        return await answer(root, info.context, arguments)

    def resolve_direct(root: Any, info: Any, args: dict[str, Any]) -> Any:
        return answer(root, info.context, _from_graphql_core(info, listing, args))

    _annotate(resolve, listing)
    return strawberry.field(
        resolver=resolve,
        graphql_type=Connection[node_type] | None,
        description=description,
        metadata=direct(resolve_direct),
    )


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

    async def answer(_root: Any, ctx: Context, arguments: ListArguments) -> Any:
        page = await fetch(ctx, *arguments)
        if on_page is not None:
            on_page(ctx, page)
        return connection(page)

    return _paged_field(node_type, answer, listing, description)


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

    async def answer(root: Any, ctx: Context, arguments: ListArguments) -> Any:
        pages = pages_by_parent(ctx, name, arguments, lambda ids: fetch(ctx, ids, *arguments))
        page = await pages.load(root.id)
        if on_page is not None:
            on_page(ctx, page)
        return connection(page)

    return _paged_field(node_type, answer, listing, description)


def node_field(type_name: str, node_type: Any, load: Load, *, description: str) -> Any:
    """A root field `x(id: ID!)`: one object by its global id, null when absent."""

    async def answer(ctx: Context, id: str) -> Any:
        ctx.user()
        return await load(ctx, from_global_id(id, type_name))

    async def resolve(info: Info[Context, None], id: strawberry.ID) -> Any:
        return await answer(info.context, id)

    def resolve_direct(_root: Any, info: Any, args: dict[str, Any]) -> Any:
        return answer(info.context, args["id"])

    resolve.__annotations__ = {
        "info": Info[Context, None],
        "id": strawberry.ID,
        "return": Any,
    }
    return strawberry.field(
        resolver=resolve,
        graphql_type=node_type | None,
        description=description,
        metadata=direct(resolve_direct),
    )


def relation_field(resolver: Callable[[Any, Any], Any], graphql_type: Any, **options: Any) -> Any:
    """A field answered by `resolver(root, info)` (a related object, looked up by a loader).

    It reads nothing of `info` but `info.context`, so the fast engine calls it
    directly with graphql-core's info (a list of N items resolves it N times).
    """

    def resolve_direct(root: Any, info: Any, _args: dict[str, Any]) -> Any:
        return resolver(root, info)

    return strawberry.field(
        resolver=resolver, graphql_type=graphql_type, metadata=direct(resolve_direct), **options
    )


def _annotate(resolve: Callable[..., Any], listing: Listing | None) -> None:
    # Real objects, not strings: the input types live in `listing`, which
    # no module namespace could name. A list without a listing takes no
    # sort or filter.
    annotations: dict[str, Any] = {"root": Annotated[Any, StrawberryParent()]}
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

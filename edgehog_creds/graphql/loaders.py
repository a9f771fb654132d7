"""Per-request DataLoaders, so a list of N items costs a fixed number of queries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

import asyncpg
from strawberry.dataloader import DataLoader

from ..store.query import Column, ListQuery
from .context import Context
from .relay import Connection, PageArgs, paginate_many

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
N = TypeVar("N")


def loader(
    ctx: Context,
    name: str,
    batch: Callable[[Context, Sequence[K]], Awaitable[Sequence[V]]],
) -> DataLoader[K, V]:
    """The request's loader called `name`, made on first use.

    `batch(ctx, keys)` must return one value per key, in the order of the keys.
    Loaders live for one request only, so they cannot serve stale or
    cross-tenant data.
    """
    existing: Any = ctx.loaders.get(name)
    if existing is None:

        async def load_fn(keys: list[K]) -> Sequence[V]:
            return await batch(ctx, keys)

        existing = ctx.loaders[name] = DataLoader(load_fn=load_fn)
    return existing


def page_per_parent(
    ctx: Context,
    name: str,
    query: ListQuery,
    partition: Column,
    args: PageArgs,
    to_node: Callable[[asyncpg.Record], N],
) -> DataLoader[Any, Connection[N]]:
    """A loader of one connection per parent id (rows whose `partition` is it).

    All the pages of a request's parents come from the same few queries
    (relay.paginate_many). Keyed by the query and the page arguments too: two
    selections of the field with different ones must not share pages.
    """

    async def batch(ctx: Context, keys: Sequence[Any]) -> list[Connection[N]]:
        return await paginate_many(ctx.pool, query, partition, keys, args, to_node)

    return loader(ctx, f"{name}:{query.filter!r}:{query.sort!r}:{args!r}", batch)

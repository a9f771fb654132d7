"""Per-request DataLoaders, so a list of N items costs a fixed number of queries.

Loaders live for one request only, so they cannot serve stale or cross-tenant
data; they are made after the request was authenticated.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from ..domain.listing import Page
from .context import Context

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def loader(
    ctx: Context, name: str, batch: Callable[[Sequence[K]], Awaitable[Sequence[V]]]
) -> DataLoader[K, V]:
    """The request's loader called `name`, made on first use.

    `batch(keys)` must return one value per key, in the order of the keys.
    """
    existing: Any = ctx.loaders.get(name)
    if existing is None:

        async def load_fn(keys: list[K]) -> Sequence[V]:
            return await batch(keys)

        existing = ctx.loaders[name] = DataLoader(load_fn=load_fn)
    return existing  # type: ignore[no-any-return]


def by_id(
    ctx: Context,
    name: str,
    fetch: Callable[[Sequence[uuid.UUID]], Awaitable[Mapping[uuid.UUID, V]]],
) -> DataLoader[uuid.UUID, V | None]:
    """The request's loader of `name` objects by id (None where there is none)."""

    async def batch(ids: Sequence[uuid.UUID]) -> list[V | None]:
        found = await fetch(ids)
        return [found.get(i) for i in ids]

    return loader(ctx, name, batch)


def pages_by_parent(
    ctx: Context,
    name: str,
    key: Hashable,
    fetch: Callable[[Sequence[uuid.UUID]], Awaitable[Sequence[Page[V]]]],
) -> DataLoader[uuid.UUID, Page[V]]:
    """The request's loader of one page per parent id, batched over every parent.

    Keyed by `key` too (the field's filter, sort and page arguments): two
    selections of the field with different ones must not share pages.
    """
    return loader(ctx, f"{name}:{key!r}", fetch)


def load_by_id(
    name: str,
    fetch: Callable[[Context], Callable[[Sequence[uuid.UUID]], Awaitable[Mapping[uuid.UUID, V]]]],
) -> Callable[[Context, uuid.UUID], Awaitable[V | None]]:
    """A function (ctx, id) -> the `name` object with that id, batched per request
    with every other look-up of it; `fetch(ctx)` reads many by id."""

    async def load(ctx: Context, id: uuid.UUID) -> V | None:
        return await by_id(ctx, name, fetch(ctx)).load(id)

    return load

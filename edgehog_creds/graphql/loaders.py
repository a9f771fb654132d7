"""Per-request DataLoaders, so a list of N items costs a fixed number of queries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from .context import Context

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


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

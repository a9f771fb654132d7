"""Edgehog's subscription fields for this domain, made from one table (`FEEDS`).

Each field streams `{created | updated | destroyed}` results (Edgehog's
`<name>_result` types) of one kind of row, for the subscriber's tenant only.
A subscription hears ids (events/hub.py); for `created` and `updated` it
re-reads the row in the tenant's scope as it is now, through the same loader
as `node(id:)`, and skips it when it is gone by then; `destroyed` is the
deleted row's global id. The sockets that carry subscriptions are in
http/live.py.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from strawberry import UNSET
from strawberry.types import Info

from ..applications import graphql as applications
from ..applications.model import APPLICATION, RELEASE
from ..containers import graphql as containers
from ..containers.model import CONTAINER, IMAGE
from ..credentials import graphql as credentials
from ..deployments import graphql as deployments
from ..deployments.model import DEPLOYMENT, EVENT
from ..devices import graphql as devices
from ..devices.model import ENTITY as DEVICE
from ..domain.errors import Invalid
from ..domain.listing import Filter
from ..events.hub import LimitReached
from ..events.model import Event
from ..events.service import LiveService
from ..networks import graphql as networks
from ..volumes import graphql as volumes
from .context import Context
from .listing import Listing, bounded
from .nodes import NODE_LOADERS
from .relay import from_global_id, to_global_id

Load = Callable[[Context, uuid.UUID], Awaitable[Any]]

CREATED_DESTROYED = ("created", "destroyed")
CREATED_UPDATED = ("created", "updated")
ALL = ("created", "updated", "destroyed")


@dataclass(frozen=True)
class Feed:
    field: str  # the subscription field (Python name; camelCased in the schema)
    result: str  # Edgehog's result type name
    kind: str  # what the announcements call these rows (events/model.py)
    node: str  # the type name in their global ids
    graphql_type: Any
    listing: Listing  # its `filter` argument: the list's filter input
    actions: tuple[str, ...]
    description: str
    # An argument narrowing the feed to one device's or one deployment's rows.
    scope: str | None = None


FEEDS = (
    Feed(
        "image_credentials",
        "image_credentials_result",
        "image_credentials",
        credentials.TYPE,
        credentials.ImageCredentials,
        credentials.LISTING,
        CREATED_DESTROYED,
        "Image credentials created and deleted (never a password).",
    ),
    Feed(
        "application",
        "application_result",
        "applications",
        APPLICATION,
        applications.Application,
        applications.APPLICATIONS,
        ALL,
        "Applications created, changed and deleted.",
    ),
    Feed(
        "release",
        "release_result",
        "releases",
        RELEASE,
        applications.Release,
        applications.RELEASES,
        CREATED_DESTROYED,
        "Releases created and deleted.",
    ),
    Feed(
        "container",
        "container_result",
        "containers",
        CONTAINER,
        containers.Container,
        containers.CONTAINERS,
        ALL,
        "Containers created, changed and deleted.",
    ),
    Feed(
        "image",
        "image_result",
        "images",
        IMAGE,
        containers.Image,
        containers.IMAGES,
        CREATED_DESTROYED,
        "Images created and deleted.",
    ),
    Feed(
        "network",
        "network_result",
        "networks",
        networks.TYPE,
        networks.Network,
        networks.LISTING,
        ALL,
        "Networks created, changed and deleted.",
    ),
    Feed(
        "volume",
        "volume_result",
        "volumes",
        volumes.TYPE,
        volumes.Volume,
        volumes.LISTING,
        CREATED_DESTROYED,
        "Volumes created and deleted.",
    ),
    Feed(
        "device_changed",
        "device_changed_result",
        "devices",
        DEVICE,
        devices.Device,
        devices.LISTING,
        CREATED_UPDATED,
        "Devices registered and changed (name, tags, system model, coming online).",
    ),
    Feed(
        "deployment",
        "deployment_result",
        "deployments",
        DEPLOYMENT,
        deployments.Deployment,
        deployments.LISTING,
        ALL,
        "Deployments created, changed (their state) and deleted.",
    ),
    Feed(
        "deployment_by_id",
        "deployment_by_id_result",
        "deployments",
        DEPLOYMENT,
        deployments.Deployment,
        deployments.LISTING,
        ALL,
        "One deployment's changes.",
        scope="deployment_id",
    ),
    Feed(
        "deployments_by_device",
        "deployments_by_device_result",
        "deployments",
        DEPLOYMENT,
        deployments.Deployment,
        deployments.LISTING,
        ALL,
        "The deployments of one device: created, changed and deleted.",
        scope="device_id",
    ),
    Feed(
        "deployment_event",
        "deployment_event_result",
        "deployment_events",
        EVENT,
        deployments.DeploymentEvent,
        deployments.EVENTS,
        ("created",),
        "What devices report about their deployments, as they report it.",
    ),
)

LOADERS: dict[str, Load] = {**NODE_LOADERS, EVENT: deployments.load_event}


def _result_type(feed: Feed) -> Any:
    annotations = {
        action: (strawberry.ID if action == "destroyed" else feed.graphql_type) | None
        for action in feed.actions
    }
    namespace: dict[str, Any] = {"__annotations__": annotations}
    namespace.update(dict.fromkeys(feed.actions))
    return strawberry.type(type(feed.result, (), namespace), name=feed.result)


def _wants(feed: Feed, scope: str | None) -> Callable[[Event], bool]:
    """Which events of the feed's kind this subscription wants, by its scope argument."""
    if feed.scope is None:
        return lambda _event: True
    if feed.scope == "device_id":
        device = from_global_id(scope or "", DEVICE, field="deviceId")
        return lambda event: event.device_id == device
    deployment = from_global_id(scope or "", DEPLOYMENT, field="deploymentId")
    return lambda event: event.id == deployment


def _field(feed: Feed) -> Any:
    result_type = _result_type(feed)
    load = LOADERS[feed.node]

    async def start(
        info: Info[Context, None], scope: str | None, filter: Filter | None
    ) -> AsyncIterator[Any]:
        # Checked here, when the subscription starts, not at its first event.
        ctx = info.context
        user = ctx.user()
        if ctx.mailbox is None:
            raise Invalid("subscription", "subscriptions are served over websockets")
        wants = _wants(feed, scope)
        matches = None
        checked = bounded(filter) if filter is not UNSET else None  # `{}` too is no filter
        if checked is not None:
            live = LiveService(ctx.db, user)
            matches = functools.partial(live.matches, feed.kind, filter=checked)
        try:
            stream = ctx.mailbox.subscribe(feed.kind, wants)
        except LimitReached as exc:
            raise Invalid("subscription", str(exc)) from None
        if ctx.on_subscribe is not None:
            ctx.on_subscribe()
        return _results(ctx, stream, feed, result_type, load, matches)

    subscribe: Callable[..., Awaitable[Any]]
    if feed.scope == "device_id":

        async def by_device(info: Any, device_id: Any, filter: Any = UNSET) -> Any:
            return await start(info, device_id, filter)

        subscribe = by_device
    elif feed.scope == "deployment_id":

        async def by_deployment(info: Any, deployment_id: Any, filter: Any = UNSET) -> Any:
            return await start(info, deployment_id, filter)

        subscribe = by_deployment
    else:

        async def every(info: Any, filter: Any = UNSET) -> Any:
            return await start(info, None, filter)

        subscribe = every
    # Strawberry reads the arguments' and the result's types from these annotations.
    annotations: dict[str, Any] = {"info": Info[Context, None]}
    if feed.scope is not None:
        annotations[feed.scope] = strawberry.ID
    annotations["filter"] = Annotated[
        feed.listing.FilterInput | None,
        strawberry.argument(description="A filter to limit the results"),
    ]
    annotations["return"] = AsyncIterator[result_type | None]  # type: ignore[valid-type]
    subscribe.__annotations__ = annotations
    return strawberry.subscription(
        resolver=subscribe, name=_camel(feed.field), description=feed.description
    )


async def _results(
    ctx: Context,
    stream: Any,
    feed: Feed,
    result_type: Any,
    load: Load,
    matches: Callable[[uuid.UUID], Awaitable[bool]] | None,
) -> AsyncIterator[Any]:
    try:
        async for event in stream:
            if event.action not in feed.actions:
                continue
            if event.action == "destroyed":
                # A deleted row cannot be filtered: every deletion's id is sent.
                yield result_type(destroyed=to_global_id(feed.node, event.id))
                continue
            # Each event reads its rows as they are now: nothing from an earlier one.
            ctx.loaders.clear()
            if matches is not None and not await matches(event.id):
                continue
            found = await _read_once(event, feed.node, functools.partial(load, ctx, event.id))
            if found is not None:  # else deleted since it was announced
                yield result_type(**{event.action: found})
    finally:
        stream.close()


def _read_once(event: Event, node: str, read: Callable[[], Awaitable[Any]]) -> Awaitable[Any]:
    """The row of `event`, read by the first subscription that asks for it; the
    others wait for that read. Its own task, so one subscriber leaving does not
    cancel it for the others."""
    task = event.reads.get(node)
    if task is None:
        task = event.reads[node] = asyncio.ensure_future(read())
    return asyncio.shield(task)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


RootSubscriptionType = strawberry.type(
    type(
        "RootSubscriptionType",
        (),
        {feed.field: _field(feed) for feed in FEEDS},
    ),
    name="RootSubscriptionType",
)

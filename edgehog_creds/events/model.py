"""What an announcement of sql/012 says: which row of which tenant, and what happened to it."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

CHANNEL = "edgehog_creds_events"

Action = Literal["created", "updated", "destroyed"]
ACTIONS: frozenset[str] = frozenset({"created", "updated", "destroyed"})

# The kinds announced: the tables whose rows Edgehog's UI shows.
KINDS: frozenset[str] = frozenset(
    {
        "image_credentials",
        "applications",
        "releases",
        "containers",
        "images",
        "volumes",
        "networks",
        "devices",
        "deployments",
        "deployment_events",
    }
)


@dataclass(frozen=True, slots=True)
class Event:
    tenant_id: uuid.UUID
    kind: str
    action: Action
    id: uuid.UUID
    device_id: uuid.UUID | None = None  # deployments: the device it is on
    # The row as this process's subscriptions read it, read once for them all
    # (graphql/subscriptions.py): only subscriptions of the event's tenant ever
    # see the event, and it goes when they have all had it.
    reads: dict[str, asyncio.Task[Any]] = field(default_factory=dict, compare=False, repr=False)


def parse(payload: str) -> Event | None:
    """The event an announcement describes, or None when it is not one of ours."""
    try:
        raw = json.loads(payload)
        kind, action = raw["k"], raw["a"]
        if kind not in KINDS or action not in ACTIONS:
            return None
        device = raw.get("d")
        return Event(
            tenant_id=uuid.UUID(raw["t"]),
            kind=kind,
            action=action,
            id=uuid.UUID(raw["id"]),
            device_id=uuid.UUID(device) if device else None,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None

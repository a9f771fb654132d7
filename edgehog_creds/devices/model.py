"""A device as every layer sees it: never its token, which is stored only as a hash."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

ENTITY = "Device"
TAG = "Tag"


@dataclass(frozen=True, slots=True)
class Device:
    id: uuid.UUID
    device_id: str  # the device's own identifier, unique per tenant
    name: str
    inserted_at: datetime
    system_model_id: uuid.UUID | None
    # Presence, from the device's own requests (see store.id_for_token), as of
    # the statement that read the row:
    online: bool  # a request within the online window
    last_connection: datetime | None  # when the current (or last) streak of requests began
    last_disconnection: datetime | None  # when the streak before it ended; None if none did
    # When it last declared its interfaces; None: never (it has no capabilities).
    introspection_reported_at: datetime | None


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag some device carries (tags are trimmed and lower-cased, unique per tenant)."""

    id: uuid.UUID
    name: str


@dataclass(frozen=True, slots=True)
class DeviceTag:
    """A tag of one device: the tag, and which device carries it."""

    id: uuid.UUID  # the tag's
    name: str
    device_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Interface:
    """An interface a device declares, as Astarte introspection names one."""

    name: str
    major: int
    minor: int

"""A device as every layer sees it: never its token, which is stored only as a hash."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

ENTITY = "Device"


@dataclass(frozen=True, slots=True)
class Device:
    id: uuid.UUID
    device_id: str  # the device's own identifier, unique per tenant
    name: str
    inserted_at: datetime

"""An audit event: one create or delete, its actor and time, names and counts only."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

ENTITY = "AuditEvent"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: uuid.UUID
    at: datetime
    actor: str | None
    action: str  # create or delete
    entity_type: str  # ImageCredentials, Release, Device, ...
    entity_id: uuid.UUID
    details: dict[str, Any]

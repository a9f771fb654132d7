"""Networks as every layer sees them.

A network is Edgehog's: an optional label for people, a Docker network
driver and its options, and two switches (`internal`: no outside access;
`enable_ipv6`). It is immutable once created. The driver and options
follow the same rules as a volume's (volumes/model.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from ..domain import text

ENTITY = "Network"  # the name audit rows and global ids use
DEFAULT_DRIVER = "bridge"  # Docker's and Edgehog's default network driver


@dataclass(frozen=True, slots=True)
class Network:
    id: uuid.UUID
    label: str | None
    driver: str
    internal: bool
    enable_ipv6: bool
    options: dict[str, str]
    inserted_at: datetime


def label(field: str, value: str | None) -> str | None:
    """An optional label: trimmed; null or blank is none (as Ash casts "" to nil)."""
    if value is None or not value.strip():
        return None
    return text.label(field, value)

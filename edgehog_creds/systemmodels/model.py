"""Hardware types, system models and their part numbers, as every layer sees them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

HARDWARE_TYPE = "HardwareType"  # the names global ids and audit rows use
SYSTEM_MODEL = "SystemModel"
HARDWARE_TYPE_PART_NUMBER = "HardwareTypePartNumber"
SYSTEM_MODEL_PART_NUMBER = "SystemModelPartNumber"


@dataclass(frozen=True, slots=True)
class HardwareType:
    """The physical components of a device (e.g. the revisions of one PCB)."""

    id: uuid.UUID
    handle: str  # unique per tenant: a-z, 0-9 and -
    name: str  # unique per tenant
    inserted_at: datetime


@dataclass(frozen=True, slots=True)
class HardwareTypePartNumber:
    id: uuid.UUID
    part_number: str  # names one hardware type in its tenant
    hardware_type_id: uuid.UUID
    inserted_at: datetime


@dataclass(frozen=True, slots=True)
class SystemModel:
    """What users think of as one kind of device; built on one hardware type."""

    id: uuid.UUID
    handle: str
    name: str
    picture_url: str | None
    hardware_type_id: uuid.UUID
    # (language tag, text), sorted by tag: Edgehog's localized descriptions.
    descriptions: tuple[tuple[str, str], ...]
    inserted_at: datetime


@dataclass(frozen=True, slots=True)
class SystemModelPartNumber:
    id: uuid.UUID
    part_number: str  # names one system model in its tenant
    system_model_id: uuid.UUID
    inserted_at: datetime

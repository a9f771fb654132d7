"""Image credentials as every layer sees them: never the password, sealed or not."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

ENTITY = "ImageCredentials"  # the name audit rows and global ids use


@dataclass(frozen=True, slots=True)
class ImageCredentials:
    id: uuid.UUID
    label: str
    username: str
    inserted_at: datetime


@dataclass(frozen=True, slots=True)
class Deleted:
    credentials: ImageCredentials
    detached_containers: int  # containers that used them and now have none

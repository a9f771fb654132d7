"""A tenant: one Edgehog tenant, its slug in every API path, its JWT public key."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

# What a tenant slug may be made of (it is a path segment of the API's URL).
SLUG = re.compile(r"[a-z0-9-]+")


@dataclass(frozen=True, slots=True)
class Tenant:
    id: uuid.UUID
    slug: str
    jwt_public_key: str  # PEM

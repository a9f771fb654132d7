"""Who is asking: a tenant user (a JWT of the tenant) or a device (its own token)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from .errors import Forbidden
from .tenant import Tenant


@dataclass(frozen=True, slots=True)
class TenantUser:
    tenant: Tenant
    subject: str | None  # the JWT's `sub`, recorded as the actor


@dataclass(frozen=True, slots=True)
class Device:
    tenant: Tenant
    device_id: uuid.UUID  # our primary key, not the device's own deviceId

    @property
    def subject(self) -> str:
        return f"device:{self.device_id}"


Principal = TenantUser | Device


def require_user(principal: Principal) -> TenantUser:
    """The tenant user, or Forbidden: devices may read their own payloads and nothing else."""
    if not isinstance(principal, TenantUser):
        raise Forbidden("devices may only read their own device payloads")
    return principal


def require_device(principal: Principal) -> Device:
    if not isinstance(principal, Device):
        raise Forbidden("only a device may read its payload")
    return principal

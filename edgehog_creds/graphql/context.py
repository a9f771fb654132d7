"""What every resolver gets as `info.context`: the tenant, the caller, the pool."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import asyncpg

from ..auth import Device, Principal, TenantUser
from ..errors import Forbidden
from ..store.tenants import Tenant
from ..vault import Vault


@dataclass
class Context:
    pool: asyncpg.Pool
    tenant: Tenant
    principal: Principal
    vault: Vault
    # Per-request DataLoaders, created on first use by graphql/loaders.py.
    loaders: dict[str, Any] = field(default_factory=dict)

    def require_user(self) -> TenantUser:
        if not isinstance(self.principal, TenantUser):
            raise Forbidden("devices may only read their own device payloads")
        return self.principal

    def require_device(self) -> Device:
        if not isinstance(self.principal, Device):
            raise Forbidden("only a device may read its payload")
        return self.principal

    @property
    def actor(self) -> str | None:
        return self.principal.subject

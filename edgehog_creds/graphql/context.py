"""What every resolver gets as `info.context`: who asks, for which tenant, and the tools."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..db import Database
from ..deployments.payload import ReleaseTemplates
from ..domain.principal import Device, Principal, TenantUser, require_device, require_user
from ..domain.tenant import Tenant
from ..events.hub import Mailbox
from ..vault import Vault


@dataclass
class Context:
    db: Database
    tenant: Tenant
    principal: Principal
    vault: Vault
    templates: ReleaseTemplates
    # Per-request DataLoaders, created on first use by graphql/loaders.py.
    loaders: dict[str, Any] = field(default_factory=dict)
    # A live-update socket's subscriptions (http/live.py); None over HTTP.
    mailbox: Mailbox | None = None
    # Device payloads this request handed out (for metrics.py).
    delivered: int = 0
    # Called once a subscription of this operation hears events (http/live.py).
    on_subscribe: Callable[[], None] | None = None

    def user(self) -> TenantUser:
        """The tenant user asking, or Forbidden for a device token."""
        return require_user(self.principal)

    def device(self) -> Device:
        """The device asking, or Forbidden for a tenant user."""
        return require_device(self.principal)

"""(stub: being written) The audit trail, readable through the API."""

from __future__ import annotations

import strawberry


@strawberry.type
class AuditQueries:
    pass

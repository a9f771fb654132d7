"""The audit trail, readable through the API: who created or deleted what, and when.

Rows come from store/audit.py (written in the same transaction as the change
they record). They hold names and counts, never a secret. Which credentials
went to which device is a separate record: ImageCredentials.deliveries.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from ..errors import InvalidPrimaryKey
from ..store import audit as store
from .context import Context
from .filters import IdFilter, StringFilter, to_filter
from .relay import (
    Connection,
    Node,
    SortOrder,
    id_filter,
    page_args,
    paginate,
    parse_global_id,
    sort_key,
    to_global_id,
)
from .scalars import Json

TYPE = "AuditEvent"


@strawberry.type(description="One create or delete, with its actor (the token's sub).")
class AuditEvent(Node):
    at: datetime
    actor: str | None
    action: str = strawberry.field(description="create or delete")
    entity_type: str = strawberry.field(description="ImageCredentials, Release, Device, ...")
    entity_id: strawberry.ID = strawberry.field(description="The global id of the entity.")
    details: Json = strawberry.field(description="Names and counts only; never a secret.")

    @classmethod
    def from_store(cls, event: store.AuditEvent) -> AuditEvent:
        return cls(
            id=to_global_id(TYPE, event.id),
            at=event.at,
            actor=event.actor,
            action=event.action,
            entity_type=event.entity_type,
            entity_id=to_global_id(event.entity_type, event.entity_id),
            details=event.details,
        )


@strawberry.enum
class AuditEventSortField(Enum):
    ID = "id"
    AT = "at"


@strawberry.input
class AuditEventSortInput:
    field: AuditEventSortField
    order: SortOrder | None = SortOrder.ASC


@strawberry.input
class AuditEventFilterId(IdFilter):
    pass


@strawberry.input
class AuditEventFilterString(StringFilter):
    pass


@strawberry.input
class AuditEventFilterInput:
    and_: list[AuditEventFilterInput] | None = strawberry.field(name="and", default=None)
    or_: list[AuditEventFilterInput] | None = strawberry.field(name="or", default=None)
    not_: list[AuditEventFilterInput] | None = strawberry.field(name="not", default=None)
    id: AuditEventFilterId | None = None
    entity_id: AuditEventFilterId | None = strawberry.field(
        default=None, description="Global ids of any type, as entityId returns them."
    )
    entity_type: AuditEventFilterString | None = None
    action: AuditEventFilterString | None = None


def _entity_id(value: str) -> uuid.UUID:
    # Any entity type: the audit trail spans them all.
    parsed = parse_global_id(value)
    if parsed is None:
        raise InvalidPrimaryKey("filter.entityId")
    return parsed[1]


async def load(ctx: Context, event_id: uuid.UUID) -> AuditEvent | None:
    async with ctx.pool.acquire() as conn:
        event = await store.get(conn, ctx.tenant.id, event_id)
    return AuditEvent.from_store(event) if event else None


NODE_LOADERS = {TYPE: load}


@strawberry.type
class AuditQueries:
    @strawberry.field(description="Audit events of this tenant, oldest first unless sorted.")
    async def list_audit_events(
        self,
        info: Info[Context, None],
        sort: list[AuditEventSortInput | None] | None = None,
        filter: AuditEventFilterInput | None = None,
        first: int | None = None,
        before: str | None = None,
        after: str | None = None,
        last: int | None = None,
    ) -> Connection[AuditEvent] | None:
        ctx = info.context
        ctx.require_user()
        sort_keys = [sort_key(store.SORT_COLUMNS[s.field.value], s.order) for s in sort or [] if s]
        where = to_filter(
            filter,
            store.FILTERABLE,
            {"id": id_filter(TYPE, "filter.id"), "entity_id": _entity_id},
        )
        return await paginate(
            ctx.pool,
            store.list_query(ctx.tenant.id, where, sort_keys),
            page_args(info, first, last, after, before),
            lambda r: AuditEvent.from_store(store.AuditEvent.from_row(r)),
        )

"""The audit trail, readable through the API: who created or deleted what, and when.

Rows hold names and counts, never a secret. Which credentials went to which
device is a separate record: ImageCredentials.deliveries.
"""

from __future__ import annotations

from datetime import datetime

import strawberry

from ..engine import plain
from ..graphql.context import Context
from ..graphql.fields import list_field
from ..graphql.listing import Id, Listing, Text
from ..graphql.loaders import load_by_id
from ..graphql.relay import Connection, Node, global_id_field, to_global_id, view_of
from ..graphql.scalars import Json
from . import model
from .service import AuditService

TYPE = model.ENTITY

LISTING = Listing(
    TYPE,
    filters={
        "id": Id("id", TYPE),
        "entity_id": Id("entity_id", None, "Global ids of any type, as entityId returns them."),
        "entity_type": Text("entity_type"),
        "action": Text("action"),
    },
    sorts=["id", "at"],
)


def service(ctx: Context) -> AuditService:
    return AuditService(ctx.db, ctx.user())


load = load_by_id(TYPE, lambda ctx: service(ctx).get_many)


def _entity_id(root: strawberry.Parent[model.AuditEvent]) -> strawberry.ID:
    return to_global_id(root.entity_type, root.entity_id)


@strawberry.type(description="One create or delete, with its actor (the token's sub).")
class AuditEvent(Node):
    id: strawberry.ID = global_id_field(TYPE)
    at: datetime
    actor: str | None
    action: str = strawberry.field(description="create or delete")
    entity_type: str = strawberry.field(description="ImageCredentials, Release, Device, ...")
    entity_id: strawberry.ID = strawberry.field(
        resolver=_entity_id, metadata=plain(_entity_id), description="The global id of the entity."
    )
    details: Json = strawberry.field(description="Names and counts only; never a secret.")

    is_type_of = view_of(model.AuditEvent)


@strawberry.type
class AuditQueries:
    list_audit_events: Connection[AuditEvent] | None = list_field(
        AuditEvent,
        lambda ctx, query, request: service(ctx).list_events(query, request),
        listing=LISTING,
        description="Audit events of this tenant, oldest first unless sorted.",
    )


NODE_LOADERS = {TYPE: load}

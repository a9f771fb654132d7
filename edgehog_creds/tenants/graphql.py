"""tenantInfo: the tenant the request is for, as Edgehog's UI reads it.

Edgehog's login page asks `tenantInfo { __typename }` to check a token, and
checks a stored session again at every start: without it nothing loads.
"""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from ..graphql.context import Context
from ..graphql.relay import to_global_id

DEFAULT_LOCALE = "en-US"  # Edgehog's default; tenants here have no locale of their own


@strawberry.type(description="The tenant of the request.")
class TenantInfo:
    id: strawberry.ID
    name: str = strawberry.field(description="The tenant's slug: tenants here have no other name.")
    slug: str
    default_locale: str


def _tenant_info(info: Info[Context, None]) -> TenantInfo:
    tenant = info.context.user().tenant  # a tenant user's token, as for every query of the UI
    return TenantInfo(
        id=to_global_id("TenantInfo", tenant.id),
        name=tenant.slug,
        slug=tenant.slug,
        default_locale=DEFAULT_LOCALE,
    )


@strawberry.type
class TenantQueries:
    tenant_info: TenantInfo = strawberry.field(
        resolver=_tenant_info, description="The tenant this endpoint and token are for."
    )

"""What the engine tests share: a request's Context, an engine's schema, its parts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from strawberry.schema.config import StrawberryConfig
from strawberry.types.base import StrawberryObjectDefinition

from edgehog_creds.db import Database
from edgehog_creds.deployments.payload import ReleaseTemplates
from edgehog_creds.domain.principal import Principal, TenantUser
from edgehog_creds.engine import Engine
from edgehog_creds.engine.documents import DocumentCache, Documents
from edgehog_creds.engine.plans import Plans
from edgehog_creds.graphql.context import Context
from edgehog_creds.graphql.scalars import SCALAR_MAP
from edgehog_creds.graphql.schema import (
    RootMutationType,
    RootQueryType,
    RootSubscriptionType,
    Schema,
    build_schema,
    may_keep,
)
from edgehog_creds.tenants.store import get_by_slug

ENGINE_NAMES = ("strawberry", "fast")

NewContext = Callable[..., Context]


@pytest.fixture
async def new_context(tenant, pool, vault) -> NewContext:
    """A fresh Context per call, as the app makes one per request (a user by default)."""
    found = await get_by_slug(pool, tenant.slug)
    assert found is not None

    def make(principal: Principal | None = None) -> Context:
        return Context(
            db=Database(pool),
            tenant=found,
            principal=principal or TenantUser(found, "x"),
            vault=vault,
            templates=ReleaseTemplates(),
        )

    make.tenant = found  # type: ignore[attr-defined]
    return make


def engine_schema(name: str) -> tuple[Engine, Schema]:
    """A new engine called `name`, with the app's policy, and the app's schema built with it."""
    engine = Engine.named(name, may_keep)
    return engine, build_schema(engine)


def schema_with(engine: Engine, *extensions: Any) -> Schema:
    """The app's schema as build_schema makes it, with more Strawberry extensions."""
    options = engine.schema_options()
    options["extensions"] = [*options["extensions"], *extensions]
    return Schema(
        query=RootQueryType,
        mutation=RootMutationType,
        subscription=RootSubscriptionType,
        types=_node_types(),
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        **options,
    )


def _node_types() -> list[type]:
    """Every Node type of the app's schema: what build_schema lists in `types` (and
    more, harmlessly), whichever aggregates the app has today."""
    built = build_schema()
    found = []
    for name in built._schema.type_map:
        definition = built.get_type_by_name(name)
        if isinstance(definition, StrawberryObjectDefinition) and any(
            i.name == "Node" for i in definition.interfaces
        ):
            found.append(definition.origin)
    assert found
    return found


def kept_documents(schema: Any) -> Documents | None:
    """The document cache a built schema runs with (None: it has none)."""
    for factory in schema.extensions:
        extension = factory()
        if isinstance(extension, DocumentCache):
            return extension.documents
    return None


def plans_of(schema: Any) -> Plans | None:
    """The plans a built schema runs with (None: it has none)."""
    return getattr(schema.execution_context_class, "plans", None)


def live_plans(plans: Plans) -> int:
    """How many of the fields seen were compiled into a plan (not left to graphql-core)."""
    return sum(1 for _, plan in plans._plans.values() if plan is not None)


def summary(result: Any) -> tuple[Any, list[tuple[Any, Any, Any]]]:
    """A Strawberry ExecutionResult's data, and each error's message, path and locations."""
    errors = [(e.message, e.path, e.locations) for e in result.errors or []]
    return result.data, errors

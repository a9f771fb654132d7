"""`/tenants/{slug}/api`: the tenant, then who asks, then the GraphQL request.

Nothing runs before the tenant exists (404) and the token is good (401); a
body that is not a GraphQL request is a 400 or 413. GraphiQL answers a
browser's GET.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response

from .. import logs
from ..auth import Authenticator, AuthError
from ..db import DATABASE_DOWN, Database
from ..deployments.payload import ReleaseTemplates
from ..domain.principal import Principal
from ..domain.tenant import Tenant
from ..graphql.context import Context
from ..graphql.errors import log_exception
from ..graphql.execute import execute
from ..graphql.schema import Schema
from ..metrics import Metrics
from ..tenants.directory import TenantDirectory
from ..vault import Vault
from .body import BODY_SECONDS, BodyError, read_graphql_request
from .graphiql import graphiql_html
from .responses import JsonResponse, error_response

log = logging.getLogger("edgehog_creds")

# The outcome of an answer that never reached GraphQL, by its status.
_OUTCOMES = {200: "ok", 500: "internal", 503: "unavailable"}


@dataclass
class GraphQLEndpoint:
    """Everything a request needs beyond itself; `pool()` is the app's pool once started."""

    pool: Callable[[], asyncpg.Pool]
    schema: Schema
    directory: TenantDirectory
    authenticator: Authenticator
    vault: Vault
    templates: ReleaseTemplates
    graphiql: bool
    body_timeout: float = BODY_SECONDS
    metrics: Metrics | None = None

    def __post_init__(self) -> None:
        self._graphiql_html = graphiql_html() if self.graphiql else ""

    def context(self, tenant: Tenant, principal: Principal, **more: Any) -> Context:
        """A new Context for one operation of `principal` (`more`: live updates' fields)."""
        return Context(
            db=Database(self.pool()),
            tenant=tenant,
            principal=principal,
            vault=self.vault,
            templates=self.templates,
            **more,
        )

    async def handle(self, request: Request) -> Response:
        start = time.perf_counter()
        response = await self._answer(request)
        if self.metrics is not None:
            state = request.state
            operation = getattr(state, "operation", "-")
            outcome = getattr(state, "outcome", None) or _OUTCOMES.get(
                response.status_code, "refused"
            )
            self.metrics.observe(operation, outcome, time.perf_counter() - start)
            delivered = getattr(state, "delivered", 0)
            if delivered:
                self.metrics.payloads.inc(delivered)
        return response

    async def _answer(self, request: Request) -> Response:
        try:
            return await self._handle(request)
        except ClientDisconnect:
            # Nobody reads this answer; one quiet line, no traceback.
            log.info("client went away during %s %s", request.method, request.url.path)
            return error_response(400, "the client went away", "invalid")
        except DATABASE_DOWN as exc:
            log.error("database unavailable: %s", type(exc).__name__)
            return error_response(503, "the database is unavailable; try again", "unavailable")
        except Exception as exc:  # a bug: answer plainly, log where it happened
            log_exception(exc, f"{request.method} {request.url.path}")
            return error_response(500, "something went wrong on our side", "internal")

    def _usage(self, slug: str) -> str:
        """What a GET that is not a browser's gets: how to use this URL."""
        usage = (
            f"This is the GraphQL API of tenant {slug!r}: POST a JSON body"
            ' {"query": "...", "variables": {...}} with the header'
            ' "Authorization: Bearer <token>" (a tenant user\'s JWT, or a device token).'
            " Live updates: a websocket on this URL (graphql-transport-ws)."
        )
        if self.graphiql:
            usage += " Open this URL in a browser for GraphiQL."
        return usage

    async def _handle(self, request: Request) -> Response:
        pool = self.pool()
        tenant = await self.directory.find(pool, request.path_params["slug"])
        if tenant is None:
            return error_response(404, "no such tenant", "not_found")
        logs.note(tenant=tenant.slug)
        if request.method == "GET":
            if self.graphiql and "text/html" in request.headers.get("accept", ""):
                return HTMLResponse(self._graphiql_html)
            return JsonResponse({"message": self._usage(tenant.slug)})
        try:
            principal = await self.authenticator.principal(
                tenant, request.headers.get("authorization")
            )
        except AuthError as exc:
            return error_response(401, str(exc), "unauthorized")
        try:
            graphql_request = await read_graphql_request(request, timeout=self.body_timeout)
        except BodyError as exc:
            return error_response(exc.status, str(exc), "invalid")
        context = self.context(tenant, principal)
        if self.metrics is not None:
            request.state.operation = self.metrics.operation(
                graphql_request.operation_name, graphql_request.query
            )
            logs.note(operation=request.state.operation)
        body = await execute(
            self.schema,
            graphql_request.query,
            graphql_request.variables,
            graphql_request.operation_name,
            context,
        )
        request.state.outcome = "error" if "errors" in body else "ok"
        request.state.delivered = context.delivered
        return JsonResponse(body)

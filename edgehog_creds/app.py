"""The Starlette app factory: routes, lifespan, middleware.

Nothing happens at import time; `create_app` can build the whole app twice in
one process (the tests do).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from strawberry.http.ides import get_graphql_ide_html

from . import db
from .auth import DEVICE_TOKEN_PREFIX, AuthError, JwtVerifier, Principal, bearer_token
from .config import Settings
from .graphql.context import Context
from .graphql.errors import format_errors, log_exception
from .graphql.executor import Executor
from .graphql.schema import build_schema
from .store import devices, tenants
from .store.tenants import Tenant
from .vault import Vault, load_vault

log = logging.getLogger("edgehog_creds")

MAX_BODY = 1024 * 1024
DEV_ORIGINS = r"http://(localhost|127\.0\.0\.1)(:\d+)?"


class JsonResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_response(status: int, message: str, code: str) -> JsonResponse:
    return JsonResponse({"errors": [{"message": message, "code": code}]}, status_code=status)


def _graphiql_html() -> str:
    html = get_graphql_ide_html("graphiql")
    # GraphiQL mirrors variables into the page URL; a password typed there would
    # then sit in browser history and in any access log of a reload. Keep it out.
    return html.replace("updateURL({ variables: newVariables });", "")


class BodyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _read_graphql_request(request: Request) -> tuple[str, dict | None, str | None]:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        raise BodyError(413, "request body is over 1 MiB")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise BodyError(413, "request body is over 1 MiB")
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BodyError(400, "request body is not valid JSON") from exc
    if not isinstance(payload, dict):
        raise BodyError(400, "request body must be a JSON object {query, variables, operationName}")
    query = payload.get("query")
    variables = payload.get("variables")
    operation = payload.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise BodyError(400, "request body has no GraphQL query")
    if variables is not None and not isinstance(variables, dict):
        raise BodyError(400, "variables must be a JSON object")
    if operation is not None and not isinstance(operation, str):
        raise BodyError(400, "operationName must be a string")
    return query, variables, operation


def create_app(
    settings: Settings,
    *,
    pool: asyncpg.Pool | None = None,
    vault: Vault | None = None,
) -> Starlette:
    """Build the app. Give `pool` to share one (tests); otherwise it owns its own."""
    loaded = None if vault is not None else load_vault(settings)
    vault = vault or loaded.vault  # type: ignore[union-attr]
    executor = Executor(build_schema())
    verifier = JwtVerifier()
    tenant_cache: dict[str, Tenant] = {}  # tenants never change once created
    graphiql_html = _graphiql_html()
    state: dict[str, Any] = {"pool": pool}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if loaded is not None and loaded.generated_at is not None:
            log.warning(
                "no key setting given: using the development key %s "
                "(set EDGEHOG_CREDS_SECRET_KEY_FILE in production)",
                loaded.generated_at,
            )
        if not vault.can_open:
            log.warning("holding only the public key: devicePayload is unavailable here")
        forgetting = asyncio.create_task(_forget_expired_passwords(vault))
        try:
            if state["pool"] is not None:
                yield
                return
            dsn = settings.database_url or db.start_embedded_postgres(settings.data_dir / "pg")
            applied = await db.migrate_dsn(dsn)
            if applied:
                log.info("applied migrations: %s", ", ".join(applied))
            state["pool"] = await db.create_pool(
                dsn, settings.pool_min_size, settings.pool_max_size
            )
            try:
                yield
            finally:
                await state["pool"].close()
                state["pool"] = None
        finally:
            forgetting.cancel()

    async def find_tenant(slug: str) -> Tenant | None:
        tenant = tenant_cache.get(slug)
        if tenant is None and tenants.SLUG.fullmatch(slug):
            tenant = await tenants.get_by_slug(state["pool"], slug)
            if tenant is not None:
                tenant_cache[slug] = tenant
        return tenant

    async def authenticate(request: Request, tenant: Tenant) -> Principal:
        token = bearer_token(request.headers.get("authorization"))
        if token.startswith(DEVICE_TOKEN_PREFIX):
            device = await devices.get_by_token(state["pool"], tenant, token)
            if device is None:
                raise AuthError("unknown device token")
            return device
        return verifier.verify(tenant, token)

    async def graphql(request: Request) -> Response:
        try:
            return await handle_graphql(request)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.error("database unavailable: %s", type(exc).__name__)
            return error_response(503, "the database is unavailable; try again", "unavailable")
        except Exception as exc:  # a bug: answer plainly, log where it happened
            log_exception(exc, f"{request.method} {request.url.path}")
            return error_response(500, "something went wrong on our side", "internal")

    async def handle_graphql(request: Request) -> Response:
        tenant = await find_tenant(request.path_params["slug"])
        if tenant is None:
            return error_response(404, "no such tenant", "not_found")
        if request.method == "GET":
            if settings.graphiql and "text/html" in request.headers.get("accept", ""):
                return HTMLResponse(graphiql_html)
            return error_response(405, "send GraphQL queries with POST", "invalid")
        try:
            principal = await authenticate(request, tenant)
        except AuthError as exc:
            return error_response(401, str(exc), "unauthorized")
        try:
            query, variables, operation = await _read_graphql_request(request)
        except BodyError as exc:
            return error_response(exc.status, str(exc), "invalid")
        context = Context(pool=state["pool"], tenant=tenant, principal=principal, vault=vault)
        result = await executor.run(query, variables, context, operation)
        body: dict[str, Any] = {"data": result.data}
        if result.errors:
            body["errors"] = format_errors(result.errors, variables)
        return JsonResponse(body)

    async def health(request: Request) -> Response:
        return JsonResponse({"status": "ok"})

    async def ready(request: Request) -> Response:
        try:
            async with state["pool"].acquire(timeout=2) as conn:
                await conn.fetchval("SELECT 1", timeout=2)
        except Exception:  # any failure means "not ready"; the reason is logged
            log.warning("readiness check failed", exc_info=True)
            return JsonResponse({"status": "unavailable"}, status_code=503)
        return JsonResponse({"status": "ready"})

    async def on_error(request: Request, exc: Exception) -> Response:
        # Last line of defence: no stack trace and no exception text leaves the process.
        log_exception(exc, f"{request.method} {request.url.path}")
        return error_response(500, "something went wrong on our side", "internal")

    dev_origins = DEV_ORIGINS if loaded is not None and loaded.generated_at is not None else None
    app = Starlette(
        routes=[
            Route("/tenants/{slug}/api", graphql, methods=["GET", "POST"]),
            Route("/health", health),
            Route("/ready", ready),
        ],
        middleware=[
            Middleware(AccessLog),
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_origin_regex=dev_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type"],
                max_age=600,
            ),
        ],
        exception_handlers={Exception: on_error},
        lifespan=lifespan,
    )
    app.state.vault = vault
    return app


FORGET_EVERY = 5.0  # seconds


async def _forget_expired_passwords(vault: Vault) -> None:
    # Opened passwords leave memory within seconds of expiring, even when no
    # payload comes along to push them out.
    while True:
        await asyncio.sleep(FORGET_EVERY)
        vault.forget_expired()


class AccessLog:
    """One line per request: method, path without query string, status, time.

    uvicorn's own access log is off: it prints query strings, and GraphQL
    GET URLs can carry variables.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.log = logging.getLogger("edgehog_creds.access")

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not self.log.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0

        async def send_wrapper(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.log.info(
                "%s %s %s %.1fms",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - start) * 1000,
            )

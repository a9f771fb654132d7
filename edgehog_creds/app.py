"""The Starlette app: its routes, its middleware and its lifespan.

Nothing happens at import time; `create_app` can build the whole app twice in
one process (the tests do).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import asyncpg
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from .auth import Authenticator, JwtVerifier
from .config import Settings
from .db import quiet_pool_logs
from .deployments.payload import ReleaseTemplates
from .engine import Engine
from .graphql.errors import log_exception
from .graphql.limits import QueryLimits
from .graphql.schema import build_schema, may_keep
from .http.access_log import AccessLog, redact_websocket_queries
from .http.graphiql import ASSETS_ROUTE, graphiql_asset
from .http.graphql_endpoint import GraphQLEndpoint
from .http.graphql_ws import GraphQLWebSocket
from .http.live import LiveSockets
from .http.phoenix_socket import PhoenixSocket
from .http.responses import JsonResponse, error_response
from .metrics import Metrics
from .runtime import Runtime
from .vault import Vault, load_vault

DEV_ORIGINS = r"http://(localhost|127\.0\.0\.1)(:\d+)?"


async def health(request: Request) -> Response:
    return JsonResponse({"status": "ok"})


async def on_error(request: Request, exc: Exception) -> Response:
    # Last line of defence: no stack trace and no exception text leaves the process.
    log_exception(exc, f"{request.method} {request.url.path}")
    return error_response(500, "something went wrong on our side", "internal")


def metrics_response(metrics: Metrics) -> Response:
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)


def create_app(
    settings: Settings,
    *,
    pool: asyncpg.Pool | None = None,
    vault: Vault | None = None,
    clock: Callable[[], float] = time.time,
) -> Starlette:
    """Build the app. Give `pool` to share one (tests); otherwise it owns its own.

    `clock` is what JWT expiry is checked against (tests give their own).
    """
    loaded = load_vault(settings) if vault is None else None
    vault = vault or loaded.vault  # type: ignore[union-attr]
    runtime = Runtime(settings, vault, pool=pool, dev_key=loaded.generated_at if loaded else None)
    metrics = Metrics(runtime.pool, runtime.hub) if settings.metrics else None
    endpoint = GraphQLEndpoint(
        pool=runtime.pool,
        schema=build_schema(
            Engine.named(settings.engine, may_keep),
            QueryLimits(
                max_tokens=settings.max_tokens,
                max_depth=settings.max_depth,
                max_aliases=settings.max_aliases,
                max_cost=settings.max_cost,
            ),
        ),
        directory=runtime.directory,
        authenticator=Authenticator(
            runtime.pool,
            JwtVerifier(clock=clock),
            device_online_seconds=settings.device_online_seconds,
        ),
        vault=vault,
        templates=ReleaseTemplates(),
        graphiql=settings.graphiql,
        body_timeout=settings.body_timeout_seconds,
        metrics=metrics,
    )
    live = LiveSockets(
        endpoint=endpoint,
        hub=runtime.hub,
        origins=frozenset(settings.cors_origins),
        origin_pattern=DEV_ORIGINS if runtime.dev_key is not None else None,
        heartbeat_seconds=settings.live_heartbeat_seconds,
    )
    routes = [
        Route("/tenants/{slug}/api", endpoint.handle, methods=["GET", "POST"]),
        WebSocketRoute("/tenants/{slug}/api", GraphQLWebSocket(live).handle),
        WebSocketRoute("/socket/websocket", PhoenixSocket(live).handle),
        Route("/health", health),
        Route("/ready", runtime.ready),
    ]
    if settings.graphiql:
        routes.append(Route(ASSETS_ROUTE, graphiql_asset))  # the page's scripts and styles
    if metrics is not None:
        routes.append(Route("/metrics", lambda _request: metrics_response(metrics)))
    redact_websocket_queries()
    quiet_pool_logs()
    middleware = [
        Middleware(AccessLog),
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            # A UI under development may call a server that runs with a generated dev key.
            allow_origin_regex=DEV_ORIGINS if runtime.dev_key is not None else None,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            max_age=600,
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={Exception: on_error},
        lifespan=runtime.lifespan,
    )
    app.state.hub = runtime.hub  # live updates' connections, for operators and tests
    return app

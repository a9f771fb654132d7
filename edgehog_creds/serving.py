"""How `serve` runs the app under uvicorn: in its own process, or in N workers.

With `--workers N`, uvicorn binds the port once and spawns N processes that
all accept on it. A spawned process inherits the environment, not objects, so
each worker builds its own app from `os.environ` (`worker_app`), and whatever
the parent decided first goes into the environment: the embedded database's
URL. Everything else a worker needs already lives outside the process: the
tenants, the rows and the live updates' announcements in PostgreSQL (each
worker LISTENs, so a change made through one reaches sockets on all), and the
dev key in the data directory, generated once by the parent.

Prometheus' counters of N processes are added up through files in a fresh
PROMETHEUS_MULTIPROC_DIR (metrics.py), so a scrape that lands on any worker
reports the whole server.
"""

from __future__ import annotations

import gc
import os
import tempfile
from typing import Any

import uvicorn
from starlette.applications import Starlette

from . import logs
from .config import Settings, load_settings
from .http.server import GuardedHttpToolsProtocol, uvicorn_options

MAX_WORKERS = 64
WORKER_APP = "edgehog_creds.serving:worker_app"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def settle_gc() -> None:
    """The cyclic GC set for a long-running server; call it just before serving.

    Everything built so far (schema, app, imports) lives for the whole
    process: frozen, no collection rescans it. And the youngest generation is
    collected after 10,000 net allocations instead of 700. A request leaves no
    cycles behind (tests/test_execution.py), but eight concurrent payload
    requests hold a few thousand objects between them, so at 700 a collection
    ran every other request, each promoting whatever the requests still held
    (4 % of the CPU in-process); at 10,000, a handful run in 2,000 payloads.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


def serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Serve until interrupted. `settings.database_url` must be set by now."""
    from .app import create_app

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "info",
        "log_config": logs.uvicorn_log_config(settings.log_format),
        **uvicorn_options(settings),
    }
    if workers == 1:
        app = create_app(settings)
        settle_gc()
        uvicorn.run(app, **options)
        return
    assert settings.database_url, "the parent resolves the database before spawning"
    os.environ["DATABASE_URL"] = settings.database_url
    # The workers' http protocol by name: a class made at run time cannot be
    # sent to a spawned process. Each worker sets its header timeout (worker_app).
    options["http"] = f"{GuardedHttpToolsProtocol.__module__}:GuardedHttpToolsProtocol"
    with tempfile.TemporaryDirectory(prefix="edgehog-creds-metrics-") as shared:
        os.environ[MULTIPROC_ENV] = shared
        uvicorn.run(WORKER_APP, factory=True, workers=workers, **options)


def worker_app() -> Starlette:
    """One worker's app, built from the environment `serve` prepared."""
    from .app import create_app

    settings = load_settings(os.environ)
    # This process's own copy of the class: set like serve's guarded_protocol does.
    GuardedHttpToolsProtocol.header_seconds = settings.header_timeout_seconds
    app = create_app(settings)
    settle_gc()
    return app

"""The floor: our own store layer behind bare Starlette + asyncpg, without GraphQL.

It answers the benchmark's requests with the same SQL the service runs
(store/pages.py `page` with its total, credentials/store.py `insert` and its
audit record, deployments/payload_service.py `PayloadService.build` after the
same device-token lookup, the same pool settings) and the same JSON shape, but
with no GraphQL parsing, validation or execution, no JWT check and no access
log. The gap between the service and this endpoint is what GraphQL, auth and
the framework glue cost.

    python -m bench.floor --host 127.0.0.1 --port 8001
    env: DATABASE_URL, BENCH_TENANT (slug), EDGEHOG_CREDS_SECRET_KEY (base64)
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from edgehog_creds import db
from edgehog_creds.audit import store as audit
from edgehog_creds.config import load_settings
from edgehog_creds.credentials import store
from edgehog_creds.deployments.payload import ReleaseTemplates
from edgehog_creds.deployments.payload_service import PayloadService
from edgehog_creds.devices import store as devices
from edgehog_creds.devices.tokens import hash_device_token
from edgehog_creds.domain.listing import ListQuery, PageRequest, Sort
from edgehog_creds.domain.principal import Device
from edgehog_creds.domain.secret import Secret
from edgehog_creds.domain.tenant import Tenant
from edgehog_creds.serving import settle_gc
from edgehog_creds.store import pages
from edgehog_creds.tenants import store as tenants
from edgehog_creds.vault import Vault, load_vault

TYPE = "ImageCredentials"
LABEL_ORDER = ListQuery(sort=[Sort("label")])  # the sort stops at label: it is unique


def global_id(id: uuid.UUID) -> str:
    return base64.b64encode(f"{TYPE}:{id}".encode()).decode()


def cursor(label: str) -> str:
    # Same bytes as graphql/relay.py cursor_encoder gives for the LABEL ASC sort.
    payload = orjson.dumps({"s": "label:a", "v": [label]})
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def node(row: Any) -> dict[str, Any]:
    return {"id": global_id(row.id), "label": row.label, "username": row.username}


def json_response(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


def create_app(dsn: str, slug: str, vault: Vault) -> Starlette:
    state: dict[str, Any] = {}
    templates = ReleaseTemplates()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state["pool"] = await db.create_pool(dsn)  # same sizes and statement cache as ours
        tenant = await tenants.get_by_slug(state["pool"], slug)
        if tenant is None:
            raise RuntimeError(f"no tenant {slug!r}")
        state["tenant_id"] = tenant.id
        try:
            yield
        finally:
            await state["pool"].close()

    async def list_(request: Request) -> Response:
        variables = orjson.loads(await request.body()).get("variables") or {}
        request = PageRequest(first=int(variables.get("first", 50)), count=True)
        async with state["pool"].acquire() as conn:
            # The page the service reads when `count` is selected: one query.
            page = await pages.page(conn, store.TABLE, state["tenant_id"], LABEL_ORDER, request)
        edges = [{"cursor": cursor(r.label), "node": node(r)} for r in page.items]
        page_info = {
            "hasNextPage": page.has_next_page,
            "hasPreviousPage": False,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        }
        connection = {"count": page.total, "pageInfo": page_info, "edges": edges}
        return json_response({"data": {"listImageCredentials": connection}})

    async def create(request: Request) -> Response:
        given = orjson.loads(await request.body())["variables"]["input"]
        credentials_id = uuid.uuid4()
        sealed = vault.seal(state["tenant_id"], credentials_id, Secret(given["password"]))
        label = given["label"].strip()
        async with state["pool"].acquire() as conn, conn.transaction():
            row = await store.insert(
                conn, state["tenant_id"], credentials_id,
                label=label, username=given["username"].strip(), sealed=sealed,
            )
            await audit.record(
                conn, state["tenant_id"], actor="bench", action="create",
                entity_type=TYPE, events=[(credentials_id, {"label": label})],
            )
        result = {"result": node(row), "errors": []}
        return json_response({"data": {"createImageCredentials": result}})

    async def payload(request: Request) -> Response:
        deployment = orjson.loads(await request.body())["variables"]["id"]
        token = request.headers["authorization"].removeprefix("Bearer ")
        tenant = Tenant(state["tenant_id"], slug, "")
        device_id = await devices.id_for_token(state["pool"], tenant.id, hash_device_token(token))
        deployment_id = uuid.UUID(base64.b64decode(deployment).decode().partition(":")[2])
        device = Device(tenant, device_id)
        payloads = PayloadService(db.Database(state["pool"]), device, vault, templates)
        built = await payloads.build(deployment_id)
        return json_response({"data": {"devicePayload": {"events": built.events()}}})

    return Starlette(
        routes=[
            Route("/list", list_, methods=["POST"]),
            Route("/create", create, methods=["POST"]),
            Route("/payload", payload, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The vault as `serve` builds it from the same environment (key, and how
    # long opened passwords are remembered).
    vault = load_vault(load_settings()).vault
    app = create_app(os.environ["DATABASE_URL"], os.environ["BENCH_TENANT"], vault)
    # The same process and server settings as `edgehog-creds serve` (cli.py
    # cmd_serve): the GC set the same way, then uvicorn.
    settle_gc()
    uvicorn.run(
        app, host=args.host, port=args.port, access_log=False, log_level="info",
        loop="auto", http="auto", server_header=False,
    )


if __name__ == "__main__":
    main()

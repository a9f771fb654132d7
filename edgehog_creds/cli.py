"""The `edgehog-creds` commands."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg

from . import db, logs
from .auth import generate_tenant_key_pair, load_public_key, mint_token
from .config import ConfigError, Settings, load_settings
from .devices.model import ENTITY as DEVICE
from .domain.errors import Conflict, DomainError, DomainErrors
from .domain.tenant import SLUG, Tenant
from .tenants import store as tenants
from .vault import encode_key, generate_private_key_file

if TYPE_CHECKING:
    from .devices.model import Device
    from .devices.service import DevicesService

log = logging.getLogger("edgehog_creds")
T = TypeVar("T")
DEV_TENANT = "default"
DEV_TENANT_KEY = "default-tenant-key.pem"


# A DATABASE_URL that does not work: down, refused, unknown database, bad password...
DATABASE_PROBLEMS: tuple[type[BaseException], ...] = (
    *db.DATABASE_DOWN,
    asyncpg.PostgresError,
    asyncpg.ClientConfigurationError,
)


class CliError(Exception):
    """A problem the user can fix; printed without a traceback."""


def _dsn(settings: Settings) -> str:
    return settings.database_url or db.start_embedded_postgres(settings.data_dir / "pg")


async def _with_conn(settings: Settings, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    dsn = _dsn(settings)
    await db.migrate_dsn(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        return await fn(conn)
    finally:
        await conn.close()


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    db.migration_files()  # a broken installation says so before touching anything
    applied = asyncio.run(db.migrate_dsn(_dsn(settings)))
    print(f"applied: {', '.join(applied)}" if applied else "nothing to apply: up to date")


def cmd_keygen(args: argparse.Namespace, settings: Settings) -> None:
    path = Path(args.output)
    if path.exists():
        raise CliError(f"{path} exists; refusing to overwrite a key")
    public = generate_private_key_file(path)
    print(encode_key(bytes(public)))


def cmd_tenant_create(args: argparse.Namespace, settings: Settings) -> None:
    if not SLUG.fullmatch(args.slug):
        raise CliError("a tenant slug is made of a-z, 0-9 and -")
    try:
        pem = Path(args.public_key).read_text()
    except OSError as exc:
        raise CliError(f"{args.public_key}: {exc.strerror}") from exc
    try:
        load_public_key(pem)
    except ValueError as exc:
        raise CliError(f"{args.public_key}: {exc}") from exc

    async def create(conn: asyncpg.Connection) -> Tenant:
        try:
            return await tenants.create(conn, args.slug, pem)
        except Conflict as exc:
            raise CliError(f"tenant {args.slug!r} already exists") from exc

    tenant = asyncio.run(_with_conn(settings, create))
    print(f"created tenant {tenant.slug} ({tenant.id})")


def cmd_tenant_list(args: argparse.Namespace, settings: Settings) -> None:
    found = asyncio.run(_with_conn(settings, tenants.all_tenants))
    for tenant in found:
        print(f"{tenant.slug}\t{tenant.id}")
    if not found:
        print("no tenants", file=sys.stderr)


def cmd_tenant_remove(args: argparse.Namespace, settings: Settings) -> None:
    """Remove a tenant and everything it owns, once the slug is confirmed."""
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError("removing a tenant deletes everything it owns: confirm with --yes")
        answer = input(f"This deletes tenant {args.slug!r} and everything it owns. Type its slug: ")
        if answer.strip() != args.slug:
            raise CliError("not confirmed; nothing removed")

    async def remove(conn: asyncpg.Connection) -> bool:
        return await tenants.remove(conn, args.slug)

    if not asyncio.run(_with_conn(settings, remove)):
        raise CliError(f"no tenant {args.slug!r}")
    print(f"removed tenant {args.slug}")


MAX_TOKEN_SECONDS = 10 * 365 * 86400


def _expiry_seconds(raw: str) -> int:
    """`--expiry`: 0 (no expiry) to ten years, in seconds."""
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number of seconds") from None
    if not 0 <= value <= MAX_TOKEN_SECONDS:
        raise argparse.ArgumentTypeError(f"must be 0 to {MAX_TOKEN_SECONDS} seconds, got {value}")
    return value


def cmd_token(args: argparse.Namespace, settings: Settings) -> None:
    try:
        pem = Path(args.private_key).read_bytes()
    except OSError as exc:
        raise CliError(f"{args.private_key}: {exc.strerror}") from exc
    try:
        print(mint_token(pem, expiry_seconds=args.expiry, subject=args.subject))
    except (ValueError, TypeError) as exc:
        raise CliError(f"{args.private_key}: not an EC P-256 or RSA private key in PEM") from exc


# --- devices: through DevicesService, as the GraphQL API, so the same rules apply ---


def _domain_message(exc: DomainError | DomainErrors) -> str:
    """A service's refusal in one line, fields in the API's spelling."""
    from .graphql.errors import api_field

    problems = exc.errors if isinstance(exc, DomainErrors) else [exc]
    return "; ".join(
        f"{api_field(e.field) if e.field else ''} {e.short_message}".strip() for e in problems
    )


async def _with_devices(
    settings: Settings, slug: str, fn: Callable[[DevicesService], Awaitable[T]]
) -> T:
    """Run `fn` with the devices service of tenant `slug`, acting as the user `cli`."""
    from .devices.service import DevicesService
    from .domain.principal import TenantUser

    dsn = _dsn(settings)
    await db.migrate_dsn(dsn)
    pool = await db.create_pool(dsn, min_size=1, max_size=1)
    try:
        tenant = await tenants.get_by_slug(pool, slug)
        if tenant is None:
            raise CliError(f"no tenant {slug!r}")
        # Recorded in the audit trail as the actor, as a JWT's `sub` would be.
        user = TenantUser(tenant, "cli")
        try:
            return await fn(DevicesService(db.Database(pool), user))
        except (DomainError, DomainErrors) as exc:
            raise CliError(_domain_message(exc)) from exc
    finally:
        await pool.close()


async def _find_device(devices: DevicesService, device_id: str) -> Device:
    from .domain.listing import Cmp, ListQuery, PageRequest

    # Trimmed as `device create` stores it.
    wanted = ListQuery(Cmp("device_id", "eq", device_id.strip()))
    page = await devices.list_devices(wanted, PageRequest(first=1))
    if not page.items:
        raise CliError(f"no device {device_id.strip()!r} in tenant {devices.user.tenant.slug}")
    return page.items[0]


async def _system_model_id(devices: DevicesService, handle: str) -> uuid.UUID:
    from .domain.listing import Cmp, ListQuery, PageRequest
    from .systemmodels.service import SystemModelsService

    models = SystemModelsService(devices.db, devices.user)
    page = await models.list_system_models(
        ListQuery(Cmp("handle", "eq", handle)), PageRequest(first=1)
    )
    if not page.items:
        raise CliError(f"no system model with handle {handle!r}")
    return page.items[0].id


async def _all_devices(devices: DevicesService) -> list[Device]:
    from .domain.listing import MAX_PAGE, ListQuery, PageRequest

    found: list[Device] = []
    after = None
    while True:
        page = await devices.list_devices(ListQuery(), PageRequest(first=MAX_PAGE, after=after))
        found += page.items
        if not page.has_next_page:
            return found
        after = page.end_cursor


async def _described(devices: DevicesService, found: list[Device]) -> list[dict[str, Any]]:
    """Each device as the API names its fields, with its tags and system model's handle."""
    from .domain.listing import MAX_PAGE, ListQuery, PageRequest
    from .graphql.relay import to_global_id
    from .systemmodels.service import SystemModelsService

    ids = [d.id for d in found]
    tags: dict[uuid.UUID, list[str]] = {}
    for start in range(0, len(ids), MAX_PAGE):
        chunk = ids[start : start + MAX_PAGE]
        pages = await devices.tags_of(chunk, ListQuery(), PageRequest(first=MAX_PAGE))
        for id, page in zip(chunk, pages, strict=True):
            tags[id] = [t.name for t in page.items]
            while page.has_next_page:  # more tags than a page holds: rare
                (page,) = await devices.tags_of(
                    [id], ListQuery(), PageRequest(first=MAX_PAGE, after=page.end_cursor)
                )
                tags[id] += [t.name for t in page.items]
    model_ids = list({d.system_model_id for d in found if d.system_model_id})
    models = await SystemModelsService(devices.db, devices.user).get_many(model_ids)

    def when(at: datetime | None) -> str | None:
        return at.isoformat() if at else None

    # Never the token: a Device holds none (only its hash is stored).
    return [
        {
            "id": to_global_id(DEVICE, d.id),
            "deviceId": d.device_id,
            "name": d.name,
            "online": d.online,
            "tags": tags[d.id],
            "systemModel": models[d.system_model_id].handle if d.system_model_id else None,
            "lastConnection": when(d.last_connection),
            "lastDisconnection": when(d.last_disconnection),
            "insertedAt": when(d.inserted_at),
        }
        for d in found
    ]


def cmd_device_create(args: argparse.Namespace, settings: Settings) -> None:
    """Register a device; its token goes to stdout, once (only its hash is stored)."""
    from .graphql.relay import to_global_id

    async def create(devices: DevicesService) -> tuple[str, str]:
        model_id = await _system_model_id(devices, args.system_model) if args.system_model else None
        device, token = await devices.create(
            device_id=args.device_id, name=args.name, system_model_id=model_id, tags=args.tag
        )
        return to_global_id(DEVICE, device.id), token.reveal()

    device_gid, token = asyncio.run(_with_devices(settings, args.tenant, create))
    print(
        f"created device {args.device_id.strip()!r} ({device_gid}) in tenant {args.tenant}; "
        "its token follows, shown this once:",
        file=sys.stderr,
    )
    print(token)


def _print_device(device: dict[str, Any]) -> None:
    for key, value in device.items():
        if isinstance(value, bool):
            shown: Any = "yes" if value else "no"
        else:
            shown = ", ".join(value) if isinstance(value, list) else value
        print(f"{key + ':':<19}{'-' if shown in (None, '') else shown}")


def cmd_device_list(args: argparse.Namespace, settings: Settings) -> None:
    from .devices.service import tag_names

    wanted = set(tag_names("tag", args.tag, at_least_one=False)) if args.tag else set()

    async def listed(devices: DevicesService) -> list[dict[str, Any]]:
        # Presence and tags are not filters of the API's list: chosen here, from
        # what the list shows anyway.
        found = [d for d in await _all_devices(devices) if args.online in (None, d.online)]
        described = await _described(devices, found)
        return [d for d in described if wanted <= set(d["tags"])]

    found = asyncio.run(_with_devices(settings, args.tenant, listed))
    if args.json:
        print(json.dumps(found, indent=2))
        return
    for d in found:
        state = "online" if d["online"] else "offline"
        print(
            f"{d['deviceId']}\t{d['name']}\t{state}\t"
            f"{','.join(d['tags']) or '-'}\t{d['systemModel'] or '-'}"
        )
    if not found:
        print("no devices", file=sys.stderr)


def cmd_device_show(args: argparse.Namespace, settings: Settings) -> None:
    from .devices.service import capabilities_of

    async def show(devices: DevicesService) -> dict[str, Any]:
        device = await _find_device(devices, args.device_id)
        (described,) = await _described(devices, [device])
        interfaces = await devices.interfaces_of([device.id])
        # The API's enum values: OPERATING_SYSTEM, ...
        found = capabilities_of(device, interfaces.get(device.id))
        described["capabilities"] = [c.upper() for c in found]
        return described

    device = asyncio.run(_with_devices(settings, args.tenant, show))
    if args.json:
        print(json.dumps(device, indent=2))
    else:
        _print_device(device)


def cmd_device_update(args: argparse.Namespace, settings: Settings) -> None:
    """Each change is one call of the service, as each is one mutation of the API."""
    from .devices.service import tag_names

    asked = (args.name, args.system_model, args.no_system_model, args.add_tag, args.remove_tag)
    if all(a is None or a is False or a == [] for a in asked):
        raise CliError(
            "nothing to change: give --name, --system-model, --no-system-model, "
            "--add-tag or --remove-tag"
        )
    # The service's own rule, checked first so a bad tag changes nothing.
    try:
        tag_names("addTag", args.add_tag, at_least_one=False)
        tag_names("removeTag", args.remove_tag, at_least_one=False)
    except (DomainError, DomainErrors) as exc:
        raise CliError(_domain_message(exc)) from exc

    async def update(devices: DevicesService) -> dict[str, Any]:
        device = await _find_device(devices, args.device_id)
        changes: dict[str, Any] = {}
        if args.name is not None:
            changes["name"] = args.name
        if args.system_model:
            changes["system_model_id"] = await _system_model_id(devices, args.system_model)
        elif args.no_system_model:
            changes["system_model_id"] = None
        if changes:
            device = await devices.update(device.id, changes)
        if args.add_tag:
            device = await devices.add_tags(device.id, args.add_tag)
        if args.remove_tag:
            device = await devices.remove_tags(device.id, args.remove_tag)
        (described,) = await _described(devices, [device])
        return described

    d = asyncio.run(_with_devices(settings, args.tenant, update))
    print(
        f"updated device {d['deviceId']!r}: name {d['name']!r}, "
        f"tags {','.join(d['tags']) or '-'}, system model {d['systemModel'] or '-'}"
    )


def cmd_device_delete(args: argparse.Namespace, settings: Settings) -> None:
    """Delete a device (its token stops working), once its device id is confirmed."""
    device_id = args.device_id.strip()
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError(
                "deleting a device ends its token and its deployments: confirm with --yes"
            )
        answer = input(
            f"This deletes device {device_id!r} of tenant {args.tenant}: its token stops "
            "working and its deployments go. Type its device id: "
        )
        if answer.strip() != device_id:
            raise CliError("not confirmed; nothing deleted")

    async def delete(devices: DevicesService) -> None:
        device = await _find_device(devices, device_id)
        await devices.delete(device.id)

    asyncio.run(_with_devices(settings, args.tenant, delete))
    print(f"deleted device {device_id!r} from tenant {args.tenant}")


# --- the embedded PostgreSQL of the data directory ----------------------------------


def cmd_dev_stop(args: argparse.Namespace, settings: Settings) -> None:
    pgdata = settings.data_dir / "pg"
    if db.stop_embedded_postgres(pgdata):
        print(f"stopped the embedded PostgreSQL in {pgdata.resolve()}")
    else:
        print(f"the embedded PostgreSQL in {pgdata.resolve()} is not running")


def cmd_dev_status(args: argparse.Namespace, settings: Settings) -> None:
    pgdata = settings.data_dir / "pg"
    pid = db.embedded_postgres_pid(pgdata)
    if pid is None:
        print(f"the embedded PostgreSQL in {pgdata.resolve()} is not running")
    else:
        print(f"the embedded PostgreSQL in {pgdata.resolve()} is running (pid {pid})")


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> None:
    from .graphql.schema import export_sdl

    sys.stdout.write(export_sdl())


def ensure_dev_tenant(settings: Settings) -> str:
    """Create the `default` tenant and its key pair once; return a fresh token."""
    key_path = settings.data_dir / DEV_TENANT_KEY
    if not key_path.exists():
        private, _ = generate_tenant_key_pair()
        key_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(private)
    private_pem = key_path.read_bytes()

    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(private_pem, password=None)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )

    async def ensure(conn: asyncpg.Connection) -> None:
        tenant = await tenants.get_by_slug(conn, DEV_TENANT)
        if tenant is None:
            await tenants.create(conn, DEV_TENANT, public_pem)
        elif tenant.jwt_public_key != public_pem:
            raise CliError(
                f"tenant {DEV_TENANT!r} exists with another key than {key_path}; "
                "mint tokens with that tenant's own private key"
            )

    asyncio.run(_with_conn(settings, ensure))
    return mint_token(private_pem, expiry_seconds=7 * 86400, subject="dev")


def _check_port_free(host: str, port: int) -> None:
    """Say the port is taken before printing a URL and a token for it."""
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CliError(
                f"cannot listen on {host}:{port}: {exc.strerror} (another server running? "
                "choose another with --port, or PORT=... for make run)"
            ) from None


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    from .serving import serve
    from .vault import load_vault

    _check_port_free(args.host, args.port)
    if not settings.database_url:
        # Start the embedded server here, once, so the app, --dev and every worker share it.
        settings = dataclasses.replace(settings, database_url=_dsn(settings))
    token = ensure_dev_tenant(settings) if args.dev else None
    load_vault(settings)  # a bad key says so here, and a dev key is made once, not per worker
    url = f"http://{args.host}:{args.port}/tenants/{DEV_TENANT}/api"
    if token:
        print(f"\nGraphiQL:  {url}", flush=True)
        print("Headers (paste into GraphiQL's Headers tab):", flush=True)
        print(json.dumps({"Authorization": f"Bearer {token}"}) + "\n", flush=True)
    log.info("engine=%s workers=%d", settings.engine, args.workers)
    serve(settings, args.host, args.port, args.workers)


def _workers(raw: str) -> int:
    from .serving import MAX_WORKERS

    try:
        n = int(raw)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"a number of processes from 1 to {MAX_WORKERS}")
    return n


# The environment each command reads, shown under its --help.
DATA_DIR_ENV = (
    "environment: EDGEHOG_CREDS_DATA_DIR (default: .edgehog-creds/ in the source checkout; "
    "installed, $XDG_DATA_HOME/edgehog-creds or ~/.local/share/edgehog-creds)"
)
DATABASE_ENV = (
    "environment: DATABASE_URL (unset: an embedded PostgreSQL under EDGEHOG_CREDS_DATA_DIR/pg, "
    "which defaults to .edgehog-creds/ in the source checkout; installed, to "
    "$XDG_DATA_HOME/edgehog-creds or ~/.local/share/edgehog-creds)"
)
SERVE_ENV = (
    DATABASE_ENV + "; EDGEHOG_CREDS_SECRET_KEY_FILE, EDGEHOG_CREDS_SECRET_KEY, "
    "EDGEHOG_CREDS_PUBLIC_KEY, EDGEHOG_CREDS_CORS_ORIGINS, EDGEHOG_CREDS_GRAPHIQL, "
    "EDGEHOG_CREDS_ENGINE and the other EDGEHOG_CREDS_* settings of the README's Configuration"
)


class _Help(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """--help with each option's default."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edgehog-creds", description=__doc__, formatter_class=_Help
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "serve", help="migrate, then serve GraphQL", epilog=SERVE_ENV, formatter_class=_Help
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=4000, help="port to listen on")
    p.add_argument(
        "--dev",
        action="store_true",
        help="create the 'default' tenant and its key in the data directory; print a token",
    )
    p.add_argument(
        "--workers",
        type=_workers,
        default=1,
        help="processes serving on the one port (about one per core); see the README's Scaling",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser(
        "migrate", help="apply pending SQL migrations", epilog=DATABASE_ENV, formatter_class=_Help
    )
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("keygen", help="create the sealed-box key pair", formatter_class=_Help)
    p.add_argument("--output", required=True, help="file for the private key (mode 0600)")
    p.set_defaults(func=cmd_keygen)

    p = sub.add_parser("tenant", help="manage tenants", epilog=DATABASE_ENV, formatter_class=_Help)
    tsub = p.add_subparsers(dest="tenant_command", required=True)
    t = tsub.add_parser(
        "create",
        help="register a tenant and its JWT public key",
        epilog=DATABASE_ENV,
        formatter_class=_Help,
    )
    t.add_argument("slug")
    t.add_argument("--public-key", required=True, help="PEM file (EC P-256 or RSA)")
    t.set_defaults(func=cmd_tenant_create)
    t = tsub.add_parser(
        "list", help="every tenant: slug and id", epilog=DATABASE_ENV, formatter_class=_Help
    )
    t.set_defaults(func=cmd_tenant_list)
    t = tsub.add_parser(
        "remove",
        help="delete a tenant and everything it owns",
        epilog=DATABASE_ENV,
        formatter_class=_Help,
    )
    t.add_argument("slug")
    t.add_argument("--yes", action="store_true", help="do not ask to type the slug again")
    t.set_defaults(func=cmd_tenant_remove)

    p = sub.add_parser("token", help="mint a tenant-user JWT", formatter_class=_Help)
    p.add_argument("--private-key", required=True, help="the tenant's PEM private key")
    p.add_argument("--expiry", type=_expiry_seconds, default=86400, help="seconds (0: no expiry)")
    p.add_argument("--subject", default=None, help="the `sub` claim, recorded as the actor")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser(
        "device",
        aliases=["devices"],
        help="manage a tenant's devices",
        epilog=DATABASE_ENV,
        formatter_class=_Help,
    )
    dsub = p.add_subparsers(dest="device_command", required=True)

    def device_command(name: str, help: str, func: Callable[..., None]) -> argparse.ArgumentParser:
        d = dsub.add_parser(name, help=help, epilog=DATABASE_ENV, formatter_class=_Help)
        d.add_argument("--tenant", required=True, help="the tenant's slug")
        d.set_defaults(func=func)
        return d

    d = device_command("create", "register a device; print its token once", cmd_device_create)
    d.add_argument("--device-id", required=True, help="the device's own identifier")
    d.add_argument("--name", required=True, help="its display name")
    d.add_argument("--tag", action="append", default=[], help="a tag to give it (repeat for more)")
    d.add_argument("--system-model", metavar="HANDLE", help="its system model, by handle")

    d = device_command(
        "list", "the tenant's devices: id, name, presence, tags, system model", cmd_device_list
    )
    presence = d.add_mutually_exclusive_group()
    presence.add_argument(
        "--online", dest="online", action="store_const", const=True, help="only online ones"
    )
    presence.add_argument(
        "--offline", dest="online", action="store_const", const=False, help="only offline ones"
    )
    d.add_argument(
        "--tag", action="append", default=[], help="only those carrying this tag (repeatable)"
    )
    d.add_argument("--json", action="store_true", help="a JSON array, fields named as the API's")

    d = device_command("show", "one device, with its capabilities", cmd_device_show)
    d.add_argument("device_id", metavar="DEVICE_ID", help="the device's own identifier")
    d.add_argument("--json", action="store_true", help="a JSON object, fields named as the API's")

    d = device_command("update", "rename, (un)set the system model, tag, untag", cmd_device_update)
    d.add_argument("device_id", metavar="DEVICE_ID", help="the device's own identifier")
    d.add_argument("--name", help="its new display name")
    model = d.add_mutually_exclusive_group()
    model.add_argument("--system-model", metavar="HANDLE", help="its system model, by handle")
    model.add_argument("--no-system-model", action="store_true", help="clear its system model")
    d.add_argument("--add-tag", action="append", default=[], help="a tag to add (repeatable)")
    d.add_argument("--remove-tag", action="append", default=[], help="a tag to remove (repeatable)")

    d = device_command(
        "delete", "delete a device: its token stops working, its deployments go", cmd_device_delete
    )
    d.add_argument("device_id", metavar="DEVICE_ID", help="the device's own identifier")
    d.add_argument("--yes", action="store_true", help="do not ask to type the device id again")

    p = sub.add_parser(
        "dev",
        help="the embedded PostgreSQL of the data directory",
        epilog=DATA_DIR_ENV,
        formatter_class=_Help,
    )
    vsub = p.add_subparsers(dest="dev_command", required=True)
    v = vsub.add_parser(
        "stop",
        help="stop it (fast shutdown: sessions end, committed data stays)",
        epilog=DATA_DIR_ENV,
        formatter_class=_Help,
    )
    v.set_defaults(func=cmd_dev_stop)
    v = vsub.add_parser(
        "status", help="whether it runs, and its pid", epilog=DATA_DIR_ENV, formatter_class=_Help
    )
    v.set_defaults(func=cmd_dev_status)

    p = sub.add_parser("export-schema", help="print the GraphQL SDL", formatter_class=_Help)
    p.set_defaults(func=cmd_export_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    logs.configure("text")
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        logs.configure(settings.log_format)
        args.func(args, settings)
    except (CliError, ConfigError, db.MigrationsMissing, db.EmbeddedPostgresError) as exc:
        print(f"edgehog-creds: {exc}", file=sys.stderr)
        return 2
    except DATABASE_PROBLEMS as exc:
        # asyncpg's messages name the server and user, never the password.
        where = "DATABASE_URL" if os.environ.get("DATABASE_URL") else "the embedded PostgreSQL"
        print(f"edgehog-creds: cannot use {where}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("edgehog-creds: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

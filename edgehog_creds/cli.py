"""The `edgehog-creds` commands."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import asyncpg

from . import db, logs
from .auth import generate_tenant_key_pair, load_public_key, mint_token
from .config import ConfigError, Settings, load_settings
from .domain.errors import Conflict
from .domain.tenant import SLUG, Tenant
from .tenants import store as tenants
from .vault import encode_key, generate_private_key_file

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


def cmd_device_create(args: argparse.Namespace, settings: Settings) -> None:
    """Register a device; its token goes to stdout, once (only its hash is stored)."""
    from .devices.graphql import TYPE as DEVICE
    from .devices.service import DevicesService
    from .domain.errors import DomainError, DomainErrors
    from .domain.principal import TenantUser
    from .graphql.errors import api_field
    from .graphql.relay import to_global_id

    async def create() -> tuple[str, str]:
        dsn = _dsn(settings)
        await db.migrate_dsn(dsn)
        pool = await db.create_pool(dsn, min_size=1, max_size=1)
        try:
            tenant = await tenants.get_by_slug(pool, args.tenant)
            if tenant is None:
                raise CliError(f"no tenant {args.tenant!r}")
            # Recorded in the audit trail as the actor, as a JWT's `sub` would be.
            user = TenantUser(tenant, "cli")
            try:
                device, token = await DevicesService(db.Database(pool), user).create(
                    device_id=args.device_id, name=args.name
                )
            except (DomainError, DomainErrors) as exc:
                problems = exc.errors if isinstance(exc, DomainErrors) else [exc]
                raise CliError(
                    "; ".join(
                        f"{api_field(e.field) if e.field else ''} {e.short_message}".strip()
                        for e in problems
                    )
                ) from exc
            return to_global_id(DEVICE, device.id), token.reveal()
        finally:
            await pool.close()

    device_gid, token = asyncio.run(create())
    print(
        f"created device {args.device_id!r} ({device_gid}) in tenant {args.tenant}; "
        "its token follows, shown this once:",
        file=sys.stderr,
    )
    print(token)


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
        print(json.dumps({"Authorization": f"Bearer {token}"}), "\n", flush=True)
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
DATABASE_ENV = (
    "environment: DATABASE_URL (unset: an embedded PostgreSQL under EDGEHOG_CREDS_DATA_DIR, "
    "default ./.edgehog-creds)"
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

    p = sub.add_parser("device", help="manage devices", epilog=DATABASE_ENV, formatter_class=_Help)
    dsub = p.add_subparsers(dest="device_command", required=True)
    d = dsub.add_parser(
        "create",
        help="register a device; print its token once",
        epilog=DATABASE_ENV,
        formatter_class=_Help,
    )
    d.add_argument("--tenant", required=True, help="the tenant's slug")
    d.add_argument("--device-id", required=True, help="the device's own identifier")
    d.add_argument("--name", required=True, help="its display name")
    d.set_defaults(func=cmd_device_create)

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
    except (CliError, ConfigError, db.MigrationsMissing) as exc:
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

"""Settings from the environment, read and validated once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .engine import ENGINES


class ConfigError(Exception):
    """A setting is present but unusable; the message names the setting."""


@dataclass(frozen=True)
class Settings:
    database_url: str | None
    data_dir: Path
    secret_key_file: Path | None
    secret_key: str | None = None
    public_key: str | None = None
    cors_origins: tuple[str, ...] = ()
    graphiql: bool = True
    metrics: bool = True  # GET /metrics, Prometheus' format (metrics.py)
    log_format: str = "text"  # or "json": one JSON object per line (logs.py)
    # How long an opened password may be reused for later payloads (0: never).
    opened_cache_seconds: float = 60.0
    # How GraphQL documents run (engine/): "fast" (default) or "strawberry".
    engine: str = "fast"
    # How long a device counts as online after a request of its own (devices/store.py).
    device_online_seconds: float = 60.0
    # Slow and idle clients (http/server.py, http/body.py).
    header_timeout_seconds: float = 10.0  # from connecting (or the last answer) to the headers' end
    body_timeout_seconds: float = 30.0  # to read a request body
    max_connections: int = 2000  # connections and running requests together, per process
    # What one GraphQL document may ask (graphql/limits.py).
    max_tokens: int = 5_000
    max_depth: int = 20
    max_aliases: int = 30
    max_cost: int = 10_000_000
    # Live updates (events/hub.py, http/live.py).
    live_max_pending: int = 1000  # events waiting for one socket's client before it is dropped
    live_max_subscriptions: int = 100  # per socket
    live_max_connections_per_tenant: int = 1000  # per server process
    live_heartbeat_seconds: float = 60.0  # a socket not heard from for this long is closed
    # Not settable from the environment: tests and `make run` use them.
    pool_min_size: int = 2
    pool_max_size: int = 10

    def __repr__(self) -> str:
        # The secret key must never reach a log line through a repr.
        return (
            f"Settings(database_url={'set' if self.database_url else None}, "
            f"data_dir={str(self.data_dir)!r}, secret_key={'***' if self.secret_key else None}, "
            f"secret_key_file={str(self.secret_key_file) if self.secret_key_file else None!r}, "
            f"public_key={self.public_key!r}, cors_origins={self.cors_origins!r}, "
            f"graphiql={self.graphiql}, metrics={self.metrics}, log_format={self.log_format!r}, "
            f"opened_cache_seconds={self.opened_cache_seconds}, "
            f"engine={self.engine!r}, device_online_seconds={self.device_online_seconds}, "
            f"live_max_pending={self.live_max_pending}, "
            f"live_max_subscriptions={self.live_max_subscriptions}, "
            f"live_max_connections_per_tenant={self.live_max_connections_per_tenant}, "
            f"live_heartbeat_seconds={self.live_heartbeat_seconds}, "
            f"max_tokens={self.max_tokens}, max_depth={self.max_depth}, "
            f"max_aliases={self.max_aliases}, max_cost={self.max_cost}, "
            f"header_timeout_seconds={self.header_timeout_seconds}, "
            f"body_timeout_seconds={self.body_timeout_seconds}, "
            f"max_connections={self.max_connections})"
        )


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 0 or 1, got {raw!r}")


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not 0 <= value <= 86_400:
        raise ConfigError(f"{name} must be between 0 and 86400 seconds, got {raw!r}")
    return value


def _count(env: Mapping[str, str], name: str, default: int, high: int = 1_000_000) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if not 1 <= value <= high:
        raise ConfigError(f"{name} must be between 1 and {high}, got {raw!r}")
    return value


def _log_format(env: Mapping[str, str]) -> str:
    value = (env.get("EDGEHOG_CREDS_LOG_FORMAT") or "text").strip().lower()
    if value not in ("text", "json"):
        raise ConfigError(f"EDGEHOG_CREDS_LOG_FORMAT must be text or json, got {value!r}")
    return value


def _engine(env: Mapping[str, str]) -> str:
    name = (env.get("EDGEHOG_CREDS_ENGINE") or "fast").strip()
    if name not in ENGINES:
        raise ConfigError(f"EDGEHOG_CREDS_ENGINE must be one of {', '.join(ENGINES)}, got {name!r}")
    return name


def _device_online_seconds(env: Mapping[str, str]) -> float:
    name = "EDGEHOG_CREDS_DEVICE_ONLINE_SECONDS"
    value = _seconds(env, name, 60.0)
    if value < 1:
        raise ConfigError(f"{name} must be between 1 and 86400 seconds, got {env[name]!r}")
    return value


def default_data_dir(env: Mapping[str, str], package: Path | None = None) -> Path:
    """Where the embedded database and the development keys live by default.

    Never the current directory: a command run from elsewhere would start a
    second PostgreSQL and create its tenants there. From a source checkout
    (`make run`, an editable install) it is the checkout's `.edgehog-creds/`,
    so `make run` and a CLI run anywhere share one server and one dev key;
    an installed package uses the user's data directory (XDG).
    """
    package = package or Path(__file__).resolve().parent
    checkout = package.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "sql").is_dir():
        return checkout / ".edgehog-creds"
    xdg = env.get("XDG_DATA_HOME", "")
    if xdg and Path(xdg).is_absolute():  # the XDG spec says to ignore a relative one
        return Path(xdg) / "edgehog-creds"
    try:
        return Path.home() / ".local" / "share" / "edgehog-creds"
    except RuntimeError:  # no HOME and no passwd entry
        raise ConfigError(
            "no home directory for the data directory: set EDGEHOG_CREDS_DATA_DIR"
        ) from None


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    secret_key_file = env.get("EDGEHOG_CREDS_SECRET_KEY_FILE") or None
    origins = tuple(
        o.strip().rstrip("/")
        for o in env.get("EDGEHOG_CREDS_CORS_ORIGINS", "").split(",")
        if o.strip()
    )
    return Settings(
        database_url=env.get("DATABASE_URL") or None,
        data_dir=Path(env.get("EDGEHOG_CREDS_DATA_DIR") or default_data_dir(env)),
        secret_key_file=Path(secret_key_file) if secret_key_file else None,
        secret_key=env.get("EDGEHOG_CREDS_SECRET_KEY") or None,
        public_key=env.get("EDGEHOG_CREDS_PUBLIC_KEY") or None,
        cors_origins=origins,
        graphiql=_flag(env, "EDGEHOG_CREDS_GRAPHIQL", True),
        metrics=_flag(env, "EDGEHOG_CREDS_METRICS", True),
        log_format=_log_format(env),
        opened_cache_seconds=_seconds(env, "EDGEHOG_CREDS_OPENED_CACHE_SECONDS", 60.0),
        engine=_engine(env),
        device_online_seconds=_device_online_seconds(env),
        header_timeout_seconds=max(
            1.0, _seconds(env, "EDGEHOG_CREDS_HEADER_TIMEOUT_SECONDS", 10.0)
        ),
        body_timeout_seconds=max(1.0, _seconds(env, "EDGEHOG_CREDS_BODY_TIMEOUT_SECONDS", 30.0)),
        max_connections=_count(env, "EDGEHOG_CREDS_MAX_CONNECTIONS", 2000),
        max_tokens=_count(env, "EDGEHOG_CREDS_MAX_TOKENS", 5_000),
        max_depth=_count(env, "EDGEHOG_CREDS_MAX_DEPTH", 20),
        max_aliases=_count(env, "EDGEHOG_CREDS_MAX_ALIASES", 30),
        max_cost=_count(env, "EDGEHOG_CREDS_MAX_COST", 10_000_000, high=10**12),
        live_max_pending=_count(env, "EDGEHOG_CREDS_LIVE_MAX_PENDING", 1000),
        live_max_subscriptions=_count(env, "EDGEHOG_CREDS_LIVE_MAX_SUBSCRIPTIONS", 100),
        live_max_connections_per_tenant=_count(
            env, "EDGEHOG_CREDS_LIVE_MAX_CONNECTIONS_PER_TENANT", 1000
        ),
        live_heartbeat_seconds=max(
            1.0, _seconds(env, "EDGEHOG_CREDS_LIVE_HEARTBEAT_SECONDS", 60.0)
        ),
    )

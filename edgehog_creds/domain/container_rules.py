"""What a container may say: Docker's own rules (and Edgehog's), checked up front.

A container's settings are immutable and are sent to devices as they are,
so anything the Docker Engine on a device would refuse is refused here
instead, with the field that is wrong. Each check returns the normalised
value or raises `Invalid` naming the field, so a mutation can collect every
problem at once.
"""

from __future__ import annotations

import re
from typing import Protocol, TypeVar

from .errors import DomainError, Invalid, raise_all
from .text import bad_characters, bounded


class KeyValue(Protocol):
    @property
    def key(self) -> str: ...
    @property
    def value(self) -> str: ...


V = TypeVar("V", bound=KeyValue)

# Docker's restart policies (`docker run --restart`); "" is Docker's default, "no".
# Kept as Edgehog's API spells them ("on_failure"), which its UI matches;
# Docker's spelling ("on-failure") is accepted too, and is what a device gets.
RESTART_POLICIES = ("", "no", "always", "on_failure", "unless_stopped")
# Edgehog's bounds: Docker's CFS period is 1 ms to 1 s, a quota at least 1 ms.
CPU_PERIOD_MIN, CPU_PERIOD_MAX, CPU_QUOTA_MIN = 1_000, 1_000_000, 1_000
MAX_ITEM = 4096  # a path, a port binding, an option: generous, but bounded
MAX_ENV_VALUE = 64 * 1024
INT64_MAX = 2**63 - 1

_HOSTNAME = re.compile(
    r"(?:(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])\.)*"
    r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])",
    re.ASCII,
)
# `docker run -p`: [ip:][hostPort:]containerPort[/protocol], ports or ranges.
_PORTS = r"[0-9]{1,5}(?:-[0-9]{1,5})?"
_PORT_BINDING = re.compile(
    rf"(?:(?P<ip>[0-9]{{1,3}}(?:\.[0-9]{{1,3}}){{3}}|\[[0-9A-Fa-f:.]+\]):)?"
    rf"(?:(?P<host>{_PORTS})?:)?(?P<container>{_PORTS})(?:/(?:tcp|udp|sctp))?",
    re.ASCII,
)
_CAPABILITY = re.compile(r"[A-Za-z][A-Za-z0-9_]*", re.ASCII)


def _item(field: str, value: str, what: str) -> str:
    if value == "":
        raise Invalid(field, f"must not be empty ({what})")
    return bounded(field, value, MAX_ITEM)


def hostname(field: str, value: str | None) -> str:
    """Empty (Docker picks one) or an RFC 1123 host name of at most 63 characters."""
    if not value:
        return ""
    if len(value) > 63 or _HOSTNAME.fullmatch(value) is None:
        raise Invalid(field, "is not a valid host name (RFC 1123, at most 63 characters)")
    return value


def restart_policy(field: str, value: str | None) -> str:
    value = (value or "").replace("-", "_")
    if value not in RESTART_POLICIES:
        raise Invalid(field, "must be one of: no, always, on_failure, unless_stopped")
    return value


def docker_restart_policy(value: str) -> str:
    """The spelling Docker (and so the device runtime) takes: "on-failure"."""
    return value.replace("_", "-")


def text(field: str, value: str | None) -> str:
    """A free Docker setting (volume driver): empty means Docker's default."""
    return bounded(field, value or "", MAX_ITEM)


def network_mode(field: str, value: str | None) -> str:
    """Docker's network mode; unset is "bridge", as in Edgehog and Docker."""
    return bounded(field, value or "bridge", MAX_ITEM)


def env_key(field: str, value: str) -> str:
    if value == "":
        raise Invalid(field, "is required", code="required")
    if "=" in value:
        raise Invalid(field, "must not contain '='")
    return bounded(field, value, MAX_ITEM)


def env_value(field: str, value: str) -> str:
    if len(value) > MAX_ENV_VALUE:
        raise Invalid(field, f"should be at most {MAX_ENV_VALUE} character(s)", code="too_long")
    # NUL cannot be stored (PostgreSQL text and jsonb refuse it) nor passed to
    # a process; a multi-line value needs its tabs and newlines.
    if bad_characters(value, allowed="\t\n\r"):
        raise Invalid(field, "must not contain NUL or other control characters")
    return value


def env_var(field: str, var: V) -> V:
    """One environment variable: a key without `=`, a value without NUL."""
    problems: list[DomainError] = []
    for part, rule, value in (("key", env_key, var.key), ("value", env_value, var.value)):
        try:
            rule(f"{field}.{part}", value)
        except DomainError as exc:
            problems.append(exc)
    raise_all(problems)
    return var


def flag(field: str, value: bool | None) -> bool:
    """A Docker on/off setting; unset means off."""
    return bool(value)


def port_binding(field: str, value: str) -> str:
    """`[ip:][hostPort:]containerPort[/tcp|udp|sctp]`, e.g. `8080:80/tcp`."""
    _item(field, value, "a port binding")
    match = _PORT_BINDING.fullmatch(value)
    if match is None:
        raise Invalid(field, "is not a port binding like [ip:][hostPort:]containerPort[/protocol]")
    for part in ("host", "container"):
        ports = [int(p) for p in (match.group(part) or "").split("-") if p]
        if any(not 1 <= p <= 65535 for p in ports) or ports != sorted(ports):
            raise Invalid(field, "has a port outside 1-65535 or a reversed range")
    return value


def bind(field: str, value: str) -> str:
    """`source:/container/path[:options]`; the source is a host path or a volume name."""
    _item(field, value, "a bind")
    parts = value.split(":")
    if not 2 <= len(parts) <= 3 or not parts[0] or not parts[1].startswith("/"):
        raise Invalid(field, "is not a bind like /host/path:/container/path[:options]")
    return value


def extra_host(field: str, value: str) -> str:
    """`hostname:ip` (IPv6 addresses keep their colons after the first one)."""
    _item(field, value, "an extra host")
    host, sep, address = value.partition(":")
    if not sep or not host or not address:
        raise Invalid(field, "is not an extra host like hostname:ip")
    return value


def capability(field: str, value: str) -> str:
    """A Linux capability, as Docker takes it (`NET_ADMIN`, `CAP_NET_ADMIN`, `ALL`)."""
    _item(field, value, "a capability")
    if _CAPABILITY.fullmatch(value) is None:
        raise Invalid(field, "is not a capability name like NET_ADMIN")
    return value


def storage_opt(field: str, value: str) -> str:
    """`key=value`, e.g. `size=120G`."""
    _item(field, value, "a storage option")
    key, sep, _ = value.partition("=")
    if not sep or not key:
        raise Invalid(field, "is not a storage option like size=120G")
    return value


def tmpfs(field: str, value: str) -> str:
    """`/container/path[:options]`."""
    _item(field, value, "a tmpfs mount")
    if not value.startswith("/"):
        raise Invalid(field, "is not a tmpfs mount like /run:rw,size=64m")
    return value


def limit(field: str, value: int | None) -> int | None:
    """A 64-bit resource limit; -1 and null both mean unset (stored as NULL).

    Edgehog and its device runtime use -1 for "unset", so it is accepted and
    read back as null; the device payload turns null into -1 again.
    """
    if value is None or value == -1:
        return None
    if not 0 <= value <= INT64_MAX:
        raise Invalid(field, "must be -1 (unset) or between 0 and 2^63-1")
    return value


def cpu_period(field: str, value: int | None) -> int | None:
    """CFS period in microseconds: 1,000 to 1,000,000 (Edgehog's bounds); -1 and null: unset."""
    if value is None or value == -1:
        return None
    if not CPU_PERIOD_MIN <= value <= CPU_PERIOD_MAX:
        raise Invalid(field, "must be -1 (unset) or between 1000 and 1000000")
    return value


def cpu_quota(field: str, value: int | None) -> int | None:
    """CFS quota in microseconds: at least 1,000; -1 and null: unset."""
    if value is None or value == -1:
        return None
    if not CPU_QUOTA_MIN <= value <= INT64_MAX:
        raise Invalid(field, "must be -1 (unset) or between 1000 and 2^63-1")
    return value


def memory_swap(field: str, value: int | None) -> int | None:
    """Memory plus swap in bytes; -1 is Docker's "unlimited swap", null is unset.

    Unlike the other limits, -1 is a value here: a device payload sends -2
    for unset (the device runtime's "not set"), and -1 as it is.
    """
    if value is None or value == -2:
        return None
    if not -1 <= value <= INT64_MAX:
        raise Invalid(field, "must be -1 (unlimited) or between 0 and 2^63-1")
    return value


def swappiness(field: str, value: int | None) -> int | None:
    """memorySwappiness: 0 to 100; -1 and null mean unset."""
    if value is None or value == -1:
        return None
    if not 0 <= value <= 100:
        raise Invalid(field, "must be -1 (unset) or between 0 and 100")
    return value

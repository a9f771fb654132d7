"""What a container is: its image and its Docker settings, declared once.

`ContainerSpec` is the one definition of a container's settings. Each setting
is a dataclass field declared with `setting(...)`, which says what kind of
value it is, which rule checks it and how the API describes it. Everything
else is derived from that declaration:

- validation: `check_settings` (containers/service.py);
- storage: one column per setting, named as the field (containers/store.py);
- the GraphQL input and output fields (containers/graphql_settings.py);
- the device payload's CreateContainerRequest (deployments/payload.py).

Adding a setting means adding a field here and a column in a migration.
The image (reference and credentials), volumes, networks, device mappings and
device requests are not settings: they are resources of their own that a
container points to (containers/model.py).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar

from . import container_rules as rules
from .errors import Collector, DomainError, Invalid

T = TypeVar("T")


class Kind(enum.Enum):
    """How a setting is typed in the API, stored and sent to a device."""

    TEXT = "text"  # str; "" means Docker's default
    TEXT_LIST = "text_list"  # tuple[str, ...]; the rule checks each item
    BOOL = "bool"
    INT64 = "int64"  # int | None; None (or -1 as input) means unset
    INT32 = "int32"  # int | None; None (or -1 as input) means unset
    ENV = "env"  # tuple[EnvVar, ...]; the rule checks each variable


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    kind: Kind
    # (field path, value) -> the value to store; for lists, one item.
    rule: Callable[[str, Any], Any]
    description: str
    # What a device payload sends when a number is unset.
    unset: int = -1
    # How a device payload spells a stored value, when not as stored.
    to_device: Callable[[Any], Any] | None = None


def setting(
    default: T,
    kind: Kind,
    rule: Callable[[str, Any], Any],
    description: str = "",
    unset: int = -1,
    to_device: Callable[[Any], Any] | None = None,
) -> T:
    """A ContainerSpec field that is a Docker setting (see the module docstring)."""
    declared = {
        "kind": kind,
        "rule": rule,
        "description": description,
        "unset": unset,
        "to_device": to_device,
    }
    return field(default=default, metadata={"setting": declared})


@dataclass(frozen=True, slots=True)
class EnvVar:
    key: str
    value: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ContainerSpec:
    """A container's Docker settings, in the device payload's order."""

    hostname: str = setting("", Kind.TEXT, rules.hostname)
    restart_policy: str = setting(
        "",
        Kind.TEXT,
        rules.restart_policy,
        '"", "no", "always", "on_failure" or "unless_stopped".',
        to_device=rules.docker_restart_policy,
    )
    env: tuple[EnvVar, ...] = setting((), Kind.ENV, rules.env_var)
    binds: tuple[str, ...] = setting((), Kind.TEXT_LIST, rules.bind)
    network_mode: str = setting("bridge", Kind.TEXT, rules.network_mode, 'Unset: "bridge".')
    port_bindings: tuple[str, ...] = setting((), Kind.TEXT_LIST, rules.port_binding)
    extra_hosts: tuple[str, ...] = setting((), Kind.TEXT_LIST, rules.extra_host)
    cap_add: tuple[str, ...] = setting((), Kind.TEXT_LIST, rules.capability)
    cap_drop: tuple[str, ...] = setting((), Kind.TEXT_LIST, rules.capability)
    cpu_period: int | None = setting(None, Kind.INT64, rules.cpu_period)
    cpu_quota: int | None = setting(None, Kind.INT64, rules.cpu_quota)
    cpu_realtime_period: int | None = setting(None, Kind.INT64, rules.limit)
    cpu_realtime_runtime: int | None = setting(None, Kind.INT64, rules.limit)
    memory: int | None = setting(None, Kind.INT64, rules.limit)
    memory_reservation: int | None = setting(None, Kind.INT64, rules.limit)
    memory_swap: int | None = setting(
        None, Kind.INT64, rules.memory_swap, "-1: unlimited swap; null: unset.", unset=-2
    )
    memory_swappiness: int | None = setting(None, Kind.INT32, rules.swappiness)
    volume_driver: str = setting("", Kind.TEXT, rules.text)
    storage_opt: tuple[str, ...] = setting((), Kind.TEXT_LIST, rules.storage_opt)
    read_only_rootfs: bool = setting(False, Kind.BOOL, rules.flag)
    tmpfs: tuple[str, ...] = setting((), Kind.TEXT_LIST, rules.tmpfs)
    privileged: bool = setting(False, Kind.BOOL, rules.flag)


SETTINGS: tuple[Setting, ...] = tuple(
    Setting(name=f.name, **f.metadata["setting"])
    for f in fields(ContainerSpec)
    if "setting" in f.metadata
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Container(ContainerSpec):
    """A container as stored: named, with its image, its settings never changing."""

    id: uuid.UUID
    name: str  # unique per tenant; the one thing that may change
    image_id: uuid.UUID
    inserted_at: datetime


def check_settings(check: Collector, path: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting of `given` (absent or None: the default) checked by its rule.

    Problems go to `check`, named `{path}.{setting}` (and `.{i}` for list
    items); the values returned are meant to be used only when there are none.
    """
    values: dict[str, Any] = {}
    prefix = f"{path}." if path else ""
    for s in SETTINGS:
        raw = given.get(s.name)
        where = f"{prefix}{s.name}"
        if s.kind in (Kind.TEXT_LIST, Kind.ENV):
            items = tuple(raw or ())
            values[s.name] = tuple(
                check.check(s.rule, f"{where}.{i}", v) for i, v in enumerate(items)
            )
            if s.kind is Kind.ENV:
                _refuse_repeated_keys(check, where, items)
        else:
            values[s.name] = check.check(s.rule, where, raw)
    _check_together(check, prefix, values)
    return values


def _check_together(check: Collector, prefix: str, values: Mapping[str, Any]) -> None:
    """What Docker refuses in combination (and Edgehog's form checks too).

    A setting that failed its own rule is None here, but not unset: it says so
    already, and its partner is not blamed for it.
    """
    failed = {e.field for e in check.errors}
    period, quota = values.get("cpu_period"), values.get("cpu_quota")
    cpu_failed = {f"{prefix}cpu_period", f"{prefix}cpu_quota"} & failed
    if (period is None) != (quota is None) and not cpu_failed:
        missing = "cpu_period" if period is None else "cpu_quota"
        check.add(Invalid(f"{prefix}{missing}", "is required when the other CPU limit is set"))
    memory = values.get("memory")
    reservation, swap = values.get("memory_reservation"), values.get("memory_swap")
    if memory is not None and reservation is not None and reservation > memory:
        check.add(Invalid(f"{prefix}memory_reservation", "must not be above memory"))
    if memory is not None and swap is not None and swap != -1 and swap < memory:
        check.add(Invalid(f"{prefix}memory_swap", "must be -1 or at least memory"))


def _refuse_repeated_keys(check: Collector, where: str, variables: tuple[EnvVar, ...]) -> None:
    seen: set[str] = set()
    for i, var in enumerate(variables):
        try:
            key = rules.env_key(where, var.key)
        except DomainError:
            continue  # already reported by the variable's own rule
        if key in seen:
            check.add(Invalid(f"{where}.{i}.key", "is set more than once"))
        seen.add(key)

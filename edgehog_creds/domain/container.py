"""What a container is: its image and its Docker settings, declared once.

`ContainerSpec` is the one definition of a container's settings. Each setting
is a dataclass field declared with `setting(...)`, which says what kind of
value it is, which rule checks it and how the API describes it. Everything
else is derived from that declaration:

- validation: `check_settings` (applications/service.py);
- storage: one column per setting, named as the field (applications/store.py);
- the GraphQL input and output fields (applications/graphql_container.py);
- the device payload's CreateContainerRequest (deployments/payload.py).

Adding a setting means adding a field here and a column in a migration.
The image (reference and credentials) is not a setting: it is the container's
identity on the registry, checked against Docker's grammar and the tenant's
credentials by the service.
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


def setting(
    default: T, kind: Kind, rule: Callable[[str, Any], Any], description: str = "", unset: int = -1
) -> T:
    """A ContainerSpec field that is a Docker setting (see the module docstring)."""
    declared = {"kind": kind, "rule": rule, "description": description, "unset": unset}
    return field(default=default, metadata={"setting": declared})


@dataclass(frozen=True, slots=True)
class EnvVar:
    key: str
    value: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ContainerSpec:
    """A container as a release describes it. Settings are in the device payload's order."""

    image_reference: str  # exactly as the release wrote it: what the device pulls
    image_credentials_id: uuid.UUID | None = None  # None: a public image
    hostname: str = setting("", Kind.TEXT, rules.hostname)
    restart_policy: str = setting(
        "", Kind.TEXT, rules.restart_policy, '"", "no", "always", "on-failure" or "unless-stopped".'
    )
    env: tuple[EnvVar, ...] = setting((), Kind.ENV, rules.env_var)
    binds: tuple[str, ...] = setting((), Kind.TEXT_LIST, rules.bind)
    network_mode: str = setting("", Kind.TEXT, rules.text)
    port_bindings: tuple[str, ...] = setting((), Kind.TEXT_LIST, rules.port_binding)
    extra_hosts: tuple[str, ...] = setting((), Kind.TEXT_LIST, rules.extra_host)
    cap_add: tuple[str, ...] = setting((), Kind.TEXT_LIST, rules.capability)
    cap_drop: tuple[str, ...] = setting((), Kind.TEXT_LIST, rules.capability)
    cpu_period: int | None = setting(None, Kind.INT64, rules.limit)
    cpu_quota: int | None = setting(None, Kind.INT64, rules.limit)
    cpu_realtime_period: int | None = setting(None, Kind.INT64, rules.limit)
    cpu_realtime_runtime: int | None = setting(None, Kind.INT64, rules.limit)
    memory: int | None = setting(None, Kind.INT64, rules.limit)
    memory_reservation: int | None = setting(None, Kind.INT64, rules.limit)
    memory_swap: int | None = setting(None, Kind.INT64, rules.limit)
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
    """A container of a release, as stored."""

    id: uuid.UUID
    release_id: uuid.UUID
    position: int  # from 0, in the order the release listed them
    image_id: uuid.UUID  # the Image node's id
    # Set when the credentials it used were deleted; image_credentials_id is then None.
    credentials_deleted_at: datetime | None
    inserted_at: datetime

    @property
    def credentials_deleted(self) -> bool:
        return self.credentials_deleted_at is not None


def check_settings(check: Collector, path: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """Every setting of `given` (absent or None: the default) checked by its rule.

    Problems go to `check`, named `{path}.{setting}` (and `.{i}` for list
    items); the values returned are meant to be used only when there are none.
    """
    values: dict[str, Any] = {}
    for s in SETTINGS:
        raw = given.get(s.name)
        where = f"{path}.{s.name}"
        if s.kind in (Kind.TEXT_LIST, Kind.ENV):
            items = tuple(raw or ())
            values[s.name] = tuple(
                check.check(s.rule, f"{where}.{i}", v) for i, v in enumerate(items)
            )
            if s.kind is Kind.ENV:
                _refuse_repeated_keys(check, where, items)
        else:
            values[s.name] = check.check(s.rule, where, raw)
    return values


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

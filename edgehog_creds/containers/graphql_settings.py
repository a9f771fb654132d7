"""A container's settings as GraphQL fields, derived from domain/container.py's SETTINGS.

`add_output_fields(cls)` gives the Container type one field per setting, read
straight from the domain object; `add_input_fields(cls)` gives
CreateContainerInput one optional field per setting; `settings_of(input)`
reads them back as the service takes them. Nothing here names a setting.
"""

from __future__ import annotations

from typing import Any, TypeVar

import strawberry

from ..domain.container import SETTINGS, EnvVar, Kind
from ..graphql.scalars import BigInt


@strawberry.type(description="One environment variable of a container.")
class ContainerEnvVar:
    key: str
    value: str


@strawberry.input
class ContainerEnvVarInput:
    key: str
    value: str


# 64-bit limits are BigInt where Edgehog has Int (32-bit, so a memory limit
# above 2 GiB could not be written): both are JSON numbers, and Edgehog's UI
# types its variables by the input object, so its documents stay valid.
# Null means unset; a device payload sends -1 for it (-2 for memorySwap).
_OUTPUT: dict[Kind, Any] = {
    Kind.TEXT: str,
    Kind.TEXT_LIST: list[str],
    Kind.BOOL: bool,
    Kind.INT64: BigInt | None,
    Kind.INT32: int | None,
    Kind.ENV: list[ContainerEnvVar],
}
_INPUT: dict[Kind, Any] = {
    Kind.TEXT: str | None,
    Kind.TEXT_LIST: list[str] | None,
    Kind.BOOL: bool | None,
    Kind.INT64: BigInt | None,
    Kind.INT32: int | None,
    Kind.ENV: list[ContainerEnvVarInput] | None,
}


T = TypeVar("T", bound=type)


def add_output_fields(cls: T) -> T:
    """`cls` with one field per setting, before `strawberry.type` is applied to it."""
    for s in SETTINGS:
        cls.__annotations__[s.name] = _OUTPUT[s.kind]
    return cls


def add_input_fields(cls: T) -> T:
    """`cls` with one optional field per setting, before `strawberry.input` is applied."""
    for s in SETTINGS:
        cls.__annotations__[s.name] = _INPUT[s.kind]
        setattr(cls, s.name, strawberry.field(default=None, description=s.description or None))
    return cls


def settings_of(given: Any) -> dict[str, Any]:
    """The settings an input gives, by name, as the applications service takes them."""
    settings = {s.name: getattr(given, s.name) for s in SETTINGS}
    for s in SETTINGS:
        if s.kind is Kind.ENV and settings[s.name] is not None:
            settings[s.name] = [EnvVar(v.key, v.value) for v in settings[s.name]]
    return settings

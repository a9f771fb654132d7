"""Volumes as every layer sees them, and the Docker driver rules networks share.

A volume is Edgehog's: a label for people, a Docker volume driver and its
options (Docker's `DriverOpts`, string keys to string values). It is
immutable once created. The driver and options checks here serve networks
too (`networks/model.py`): Docker gives both the same kind of settings.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ..domain.errors import Invalid
from ..domain.text import bad_characters

ENTITY = "Volume"  # the name audit rows and global ids use
DEFAULT_DRIVER = "local"  # Docker's and Edgehog's default volume driver


@dataclass(frozen=True, slots=True)
class Volume:
    id: uuid.UUID
    label: str
    driver: str
    options: dict[str, str]
    inserted_at: datetime


# --- driver and options: shared with networks ----------------------------------

MAX_DRIVER = 255
MAX_OPTIONS = 64  # entries
MAX_OPTION_KEY = 255  # characters
MAX_OPTION_VALUE = 4096  # characters: mount options (o=addr=...,vers=4,...) can be long

# A built-in driver (local, bridge, overlay, macvlan, ...) or a plugin, which
# Docker names like an image: [host[:port]/]path[:tag], e.g. vieux/sshfs:latest.
_DRIVER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@-]*", re.ASCII)


def driver(field: str, value: str | None, default: str) -> str:
    """A Docker driver name, trimmed; `default` when none is given (null or blank)."""
    if value is None or not value.strip():
        return default
    name = value.strip()
    if len(name) > MAX_DRIVER:
        raise Invalid(field, f"should be at most {MAX_DRIVER} character(s)", code="too_long")
    if _DRIVER.fullmatch(name) is None:
        raise Invalid(
            field,
            "is not a valid Docker driver name: letters, digits and . _ - / : @, "
            "starting with a letter or digit (e.g. local, or a plugin such as vieux/sshfs)",
        )
    return name


def _shown(key: str) -> str:
    """A key as an error message may quote it: short, and only when printable."""
    if bad_characters(key):
        return "a key with control characters"
    return json.dumps(key if len(key) <= 40 else key[:40] + "…", ensure_ascii=False)


def options(field: str, value: object) -> dict[str, str]:
    """Docker driver options: a JSON object of string keys to string values.

    None (not given) is no options. Devices receive each entry as
    "key=value", so a key may not hold "="; nothing may hold a control
    character. The first problem is reported, naming its key.
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise Invalid(field, "must be a JSON object of string keys to string values")
    if len(value) > MAX_OPTIONS:
        raise Invalid(field, f"should have at most {MAX_OPTIONS} entries", code="too_long")
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise Invalid(field, "must be a JSON object of string keys to string values")
        if key == "":
            raise Invalid(field, "has an empty key")
        if len(key) > MAX_OPTION_KEY:
            raise Invalid(
                field,
                f"has a key longer than {MAX_OPTION_KEY} character(s): {_shown(key)}",
                code="too_long",
            )
        if bad_characters(key):
            raise Invalid(field, "has a key with control characters")
        if "=" in key:
            raise Invalid(field, f"has a key with '=' in it: {_shown(key)}")
        if not isinstance(item, str):
            raise Invalid(
                field, f"has a value that is not a string (write it in quotes): {_shown(key)}"
            )
        if len(item) > MAX_OPTION_VALUE:
            raise Invalid(
                field,
                f"has a value longer than {MAX_OPTION_VALUE} character(s): {_shown(key)}",
                code="too_long",
            )
        if bad_characters(item):
            raise Invalid(field, f"has a value with control characters: {_shown(key)}")
        out[key] = item
    return out

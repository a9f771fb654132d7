"""Text rules shared by every input: trimming, lengths, characters, versions.

Each check returns the normalised value or raises `Invalid` naming the field,
so a service can collect every problem of an input in one pass (`Collector`).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from .errors import Invalid

MAX_TEXT = 255
MAX_PASSWORD_BYTES = 64 * 1024


def bad_characters(value: str, allowed: str = "") -> bool:
    # Cc covers C0/C1 controls (NUL, newline, DEL, ...); Cs are lone surrogates,
    # which JSON can carry but UTF-8 and PostgreSQL cannot store.
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed for ch in value)


def bounded(field: str, value: str, max_length: int) -> str:
    """`value` if it is at most `max_length` characters and holds no control character."""
    if len(value) > max_length:
        raise Invalid(field, f"should be at most {max_length} character(s)", code="too_long")
    if bad_characters(value):
        raise Invalid(field, "must not contain control characters")
    return value


def text(field: str, value: str, *, max_length: int = MAX_TEXT) -> str:
    """Required text: trimmed, 1 to `max_length` characters, no control characters."""
    trimmed = value.strip()
    if not trimmed:
        raise Invalid(field, "is required", code="required")
    return bounded(field, trimmed, max_length)


def label(field: str, value: str, *, max_length: int = MAX_TEXT) -> str:
    """A label people tell apart by eye: required text, in Unicode's composed form
    (NFC), without invisible format characters.

    "café" typed precomposed or as e + combining accent is one label, so the
    uniqueness check sees one. Format characters (category Cf: bidirectional
    controls such as U+202E, zero-width spaces and joiners, U+FEFF) make
    labels that look alike or read backwards, so they are refused.
    """
    composed = unicodedata.normalize("NFC", text(field, value, max_length=max_length))
    if any(unicodedata.category(ch) == "Cf" for ch in composed):
        raise Invalid(field, "must not contain invisible or bidirectional control characters")
    return bounded(field, composed, max_length)


def optional_text(field: str, value: str | None, *, max_length: int = MAX_TEXT) -> str:
    """Like `text`, but empty is allowed (descriptions)."""
    return "" if value is None else bounded(field, value.strip(), max_length)


def password(field: str, value: str) -> str:
    # Passwords are not trimmed: a registry token may legitimately end in a space.
    if value == "":
        raise Invalid(field, "is required", code="required")
    if any(unicodedata.category(ch) == "Cs" for ch in value):
        raise Invalid(field, "must be valid Unicode")
    if len(value.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise Invalid(field, f"should be at most {MAX_PASSWORD_BYTES} bytes", code="too_long")
    return value


# Semantic Versioning 2.0.0, the regular expression semver.org recommends.
# ASCII only and fullmatch: Python's \d would accept other scripts' digits.
_SEMVER = re.compile(
    r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
    r"(?:-((?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?",
    re.ASCII,
)


def semver(field: str, value: str) -> str:
    """A Semantic Version 2.0.0, exactly as written (no trimming, no `v` prefix)."""
    if value == "":
        raise Invalid(field, "is required", code="required")
    if len(value) > MAX_TEXT:
        raise Invalid(field, f"should be at most {MAX_TEXT} character(s)", code="too_long")
    if _SEMVER.fullmatch(value) is None:
        raise Invalid(field, "is not a valid Semantic Version 2.0.0 (e.g. 1.2.3 or 1.0.0-rc.1)")
    return value


def semver_key(version: str) -> tuple[Any, ...]:
    """A sort key that orders valid Semantic Versions by precedence (semver.org §11).

    1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-beta < 1.0.0; build metadata is ignored.
    """
    match = _SEMVER.fullmatch(version)
    if match is None:
        raise ValueError(f"not a Semantic Version: {version!r}")
    major, minor, patch, pre, _build = match.groups()
    # A release (no pre-release part) ranks above every pre-release of it.
    pre_key: tuple[Any, ...] = (1,)
    if pre:
        # Numeric identifiers rank below alphanumeric ones, and compare as numbers.
        pre_key = (0, *((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))
    return (int(major), int(minor), int(patch), pre_key)

"""Docker image references and the Engine's ``X-Registry-Auth`` value.

Everything here is a pure function: no I/O, no clock, no secrets in errors.

Image references follow Docker's own grammar (the Go package
``github.com/distribution/reference``): ``[host[:port]/]path[:tag][@digest]``.

The Docker Hub rule
-------------------
A reference does not mark its registry explicitly. Docker looks at the text
before the first ``/``: it is a registry host only when it contains a ``.`` or
a ``:``, is exactly ``localhost``, or contains an uppercase letter (a path may
not, so such a component can only be a host). In every other case, including a
reference without any ``/``, the whole name is a Docker Hub repository:
``nginx`` means ``docker.io/library/nginx:latest`` and ``library/nginx`` means
the same thing, while ``localhost/app`` and ``my.registry/app`` name other
registries.

Registry auth
-------------
``X-Registry-Auth`` is ``{"username", "password", "serveraddress"}`` as JSON,
encoded with *base64url* (RFC 4648 section 5) *with* padding. The URL-safe
alphabet matters: device runtimes decode with it, and standard base64 differs
as soon as the encoding contains ``+`` or ``/`` (for passwords such as ``?>``
or ``~``). For Docker Hub images ``serveraddress`` is
``https://index.docker.io/v1/``, which is what the Docker CLI sends.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

import orjson

__all__ = [
    "DOCKER_HUB_HOSTS",
    "DOCKER_HUB_SERVER_ADDRESS",
    "NAME_TOTAL_LENGTH_MAX",
    "ImageReference",
    "InvalidImageReference",
    "decode_registry_auth",
    "encode_registry_auth",
    "is_docker_hub",
    "parse_image_reference",
    "server_address",
]

# What the Docker CLI puts in `serveraddress` for Docker Hub (its auth-config key).
DOCKER_HUB_SERVER_ADDRESS = "https://index.docker.io/v1/"
# Hosts that all mean Docker Hub. `docker.io` is canonical, `index.docker.io` is
# the legacy name Docker still rewrites, `registry-1.docker.io` is the real API host.
DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
# distribution/reference's NameTotalLengthMax.
NAME_TOTAL_LENGTH_MAX = 255

# --- Grammar -----------------------------------------------------------------
# Transcribed from distribution/reference's regexp.go. Python's `\w` and `\d`
# match Unicode letters and digits while Go's are ASCII-only, so every class is
# spelled out in ASCII here (and the patterns are compiled with re.ASCII too).

_ALPHANUMERIC = r"[a-z0-9]+"
# `.`, `_`, `__` or one or more `-` between alphanumeric runs (current
# distribution/reference; older releases wrote `[-]*`, which accepts the same
# strings because alphanumeric runs may simply be concatenated).
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALPHANUMERIC}(?:{_SEPARATOR}{_ALPHANUMERIC})*"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"

_DOMAIN_NAME_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_NAME_COMPONENT}(?:\.{_DOMAIN_NAME_COMPONENT})*"
# Bracketed IPv6 literal, as distribution/reference accepts it (loosely: the
# registry client, not the parser, is what finally resolves the address).
_IPV6_ADDRESS = r"\[(?:[a-fA-F0-9:]+)\]"
_HOST = rf"(?:{_DOMAIN_NAME}|{_IPV6_ADDRESS})"
_PORT = r"[0-9]+"
_DOMAIN_AND_PORT = rf"{_HOST}(?::{_PORT})?"

_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

_NAME = rf"(?:{_DOMAIN_AND_PORT}/)?{_REMOTE_NAME}"

# fullmatch everywhere: Python's `$` would also match before a trailing "\n".
_REFERENCE_RE = re.compile(
    rf"(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@(?P<digest>{_DIGEST}))?", re.ASCII
)
_DOMAIN_AND_PORT_RE = re.compile(_DOMAIN_AND_PORT, re.ASCII)
_REMOTE_NAME_RE = re.compile(_REMOTE_NAME, re.ASCII)
# A bare 64-hex string is an image ID, so Docker refuses it as a repository name.
_IDENTIFIER_RE = re.compile(r"[a-f0-9]{64}", re.ASCII)


class InvalidImageReference(ValueError):
    """The text is not a Docker image reference.

    The message is meant for users; it may quote the reference (references are
    not secret) but never anything else.
    """


@dataclass(frozen=True, slots=True)
class ImageReference:
    """A parsed reference. Fields keep the spelling of the original text."""

    original: str
    # host[:port] as written; None means Docker Hub without an explicit host.
    registry: str | None
    # Repository path without the registry, e.g. "library/nginx" only if written so.
    repository: str
    tag: str | None
    digest: str | None


def _invalid(reference: str, why: str) -> InvalidImageReference:
    # repr() keeps control characters and odd whitespace visible and harmless in logs.
    return InvalidImageReference(f"invalid image reference {reference!r}: {why}")


def _is_registry_component(component: str) -> bool:
    # distribution/reference's splitDockerDomain rule (see module docstring).
    return (
        "." in component
        or ":" in component
        or component == "localhost"
        or component.lower() != component
    )


def parse_image_reference(reference: str) -> ImageReference:
    """Parse ``reference`` exactly as Docker's ParseNormalizedNamed would accept it.

    Raises InvalidImageReference for anything Docker would refuse to pull.
    """
    if not isinstance(reference, str):
        raise InvalidImageReference("invalid image reference: must be a string")
    if reference == "":
        raise InvalidImageReference("invalid image reference: must not be empty")

    match = _REFERENCE_RE.fullmatch(reference)
    if match is None:
        # Same diagnosis order as distribution/reference: if only case is wrong, say so.
        if _REFERENCE_RE.fullmatch(reference.lower()) is not None:
            raise _invalid(reference, "repository name must be lowercase")
        raise _invalid(reference, "invalid reference format")

    name = match.group("name")
    if _IDENTIFIER_RE.fullmatch(reference):
        raise _invalid(reference, "a 64-character hexadecimal string is an image ID, not a name")

    # Split the registry off by Docker's rule, not by whatever split the regex
    # happened to find: "a.b/c" also matches as a host-less path, but Docker
    # reads "a.b" as a registry, and that is the host a device will contact.
    first, slash, rest = name.partition("/")
    registry: str | None
    if slash and _is_registry_component(first):
        registry, repository = first, rest
        if _DOMAIN_AND_PORT_RE.fullmatch(registry) is None:
            raise _invalid(reference, f"registry host {registry!r} is not a valid host[:port]")
    else:
        registry, repository = None, name
    if _REMOTE_NAME_RE.fullmatch(repository) is None:
        if _REMOTE_NAME_RE.fullmatch(repository.lower()) is not None:
            raise _invalid(reference, "repository name must be lowercase")
        raise _invalid(reference, "invalid repository name")

    # Docker checks the length of the *normalised* name, so a Docker Hub name
    # is measured with the "docker.io/" (and "library/") prefix it gains.
    if registry is not None:
        normalized = name
    elif "/" in repository:
        normalized = f"docker.io/{repository}"
    else:
        normalized = f"docker.io/library/{repository}"
    if len(normalized) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidImageReference(
            f"invalid image reference: repository name must not be longer than "
            f"{NAME_TOTAL_LENGTH_MAX} characters"
        )

    return ImageReference(
        original=reference,
        registry=registry,
        repository=repository,
        tag=match.group("tag"),
        digest=match.group("digest"),
    )


def is_docker_hub(ref: ImageReference) -> bool:
    """True when Docker would pull ``ref`` from Docker Hub."""
    # Host names are case-insensitive; a port makes it some other endpoint.
    return ref.registry is None or ref.registry.lower() in DOCKER_HUB_HOSTS


def server_address(ref: ImageReference) -> str:
    """The ``serveraddress`` for ``ref``: host[:port] as written, or Docker Hub's."""
    if is_docker_hub(ref):
        return DOCKER_HUB_SERVER_ADDRESS
    assert ref.registry is not None  # narrowed by is_docker_hub
    return ref.registry


def encode_registry_auth(username: str, password: str, serveraddress: str) -> str:
    """Build the Docker Engine ``X-Registry-Auth`` header value.

    JSON with keys in Docker's order, compact, UTF-8 (non-ASCII is not escaped),
    then base64url with padding.
    """
    payload = {"username": username, "password": password, "serveraddress": serveraddress}
    try:
        # orjson writes exactly this (and is several times faster than json):
        # compact, UTF-8, escaping only what JSON requires.
        raw = orjson.dumps(payload)
    except orjson.JSONEncodeError:
        # Lone surrogates cannot be UTF-8. Say so without quoting the value.
        raise ValueError("registry auth fields must be valid Unicode") from None
    return base64.urlsafe_b64encode(raw).decode("ascii")


# Padded base64url only: groups of four, with "==" or "=" allowed only at the end.
_B64URL_PADDED_RE = re.compile(
    r"(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?", re.ASCII
)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            # The key name is fine to report; the value might be the password.
            raise ValueError(f"registry auth JSON repeats the key {key!r}")
        result[key] = value
    return result


def decode_registry_auth(value: str) -> dict[str, Any]:
    """Strictly decode an ``X-Registry-Auth`` value (for tests and tooling).

    Accepts only canonical padded base64url of a UTF-8 JSON object. Standard
    base64 (``+`` or ``/``), missing padding, stray characters or whitespace
    all raise ValueError; messages never include the value, which holds a password.
    """
    if not isinstance(value, str) or value == "":
        raise ValueError("registry auth must be a non-empty string")
    if _B64URL_PADDED_RE.fullmatch(value) is None:
        if "+" in value or "/" in value:
            raise ValueError("registry auth uses standard base64 ('+' or '/'), not base64url")
        raise ValueError("registry auth is not padded base64url")
    try:
        raw = base64.urlsafe_b64decode(value)
    except (binascii.Error, ValueError):
        raise ValueError("registry auth is not padded base64url") from None
    # Non-zero unused bits in the last group decode "fine" but are not what any
    # encoder produces; refusing them keeps the check byte-exact.
    if base64.urlsafe_b64encode(raw).decode("ascii") != value:
        raise ValueError("registry auth is not canonical base64url")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("registry auth JSON is not valid UTF-8") from None
    try:
        decoded = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError:
        # JSONDecodeError carries the whole document (its .doc), password included;
        # `from None` keeps it out of tracebacks and error reports.
        raise ValueError("registry auth is not valid JSON") from None
    if not isinstance(decoded, dict):
        raise ValueError("registry auth JSON must be an object")
    return decoded

"""The one place where errors become what clients read.

Domain errors keep their code, fields and short message, at the top level (as
Edgehog's clients read them) and in `extensions` (as the spec suggests). They
name domain fields (`containers.0.image.image_credentials_id`); here each
part becomes the API's camelCase (`containers.0.image.imageCredentialsId`).
Unexpected exceptions become a generic `internal` error; their details go to
the log without the exception's message, which may quote bound SQL values.
GraphQL's own messages are scrubbed of the values the client sent, because
graphql-core quotes whole input objects (password included) when one is wrong.
"""

from __future__ import annotations

import functools
import logging
import re
import traceback
from typing import Any

from graphql import GraphQLError
from graphql.pyutils import inspect

from ..db import DATABASE_DOWN
from ..domain.errors import DomainError, DomainErrors, Unavailable

log = logging.getLogger("edgehog_creds.graphql")

REDACTED = "<redacted>"
# graphql-core's coercion messages end with the offending value:
# "..., found: {'label': .., 'password': ..}." and "String cannot represent ...: 123".
_FOUND_TAIL = re.compile(r",? found: .*$", re.DOTALL)
_CANNOT_REPRESENT_TAIL = re.compile(r"(cannot represent [^:]*?value): .*$", re.DOTALL)
# Syntax errors quote the token they stumbled on, which in a mutation written
# inline can be a piece of a password: "..., found String 'secretpart'."
_SYNTAX_TOKEN = re.compile(
    r"^(Syntax Error: .*?(?:found|Unexpected) [A-Za-z]+) '.*'\.?$", re.DOTALL
)


@functools.lru_cache(maxsize=1024)
def api_field(path: str) -> str:
    """A domain field path in the API's spelling: each part camelCased."""
    return ".".join(_camel(part) for part in path.split("."))


def _camel(part: str) -> str:
    head, *rest = part.split("_")
    return head + "".join(word.title() for word in rest)


def domain_error(error: DomainError, path: list[Any] | None) -> dict[str, Any]:
    field = api_field(error.field) if error.field else None
    fields = [field] if field else []
    return {
        # As Edgehog's API: the message does not repeat the field, because
        # its UI prints `${fields.join(" ")} ${message}`.
        "message": error.short_message,
        "path": path,
        "code": error.code,
        "fields": fields,
        "short_message": error.short_message,
        "vars": {},
        "extensions": {"code": error.code, "fields": fields, "shortMessage": error.short_message},
    }


def internal_error(path: list[Any] | None) -> dict[str, Any]:
    return domain_error(
        DomainError(None, "something went wrong on our side", code="internal"), path
    )


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def scrub(message: str, variables: dict[str, Any] | None) -> str:
    """Remove every value the client sent from a graphql-core message."""
    if variables:
        # Whole variables first (graphql-core prints them with `inspect`), then leaves.
        candidates = [inspect(v) for v in variables.values()]
        candidates += [inspect(leaf) for leaf in _leaves(variables) if isinstance(leaf, str)]
        for text in sorted(set(candidates), key=len, reverse=True):
            if len(text) > 2:
                message = message.replace(text, REDACTED)
    message = _SYNTAX_TOKEN.sub(r"\1.", message)
    message = _FOUND_TAIL.sub(".", message)
    return _CANNOT_REPRESENT_TAIL.sub(r"\1.", message)


def log_exception(exc: BaseException, where: str) -> None:
    """Log a bug: its type and traceback, but never its message.

    asyncpg and friends put bound values (a password) into exception messages.
    """
    log.error(
        "internal error in %s: %s\n%s",
        where,
        type(exc).__name__,
        "".join(traceback.format_tb(exc.__traceback__)),
    )


def format_errors(
    errors: list[GraphQLError], variables: dict[str, Any] | None
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    down: list[Any] = []  # the fields a lost database failed: logged once below
    for err in errors:
        original = err.original_error
        if isinstance(original, DomainErrors):
            out.extend(domain_error(e, err.path) for e in original.errors)
        elif isinstance(original, DomainError):
            out.append(domain_error(original, err.path))
        elif isinstance(original, DATABASE_DOWN):
            down.append((err.path, type(original).__name__))
            out.append(
                domain_error(Unavailable("the database is unavailable; try again"), err.path)
            )
        elif original is not None and not isinstance(original, GraphQLError) and err.path:
            # Raised while a field ran: a bug. (Without a path, it is a scalar
            # refusing a literal of the document: the client's mistake, below.)
            log_exception(original, f"field {err.path}")
            out.append(internal_error(err.path))
        else:
            item: dict[str, Any] = {"message": scrub(err.message, variables)}
            if err.locations:
                item["locations"] = [
                    {"line": loc.line, "column": loc.column} for loc in err.locations
                ]
            if err.path:
                item["path"] = err.path
            else:
                # The document or its variables: the client's mistake, said in
                # the message (which names the argument or variable).
                item.update(invalid(item["message"]))
            out.append(item)
    if down:
        # One line per request, however many fields the outage failed.
        log.error("database unavailable in %d field(s), first %s: %s", len(down), *down[0])
    return out


def invalid(message: str) -> dict[str, Any]:
    """A document's or its variables' error, as the client reads it."""
    return {"message": message, "code": "invalid", "extensions": {"code": "invalid"}}

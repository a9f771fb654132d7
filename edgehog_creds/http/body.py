"""A GraphQL request's body: at most MAX_BODY bytes of JSON {query, variables, operationName}.

The limit holds whether or not the client says how long its body is: a
Content-Length over it is refused before anything is read, and a body sent
without one (chunked) is refused as soon as it grows past it. Variables hold
at most MAX_VARIABLE_VALUES values, nested at most MAX_VARIABLE_DEPTH deep,
checked before GraphQL sees them: coercing 80,000 strings only for a filter
to refuse them later cost tens of MB of memory that stayed with the process.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

MAX_BODY = 1024 * 1024
BODY_SECONDS = 30.0  # EDGEHOG_CREDS_BODY_TIMEOUT_SECONDS
MAX_VARIABLE_VALUES = 10_000  # every value counts: strings, numbers, lists, objects
MAX_VARIABLE_DEPTH = 32


class BodyError(Exception):
    """The body is not a GraphQL request; `status` is the HTTP answer (400 or 413)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


async def read_body(
    request: Request, max_bytes: int = MAX_BODY, timeout: float = BODY_SECONDS
) -> bytes:
    """The body, if it is at most `max_bytes` and arrives within `timeout` seconds."""
    too_long = BodyError(413, f"request body is over {max_bytes // 1024 // 1024} MiB")
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > max_bytes):
        raise too_long
    body = bytearray()
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                body += chunk
                if len(body) > max_bytes:
                    raise too_long
    except TimeoutError:
        raise BodyError(408, f"the request body took more than {timeout:g} s") from None
    return bytes(body)


def parse_graphql_request(body: bytes) -> GraphQLRequest:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BodyError(400, "request body is not valid JSON") from exc
    if not isinstance(payload, dict):
        raise BodyError(400, "request body must be a JSON object {query, variables, operationName}")
    query = payload.get("query")
    variables = payload.get("variables")
    operation = payload.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise BodyError(400, "request body has no GraphQL query")
    if variables is not None and not isinstance(variables, dict):
        raise BodyError(400, "variables must be a JSON object")
    problem = variables_problem(variables)
    if problem is not None:
        raise BodyError(400, problem)
    if operation is not None and not isinstance(operation, str):
        raise BodyError(400, "operationName must be a string")
    return GraphQLRequest(query, variables, operation)


async def read_graphql_request(
    request: Request, max_bytes: int = MAX_BODY, timeout: float = BODY_SECONDS
) -> GraphQLRequest:
    return parse_graphql_request(await read_body(request, max_bytes, timeout))


def variables_problem(variables: Any) -> str | None:
    """What makes `variables` too large to consider, or None. Iterative: a
    nesting deeper than Python's stack is measured, not recursed into."""
    count = 0
    pending: list[tuple[Any, int]] = [(variables, 0)]
    while pending:
        value, depth = pending.pop()
        count += 1
        if count > MAX_VARIABLE_VALUES:
            return f"variables hold more than {MAX_VARIABLE_VALUES:,} values"
        if depth > MAX_VARIABLE_DEPTH:
            return f"variables are nested more than {MAX_VARIABLE_DEPTH} deep"
        if isinstance(value, dict):
            pending.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            pending.extend((v, depth + 1) for v in value)
    return None

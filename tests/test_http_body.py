"""The request body limit, on its own: read_body and parse_graphql_request.

(test_http.py checks the same rules through the whole app.)
"""

from __future__ import annotations

import pytest
from starlette.requests import Request

from edgehog_creds.http.body import BodyError, parse_graphql_request, read_body


def request(chunks: list[bytes], content_length: int | None) -> tuple[Request, list[int]]:
    """A Starlette request whose body arrives in `chunks`; the list counts chunks read."""
    read: list[int] = []
    headers = [] if content_length is None else [(b"content-length", str(content_length).encode())]
    pending = list(chunks)

    async def receive() -> dict:
        read.append(1)
        body = pending.pop(0) if pending else b""
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    scope = {"type": "http", "method": "POST", "headers": headers, "path": "/", "query_string": b""}
    return Request(scope, receive), read


async def test_a_body_within_the_limit_is_read_whole():
    req, _ = request([b'{"query":', b' "{ a }"}'], None)
    assert await read_body(req, max_bytes=64) == b'{"query": "{ a }"}'


async def test_a_declared_length_over_the_limit_reads_nothing():
    req, read = request([b"x" * 10], content_length=65)
    with pytest.raises(BodyError) as raised:
        await read_body(req, max_bytes=64)
    assert raised.value.status == 413
    assert read == []


@pytest.mark.parametrize("length", ["-1", "1e3", "abc", " 10"])
async def test_a_length_that_is_not_a_number_is_refused(length):
    scope = {
        "type": "http",
        "method": "POST",
        "headers": [(b"content-length", length.encode())],
        "path": "/",
        "query_string": b"",
    }

    async def receive() -> dict:
        raise AssertionError("nothing is read")

    with pytest.raises(BodyError):
        await read_body(Request(scope, receive), max_bytes=64)


async def test_an_undeclared_body_stops_as_soon_as_it_is_over_the_limit():
    req, read = request([b"x" * 40] * 10, content_length=None)
    with pytest.raises(BodyError) as raised:
        await read_body(req, max_bytes=64)
    assert raised.value.status == 413
    assert len(read) == 2  # not the other eight chunks


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "request body is not valid JSON"),
        (b"[]", "request body must be a JSON object {query, variables, operationName}"),
        (b"{}", "request body has no GraphQL query"),
        (b'{"query": "  "}', "request body has no GraphQL query"),
        (b'{"query": "{a}", "variables": []}', "variables must be a JSON object"),
        (b'{"query": "{a}", "operationName": 1}', "operationName must be a string"),
    ],
)
def test_what_is_not_a_graphql_request(body, message):
    with pytest.raises(BodyError) as raised:
        parse_graphql_request(body)
    assert (raised.value.status, str(raised.value)) == (400, message)


def test_a_graphql_request():
    parsed = parse_graphql_request(b'{"query": "{a}", "variables": {"x": 1}, "operationName": "A"}')
    assert (parsed.query, parsed.variables, parsed.operation_name) == ("{a}", {"x": 1}, "A")

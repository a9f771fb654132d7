"""Input that is simply invalid gets `invalid` naming the argument, never `internal`
(issue 13, points 5, 7 and 8)."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import unicodedata
from collections.abc import AsyncIterator

import pytest

from .gql import LIST, create, errors_of
from .live import live_server

COUNT = "query($f: ImageCredentialsFilterInput) { listImageCredentials(filter: $f) { count } }"
CREATE = """
mutation($label: String!) {
  createImageCredentials(input: {label: $label, username: "u", password: "p"}) {
    result { label } errors { code fields message }
  }
}
"""


def cursor(signature: str, *values: object) -> str:
    raw = json.dumps({"s": signature, "v": list(values)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# --- point 5: NUL characters and impossible cursors ---------------------------------------


@pytest.mark.parametrize(
    "where",
    [
        {"label": {"eq": "a\x00b"}},
        {"label": {"in": ["ok", "a\x00b"]}},
        {"username": {"ilike": "%\x00%"}},
        {"or": [{"label": {"like": "\x00"}}]},
    ],
)
async def test_a_nul_in_a_filter_string_is_invalid(tenant, where):
    body = await tenant.gql(COUNT, {"f": where})
    assert body["data"]["listImageCredentials"] is None
    (error,) = body["errors"]
    assert error["code"] == "invalid", error
    assert error["fields"][0].startswith("filter"), error
    assert "NUL" in error["message"]


@pytest.mark.parametrize(
    "after",
    [
        cursor(
            "inserted_at:a,id:a",
            "0001-01-01T00:00:00+14:00",
            "7f1c1c0e-0000-4000-8000-000000000000",
        ),
        cursor(
            "inserted_at:a,id:a",
            "9999-12-31T23:59:59-14:00",
            "7f1c1c0e-0000-4000-8000-000000000000",
        ),
        cursor("inserted_at:a,id:a", "2026-01-01T00:00:00", "7f1c1c0e-0000-4000-8000-000000000000"),
        cursor("label:a", "a\x00b"),
    ],
)
async def test_an_impossible_cursor_is_invalid_on_its_argument(tenant, after):
    await create(tenant, "one")
    sort = (
        [{"field": "LABEL", "order": "ASC"}]
        if "label" in base64.urlsafe_b64decode(after + "==").decode()
        else [{"field": "INSERTED_AT", "order": "ASC"}]
    )
    body = await tenant.gql(LIST, {"first": 5, "after": after, "sort": sort})
    assert errors_of(body) == [("invalid", ["after"])], body


# --- point 8: look-alike labels -----------------------------------------------------------


async def test_labels_that_differ_only_by_normalization_are_one_label(tenant):
    composed = unicodedata.normalize("NFC", "café")
    decomposed = unicodedata.normalize("NFD", "café")
    assert composed != decomposed
    first = await tenant.gql(CREATE, {"label": decomposed})
    assert first["data"]["createImageCredentials"]["result"]["label"] == composed  # stored NFC
    second = await tenant.gql(CREATE, {"label": composed})
    assert errors_of(second) == [("unique", ["label"])], second


@pytest.mark.parametrize(
    "label",
    ["admin\u202egpj.exe", "ghcr\u200b", "\ufeffghcr", "gh\u200dcr", "a\u2066b\u2069"],
)
async def test_invisible_and_bidirectional_controls_are_refused_in_labels(tenant, label):
    body = await tenant.gql(CREATE, {"label": label})
    assert errors_of(body) == [("invalid", ["label"])], body
    for mutation in (
        "mutation($l: String!) { createVolume(input: {label: $l}) { result { id } } }",
        "mutation($l: String) { createNetwork(input: {label: $l}) { result { id } } }",
    ):
        body = await tenant.gql(mutation, {"l": label})
        assert errors_of(body) == [("invalid", ["label"])], body


# --- point 7: a client that goes away mid-request ---------------------------------------


@pytest.fixture
async def address(app, client) -> AsyncIterator[str]:
    async with live_server(app) as address:
        yield address


async def test_a_client_gone_mid_body_is_one_quiet_line(address, tenant, caplog):
    caplog.set_level(logging.INFO)
    host, port = address.split(":")
    _, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        (
            f"POST /tenants/{tenant.slug}/api HTTP/1.1\r\nHost: {address}\r\n"
            f"Authorization: Bearer {tenant.token}\r\nContent-Type: application/json\r\n"
            "Content-Length: 1000\r\n\r\n"
            '{"query": "{ __typ'
        ).encode()
    )
    await writer.drain()
    await asyncio.sleep(0.2)
    writer.close()
    await writer.wait_closed()
    for _ in range(100):
        if any("went away" in r.getMessage() for r in caplog.records):
            break
        await asyncio.sleep(0.02)
    ours = [r for r in caplog.records if r.name.startswith("edgehog_creds")]
    gone = [r for r in ours if "went away" in r.getMessage()]
    assert len(gone) == 1, [r.getMessage() for r in ours]
    assert gone[0].levelno <= logging.INFO
    assert not any(
        "Traceback" in r.getMessage() or "internal error" in r.getMessage() for r in ours
    )


async def test_a_bigint_out_of_range_is_invalid_naming_it(tenant):
    literal = (
        "mutation { createContainer(input: "
        '{name: "c", image: {reference: "nginx"}, memory: 99999999999999999999})'
        " { result { id } } }"
    )
    body = await tenant.gql(literal)
    (error,) = body["errors"]
    assert error["code"] == "invalid" and "BigInt must fit in 64 bits" in error["message"]
    with_variable = (
        "mutation($m: BigInt) { createContainer(input: "
        '{name: "c", image: {reference: "nginx"}, memory: $m}) { result { id } } }'
    )
    body = await tenant.gql(with_variable, {"m": 2**64})
    (error,) = body["errors"]
    assert error["code"] == "invalid" and "Variable '$m'" in error["message"]

"""A password goes in once and never comes out: not stored, shown, logged or repr'd."""

from __future__ import annotations

import base64
import json
import logging
import uuid

import pytest

from edgehog_creds.credentials.graphql import CreateImageCredentialsInput
from edgehog_creds.domain.secret import Secret
from edgehog_creds.graphql.relay import to_global_id
from edgehog_creds.graphql.schema import build_schema

from .gql import CREATE, DELETE, LIST

PASSWORD = "Sup3r-S3cret?>~päss"
GET_ONE = "query G($id: ID!) { imageCredentials(id: $id) { id label username insertedAt } }"
NODE = "query N($id: ID!) { node(id: $id) { id ... on ImageCredentials { label username } } }"


def forms(secret: str) -> list[str]:
    raw = secret.encode()
    return [
        secret,
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        raw.hex(),
        json.dumps(secret)[1:-1],  # as json.dumps escapes it (ä -> \u00e4)
        secret.encode("ascii", "ignore").decode()[:12],  # the ASCII head, however escaped
    ]


async def all_rows_as_text(pool) -> str:
    """Every row of every table of ours, as PostgreSQL prints it (bytea as hex)."""
    tables = await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    text = []
    for t in tables:
        rows = await pool.fetch(f'SELECT t::text AS row FROM "{t["tablename"]}" t')
        text += [r["row"] for r in rows]
    return "\n".join(text)


@pytest.fixture
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


async def test_the_password_is_nowhere_but_sealed(tenant, pool, all_logs):
    responses = []
    r = await tenant.post(
        {
            "query": CREATE,
            "variables": {"input": {"label": "hub", "username": "bot", "password": PASSWORD}},
        }
    )
    responses.append(r.text)
    credentials_id = r.json()["data"]["createImageCredentials"]["result"]["id"]
    # A duplicate, a bad variable and a query: every path that might echo input.
    for body in [
        {
            "query": CREATE,
            "variables": {"input": {"label": "hub", "username": "bot", "password": PASSWORD}},
        },
        {"query": CREATE, "variables": {"input": {"label": "x", "password": PASSWORD}}},
        {
            "query": CREATE,
            "variables": {
                "input": {"label": "x", "username": "u", "password": PASSWORD, "extra": 1}
            },
        },
        {
            "query": CREATE,
            "variables": {"input": {"label": 5, "username": "u", "password": PASSWORD}},
        },
        {"query": CREATE, "variables": {"input": [PASSWORD]}},
        {"query": LIST, "variables": {"filter": {"label": {"eq": PASSWORD}}}},
        {"query": GET_ONE, "variables": {"id": credentials_id}},
        {"query": NODE, "variables": {"id": credentials_id}},
        {"query": LIST},
    ]:
        responses.append((await tenant.post(body)).text)
    stored = await all_rows_as_text(pool)
    logged = "\n".join(r.getMessage() for r in all_logs.records)
    for form in forms(PASSWORD):
        assert form not in stored
        assert form.lower() not in stored.lower()  # hex as PostgreSQL prints bytea
        assert form not in logged
        assert form not in all_logs.text  # formatted records, tracebacks included
        for text in responses:
            assert form not in text
    # The error for the bad variables says what is wrong, without the value.
    assert any("required field 'username'" in t for t in responses)
    responses.append(
        (await tenant.post({"query": DELETE, "variables": {"id": credentials_id}})).text
    )
    assert PASSWORD not in responses[-1]


async def test_a_literal_password_in_the_query_text_is_not_echoed(tenant, all_logs):
    query = (
        'mutation { createImageCredentials(input: {label: "l", username: "u", password: 12345678})'
        " { result { id } } }"
    )
    body = await tenant.gql(query)
    assert "12345678" not in str(body)
    assert "12345678" not in "\n".join(r.getMessage() for r in all_logs.records)
    assert body["errors"][0]["message"].startswith("String cannot represent")


async def test_a_syntax_error_does_not_quote_a_piece_of_an_inline_password(tenant, all_logs):
    # Unescaped quotes inside the password end the string early; graphql-core
    # then names the token it stumbled on: the rest of the password.
    query = (
        'mutation { createImageCredentials(input: {label: "l", username: "u", '
        'password: "hun"ter2"secretpart"}) { result { id } } }'
    )
    body = await tenant.gql(query)
    assert body["data"] is None and body["errors"][0]["message"].startswith("Syntax Error")
    assert "secretpart" not in str(body)
    assert "secretpart" not in all_logs.text


def test_input_repr_hides_the_password():
    value = CreateImageCredentialsInput(label="l", username="u", password=PASSWORD)
    assert PASSWORD not in repr(value) and PASSWORD not in str(value)
    assert "***" in repr(value)


def test_secret_type_hides_its_value():
    s = Secret(PASSWORD)
    assert PASSWORD not in repr(s) and PASSWORD not in str(s) and PASSWORD not in f"{s}"
    assert PASSWORD not in f"{s!s} {s!r}"
    assert s.reveal() == PASSWORD
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(s)


def test_no_output_type_has_a_password_like_field():
    schema = build_schema()
    suspicious = ("password", "secret", "sealed", "token_hash", "tokenhash", "privatekey")
    for name, type_ in schema._schema.type_map.items():
        if (
            name.startswith("__")
            or not hasattr(type_, "fields")
            or type(type_).__name__ == "GraphQLInputObjectType"
        ):
            continue
        for field_name in type_.fields:
            lowered = field_name.lower()
            assert not any(s in lowered for s in suspicious), f"{name}.{field_name}"


async def test_internal_errors_are_generic_and_logged_without_values(
    tenant, pool, all_logs, monkeypatch
):
    from edgehog_creds.store import tables

    async def broken(*args, **kwargs):
        raise RuntimeError(f"boom with {PASSWORD}")

    monkeypatch.setattr(tables, "by_ids", broken)
    missing = to_global_id("ImageCredentials", uuid.uuid4())
    body = await tenant.gql(GET_ONE, {"id": missing})
    assert body["errors"][0]["code"] == "internal"
    assert PASSWORD not in str(body)
    logged = "\n".join(r.getMessage() for r in all_logs.records)
    assert "RuntimeError" in logged and PASSWORD not in logged
    assert PASSWORD not in all_logs.text  # tracebacks included

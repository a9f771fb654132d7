"""executor.py answers as Strawberry's Schema.execute does, with documents cached."""

from __future__ import annotations

import pytest

from edgehog_creds.auth import TenantUser
from edgehog_creds.graphql import executor as executor_module
from edgehog_creds.graphql.context import Context
from edgehog_creds.graphql.executor import Executor
from edgehog_creds.graphql.schema import build_schema
from edgehog_creds.store.tenants import get_by_slug

from .gql import create

CASES = [
    ("{ listImageCredentials(first: 2) { count edges { node { label } } } }", None, None),
    (
        "query A { listImageCredentials(last: 1) { edges { node { label } } } } "
        "query B { listImageCredentials(first: 1) { count } }",
        None,
        "B",
    ),
    ("query($f: Int) { listImageCredentials(first: $f) { count } }", {"f": "two"}, None),
    ("{ listImageCredentials { nope } }", None, None),
    ("{ listImageCredentials(first: 1) { count }", None, None),  # syntax error
    ("{ listImageCredentials(first: -1) { count } }", None, None),  # a domain error
    ("{ node(id: \"bad\") { id } }", None, None),
    (
        "mutation($i: CreateImageCredentialsInput!) { createImageCredentials(input: $i) "
        "{ result { label } errors { code } } }",
        {"i": {"label": "", "username": "u", "password": "pw"}},
        None,
    ),
]


def summary(result):
    errors = [(e.message, e.path, e.locations) for e in result.errors or []]
    return result.data, errors


@pytest.fixture
async def context(tenant, pool, vault):
    for i in range(3):
        await create(tenant, f"e{i}")
    t = await get_by_slug(pool, tenant.slug)
    return Context(pool=pool, tenant=t, principal=TenantUser(t, "x"), vault=vault)


@pytest.mark.parametrize(("query", "variables", "operation"), CASES)
async def test_same_answers_as_strawberry(context, query, variables, operation):
    schema = build_schema()
    ours = Executor(schema)
    for _ in range(2):  # the second time from the document cache
        got = await ours.run(query, variables, context, operation)
        want = await schema.execute(
            query, variable_values=variables, context_value=context, operation_name=operation
        )
        assert summary(got) == summary(want)


async def test_an_unknown_operation_name_is_a_graphql_error(context):
    result = await Executor(build_schema()).run("{ __typename }", None, context, "Nope")
    assert result.data is None
    assert [e.message for e in result.errors] == ["Unknown operation named 'Nope'."]


async def test_an_unknown_operation_name_over_http_is_answered_not_a_crash(tenant):
    response = await tenant.post({"query": "query A { __typename }", "operationName": "B"})
    assert response.status_code == 200
    assert response.json() == {
        "data": None,
        "errors": [{"message": "Unknown operation named 'B'."}],
    }


def test_the_document_cache_is_bounded_and_skips_long_documents(monkeypatch):
    monkeypatch.setattr(executor_module, "_MAX_DOCUMENTS", 3)
    ours = Executor(build_schema())
    queries = [f"{{ a{i}: __typename }}" for i in range(5)]
    for q in queries:
        ours.document(q)
    assert list(ours._documents) == queries[2:]
    ours.document(queries[2])  # used again: now the most recent
    ours.document("{ b: __typename }")
    assert list(ours._documents) == [queries[4], queries[2], "{ b: __typename }"]
    long = "{ __typename " + " " * executor_module._MAX_CACHED_LENGTH + "}"
    document, errors = ours.document(long)
    assert document is not None and not errors
    assert long not in ours._documents


def test_mutations_with_literals_and_unparsable_text_are_never_kept():
    ours = Executor(build_schema())
    inline = (
        'mutation { createImageCredentials(input: {label: "l", username: "u", '
        'password: "inline-secret"}) { result { id } } }'
    )
    mistyped = (
        'mutation { createImageCredentials(input: {label: "l", username: "u", '
        "password: inline_secret}) { result { id } } }"
    )
    document, errors = ours.document(inline)
    assert document is not None and not errors
    document, errors = ours.document(mistyped)
    assert document is None and "inline_secret" in errors[0].message
    document, errors = ours.document('{ broken "inline-secret"')
    assert document is None and errors
    # The mutation field sent without `mutation`: a query that fails validation.
    document, errors = ours.document(inline.removeprefix("mutation "))
    assert document is None and errors
    assert ours._documents == {}
    # A mutation that takes its values from variables is kept, as queries are.
    variables_only = (
        "mutation($i: CreateImageCredentialsInput!) { createImageCredentials(input: $i) "
        "{ result { id } } }"
    )
    assert ours.document(variables_only)[0] is not None
    assert list(ours._documents) == [variables_only]

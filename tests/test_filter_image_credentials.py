"""listImageCredentials filters: every operator, and/or/not, ids, empty filter."""

from __future__ import annotations

import pytest

from .gql import LIST, create, errors_of


@pytest.fixture
async def creds(tenant):
    made = {}
    for label, username in [
        ("alpha", "bot"),
        ("beta", "bot"),
        ("gamma", "ci"),
        ("delta_1", "ci"),
        ("Epsilon", "admin"),
    ]:
        made[label] = await create(tenant, label, username=username)
    return tenant, made


async def labels(tenant, filter) -> list[str]:
    body = await tenant.gql(LIST, {"filter": filter, "sort": [{"field": "LABEL"}]})
    assert "errors" not in body, body
    return [e["node"]["label"] for e in body["data"]["listImageCredentials"]["edges"]]


CASES = [
    ({}, ["Epsilon", "alpha", "beta", "delta_1", "gamma"]),
    ({"label": {}}, ["Epsilon", "alpha", "beta", "delta_1", "gamma"]),
    ({"label": {"eq": "beta"}}, ["beta"]),
    ({"label": {"notEq": "beta"}}, ["Epsilon", "alpha", "delta_1", "gamma"]),
    ({"label": {"in": ["beta", "gamma", "zeta"]}}, ["beta", "gamma"]),
    ({"label": {"lessThan": "beta"}}, ["Epsilon", "alpha"]),
    ({"label": {"lessThanOrEqual": "beta"}}, ["Epsilon", "alpha", "beta"]),
    ({"label": {"greaterThan": "delta_1"}}, ["gamma"]),
    ({"label": {"greaterThanOrEqual": "delta_1"}}, ["delta_1", "gamma"]),
    ({"label": {"contains": "lt"}}, ["delta_1"]),
    ({"label": {"contains": "_"}}, ["delta_1"]),  # literal, not a LIKE wildcard
    ({"label": {"stringStartsWith": "al"}}, ["alpha"]),
    ({"label": {"stringEndsWith": "a"}}, ["alpha", "beta", "gamma"]),
    ({"label": {"like": "%l%a"}}, ["alpha"]),
    ({"label": {"ilike": "e%"}}, ["Epsilon"]),
    ({"label": {"isNil": False}}, ["Epsilon", "alpha", "beta", "delta_1", "gamma"]),
    ({"label": {"isNil": True}}, []),
    ({"label": {"isDistinctFrom": "alpha"}}, ["Epsilon", "beta", "delta_1", "gamma"]),
    ({"label": {"isNotDistinctFrom": "alpha"}}, ["alpha"]),
    ({"label": {"greaterThan": "a", "lessThan": "c"}}, ["alpha", "beta"]),
    ({"username": {"eq": "ci"}, "label": {"stringStartsWith": "g"}}, ["gamma"]),
    ({"or": [{"label": {"eq": "alpha"}}, {"username": {"eq": "admin"}}]}, ["Epsilon", "alpha"]),
    ({"and": [{"username": {"eq": "bot"}}, {"label": {"notEq": "alpha"}}]}, ["beta"]),
    ({"not": [{"username": {"eq": "bot"}}]}, ["Epsilon", "delta_1", "gamma"]),
    # not: [a, b] is NOT (a AND b)
    (
        {"not": [{"username": {"eq": "bot"}}, {"label": {"eq": "alpha"}}]},
        ["Epsilon", "beta", "delta_1", "gamma"],
    ),
    (
        {
            "or": [
                {"and": [{"username": {"eq": "ci"}}, {"not": [{"label": {"eq": "gamma"}}]}]},
                {"label": {"eq": "beta"}},
            ]
        },
        ["beta", "delta_1"],
    ),
    ({"or": [{}, {"label": {"eq": "beta"}}]}, ["Epsilon", "alpha", "beta", "delta_1", "gamma"]),
    ({"not": [{}]}, []),
]


@pytest.mark.parametrize(("filter", "expected"), CASES, ids=[str(c[0]) for c in CASES])
async def test_filter(creds, filter, expected):
    tenant, _ = creds
    assert await labels(tenant, filter) == expected


async def test_id_filters_take_global_ids(creds):
    tenant, made = creds
    alpha, beta = made["alpha"]["id"], made["beta"]["id"]
    assert await labels(tenant, {"id": {"eq": alpha}}) == ["alpha"]
    assert await labels(tenant, {"id": {"in": [alpha, beta]}}) == ["alpha", "beta"]
    assert await labels(tenant, {"id": {"notEq": alpha}}) == ["Epsilon", "beta", "delta_1", "gamma"]
    assert await labels(tenant, {"id": {"isNil": True}}) == []


async def test_a_malformed_id_in_a_filter_is_an_error(creds):
    tenant, _ = creds
    body = await tenant.gql(LIST, {"filter": {"id": {"eq": "not-an-id"}}})
    assert body["data"] == {"listImageCredentials": None}
    assert errors_of(body) == [("invalid_primary_key", ["filter.id"])]


async def test_filters_never_cross_tenants(creds, other_tenant):
    _, made = creds
    await create(other_tenant, "alpha")
    assert await labels(other_tenant, {"id": {"eq": made["alpha"]["id"]}}) == []
    assert await labels(other_tenant, {}) == ["alpha"]

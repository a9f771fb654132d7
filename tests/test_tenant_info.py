"""tenantInfo: what Edgehog's login page checks a token with."""

from __future__ import annotations

from .devices_gql import create_device
from .gql import errors_of

QUERY = "{ tenantInfo { __typename id name slug defaultLocale } }"


async def test_tenant_info_answers_the_ui(tenant, other_tenant):
    body = await tenant.gql(QUERY)
    assert "errors" not in body, body
    info = body["data"]["tenantInfo"]
    assert info["__typename"] == "TenantInfo"
    assert (info["slug"], info["name"], info["defaultLocale"]) == (
        tenant.slug,
        tenant.slug,
        "en-US",
    )
    other = (await other_tenant.gql(QUERY))["data"]["tenantInfo"]
    assert other["slug"] == other_tenant.slug and other["id"] != info["id"]


async def test_tenant_info_needs_a_valid_user_token(tenant, other_tenant):
    # The login page treats any `errors` as "not logged in".
    wrong_key = await tenant.post({"query": QUERY}, token=other_tenant.token)
    assert wrong_key.status_code == 401 and wrong_key.json()["errors"]
    _, device_token = await create_device(tenant)
    as_device = await tenant.gql(QUERY, token=device_token)
    assert errors_of(as_device) == [("forbidden", [])]

"""No N+1: a list of devices with their system models, hardware types, tags and
capabilities costs a fixed number of queries; a device's request costs one.

Counted as tests/test_releases_query_count.py counts them: the real app over
the real pool, every statement logged.
"""

from __future__ import annotations

import asyncio

from .devices_gql import (
    create_device,
    create_hardware_type,
    create_system_model,
    report_introspection,
)
from .test_releases_query_count import counted, run_counted

__all__ = ["counted"]

LIST = """
query($first: Int) {
  devices(first: $first) {
    count
    edges { node {
      id deviceId name online lastConnection lastDisconnection capabilities
      systemModel { name hardwareType { name } }
      tags { edges { node { name } } }
      hardwareInfo { cpuModel } otaOperations(first: 5) { edges { node { id } } }
    } }
  }
}
"""


async def fifty_devices(tenant) -> None:
    boards = [await create_hardware_type(tenant, f"board{k}") for k in range(2)]
    models = [await create_system_model(tenant, f"model{k}", boards[k % 2]["id"]) for k in range(3)]
    for n in range(50):
        _, token = await create_device(
            tenant,
            f"dev{n:02d}",
            systemModelId=models[n % 3]["id"],
            tags=[f"t{n % 4}", f"u{n % 5}"],
        )
        if n % 2:
            await report_introspection(tenant, token, [("io.edgehog.devicemanager.OSInfo", 0, 1)])


async def test_listing_devices_costs_the_same_for_5_and_for_50(tenant, counted):
    await fifty_devices(tenant)
    few, few_queries = await run_counted(counted, tenant, LIST, {"first": 5})
    many, many_queries = await run_counted(counted, tenant, LIST, {"first": 50})
    assert "errors" not in many, many
    devices = [e["node"] for e in many["data"]["devices"]["edges"]]
    assert len(devices) == 50 and len(few["data"]["devices"]["edges"]) == 5
    for n, device in enumerate(devices):
        assert device["deviceId"] == f"dev{n:02d}"
        assert device["systemModel"] == {
            "name": f"model{n % 3}",
            "hardwareType": {"name": f"board{n % 3 % 2}"},
        }
        assert sorted(e["node"]["name"] for e in device["tags"]["edges"]) == [
            f"t{n % 4}",
            f"u{n % 5}",
        ]
        expected = ["GEOLOCATION", "OPERATING_SYSTEM"] if n % 2 else []
        assert device["capabilities"] == expected
        assert device["hardwareInfo"] is None and device["otaOperations"] == {"edges": []}
    # The page with its count, the system models, their hardware types, the
    # tags of every device, the interfaces of those that declared some.
    assert len(many_queries) == len(few_queries), (few_queries, many_queries)
    assert len(many_queries) == 5, many_queries


async def test_a_device_request_costs_one_statement(tenant, counted):
    counting, client = counted
    _, token = await create_device(tenant)
    # The tenant is looked up once, by its first request.
    await client.post(tenant.url, json={"query": "{ __typename }"}, headers=_auth(tenant.token))
    for _ in range(2):  # the first records presence, the second does not: one statement each
        await asyncio.sleep(0)
        counting.queries.clear()
        response = await client.post(
            tenant.url, json={"query": "{ __typename }"}, headers=_auth(token)
        )
        assert response.status_code == 200
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert len(counting.queries) == 1, counting.queries
        assert "device_token_seen" in counting.queries[0]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}

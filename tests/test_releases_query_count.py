"""No N+1: listing releases with containers, images and credentials costs a fixed
number of SQL queries, however many releases and containers are listed.

Releases are listed under their application (there is no root list, as in
Edgehog); each container says which releases list it (Container.releases).

The app under test is the real one, built around the real pool wrapped so
that every statement run on a connection it hands out is logged (asyncpg's
query logger); the count is read per GraphQL request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from edgehog_creds.app import create_app

from . import conftest
from .gql import create as create_credentials
from .releases_gql import container, create_application, create_release, nodes

_DRIVER_INTROSPECTION = ("typeinfo_tree", "set_config('jit'")


class _Acquire:
    def __init__(self, owner: CountingPool, inner: Any) -> None:
        self.owner, self.inner = owner, inner

    async def __aenter__(self) -> Any:
        self.conn = await self.inner.__aenter__()
        self.conn.add_query_logger(self.owner.log)
        return self.conn

    async def __aexit__(self, *exc: Any) -> Any:
        self.conn.remove_query_logger(self.owner.log)
        return await self.inner.__aexit__(*exc)


class CountingPool:
    """The real pool; every statement run through it is recorded in `queries`."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.queries: list[str] = []

    def log(self, record: Any) -> None:
        # asyncpg introspects a type the first time a connection meets it:
        # a one-off per pooled connection, run by the driver and not by our
        # code, so whether it shows up depends on which connection served.
        if not any(marker in record.query for marker in _DRIVER_INTROSPECTION):
            self.queries.append(record.query)

    def acquire(self, *args: Any, **kwargs: Any) -> _Acquire:
        return _Acquire(self, self.pool.acquire(*args, **kwargs))

    # The pool's shortcuts would acquire from the real pool, unseen: route them here.
    async def fetch(self, *args: Any, **kwargs: Any) -> Any:
        async with self.acquire() as conn:
            return await conn.fetch(*args, **kwargs)

    async def fetchrow(self, *args: Any, **kwargs: Any) -> Any:
        async with self.acquire() as conn:
            return await conn.fetchrow(*args, **kwargs)

    async def fetchval(self, *args: Any, **kwargs: Any) -> Any:
        async with self.acquire() as conn:
            return await conn.fetchval(*args, **kwargs)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        async with self.acquire() as conn:
            return await conn.execute(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)


@pytest.fixture
async def counted(
    pool, vault, database_url
) -> AsyncIterator[tuple[CountingPool, httpx.AsyncClient]]:
    counting = CountingPool(pool)
    settings = conftest.test_settings(database_url=database_url)
    app = create_app(settings, pool=counting, vault=vault)  # type: ignore[arg-type]
    async with conftest.serving(app) as client:
        yield counting, client


async def run_counted(
    counted: tuple[CountingPool, httpx.AsyncClient], tenant: Any, query: str, variables: dict
) -> tuple[dict, list[str]]:
    counting, client = counted
    # The first request of a tenant looks the tenant up; keep that out of the count.
    await client.post(tenant.url, json={"query": "{ __typename }"}, headers=_auth(tenant))
    await asyncio.sleep(0)
    counting.queries.clear()
    response = await client.post(
        tenant.url, json={"query": query, "variables": variables}, headers=_auth(tenant)
    )
    assert response.status_code == 200, response.text
    await asyncio.sleep(0)  # query loggers are called soon after, not during
    await asyncio.sleep(0)
    return response.json(), list(counting.queries)


def _auth(tenant: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {tenant.token}"}


LIST_RELEASES = """
query List($id: ID!, $first: Int) {
  application(id: $id) {
    releases(first: $first) {
      count
      edges { node {
        id version
        application { id name }
        containers { count edges { node {
          id name hostname credentialsDeleted
          image { id reference credentials { id label } }
          imageCredentials { id label username }
          releases { count edges { node { id version } } }
        } } }
      } }
    }
  }
}
"""

LIST_APPLICATIONS = """
query Apps($names: [String!]) {
  applications(filter: {name: {in: $names}}) {
    edges { node {
      name
      releases(first: 50) {
        count
        edges { node {
          version
          application { name }
          containers { edges { node {
            image { reference credentials { label } }
            releases { edges { node { version application { name } } } }
          } } }
        } }
      }
    } }
  }
}
"""

LIST_CREDENTIALS = """
query Creds($labels: [String!]) {
  listImageCredentials(filter: {label: {in: $labels}}) {
    edges { node {
      label
      containers(first: 100) { count edges { node {
        hostname releases { edges { node { version } } }
      } } }
    } }
  }
}
"""


async def fifty_releases(tenant: Any, applications: int) -> list[dict]:
    """50 releases of 3 containers each, spread over `applications` applications;
    every container uses one of three credentials."""
    credentials = [await create_credentials(tenant, label) for label in ("c0", "c1", "c2")]
    apps = [await create_application(tenant, f"app{i:02d}") for i in range(applications)]
    releases = []
    for n in range(50):
        releases.append(
            await create_release(
                tenant,
                apps[n % applications]["id"],
                f"1.{n}.0",
                [
                    container(
                        f"registry.example.com/app{k}:{n}",
                        credentials[k]["id"],
                        hostname=f"r{n}c{k}",
                    )
                    for k in range(3)
                ],
            )
        )
    return releases


async def test_listing_releases_costs_the_same_for_5_and_for_50(tenant, counted):
    await fifty_releases(tenant, applications=1)
    apps = await tenant.gql("{ applications { edges { node { id } } } }")
    app_id = nodes(apps["data"]["applications"])[0]["id"]

    few, few_queries = await run_counted(counted, tenant, LIST_RELEASES, {"id": app_id, "first": 5})
    many, many_queries = await run_counted(
        counted, tenant, LIST_RELEASES, {"id": app_id, "first": 50}
    )
    assert "errors" not in many, many

    listed = many["data"]["application"]["releases"]
    assert listed["count"] == 50 and len(listed["edges"]) == 50
    assert len(few["data"]["application"]["releases"]["edges"]) == 5
    for n, release in enumerate(nodes(listed)):
        assert release["version"] == f"1.{n}.0"
        assert release["application"]["name"] == "app00"
        assert release["containers"]["count"] == 3
        for k, c in enumerate(nodes(release["containers"])):
            assert c["hostname"] == f"r{n}c{k}"
            assert c["image"]["reference"] == f"registry.example.com/app{k}:{n}"
            assert c["image"]["credentials"]["label"] == f"c{k}"
            assert c["imageCredentials"]["id"] == c["image"]["credentials"]["id"]
            assert c["releases"] == {
                "count": 1,
                "edges": [{"node": {"id": release["id"], "version": release["version"]}}],
            }

    # The application, its releases and their count, their containers, the
    # images, the credentials, and the releases of every container and their count.
    assert len(many_queries) == len(few_queries), (few_queries, many_queries)
    assert len(many_queries) == 8, many_queries


async def test_releases_under_every_application_cost_the_same_for_2_and_10(tenant, counted):
    await fifty_releases(tenant, applications=10)
    names = [f"app{i:02d}" for i in range(10)]

    few, few_queries = await run_counted(counted, tenant, LIST_APPLICATIONS, {"names": names[:2]})
    many, many_queries = await run_counted(counted, tenant, LIST_APPLICATIONS, {"names": names})
    assert "errors" not in many, many

    apps = nodes(many["data"]["applications"])
    assert [a["name"] for a in apps] == names
    for i, app in enumerate(apps):
        assert app["releases"]["count"] == 5
        assert [r["version"] for r in nodes(app["releases"])] == [
            f"1.{n}.0" for n in range(i, 50, 10)
        ]
        for release in nodes(app["releases"]):
            assert release["application"]["name"] == app["name"]
            assert [c["image"]["credentials"]["label"] for c in nodes(release["containers"])] == [
                "c0",
                "c1",
                "c2",
            ]
            for c in nodes(release["containers"]):
                assert [r["application"]["name"] for r in nodes(c["releases"])] == [app["name"]]
    assert len(few["data"]["applications"]["edges"]) == 2

    # Applications, their releases and one count, containers, images, credentials, and
    # the releases of every container.
    assert len(many_queries) == len(few_queries), (few_queries, many_queries)
    assert len(many_queries) == 7, many_queries


async def test_containers_under_every_credentials_cost_the_same_for_1_and_3(tenant, counted):
    await fifty_releases(tenant, applications=2)

    few, few_queries = await run_counted(counted, tenant, LIST_CREDENTIALS, {"labels": ["c0"]})
    many, many_queries = await run_counted(
        counted, tenant, LIST_CREDENTIALS, {"labels": ["c0", "c1", "c2"]}
    )
    assert "errors" not in many, many
    for k, credentials in enumerate(nodes(many["data"]["listImageCredentials"])):
        assert credentials["containers"]["count"] == 50
        assert [c["hostname"] for c in nodes(credentials["containers"])] == [
            f"r{n}c{k}" for n in range(50)
        ]
        assert [
            [r["version"] for r in nodes(c["releases"])] for c in nodes(credentials["containers"])
        ] == [[f"1.{n}.0"] for n in range(50)]
    assert len(few["data"]["listImageCredentials"]["edges"]) == 1

    # Credentials, their containers and one count, the releases of every container.
    assert len(many_queries) == len(few_queries), (few_queries, many_queries)
    assert len(many_queries) == 4, many_queries


async def test_nothing_is_counted_unless_count_is_selected(tenant, counted):
    await fifty_releases(tenant, applications=10)
    names = [f"app{i:02d}" for i in range(10)]
    without = LIST_APPLICATIONS.replace("        count\n", "")
    assert without != LIST_APPLICATIONS
    body, queries = await run_counted(counted, tenant, without, {"names": names})
    assert "errors" not in body, body
    apps = nodes(body["data"]["applications"])
    assert [len(nodes(app["releases"])) for app in apps] == [5] * 10
    # Applications, their releases, containers, images, credentials, the releases of
    # every container: no GROUP BY for counts.
    assert len(queries) == 6, queries
    assert not any("count(*)" in q for q in queries), queries


LIST_CONTAINERS = """
query Containers($first: Int) {
  containers(first: $first) {
    count
    edges { node {
      id name
      image { reference credentials { label } }
      imageCredentials { label }
      containerVolumes { count edges { node { target volumeId } } }
      networks { edges { node { id } } }
      deviceMappings { edges { node { pathOnHost } } }
      deviceRequests { edges { node { driver } } }
      releases { edges { node { version } } }
    } }
  }
}
"""


async def test_listing_containers_with_their_parts_costs_the_same_for_3_and_30(tenant, counted):
    credentials = await create_credentials(tenant, "c")
    volume = await tenant.gql('mutation { createVolume(input: {label: "v"}) { result { id } } }')
    network = await tenant.gql('mutation { createNetwork(input: {label: "n"}) { result { id } } }')
    volume_id = volume["data"]["createVolume"]["result"]["id"]
    network_id = network["data"]["createNetwork"]["result"]["id"]
    app = await create_application(tenant)
    await create_release(
        tenant,
        app["id"],
        "1.0.0",
        [
            container(
                f"registry.example.com/app:{n}",
                credentials["id"],
                volumes=[{"id": volume_id, "target": "/data"}],
                networks=[{"id": network_id}],
                deviceMappings=[
                    {"pathOnHost": "/dev/a", "pathInContainer": "/dev/a", "cgroupPermissions": "r"}
                ],
                deviceRequests=[{"driver": "nvidia"}],
            )
            for n in range(30)
        ],
    )

    few, few_queries = await run_counted(counted, tenant, LIST_CONTAINERS, {"first": 3})
    many, many_queries = await run_counted(counted, tenant, LIST_CONTAINERS, {"first": 30})
    assert "errors" not in many, many
    listed = nodes(many["data"]["containers"])
    assert len(listed) == 30 and len(nodes(few["data"]["containers"])) == 3
    for n, c in enumerate(listed):
        assert c["image"] == {
            "reference": f"registry.example.com/app:{n}",
            "credentials": {"label": "c"},
        }
        assert c["imageCredentials"] == {"label": "c"}
        assert nodes(c["containerVolumes"]) == [{"target": "/data", "volumeId": volume_id}]
        assert nodes(c["networks"]) == [{"id": network_id}]
        assert nodes(c["deviceMappings"]) == [{"pathOnHost": "/dev/a"}]
        assert nodes(c["deviceRequests"]) == [{"driver": "nvidia"}]
        assert nodes(c["releases"]) == [{"version": "1.0.0"}]

    # The page with its count, the images, the credentials, the four kinds of
    # children (one query each), the networks, and the releases of every container.
    assert len(many_queries) == len(few_queries), (few_queries, many_queries)
    assert len(many_queries) == 9, many_queries

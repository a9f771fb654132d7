"""GraphQL documents and small helpers shared by the tests."""

from __future__ import annotations

import asyncio
from typing import Any

CREATE = """
mutation Create($input: CreateImageCredentialsInput!) {
  createImageCredentials(input: $input) {
    result { id label username insertedAt }
    errors { code fields message shortMessage }
  }
}
"""

DELETE = """
mutation Delete($id: ID!) {
  deleteImageCredentials(id: $id) {
    result { id label username }
    errors { code fields }
    detachedContainerCount
  }
}
"""

LIST = """
query List($first: Int, $last: Int, $after: String, $before: String,
           $sort: [ImageCredentialsSortInput], $filter: ImageCredentialsFilterInput) {
  listImageCredentials(first: $first, last: $last, after: $after, before: $before,
                       sort: $sort, filter: $filter) {
    count
    pageInfo { hasPreviousPage hasNextPage startCursor endCursor }
    edges { cursor node { id label username insertedAt } }
  }
}
"""


async def create(tenant: Any, label: str, username: str = "user", password: str = "pw") -> dict:
    body = await tenant.gql(
        CREATE, {"input": {"label": label, "username": username, "password": password}}
    )
    assert "errors" not in body, body
    return body["data"]["createImageCredentials"]["result"]


def errors_of(body: dict) -> list[tuple[str, list[str]]]:
    """(code, fields) of each error, sorted, for compact assertions."""
    return sorted((e["code"], e["fields"]) for e in body.get("errors", []))


async def until_a_statement_waits_for_a_lock(pool: Any) -> None:
    """Return once some statement of this database waits for a lock; fail if none ever does.

    Race tests call it where a fixed sleep would pass whether or not the
    request they started had reached its lock yet.
    """
    for _ in range(200):
        waiting = await pool.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.025)
    raise AssertionError("no statement ever waited for the row lock")

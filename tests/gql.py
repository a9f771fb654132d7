"""GraphQL documents and small helpers shared by the tests."""

from __future__ import annotations

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

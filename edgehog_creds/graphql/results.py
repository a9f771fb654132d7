"""The result/errors shape every mutation returns (as Edgehog's Ash API).

Errors come at the top level of the response (graphql/errors.py), where
Edgehog's UI reads them; `errors` here is always empty, and stays in the
schema because Edgehog's clients select it.
"""

from __future__ import annotations

from typing import Any

import strawberry

from .scalars import Json


@strawberry.type
class MutationError:
    message: str | None = None
    short_message: str | None = None
    vars: Json | None = None
    code: str | None = None
    fields: list[str] | None = None
    path: list[str] | None = None


def mutation_result(name: str, result_type: Any, description: str | None = None) -> Any:
    """`{name} { result: result_type, errors: [MutationError!]! }`.

    Made with `result=` a domain object, which `result_type` views.
    """
    cls = type(
        name,
        (),
        {
            "__annotations__": {"result": result_type | None, "errors": list[MutationError]},
            "errors": strawberry.field(default_factory=list),
        },
    )
    return strawberry.type(cls, description=description)


def mutation_field(resolver: Any, result_type: Any, description: str) -> Any:
    """A root mutation answered by `resolver`, whose result is a `result_type`."""
    return strawberry.mutation(
        resolver=resolver, graphql_type=result_type | None, description=description
    )

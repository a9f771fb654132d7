"""Running one request through the schema, and the answer a client reads.

The schema's engine runs it (engine/); what Strawberry raises instead of
answering (an operationName that names no operation, a subscription over
POST) becomes an ordinary GraphQL error, and every error is shaped by
errors.py.
"""

from __future__ import annotations

from typing import Any

from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError

from .context import Context
from .errors import format_errors, invalid
from .schema import Schema


async def execute(
    schema: Schema,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    context: Context,
) -> dict[str, Any]:
    """The response body of one GraphQL request: {data} and, when there are any, errors."""
    try:
        result = await schema.engine.execute(schema, query, variables, context, operation_name)
    except CannotGetOperationTypeError:
        message = (
            f"Unknown operation named '{operation_name}'."
            if operation_name
            else "Must provide operation name if query contains multiple operations."
        )
        return {"data": None, "errors": [invalid(message)]}
    except InvalidOperationTypeError as exc:
        kind = exc.operation_type.value
        return {"data": None, "errors": [invalid(f"{kind}s are not served over POST")]}
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = format_errors(result.errors, variables)
    return body

"""A faster path through graphql-core for plain leaf fields.

A list of 50 credentials asks for some 250 fields, and most are leaves that
just read an attribute (`label`, `cursor`, `hasNextPage`). graphql-core runs
each through its full machinery: a resolve-info object, Strawberry's resolver
wrapper, value completion. For a field Strawberry itself marks as basic (no
resolver, no extensions, no permissions) with no arguments and a scalar type,
reading the attribute and serialising it gives the same answer. Anything else,
and any value that is null or fails to serialise, takes the normal path, so
errors are reported exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLScalarType
from graphql.execution.collect_fields import FieldDetails
from graphql.pyutils import Path, Undefined, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

_DEFINITION = "strawberry-definition"
_MAX_PLANS = 4096

# (parent type name, id of the field's AST node) -> (node, plan). The node is
# kept so its id cannot be reused by another node while the plan exists.
# Plans depend only on the schema and the (cached, immutable) document.
_plans: dict[tuple[str, int], tuple[Any, tuple[str, Callable[[Any], Any]] | None]] = {}


def _leaf_plan(
    schema: Any, parent_type: GraphQLObjectType, details: list[FieldDetails]
) -> tuple[str, Callable[[Any], Any]] | None:
    """(attribute name, serialize) when the field is a plain scalar attribute."""
    if len(details) != 1:
        return None
    node = details[0].node
    key = (parent_type.name, id(node))
    cached = _plans.get(key)
    if cached is not None and cached[0] is node:
        return cached[1]
    plan = None
    field_def = schema.get_field(parent_type, node.name.value)
    definition = field_def.extensions.get(_DEFINITION) if field_def else None
    if (
        definition is not None
        and not node.arguments
        and node.selection_set is None
        and getattr(field_def.resolve, "_is_default", False)
    ):
        type_ = field_def.type
        if isinstance(type_, GraphQLNonNull):
            type_ = type_.of_type
        if isinstance(type_, GraphQLScalarType):
            plan = (definition.python_name, type_.serialize)
    if len(_plans) >= _MAX_PLANS:
        _plans.clear()
    _plans[key] = (node, plan)
    return plan


class ExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        if self.middleware_manager is not None and self.middleware_manager.middlewares:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        is_awaitable = self.is_awaitable
        try:
            for response_name, details in grouped_field_set.items():
                plan = _leaf_plan(self.schema, parent_type, details)
                if plan is not None:
                    value = getattr(source_value, plan[0], None)
                    if value is not None:
                        try:
                            results[response_name] = plan[1](value)
                            continue
                        except Exception:  # noqa: S110 - the normal path reports it
                            pass
                result = self.execute_field(
                    parent_type,
                    source_value,
                    details,
                    Path(path, response_name, parent_type.name),
                    position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[f] for f in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._await_fields(results, awaitable_fields)

    async def _await_fields(self, results: dict[str, Any], fields: list[str]) -> dict[str, Any]:
        # As graphql-core does: await every pending field, then fill them in.
        if len(fields) == 1:
            results[fields[0]] = await results[fields[0]]
        else:
            values = await gather_with_cancel(*(results[f] for f in fields))
            results.update(zip(fields, values, strict=True))
        return results

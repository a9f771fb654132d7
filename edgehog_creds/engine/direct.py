"""Direct execution: graphql-core's `execute`, with no Strawberry lifecycle around it.

Strawberry's `Schema.execute` runs its extension machinery for every request
(an execution context, four hook phases, a middleware manager): about a third
of the CPU of a small query. When a schema has no Strawberry extension of its
own, none of that does anything, so the fast engine runs a request here
instead: the kept (or newly parsed and validated) document straight into
graphql-core's `execute` with the engine's executor class. With any
extension, the engine takes Strawberry's path (engine/__init__.py), so an
extension always runs.

Fields may also declare a *direct resolver* (`direct(fn)`): a function of
graphql-core's own arguments, `fn(root, info, args)`, where `args` are the
coerced values keyed by GraphQL name. The fast engine makes it the field's
resolver (`use_direct_resolvers`), so Strawberry's per-call argument
conversion and resolver wrapper are skipped for it; every other engine calls
the field's Strawberry resolver. A field with Strawberry field extensions or
permissions keeps its Strawberry resolver, whatever it declares.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeGuard

from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    execute,
    parse,
    specified_rules,
)
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.schema.schema import validate_document
from strawberry.types.graphql import OperationType as StrawberryOperationType

from .documents import Documents

# The metadata key of a direct resolver (see `direct`).
DIRECT = "edgehog_creds.engine.direct"
_DEFINITION = "strawberry-definition"

DirectResolver = Callable[[Any, Any, dict[str, Any]], Any]


def direct(resolver: DirectResolver) -> dict[str, Any]:
    """Field metadata: `resolver(root, info, args)` answers this field from
    graphql-core's coerced arguments, as its Strawberry resolver would."""
    return {DIRECT: resolver}


def use_direct_resolvers(schema: GraphQLSchema) -> int:
    """Make each declared direct resolver its field's resolver; how many there are."""
    used = 0
    for named in schema.type_map.values():
        if not isinstance(named, GraphQLObjectType) or named.name.startswith("__"):
            continue
        for field in named.fields.values():
            definition = field.extensions.get(_DEFINITION)
            metadata = getattr(definition, "metadata", None) or {}
            resolver = metadata.get(DIRECT)
            if resolver is None or definition.extensions or definition.permission_classes:
                continue
            field.resolve = _resolve_with(resolver)
            used += 1
    return used


def _resolve_with(resolver: DirectResolver) -> Callable[..., Any]:
    def resolve(root: Any, info: Any, **args: Any) -> Any:
        return resolver(root, info, args)

    return resolve


def _is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    # Strawberry's check (faster than inspect's for the common cases), typed.
    return optimized_is_awaitable(value)


_ALLOWED = {OperationType.QUERY, OperationType.MUTATION}
_STRAWBERRY_TYPE = {
    OperationType.QUERY: StrawberryOperationType.QUERY,
    OperationType.MUTATION: StrawberryOperationType.MUTATION,
    OperationType.SUBSCRIPTION: StrawberryOperationType.SUBSCRIPTION,
}


class DirectExecution:
    """Runs requests of one schema straight through graphql-core (see the module docstring)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        documents: Documents,
        executor_class: type[Any],
        rules: Sequence[type[ASTValidationRule]] = (),
        max_tokens: int | None = None,
    ) -> None:
        self._schema = schema
        self._documents = documents
        self._executor_class = executor_class
        # Strawberry's default rules, and those of the schema's validation extensions.
        self._rules = (*specified_rules, *rules)
        self._max_tokens = max_tokens

    def document(self, query: str, context: Any) -> DocumentNode | list[GraphQLError]:
        """The kept document, or the newly parsed and validated one, or its errors."""
        held = self._documents.get(query)
        if held is not None:
            return held
        try:
            document = parse(query, max_tokens=self._max_tokens)
        except GraphQLError as error:
            return [error]
        errors = validate_document(self._schema, document, self._rules)
        if errors:
            return errors
        self._documents.offer(query, document, True, context)
        return document

    async def execute(
        self,
        query: str,
        variables: dict[str, Any] | None,
        context: Any,
        operation_name: str | None,
    ) -> ExecutionResult:
        document = self.document(query, context)
        if isinstance(document, list):
            return ExecutionResult(data=None, errors=document)
        _refuse_other_operations(document, operation_name)
        result = execute(
            self._schema,
            document,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
            executor_class=self._executor_class,
            is_awaitable=_is_awaitable,
        )
        if isinstance(result, ExecutionResult):
            return result
        return await result


def _refuse_other_operations(document: DocumentNode, operation_name: str | None) -> None:
    """Refuse a subscription as Strawberry's execute does (only queries and mutations)."""
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        named = definition.name.value if definition.name else None
        if operation_name is not None and named != operation_name:
            continue
        if definition.operation not in _ALLOWED:
            raise InvalidOperationTypeError(_STRAWBERRY_TYPE[definition.operation])

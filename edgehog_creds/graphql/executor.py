"""Runs one GraphQL request: a cached, validated document, then graphql-core's execute.

Strawberry's `Schema.execute` builds an execution context, an extensions
runner and a middleware manager for every request, and reaches its parser
and validation caches through extension hooks. Our schema has no extensions
and no middleware, so all of that is per-request overhead: about a tenth of
the CPU of a 50-row list page.

Here a query text is parsed and validated once (the same rules as Strawberry:
graphql-core's, plus Strawberry's Maybe and @oneOf rules), and every request
after that goes straight to graphql-core's `execute` with our
ExecutionContext (execution.py). Answers and errors are those of
`Schema.execute`; tests/test_executor.py checks both give the same.

Unlike `Schema.execute`, an operationName that names no operation is an
ordinary GraphQL error here, not an exception.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from graphql import (
    BREAK,
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    ListValueNode,
    ObjectValueNode,
    OperationType,
    ValueNode,
    VariableNode,
    Visitor,
    execute,
    parse,
    specified_rules,
    visit,
)
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.schema import validate_document

from .execution import ExecutionContext
from .schema import Schema

# Clients send the same few documents again and again. Long ones are parsed
# every time, so the cache holds at most _MAX_DOCUMENTS * _MAX_CACHED_LENGTH
# characters of query text (and their documents); see _safe_to_keep for what
# is never kept.
_MAX_DOCUMENTS = 256
_MAX_CACHED_LENGTH = 16 * 1024


class _Literals(Visitor):
    """Finds any literal value (a string, number, enum, boolean or null) in a document."""

    found = False

    def enter(self, node: Any, *_: Any) -> Any:
        if isinstance(node, ValueNode) and not isinstance(
            node, (VariableNode, ListValueNode, ObjectValueNode)
        ):
            self.found = True
            return BREAK
        return None


def _safe_to_keep(document: DocumentNode | None, errors: list[GraphQLError]) -> bool:
    """Valid queries, and anything else that takes every value from variables.

    A mutation's text can hold a password literal (GraphiQL users write them
    inline, and a mistyped one is quoted in its validation error), and so can
    a mutation field sent without the `mutation` keyword, which fails
    validation: such a document, and its errors, must not outlive the request.
    """
    if document is None:
        return False  # unparsable text could be anything
    if not errors and all(
        getattr(d, "operation", OperationType.QUERY) is OperationType.QUERY
        for d in document.definitions
    ):
        return True
    literals = _Literals()
    visit(document, literals)
    return not literals.found


class Executor:
    def __init__(self, schema: Schema) -> None:
        self._schema = schema
        self._graphql_schema = schema._schema
        self._rules = tuple(specified_rules)  # as Strawberry's ExecutionContext has them
        self._documents: OrderedDict[str, tuple[DocumentNode | None, list[GraphQLError]]] = (
            OrderedDict()
        )

    def document(self, query: str) -> tuple[DocumentNode | None, list[GraphQLError]]:
        """The parsed document, or None and the syntax or validation errors."""
        held = self._documents.get(query)
        if held is not None:
            self._documents.move_to_end(query)
            return held
        document: DocumentNode | None = None
        try:
            document = parse(query)
        except GraphQLError as error:
            prepared: tuple[DocumentNode | None, list[GraphQLError]] = (None, [error])
        else:
            errors = validate_document(self._graphql_schema, document, self._rules)
            prepared = (None, errors) if errors else (document, [])
        if len(query) <= _MAX_CACHED_LENGTH and _safe_to_keep(document, prepared[1]):
            self._documents[query] = prepared
            if len(self._documents) > _MAX_DOCUMENTS:
                self._documents.popitem(last=False)
        return prepared

    async def run(
        self,
        query: str,
        variables: dict[str, Any] | None,
        context: Any,
        operation_name: str | None = None,
    ) -> ExecutionResult:
        document, errors = self.document(query)
        if document is None:
            return ExecutionResult(data=None, errors=errors)
        result = execute(
            self._graphql_schema,
            document,
            context_value=context,
            variable_values=variables,
            operation_name=operation_name,
            executor_class=ExecutionContext,
            is_awaitable=optimized_is_awaitable,
        )
        if optimized_is_awaitable(result):
            result = await result
        return result

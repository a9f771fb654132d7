"""The GraphQL engines: how a request's document is executed. Off with one setting.

- `strawberry` (EDGEHOG_CREDS_ENGINE=strawberry): Strawberry and graphql-core
  as they come: every request through Strawberry's `Schema.execute`, with
  one fix for subscriptions that both engines carry (events.py).
- `fast` (the default): the same schema and answers, with four things made
  only of public extension points:
  - kept documents (documents.py): parsed and validated once per text;
  - compiled plans (plans.py): plain-data fields completed by one generated
    function per selection, in a graphql-core executor subclass that
    Strawberry takes as its `execution_context_class`;
  - direct resolvers (direct.py): fields that declare one answer from
    graphql-core's arguments, without Strawberry's per-call conversion;
  - direct execution (direct.py): with no Strawberry extension on the schema
    but validation ones (AddValidationRules and its family, MaxTokensLimiter:
    their rules and token limit are applied here), requests go straight to
    graphql-core's `execute`; with any other, through
    Strawberry's `Schema.execute` (documents kept by an extension), so
    Strawberry's extensions work with both engines.
  Answers and errors are those of the `strawberry` engine: tests/engine/ runs
  the same documents through both.

Neither assigns to any library module's attributes or copies library code.
This package imports nothing else of ours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import ASTValidationRule, DocumentNode
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.types.graphql import OperationType

from .direct import DirectExecution, direct, use_direct_resolvers
from .documents import MAX_DOCUMENTS, MAX_LENGTH, Documents, KeptDocuments
from .events import PerEventExecutionContext
from .plans import Plans, plain, with_plans

__all__ = ["ENGINES", "Engine", "direct", "plain"]

ENGINES = ("fast", "strawberry")
ALLOWED = (OperationType.QUERY, OperationType.MUTATION)


def _keep_any(_context: Any, _document: DocumentNode) -> bool:
    return True


@dataclass
class Engine:
    """One engine: what a Strawberry schema is built with, and how it runs requests.

    Each schema gets caches of its own (what one schema validated says
    nothing of another); `documents` and `plans` are the last schema's.
    """

    name: str
    may_keep: Callable[[Any, DocumentNode], bool] | None = None
    max_documents: int = MAX_DOCUMENTS
    max_length: int = MAX_LENGTH
    documents: Documents | None = field(default=None, init=False)
    plans: Plans | None = field(default=None, init=False)
    # The schema last prepared, when it runs without Strawberry's lifecycle.
    _direct: tuple[strawberry.Schema, DirectExecution] | None = field(
        default=None, init=False, repr=False
    )

    @classmethod
    def named(
        cls, name: str, may_keep: Callable[[Any, DocumentNode], bool] | None = None
    ) -> Engine:
        """The engine called `name` (one of ENGINES). `may_keep(context, document)`
        says which documents the fast engine may keep (see documents.py)."""
        if name not in ENGINES:
            raise ValueError(f"unknown GraphQL engine {name!r}: use one of {', '.join(ENGINES)}")
        return cls(name, may_keep)

    def schema_options(self) -> dict[str, Any]:
        """Keyword arguments for one `strawberry.Schema`, with caches of its own."""
        if self.name == "strawberry":
            return {"extensions": [], "execution_context_class": PerEventExecutionContext}
        documents = self.documents = Documents(
            self.may_keep or _keep_any, self.max_documents, self.max_length
        )
        plans = self.plans = Plans()
        extensions: list[Callable[[], SchemaExtension]] = [KeptDocuments(documents)]
        return {"extensions": extensions, "execution_context_class": with_plans(plans)}

    def prepare(self, schema: strawberry.Schema) -> None:
        """Finish a schema built with schema_options(): direct resolvers and execution."""
        if self.name == "strawberry":
            return
        use_direct_resolvers(schema._schema)
        others = [e for e in schema.extensions if not isinstance(e, KeptDocuments)]
        self._direct = None
        limits = _validation_only(others)
        if limits is not None and self.documents is not None:
            rules, max_tokens = limits
            execution = DirectExecution(
                schema._schema,
                self.documents,
                schema.execution_context_class,
                rules,
                max_tokens,
            )
            self._direct = (schema, execution)

    async def execute(
        self,
        schema: strawberry.Schema,
        query: str,
        variables: dict[str, Any] | None,
        context: Any,
        operation_name: str | None,
    ) -> Any:
        """One request's result: `.data` and `.errors`, as Schema.execute gives them."""
        if self._direct is not None and self._direct[0] is schema:
            return await self._direct[1].execute(query, variables, context, operation_name)
        return await schema.execute(
            query,
            variable_values=variables,
            context_value=context,
            operation_name=operation_name,
            allowed_operation_types=ALLOWED,
        )


def _validation_only(
    extensions: list[Any],
) -> tuple[list[type[ASTValidationRule]], int | None] | None:
    """The validation rules and token limit of `extensions` when that is all they
    do (Strawberry's AddValidationRules family and MaxTokensLimiter), which
    direct execution applies itself; None when any does more."""
    rules: list[type[ASTValidationRule]] = []
    max_tokens: int | None = None
    for factory in extensions:
        try:
            extension = factory if isinstance(factory, SchemaExtension) else factory()
        except TypeError:  # a class that needs arguments: not one of these
            return None
        if isinstance(extension, AddValidationRules):
            rules.extend(extension.validation_rules)
        elif isinstance(extension, MaxTokensLimiter):
            max_tokens = extension.max_token_count
        else:
            return None
    return rules, max_tokens

"""The GraphQL engines: how a request's document is executed. Off with one setting.

Both run every request through Strawberry's own `Schema.execute`, so
Strawberry's extensions (validation rules, limits, tracing) work the same
with either:

- `strawberry` (EDGEHOG_CREDS_ENGINE=strawberry): Strawberry and graphql-core
  exactly as they come.
- `fast` (the default): the same, plus two things made only of public
  extension points. `DocumentCache` (documents.py, a Strawberry schema
  extension) keeps parsed and validated documents by their text, and
  `PlannedExecutionContext` (plans.py, a graphql-core executor subclass that
  Strawberry takes as its `execution_context_class`) completes plain-data
  fields with compiled plans. Answers and errors are the same as the
  `strawberry` engine's: tests/engine/ runs the same documents through both.

Neither assigns to any library module's attributes or copies library code.
This package imports nothing else of ours.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

from .documents import MAX_DOCUMENTS, MAX_LENGTH, DocumentCache, Documents
from .plans import Plans, plain, with_plans

__all__ = ["ENGINES", "Engine", "plain"]

ENGINES = ("fast", "strawberry")


def _keep_any(_context: Any, _document: DocumentNode) -> bool:
    return True


@dataclass
class Engine:
    """One engine: what a Strawberry schema is built with."""

    name: str
    may_keep: Callable[[Any, DocumentNode], bool] | None = None
    max_documents: int = MAX_DOCUMENTS
    max_length: int = MAX_LENGTH
    # The caches of the schema last built with schema_options(): each schema
    # gets its own, since what one schema validated says nothing of another.
    documents: Documents | None = field(default=None, init=False)
    plans: Plans | None = field(default=None, init=False)

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
            return {"extensions": []}
        documents = self.documents = Documents(
            self.may_keep or _keep_any, self.max_documents, self.max_length
        )
        plans = self.plans = Plans()
        extensions: list[Callable[[], SchemaExtension]] = [lambda: DocumentCache(documents)]
        return {"extensions": extensions, "execution_context_class": with_plans(plans)}

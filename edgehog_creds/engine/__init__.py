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

from .documents import DocumentCache, Documents
from .plans import Plans, plain, with_plans

__all__ = ["ENGINES", "Engine", "plain"]

ENGINES = ("fast", "strawberry")


@dataclass
class Engine:
    """One engine: what the Strawberry schema is built with."""

    name: str
    documents: Documents | None = None
    plans: Plans | None = None
    extensions: list[Callable[[], SchemaExtension]] = field(default_factory=list)

    @classmethod
    def named(
        cls, name: str, may_keep: Callable[[Any, DocumentNode], bool] | None = None
    ) -> Engine:
        """The engine called `name` (one of ENGINES). `may_keep(context, document)`
        says which documents the fast engine may keep (see documents.py)."""
        if name == "strawberry":
            return cls(name)
        if name != "fast":
            raise ValueError(f"unknown GraphQL engine {name!r}: use one of {', '.join(ENGINES)}")
        documents = Documents(may_keep) if may_keep is not None else Documents()
        return cls(
            name,
            documents=documents,
            plans=Plans(),
            extensions=[lambda: DocumentCache(documents)],
        )

    def schema_options(self) -> dict[str, Any]:
        """Keyword arguments for `strawberry.Schema`."""
        options: dict[str, Any] = {"extensions": list(self.extensions)}
        if self.plans is not None:
            options["execution_context_class"] = with_plans(self.plans)
        return options

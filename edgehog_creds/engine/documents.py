"""Parsed and validated documents, kept by their text: a Strawberry schema extension.

Clients send the same few documents again and again; parsing and validating
one is a good part of a small query's CPU. `DocumentCache` hands Strawberry
the document it parsed and validated the first time (Strawberry parses only
when no document is set, and validates only when no result is set), and
keeps each new one that is safe to keep.

What is never kept: a document longer than MAX_LENGTH characters; one that
does not parse (its text could be anything); a mutation that holds literal
values, and anything that fails validation while holding them (GraphiQL users
type passwords inline, and a mistyped one is quoted in its validation error);
and what the app's `may_keep` refuses (it keeps only what the principal is
allowed to run: a device's documents only when they ask for its payload).
The cache is filled during execution, after the request was authenticated,
holds at most MAX_DOCUMENTS documents (the least recently used goes first)
and never goes stale: the schema it was validated against never changes.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from graphql import (
    BREAK,
    DocumentNode,
    ListValueNode,
    ObjectValueNode,
    OperationType,
    ValueNode,
    VariableNode,
    Visitor,
    visit,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

MAX_DOCUMENTS = 256
MAX_LENGTH = 16 * 1024


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


def safe_to_keep(document: DocumentNode, valid: bool) -> bool:
    """Valid queries, and anything else that takes every value from variables."""
    if valid and all(
        getattr(d, "operation", OperationType.QUERY) is OperationType.QUERY
        for d in document.definitions
    ):
        return True
    literals = _Literals()
    visit(document, literals)
    return not literals.found


class Documents:
    """The kept documents of one schema: text -> the parsed, validated document."""

    def __init__(
        self,
        may_keep: Callable[[Any, DocumentNode], bool] = lambda _context, _document: True,
        max_documents: int = MAX_DOCUMENTS,
        max_length: int = MAX_LENGTH,
    ) -> None:
        self.may_keep = may_keep
        self.max_documents = max_documents
        self.max_length = max_length
        self._held: OrderedDict[str, DocumentNode] = OrderedDict()

    def get(self, query: str) -> DocumentNode | None:
        held = self._held.get(query)
        if held is not None:
            self._held.move_to_end(query)
        return held

    def offer(self, query: str, document: DocumentNode, valid: bool, context: Any) -> None:
        """Keep `document` if it is safe to keep (see the module docstring)."""
        if (
            valid
            and len(query) <= self.max_length
            and safe_to_keep(document, valid)
            and self.may_keep(context, document)
        ):
            self._held[query] = document
            while len(self._held) > self.max_documents:
                self._held.popitem(last=False)

    def __contains__(self, query: str) -> bool:
        return query in self._held

    def __len__(self) -> int:
        return len(self._held)

    def texts(self) -> list[str]:
        return list(self._held)


class DocumentCache(SchemaExtension):
    """Skips parsing and validation for a document kept in `documents`."""

    def __init__(self, documents: Documents, *, execution_context: ExecutionContext | None = None):
        self.documents = documents
        if execution_context is not None:
            self.execution_context = execution_context
        self._kept = False

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is None:
            held = self.documents.get(context.query)
            if held is not None:
                context.graphql_document = held
                self._kept = True
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self._kept:
            context.pre_execution_errors = []  # validated when it was kept
        yield
        if not self._kept and context.query is not None and context.graphql_document is not None:
            self.documents.offer(
                context.query,
                context.graphql_document,
                not context.pre_execution_errors,
                context.context,
            )


class KeptDocuments:
    """The extension factory Strawberry takes: a DocumentCache over `documents` per request."""

    def __init__(self, documents: Documents) -> None:
        self.documents = documents

    def __call__(self) -> DocumentCache:
        return DocumentCache(self.documents)

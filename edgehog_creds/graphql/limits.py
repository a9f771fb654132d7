"""Limits on what one GraphQL document may ask, checked before anything runs.

A legitimate client never meets them; a hostile document always does, and is
refused with a plain GraphQL error at validation, before execution: one
validated document is kept by the fast engine (engine/documents.py), so a
refused one costs its parse and validation once per request at most.

- tokens (Strawberry's MaxTokensLimiter: the parser stops counting there, so
  a huge document is never even built as a tree);
- depth (Strawberry's QueryDepthLimiter) and aliases (MaxAliasesLimiter);
- `CostLimit` (ours): an estimate of the values an answer can hold, every
  field counted once per row it may appear in. Under a connection's `edges`
  (or `nodes`) every field counts once per row of its page: `first`/`last`
  when written as a number, else the largest page a request gets (250), or
  10 for a connection nested under another list;
- `OnePayload` (ours): at most one `devicePayload` per document (each one
  records who received what).

Edgehog's UI, measured over its 202 operations (tests/edgehog/compat.py
assembles them): at most 975 tokens, depth 12, no aliases, and a cost of at
most 1,044,136 (its device page); the defaults leave it ~5x, 1.7x and ~10x.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
)
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from ..domain.listing import MAX_PAGE

ONE_PER_DOCUMENT = "devicePayload"
NESTED_PAGE = 10


@dataclass(frozen=True)
class QueryLimits:
    max_tokens: int = 5_000
    max_depth: int = 20
    max_aliases: int = 30
    max_cost: int = 10_000_000

    def extensions(self) -> list[Callable[[], SchemaExtension]]:
        """Strawberry extension factories (a fresh extension per request)."""
        cost = cost_limit(self.max_cost)
        return [
            lambda: MaxTokensLimiter(max_token_count=self.max_tokens),
            lambda: QueryDepthLimiter(max_depth=self.max_depth),
            lambda: MaxAliasesLimiter(max_alias_count=self.max_aliases),
            lambda: AddValidationRules([cost, OnePayload]),
        ]


def estimated_cost(
    schema: Any, operation: OperationDefinitionNode, fragments: dict[str, Any]
) -> int:
    """The values an answer to `operation` can hold (see the module docstring)."""
    root = schema.get_root_type(operation.operation)
    return _cost(root, operation.selection_set, fragments, 1, 1, ())


def _cost(
    parent: GraphQLNamedType | None,
    selections: SelectionSetNode | None,
    fragments: dict[str, Any],
    rows: int,
    page: int,
    seen: tuple[str, ...],
) -> int:
    """The cost of `selections` on `parent`, which appears `rows` times; when
    `parent` is a connection, `page` rows of it sit under its edges (or nodes)."""
    fields = getattr(parent, "fields", None)  # objects and interfaces have fields
    if selections is None or fields is None:
        return 0
    total = 0
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            field: GraphQLField | None = fields.get(selection.name.value)
            if field is None:
                continue  # __typename, or an unknown field another rule reports
            here = rows * page if selection.name.value in ("edges", "nodes") else rows
            child = get_named_type(field.type)
            child_page = _page(child, selection, nested=here > 1)
            total += here + _cost(child, selection.selection_set, fragments, here, child_page, seen)
        elif isinstance(selection, InlineFragmentNode):
            total += _cost(parent, selection.selection_set, fragments, rows, page, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:  # cycles are another rule's
                total += _cost(parent, fragment.selection_set, fragments, rows, page, (*seen, name))
    return total


def _page(type_: GraphQLNamedType, node: FieldNode, nested: bool) -> int:
    """How many rows a connection's page may hold (1 for anything else).

    A page written as a number counts as written (at most MAX_PAGE). One left
    to a variable or to the default counts MAX_PAGE at the top, and
    NESTED_PAGE under another list: a deployment's containers, a release's
    deployments are a few, and Edgehog's UI leaves those pages unsaid.
    """
    if not type_.name.endswith("Connection"):
        return 1
    for argument in node.arguments or ():
        if argument.name.value in ("first", "last") and isinstance(argument.value, IntValueNode):
            return max(0, min(int(argument.value.value), MAX_PAGE))
    return NESTED_PAGE if nested else MAX_PAGE


def cost_limit(max_cost: int) -> type[ValidationRule]:
    class CostLimit(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            fragments = {
                d.name.value: d
                for d in self.context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            cost = estimated_cost(self.context.schema, node, fragments)
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"This document could return {cost:,} values; at most {max_cost:,}"
                        " are answered in one request: ask for smaller pages or fewer fields.",
                        node,
                    )
                )

    return CostLimit


class OnePayload(ValidationRule):
    """At most one devicePayload per document, however it is spelled (aliases, fragments)."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.seen = 0

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        if node.name.value == ONE_PER_DOCUMENT:
            self.seen += 1
            if self.seen == 2:
                self.report_error(
                    GraphQLError("At most one devicePayload is answered per request.", node)
                )

"""How a list is asked for and what comes back, in domain terms.

A list request names fields by their domain names (`label`, `inserted_at`):
a filter tree, a sort, and a page (at most MAX_PAGE items, forwards from a
cursor or backwards to one). The store turns it into keyset SQL; cursors are
opaque strings that encode the sort and the row's place in it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from .errors import Invalid, raise_all

T = TypeVar("T")

MAX_PAGE = 250

# Operators of a field comparison, as Edgehog's (Ash) filters name them, in the
# order its input types list them: every one for text, some for ids.
TEXT_OPERATORS = (
    "is_nil",
    "eq",
    "not_eq",
    "in",
    "less_than",
    "greater_than",
    "less_than_or_equal",
    "greater_than_or_equal",
    "contains",
    "is_distinct_from",
    "is_not_distinct_from",
    "string_starts_with",
    "string_ends_with",
    "like",
    "ilike",
)
ID_OPERATORS = ("is_nil", "eq", "not_eq", "in", "is_distinct_from", "is_not_distinct_from")


@dataclass(frozen=True, slots=True)
class Cmp:
    field: str
    op: str  # one of TEXT_OPERATORS
    value: Any


@dataclass(frozen=True, slots=True)
class And:
    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Or:
    parts: tuple[Filter, ...]


@dataclass(frozen=True, slots=True)
class Not:
    part: Filter


@dataclass(frozen=True, slots=True)
class Related:
    """Rows whose related row (`relation`: the container's image) matches `part`."""

    relation: str
    part: Filter


Filter = Cmp | And | Or | Not | Related


@dataclass(frozen=True, slots=True)
class Sort:
    field: str
    descending: bool = False
    nulls_first: bool | None = None  # None: PostgreSQL's default for the direction

    def flipped(self) -> Sort:
        nulls = None if self.nulls_first is None else not self.nulls_first
        return Sort(self.field, not self.descending, nulls)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """The page a client asks for: Relay's arguments, and whether it wants the total."""

    first: int | None = None
    last: int | None = None
    after: str | None = None
    before: str | None = None
    count: bool = False

    def check(self) -> None:
        errors = []
        if self.first is not None and self.last is not None:
            errors.append(Invalid("first", "cannot be combined with last"))
        for name, value in (("first", self.first), ("last", self.last)):
            if value is not None and value < 0:
                errors.append(Invalid(name, "must be 0 or more"))
        raise_all(errors)

    @property
    def backward(self) -> bool:
        return self.last is not None

    @property
    def limit(self) -> int:
        """At most MAX_PAGE: more is answered with a full page and hasNextPage, as
        Edgehog (Ash) answers it. Its UI asks for `first: 10000` on some pages."""
        asked = self.last if self.last is not None else self.first
        return MAX_PAGE if asked is None else min(asked, MAX_PAGE)


@dataclass(frozen=True, slots=True)
class ListQuery:
    """Which rows: a filter (None: all) and a sort (empty: the default)."""

    filter: Filter | None = None
    sort: Sequence[Sort] = ()


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list, in sort order, each item with its cursor."""

    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    total: int | None = None  # counted only when the request asked for it

    @property
    def start_cursor(self) -> str | None:
        return self.cursors[0] if self.cursors else None

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None

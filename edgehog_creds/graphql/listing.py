"""Filter and sort inputs for every list, made from one declaration per type.

`Listing("ImageCredentials", filters={...}, sorts=[...])` makes Edgehog's
(Ash's) input types for that type: `ImageCredentialsFilterInput` with
`and`/`or`/`not` and one `ImageCredentialsFilter<Field>` per filterable field
(with every operator of its kind), the `ImageCredentialsSortField` enum and
`ImageCredentialsSortInput`; and turns values of them into the domain's
ListQuery. Several operators in one object, and several fields in one
filter, all must hold; `not: [a, b]` is NOT (a AND b); `{}` is no filter.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, cast

import strawberry
from strawberry import UNSET
from strawberry.types.base import get_object_definition

from ..domain.errors import DomainError, Invalid, raise_all
from ..domain.listing import (
    ID_OPERATORS,
    TEXT_OPERATORS,
    And,
    Cmp,
    Filter,
    ListQuery,
    Not,
    Or,
    Related,
    Sort,
)
from .relay import from_global_id

MAX_FILTER_TERMS = 100  # comparisons in one filter, and/or/not included
MAX_IN_VALUES = 1_000  # values in one `in`


@strawberry.enum
class SortOrder(enum.Enum):
    ASC = "asc"
    ASC_NULLS_FIRST = "asc_nulls_first"
    ASC_NULLS_LAST = "asc_nulls_last"
    DESC = "desc"
    DESC_NULLS_FIRST = "desc_nulls_first"
    DESC_NULLS_LAST = "desc_nulls_last"


def sort_of(field: str, order: SortOrder | None) -> Sort:
    value = (order or SortOrder.ASC).value
    nulls = True if "nulls_first" in value else False if "nulls_last" in value else None
    return Sort(field, value.startswith("desc"), nulls)


@dataclass(frozen=True)
class Text:
    """A text field: filtered with every string operator."""

    domain: str  # the domain field it filters
    description: str | None = None


@dataclass(frozen=True)
class Id:
    """An id field, filtered by the global ids the API returns, of `node_type`
    (None: of any type)."""

    domain: str
    node_type: str | None
    description: str | None = None


@dataclass(frozen=True)
class Relation:
    """A related object's fields, filtered with that type's own filter input
    (`image: ImageFilterInput`); `relation` names it in the store's table.

    For types that filter each other (an application by its releases, a
    release by its application), `listing` may be a function returning the
    Listing, with `lazy` naming where its filter input is (type name,
    module), as Strawberry resolves lazy types.
    """

    relation: str
    listing: Listing | Callable[[], Listing]
    description: str | None = None
    lazy: tuple[str, str] | None = None

    def target(self) -> Listing:
        return self.listing if isinstance(self.listing, Listing) else self.listing()


FilterField = Text | Id | Relation


def _attr(op: str) -> str:
    return "in_" if op == "in" else op


def _operator_input(name: str, value_type: Any, operators: Sequence[str]) -> type:
    annotations: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for op in operators:
        attr = _attr(op)
        if op == "is_nil":
            annotations[attr] = bool | None
        elif op == "in":
            annotations[attr] = list[value_type] | None
        else:
            annotations[attr] = value_type | None
        # No default (as Edgehog's): graphql-core then leaves out what is not given.
        defaults[attr] = strawberry.field(name="in", default=UNSET) if op == "in" else UNSET
    cls = type(name, (), {"__annotations__": annotations, **defaults})
    return strawberry.input(cls)


def _pascal(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


class Listing:
    """The filter and sort inputs of one type, and how their values become a ListQuery.

    The input types build their own values (Strawberry's `from_input` hook):
    a filter argument arrives in the resolver as the domain's Filter tree (or
    None), a sort as a domain Sort, straight from graphql-core's coerced
    values, without an input object in between.
    """

    def __init__(
        self, type_name: str, *, filters: Mapping[str, FilterField], sorts: Sequence[str]
    ) -> None:
        self.type_name = type_name
        self.filters = dict(filters)
        # graphql name of a filter field -> (its attribute, its declaration)
        self._by_graphql_name = {_camel(attr): (attr, spec) for attr, spec in self.filters.items()}
        self.FilterInput = self._filter_input()
        sort_field = cast(
            type[enum.Enum],
            enum.Enum(f"{type_name}SortField", {name.upper(): name for name in sorts}),
        )
        self.SortField = strawberry.enum(sort_field)
        self.SortInput = strawberry.input(
            type(
                f"{type_name}SortInput",
                (),
                {
                    "__annotations__": {"field": self.SortField, "order": SortOrder | None},
                    "order": SortOrder.ASC,
                },
            )
        )
        get_object_definition(self.FilterInput, strict=True).from_input = self._filter_from_input
        get_object_definition(self.SortInput, strict=True).from_input = _sort_from_input

    def _filter_input(self) -> type:
        cls = type(f"{self.type_name}FilterInput", (), {})
        annotations: dict[str, Any] = {}
        defaults: dict[str, Any] = {}
        for combinator in ("and", "or", "not"):
            annotations[f"{combinator}_"] = list[cls] | None  # type: ignore[valid-type]
            defaults[f"{combinator}_"] = strawberry.field(name=combinator, default=UNSET)
        for attr, spec in self.filters.items():
            if isinstance(spec, Relation):
                if spec.lazy is not None:
                    name, module = spec.lazy
                    annotations[attr] = Annotated[name, strawberry.lazy(module)] | None
                else:
                    annotations[attr] = spec.target().FilterInput | None
                defaults[attr] = strawberry.field(default=UNSET, description=spec.description)
                continue
            if isinstance(spec, Text):
                operators = _operator_input(
                    f"{self.type_name}Filter{_pascal(attr)}", str, TEXT_OPERATORS
                )
            else:
                operators = _operator_input(
                    f"{self.type_name}Filter{_pascal(attr)}", strawberry.ID, ID_OPERATORS
                )
            annotations[attr] = operators | None
            defaults[attr] = strawberry.field(default=UNSET, description=spec.description)
        cls.__annotations__ = annotations
        for attr, default in defaults.items():
            setattr(cls, attr, default)
        return strawberry.input(cls)

    def query(self, filter: Filter | None, sort: Sequence[Sort | None] | None) -> ListQuery:
        """The ListQuery of a list field's `filter` and `sort` arguments (as they arrive)."""
        return ListQuery(filter=bounded(filter), sort=[s for s in sort or () if s is not None])

    def raw_query(self, args: Mapping[str, Any]) -> ListQuery:
        """The ListQuery of a list field's arguments as graphql-core coerced them."""
        given = args.get("filter")
        sort = [_sort_from_input(None, s, None) for s in args.get("sort") or () if s is not None]
        filter = self.to_filter(given) if given is not None else None
        return ListQuery(filter=bounded(filter), sort=sort)

    def _filter_from_input(
        self, _type: type, value: Mapping[str, Any], _context: Any
    ) -> Filter | None:
        return self.to_filter(value)

    def to_filter(self, value: Mapping[str, Any]) -> Filter | None:
        """The domain filter tree of a filter input's value, or None when it is empty.

        `value` is graphql-core's coerced input: GraphQL names, plain values.
        """
        errors: list[DomainError] = []
        parts: list[Filter] = []
        for graphql_name, given in value.items():
            if given is None or graphql_name in ("and", "or", "not"):
                continue
            attr, spec = self._by_graphql_name[graphql_name]
            try:
                parts.extend(self._conditions(attr, spec, given))
            except DomainError as exc:
                errors.append(exc)
        raise_all(errors)
        for sub in value.get("and") or []:
            found = self.to_filter(sub)
            if found is not None:
                parts.append(found)
        ors = [self.to_filter(sub) for sub in value.get("or") or []]
        # An empty alternative matches everything, which makes the whole OR true.
        if ors and all(o is not None for o in ors):
            parts.append(Or(tuple(o for o in ors if o is not None)))
        nots = [self.to_filter(sub) for sub in value.get("not") or []]
        if nots:
            inner = [n for n in nots if n is not None]
            parts.append(Not(And(tuple(inner))) if inner else Or(()))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def _conditions(self, attr: str, spec: FilterField, given: Mapping[str, Any]) -> list[Filter]:
        if isinstance(spec, Relation):
            inner = spec.target().to_filter(given)
            return [] if inner is None else [Related(spec.relation, inner)]
        convert: Callable[[Any], Any] | None = None
        operators: tuple[str, ...] = TEXT_OPERATORS
        if isinstance(spec, Id):
            node_type = spec.node_type

            def convert(value: Any) -> uuid.UUID:
                return from_global_id(value, node_type, f"filter.{attr}")

            operators = ID_OPERATORS
        else:

            def convert(value: Any) -> Any:
                # PostgreSQL's text cannot hold NUL: say so, rather than fail in SQL.
                if isinstance(value, str) and "\x00" in value:
                    raise Invalid(f"filter.{attr}", "must not contain NUL characters")
                return value

        out: list[Filter] = []
        # In a fixed order, so that the SQL text of a filter is always the same.
        for op in sorted(operators):
            value = given.get(_camel(op))
            if value is None:
                continue
            if convert is not None and op != "is_nil":
                value = [convert(v) for v in value] if op == "in" else convert(value)
            out.append(Cmp(spec.domain, op, value))
        return out


def bounded(filter: Filter | None) -> Filter | None:
    """`filter`, unless it is larger than any search a person makes: at most
    MAX_FILTER_TERMS comparisons, and MAX_IN_VALUES values in each `in`
    (the SQL of a larger one would be slow to build and to plan, and
    PostgreSQL takes at most 32,767 parameters)."""
    if filter is None:
        return None
    terms = 0
    pending: list[Filter] = [filter]
    while pending:
        part = pending.pop()
        if isinstance(part, Cmp):
            terms += 1
            if part.op == "in" and len(part.value) > MAX_IN_VALUES:
                raise Invalid(
                    "filter", f"has an `in` of {len(part.value)} values; at most {MAX_IN_VALUES}"
                )
        elif isinstance(part, And | Or):
            pending.extend(part.parts)
        else:  # Not, Related
            pending.append(part.part)
        if terms > MAX_FILTER_TERMS:
            raise Invalid("filter", f"has more than {MAX_FILTER_TERMS} comparisons")
    return filter


def _sort_from_input(_type: type | None, value: Mapping[str, Any], _context: Any) -> Sort:
    return sort_of(value["field"].value, value.get("order"))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)

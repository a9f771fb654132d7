"""Relay plumbing shared by every type: global ids, the Node interface, connections.

Global ids are base64 of "Type:uuid", as Edgehog's (Absinthe/Ash) ids are.
A connection is a view of a domain Page: its items are the nodes, its
cursors the store's keyset cursors.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from binascii import b2a_base64
from typing import Any, Generic, TypeVar

import strawberry
from graphql import FieldNode

from ..domain.errors import InvalidPrimaryKey
from ..domain.listing import Page, PageRequest
from ..engine import plain

NodeT = TypeVar("NodeT")


# --- global ids ---------------------------------------------------------------


def to_global_id(type_name: str, id: uuid.UUID) -> strawberry.ID:
    # binascii directly: a page of 50 rows makes 50 of these, and base64's
    # wrappers (and strawberry.ID, a NewType) were half the cost.
    return b2a_base64(f"{type_name}:{id}".encode(), newline=False).decode()  # type: ignore[return-value]


def parse_global_id(value: str) -> tuple[str, uuid.UUID] | None:
    try:
        decoded = base64.b64decode(value, validate=True).decode()
        type_name, _, raw = decoded.partition(":")
        return type_name, uuid.UUID(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def from_global_id(value: str, type_name: str | None, field: str = "id") -> uuid.UUID:
    """The uuid inside a global id of `type_name` (None: of any type), or
    InvalidPrimaryKey naming `field` (a domain field path)."""
    parsed = parse_global_id(value)
    if parsed is None or (type_name is not None and parsed[0] != type_name):
        raise InvalidPrimaryKey(field)
    return parsed[1]


def global_id_field(type_name: str) -> Any:
    """A Node's `id` field: the global id of the domain object's uuid.

    A pure function of the object (`plain`): the fast engine computes it
    inline (engine/plans.py).
    """

    def resolve(root: strawberry.Parent[Any]) -> strawberry.ID:
        return to_global_id(type_name, root.id)

    resolve.__name__ = f"{type_name}_global_id"
    return strawberry.field(resolver=resolve, metadata=plain(resolve))


def view_of(*model_types: type) -> Any:
    """A GraphQL type's `is_type_of`: its values are these domain objects.

    Types here are views: resolvers return domain objects, which Strawberry
    reads field by field; this tells graphql-core (and interfaces) which.
    """

    def is_type_of(_cls: type, obj: Any, _info: Any) -> bool:
        return isinstance(obj, model_types)

    return classmethod(is_type_of)


@strawberry.interface(description="An object with a global id.")
class Node:
    id: strawberry.ID


# --- connections ----------------------------------------------------------------


@strawberry.type
class PageInfo:
    has_previous_page: bool
    has_next_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    page_info: PageInfo
    edges: list[Edge[NodeT]] | None
    # Counted only when the query selects it (page_request): a COUNT over a
    # large tenant is not free.
    count: int | None = strawberry.field(description="Total matching the filter, across all pages.")


def connection(page: Page[Any]) -> Connection[Any]:
    """The Relay connection of a page: its items are the nodes (views of domain objects)."""
    return Connection(
        page_info=PageInfo(
            has_previous_page=page.has_previous_page,
            has_next_page=page.has_next_page,
            start_cursor=page.start_cursor,
            end_cursor=page.end_cursor,
        ),
        edges=[
            Edge(cursor=cursor, node=item)
            for cursor, item in zip(page.cursors, page.items, strict=True)
        ],
        count=page.total,
    )


def page_request(
    info: Any,
    first: int | None,
    last: int | None,
    after: str | None,
    before: str | None,
) -> PageRequest:
    """The page a connection field is asked for, and whether it selects `count`."""
    return PageRequest(first, last, after, before, count=_selects(info, "count"))


def _selects(info: Any, name: str) -> bool:
    """Whether the query asks this field for `name` (fragments count as yes)."""
    # graphql-core's field nodes: Strawberry's Info keeps graphql-core's info
    # as `_raw_info` (a direct resolver gets that one itself). Their first
    # level is all this needs; Info.selected_fields would convert the whole
    # subtree, 50 edges deep, for every list.
    raw = getattr(info, "_raw_info", info)
    for node in raw.field_nodes:
        for selection in node.selection_set.selections if node.selection_set else ():
            if not isinstance(selection, FieldNode) or selection.name.value == name:
                return True
    return False

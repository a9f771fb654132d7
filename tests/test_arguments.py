"""Remembered argument conversion: installed, copied per call, never for mutations."""

from __future__ import annotations

import gc
from types import SimpleNamespace
from typing import Any

from graphql import OperationType, parse
from graphql.execution import executor as graphql_executor
from graphql.execution.values import get_argument_values as graphql_get_argument_values
from strawberry.schema import schema_converter

from edgehog_creds.graphql import arguments
from edgehog_creds.graphql.schema import build_schema

from .gql import create

LIST_SORTED = """
query($order: SortOrder!) {
  listImageCredentials(sort: [{field: LABEL, order: $order}]) { edges { node { label } } }
}
"""


def info(operation: OperationType) -> Any:
    # The one thing convert_arguments reads from Strawberry's Info.
    return SimpleNamespace(operation=SimpleNamespace(operation=operation))


def list_field_arguments() -> tuple[Any, list[Any], dict[str, Any]]:
    schema = build_schema()
    graphql_field = schema._schema.query_type.fields["listImageCredentials"]
    field = graphql_field.extensions["strawberry-definition"]
    sort_input = schema._schema.get_type("ImageCredentialsSortInput")
    label = sort_input.fields["field"].type.of_type.values["LABEL"].value
    asc = sort_input.fields["order"].type.values["ASC"].value
    return schema, field.arguments, {"first": 50, "sort": [{"field": label, "order": asc}]}


def convert(schema: Any, args: list[Any], value: dict[str, Any], op: OperationType) -> Any:
    registry = schema.schema_converter.scalar_registry
    return arguments.convert_arguments(value, args, registry, schema.config, info(op))


def test_strawberry_calls_our_conversion():
    build_schema()
    assert schema_converter.convert_arguments is arguments.convert_arguments


def test_each_call_gets_its_own_copy_of_a_remembered_conversion():
    schema, args, value = list_field_arguments()
    first = convert(schema, args, value, OperationType.QUERY)
    second = convert(schema, args, value, OperationType.QUERY)
    assert first == second
    assert first["first"] == 50 and first["sort"][0].field == "label"
    assert first["sort"] is not second["sort"]
    assert first["sort"][0] is not second["sort"][0]
    first["sort"][0].order = "changed"
    first["sort"].append(None)
    third = convert(schema, args, value, OperationType.QUERY)
    assert third == second and third["sort"][0].order != "changed"


def test_equal_looking_values_of_other_types_are_told_apart():
    schema, args, value = list_field_arguments()
    assert arguments._freeze({"first": 1}) != arguments._freeze({"first": True})
    other = {**value, "first": 7}
    assert convert(schema, args, other, OperationType.QUERY)["first"] == 7
    assert convert(schema, args, value, OperationType.QUERY)["first"] == 50


def test_mutations_are_converted_every_time_and_never_kept():
    schema, args, value = list_field_arguments()
    arguments._converted.clear()
    convert(schema, args, value, OperationType.MUTATION)
    assert arguments._converted == {}
    convert(schema, args, value, OperationType.QUERY)
    assert len(arguments._converted) == 1


async def test_passwords_sent_to_mutations_are_not_remembered(tenant):
    arguments._converted.clear()
    await create(tenant, "kept-out", password="pw-that-must-not-stay")
    assert arguments._converted == {}
    # The same way in, a query's arguments are kept: Strawberry does call us.
    body = await tenant.gql(LIST_SORTED, {"order": "ASC"})
    assert "errors" not in body, body
    assert len(arguments._converted) == 1
    assert "pw-that-must-not-stay" not in repr(arguments._converted)


async def test_the_same_document_with_other_variables_sorts_each_way(tenant):
    for label in ("b", "a", "c"):
        await create(tenant, label)
    for order, expected in (("ASC", ["a", "b", "c"]), ("DESC", ["c", "b", "a"])) * 2:
        body = await tenant.gql(LIST_SORTED, {"order": order})
        edges = body["data"]["listImageCredentials"]["edges"]
        assert [e["node"]["label"] for e in edges] == expected


def test_graphql_core_calls_our_coercion():
    build_schema()
    assert graphql_executor.get_argument_values is arguments.get_argument_values


def test_literal_arguments_are_coerced_once_per_document_node():
    schema = build_schema()._schema
    field = schema.query_type.fields["listImageCredentials"]
    document = parse("{ listImageCredentials(first: 5, sort: [{field: LABEL}]) { count } }")
    node = document.definitions[0].selection_set.selections[0]
    first = arguments.get_argument_values(field, node)
    second = arguments.get_argument_values(field, node)
    assert first == second == graphql_get_argument_values(field, node)
    assert first["first"] == 5 and first is not second
    first["first"] = 6  # a caller changing its dict changes only its own
    assert arguments.get_argument_values(field, node)["first"] == 5
    key = (id(field), id(node))
    assert key in arguments._coerced
    del document, node
    gc.collect()
    assert key not in arguments._coerced  # kept only as long as the document


async def test_a_literal_password_goes_with_its_request(tenant):
    body = await tenant.gql(
        'mutation { createImageCredentials(input: {label: "lit", username: "u",'
        ' password: "pw-literal-must-go"}) { result { label } } }'
    )
    assert body["data"]["createImageCredentials"]["result"] == {"label": "lit"}, body
    gc.collect()
    assert "pw-literal-must-go" not in repr(arguments._coerced)


def test_a_field_given_no_arguments_gets_its_defaults():
    schema = build_schema()._schema
    field = schema.query_type.fields["listImageCredentials"]
    document = parse("{ listImageCredentials { count } }")
    node = document.definitions[0].selection_set.selections[0]
    assert arguments.get_argument_values(field, node) == graphql_get_argument_values(field, node)

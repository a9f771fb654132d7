"""schema.graphql is what the code serves, and speaks Edgehog's names."""

from __future__ import annotations

from edgehog_creds.graphql.schema import build_schema, export_sdl

from .conftest import ROOT


def test_schema_file_matches_the_code():
    assert (ROOT / "schema.graphql").read_text() == export_sdl(), (
        "schema.graphql is stale: run `make schema` and commit it"
    )


def test_edgehog_root_type_names():
    schema = build_schema()._schema
    assert schema.query_type.name == "RootQueryType"
    assert schema.mutation_type.name == "RootMutationType"


def test_the_schema_can_be_built_twice():
    assert export_sdl() == export_sdl()

"""The Edgehog tools under tests/edgehog: the compat check and the e2e harness's helpers.

No Edgehog checkout, no browser, no sockets: a tiny fake frontend in
tmp_path, a small SDL, and the harness's pure functions (and its static
server's request handler, fed a request from memory).
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from types import SimpleNamespace

import pytest
from graphql import build_schema, print_ast

from tests.edgehog import compat, e2e

SDL = """
schema { query: RootQueryType mutation: RootMutationType }

interface Node { id: ID! }

type RootQueryType {
  node(id: ID!): Node
  device(id: ID!): Device
  listThings(first: Int, after: String, filter: ThingFilterInput): ThingConnection
}

type RootMutationType {
  createThing(input: CreateThingInput!): CreateThingResult
}

type Device implements Node {
  id: ID!
  name: String!
  things(first: Int, after: String): ThingConnection
}

type Thing implements Node { id: ID! label: String! }
type PageInfo { hasNextPage: Boolean! endCursor: String }
type ThingEdge { cursor: String! node: Thing! }
type ThingConnection { edges: [ThingEdge!] pageInfo: PageInfo! }
input ThingFilterInput { label: String }
input CreateThingInput { label: String! }
type CreateThingResult { result: Thing }
"""

# Relay code as Edgehog writes it: operations in pages, fragments wherever,
# spread across files.
FILES = {
    "pages/Things.tsx": """
        import { graphql } from "react-relay";
        const QUERY = graphql`
          query Things_getThings_Query($first: Int, $after: String) {
            ...Things_ThingsFragment
            device(id: "RGV2aWNlOjE=") {
              ...DeviceCard_device @arguments(count: 5)
            }
          }
        `;
        const FRAGMENT = graphql`
          fragment Things_ThingsFragment on RootQueryType
          @refetchable(queryName: "Things_PaginationQuery") {
            listThings(first: $first, after: $after)
              @connection(key: "Things_listThings") {
              edges { node { id ...ThingRow_thing } }
            }
          }
        `;
    """,
    "components/ThingRow.tsx": """
        const ROW = graphql`
          fragment ThingRow_thing on Thing { label }
        `;
    """,
    "components/DeviceCard.tsx": """
        const CARD = graphql`
          fragment DeviceCard_device on Device
          @refetchable(queryName: "DeviceCard_RefetchQuery")
          @argumentDefinitions(
            count: { type: "Int", defaultValue: 10 }
            after: { type: "String" }
          ) {
            name
            things(first: $count, after: $after) { edges { node { id } } }
          }
        `;
    """,
    # In a path of the Applications section, so --strict looks at it.
    "pages/ApplicationCreate.tsx": """
        const CREATE = graphql`
          mutation ApplicationCreate_createThing_Mutation($input: CreateThingInput!) {
            createThing(input: $input) { result { id colour } }
          }
        `;
    """,
    # Never what the UI sends: tests, mocks and generated code are skipped.
    "pages/Things.test.tsx": "const T = graphql`query Test_Query { nothing }`;",
    "mocks/relay.ts": "const M = graphql`query Mock_Query { nothing }`;",
    "api/__generated__/Q.graphql.ts": "const G = graphql`query Gen { nothing }`;",
}


@pytest.fixture
def frontend(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        path = tmp_path / "frontend" / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (tmp_path / "schema.graphql").write_text(SDL)
    return tmp_path


def checked(frontend: Path) -> dict[str, compat.Operation]:
    fragments, operations, problems = compat.collect(compat.frontend_sources(frontend))
    assert problems == []
    compat.check(build_schema(SDL), operations, fragments)
    return {o.name: o for o in operations}


# --- compat ------------------------------------------------------------------------------------


def test_collects_operations_and_the_refetch_queries_relay_generates(frontend: Path) -> None:
    fragments, operations, _ = compat.collect(compat.frontend_sources(frontend))
    assert set(fragments) == {"Things_ThingsFragment", "ThingRow_thing", "DeviceCard_device"}
    assert sorted((o.name, o.kind, o.refetch) for o in operations) == [
        ("ApplicationCreate_createThing_Mutation", "mutation", False),
        ("DeviceCard_RefetchQuery", "query", True),
        ("Things_PaginationQuery", "query", True),
        ("Things_getThings_Query", "query", False),
    ]


def test_three_valid_and_the_unknown_field_reported(frontend: Path) -> None:
    by_name = checked(frontend)
    invalid = {name: o.errors for name, o in by_name.items() if o.errors}
    assert list(invalid) == ["ApplicationCreate_createThing_Mutation"]
    assert invalid["ApplicationCreate_createThing_Mutation"] == [
        "Cannot query field 'colour' on type 'Thing'."
    ]


def test_fragments_of_other_files_and_their_arguments_reach_the_document(frontend: Path) -> None:
    fragments, operations, _ = compat.collect(compat.frontend_sources(frontend))
    query = next(o for o in operations if o.name == "Things_getThings_Query")
    text = print_ast(compat.document_of(query, fragments))
    assert "fragment ThingRow_thing on Thing" in text  # spread by a fragment of another file
    assert "things(first: 5, after: $DeviceCard_device__after)" in text  # passed; not passed
    assert "$DeviceCard_device__after: String" in text
    assert "@arguments" not in text and "@connection" not in text and "@refetchable" not in text


def test_refetch_queries_go_through_the_root_or_through_node(frontend: Path) -> None:
    _, operations, _ = compat.collect(compat.frontend_sources(frontend))
    by_name = {o.name: print_ast(o.node) for o in operations}
    assert "node(id: $id)" not in by_name["Things_PaginationQuery"]
    assert (
        "node(id: $id) {\n    ...DeviceCard_device @arguments(count: $count, after: $after)"
        in (by_name["DeviceCard_RefetchQuery"])
    )
    assert "$count: Int = 10" in by_name["DeviceCard_RefetchQuery"]


def test_a_fragment_nobody_defines_is_an_error(frontend: Path) -> None:
    page = frontend / "frontend" / "src" / "pages" / "Things.tsx"
    page.write_text(page.read_text().replace("...ThingRow_thing", "...Gone_thing"))
    assert (
        'Unknown fragment "Gone_thing" in the frontend'
        in checked(frontend)["Things_getThings_Query"].errors
    )


def test_report_counts_per_family(frontend: Path) -> None:
    out = io.StringIO()
    totals = compat.report(list(checked(frontend).values()), verbose=True, out=out)
    assert totals == {
        "Application queries and mutations": (0, 1),
        "Device queries and mutations": (1, 1),
        "other queries and mutations": (2, 2),
    }
    lines = out.getvalue().splitlines()
    assert lines[0].split() == [
        "Application",
        "queries",
        "and",
        "mutations",
        "0",
        "of",
        "1",
        "valid",
    ]
    assert lines[1].strip() == (
        "pages/ApplicationCreate.tsx ApplicationCreate_createThing_Mutation: "
        "Cannot query field 'colour' on type 'Thing'."
    )
    assert lines[-1].split() == ["all", "operations", "3", "of", "4", "valid"]


def test_strict_exits_1_while_the_section_fails(frontend: Path) -> None:
    schema = ["--schema", str(frontend / "schema.graphql")]
    assert compat.main([str(frontend), *schema]) == 0
    assert compat.main([str(frontend), *schema, "--strict"]) == 1


def test_strict_passes_once_the_schema_has_the_field(frontend: Path) -> None:
    (frontend / "schema.graphql").write_text(
        SDL.replace("label: String! }", "label: String! colour: String }", 1)
    )
    assert (
        compat.main([str(frontend), "--schema", str(frontend / "schema.graphql"), "--strict"]) == 0
    )


# --- e2e: the build -------------------------------------------------------------------------------

INDEX = """<!doctype html>
<html lang="en">
  <head>
    <meta
      name="application-name"
      content="Edgehog"
      data-backend-url="http://localhost:4000/"
      data-hide-navigation-elements="false"
    />
    <meta name="description" content="data-backend-url=x" />
  </head>
</html>
"""


def test_set_backend_url_rewrites_only_the_application_meta() -> None:
    html = e2e.set_backend_url(INDEX, "http://127.0.0.1:5555/")
    assert 'data-backend-url="http://127.0.0.1:5555/"' in html
    assert "localhost:4000" not in html
    assert (
        html.replace(
            'data-backend-url="http://127.0.0.1:5555/"', 'data-backend-url="http://localhost:4000/"'
        )
        == INDEX
    )
    assert e2e.set_backend_url(html, "http://127.0.0.1:5555/") == html  # idempotent


def test_set_backend_url_adds_a_missing_attribute_and_needs_the_meta() -> None:
    html = e2e.set_backend_url(
        '<head><meta name="application-name" content="E"></head>', "http://h/"
    )
    assert (
        html
        == '<head><meta name="application-name" content="E" data-backend-url="http://h/" ></head>'
    )
    with pytest.raises(ValueError, match="application-name"):
        e2e.set_backend_url("<head></head>", "http://h/")


def test_frontend_dir_takes_a_checkout_or_its_frontend(tmp_path: Path) -> None:
    front = tmp_path / "frontend"
    (front / "src").mkdir(parents=True)
    (front / "package.json").write_text("{}")
    assert e2e.frontend_dir(tmp_path) == front
    assert e2e.frontend_dir(front) == front
    with pytest.raises(e2e.HarnessError):
        e2e.frontend_dir(tmp_path / "frontend" / "src")


def test_source_hash_follows_sources_and_lock_not_generated_code(tmp_path: Path) -> None:
    (tmp_path / "src" / "api" / "__generated__").mkdir(parents=True)
    (tmp_path / "package-lock.json").write_text("{}")
    (tmp_path / "src" / "App.tsx").write_text("a")
    first = e2e.source_hash(tmp_path)
    (tmp_path / "src" / "api" / "__generated__" / "Q.graphql.ts").write_text("generated")
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "x.js").write_text("dependency")
    assert e2e.source_hash(tmp_path) == first
    (tmp_path / "src" / "App.tsx").write_text("b")
    second = e2e.source_hash(tmp_path)
    assert second != first
    (tmp_path / "package-lock.json").write_text('{"lockfileVersion": 3}')
    assert e2e.source_hash(tmp_path) not in (first, second)


def test_the_copy_skips_old_output_at_the_top_only(tmp_path: Path) -> None:
    ignore = e2e._copy_ignore(tmp_path)
    top = ["build", "dist", "src", "node_modules", "index.html", e2e.BUILT_STAMP]
    assert ignore(str(tmp_path), top) == {"build", "dist", e2e.BUILT_STAMP}
    assert ignore(str(tmp_path / "node_modules" / "pkg"), ["dist", "build"]) == set()
    assert ignore(str(tmp_path / "src" / "api"), ["__generated__", "index.ts"]) == {"__generated__"}


# --- e2e: serving the built UI -------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "site" / "assets").mkdir(parents=True)
    (tmp_path / "site" / "index.html").write_text("<html>app</html>")
    (tmp_path / "site" / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside")
    return tmp_path / "site"


def test_static_file_serves_files_and_routes_client_paths_to_index(site: Path) -> None:
    index = site / "index.html"
    assert e2e.static_file(site, "/assets/index-abc.js?v=1") == site / "assets" / "index-abc.js"
    assert e2e.static_file(site, "/") == index
    assert e2e.static_file(site, "/devices/RGV2aWNlOjE%3D/edit/device-applications-tab") == index
    assert e2e.static_file(site, "/applications/QXBw/release/new") == index
    assert e2e.static_file(site, "/assets/missing.js") is None  # a broken asset stays a 404
    assert e2e.static_file(site, "/../secret.txt") is None
    assert e2e.static_file(site, "/assets/%2e%2e/%2e%2e/secret.txt") is None


class FakeConnection:
    """Enough of a socket for http.server: one request in, the response collected."""

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.sent = bytearray()

    def makefile(self, mode: str, *args: object, **kwargs: object) -> io.BytesIO:
        return io.BytesIO(self.request)

    def sendall(self, data: bytes) -> None:
        self.sent += data


def serve(site: Path, path: str) -> tuple[int, bytes]:
    connection = FakeConnection(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    e2e._handler_for(site)(connection, ("127.0.0.1", 1), None)
    head, _, body = bytes(connection.sent).partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_the_static_server_falls_back_to_index_html(site: Path) -> None:
    assert serve(site, "/devices/abc/edit") == (200, b"<html>app</html>")
    assert serve(site, "/assets/index-abc.js") == (200, b"console.log(1)")
    status, _ = serve(site, "/assets/missing.js")
    assert status == 404


# --- e2e: the browser side -----------------------------------------------------------------------


def test_monaco_is_answered_from_node_modules(tmp_path: Path) -> None:
    vs = tmp_path / "monaco-editor" / "min" / "vs"
    (vs / "editor").mkdir(parents=True)
    (vs / "loader.js").write_text("loader")
    (vs / "editor" / "editor.main.js").write_text("main")
    cdn = "https://cdn.jsdelivr.net/npm/monaco-editor@0.55.1/min/"
    assert e2e.monaco_file(cdn + "vs/loader.js", tmp_path) == vs / "loader.js"
    assert (
        e2e.monaco_file(cdn + "vs/editor/editor.main.js?x", tmp_path)
        == vs / "editor" / "editor.main.js"
    )
    assert e2e.monaco_file(cdn + "vs/missing.js", tmp_path) is None
    assert e2e.monaco_file(cdn + "vs/../../../../x", tmp_path) is None
    assert e2e.monaco_file("https://unpkg.com/leaflet@1.7.1/dist/leaflet.css", tmp_path) is None


def test_operation_names_of_relay_requests() -> None:
    body = '{"query": "mutation ImageCredentialCreate_M(\\n $input: X!) { a }", "variables": {}}'
    assert e2e.operation_name(body) == "ImageCredentialCreate_M"
    assert e2e.operation_name('{"query": "{ tenantInfo { __typename } }"}') == "(anonymous)"
    assert e2e.operation_name("not json") == "?"
    assert e2e.redact("ws://h/socket/websocket?vsn=2.0.0&token=eyJ.a.b&tenant=e2e") == (
        "ws://h/socket/websocket?vsn=2.0.0&token=…&tenant=e2e"
    )


def step(name: str, outcome: object = None, device: bool = False) -> e2e.Step:
    async def run(story: object) -> str | None:
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome  # type: ignore[return-value]

    return e2e.Step(name, name, run, device=device)


STEPS = [step("one"), step("two"), step("three")]


def test_only_runs_from_the_start_up_to_a_step() -> None:
    assert e2e.select_steps(STEPS, None) == STEPS
    assert e2e.select_steps(STEPS, "two") == STEPS[:2]
    assert e2e.select_steps(STEPS, "3") == STEPS
    with pytest.raises(e2e.HarnessError, match="one, two, three"):
        e2e.select_steps(STEPS, "four")


def test_steps_pass_fail_or_skip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("playwright")

    class Page:
        url = "about:blank"

        def is_closed(self) -> bool:
            return False

    story = SimpleNamespace(
        browser=SimpleNamespace(journal=e2e.Journal(), page=Page(), tabs={}),
        device_sim_missing="no simulator",
    )
    steps = [
        step("ok", "fine"),
        step("broken", e2e.StepFailed("the UI says: nope")),
        step("blocked", e2e.Blocked("blocked: needs x")),
        step("device", "never runs", device=True),
        step("skips", e2e.Skipped("not here")),
        step("bug", KeyError("x")),
    ]
    outcomes = asyncio.run(e2e.run_steps(story, steps, tmp_path))
    assert [(o.step.name, o.status) for o in outcomes] == [
        ("ok", "PASS"),
        ("broken", "FAIL"),
        ("blocked", "FAIL"),
        ("device", "SKIPPED"),
        ("skips", "SKIPPED"),
        ("bug", "FAIL"),
    ]
    assert [o.blocked for o in outcomes] == [False, False, True, False, False, False]
    assert outcomes[3].detail == "no simulator"
    assert outcomes[5].detail.startswith("KeyError: 'x' (")
    out = capsys.readouterr().out
    assert "PASS     1. ok" in out and "FAIL     2. broken" in out and "— the UI says: nope" in out

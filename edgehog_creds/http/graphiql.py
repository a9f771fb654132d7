"""The GraphiQL page a browser gets from GET /tenants/{slug}/api."""

from __future__ import annotations

from strawberry.http.ides import get_graphql_ide_html

# Nothing typed into GraphiQL is kept anywhere: not the query or the variables
# in the page URL (Strawberry's page mirrors them there with
# history.replaceState, so an inline password would sit in browser history and
# in the access log of a reload), and not the headers (the token), query or
# variables in the browser's storage (GraphiQL keeps them in localStorage).
# A reload starts afresh.
_NOTHING_KEPT = (
    ("updateURL({ q: newQuery });", ""),
    ("updateURL({ variables: newVariables });", ""),
    ("shouldPersistHeaders: true,", "shouldPersistHeaders: false,\n          storage: NO_STORAGE,"),
    (
        "const fetchURL = ",
        "const NO_STORAGE = { getItem: () => null, setItem: () => {}, removeItem: () => {},"
        " clear: () => {}, length: 0 };\n      const fetchURL = ",
    ),
)


def graphiql_html() -> str:
    html = get_graphql_ide_html("graphiql")
    for old, new in _NOTHING_KEPT:
        if old not in html:
            # Strawberry's page changed: refuse to serve one that may keep secrets.
            raise RuntimeError(f"GraphiQL page without {old!r}: check http/graphiql.py")
        html = html.replace(old, new)
    return html

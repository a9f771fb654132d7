"""The GraphiQL page a browser gets from GET /tenants/{slug}/api."""

from __future__ import annotations

from strawberry.http.ides import get_graphql_ide_html


def graphiql_html() -> str:
    html = get_graphql_ide_html("graphiql")
    # GraphiQL mirrors variables into the page URL; a password typed there would
    # then sit in browser history and in any access log of a reload. Keep it out.
    return html.replace("updateURL({ variables: newVariables });", "")

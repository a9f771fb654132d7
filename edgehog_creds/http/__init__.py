"""The HTTP edge: request bodies, JSON answers, the access log, the GraphQL endpoint."""

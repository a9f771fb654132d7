"""Raw SQL, one module per aggregate. Returns plain dataclasses; knows no GraphQL."""

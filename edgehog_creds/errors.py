"""The small set of domain errors the store and validators raise.

They know nothing of GraphQL: graphql/errors.py is the one place that turns
them into the error objects clients read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class DomainError(Exception):
    code = "invalid"

    def __init__(self, field: str | None, short_message: str, *, code: str | None = None) -> None:
        super().__init__(short_message)
        self.field = field
        self.short_message = short_message
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return f"{self.field} {self.short_message}" if self.field else self.short_message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.field!r}, {self.short_message!r})"


class Invalid(DomainError):
    code = "invalid"


class NotFound(DomainError):
    code = "not_found"

    def __init__(self, field: str | None = "id", short_message: str = "could not be found") -> None:
        super().__init__(field, short_message)


class InvalidPrimaryKey(DomainError):
    code = "invalid_primary_key"

    def __init__(self, field: str | None = "id", short_message: str = "is invalid") -> None:
        super().__init__(field, short_message)


class Conflict(DomainError):
    code = "unique"

    def __init__(self, field: str, short_message: str = "has already been taken") -> None:
        super().__init__(field, short_message)


class Forbidden(DomainError):
    code = "forbidden"

    def __init__(self, short_message: str = "is not allowed for this token") -> None:
        super().__init__(None, short_message)


class Unavailable(DomainError):
    code = "unavailable"

    def __init__(self, short_message: str) -> None:
        super().__init__(None, short_message)


class CredentialsDeleted(DomainError):
    code = "credentials_deleted"


class DomainErrors(Exception):
    """Several problems found at once (e.g. every invalid field of an input)."""

    def __init__(self, errors: Sequence[DomainError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = list(errors)


def raise_all(errors: Iterable[DomainError]) -> None:
    errors = list(errors)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise DomainErrors(errors)

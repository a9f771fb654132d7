"""The small set of errors the store and the services raise.

They name *domain* fields (`application_id`, `containers.0.image.credentials_id`),
never API spellings: graphql/errors.py is the one place that turns them into
the error objects clients read, with the API's names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


class DomainError(Exception):
    code = "invalid"

    def __init__(self, field: str | None, short_message: str, *, code: str | None = None) -> None:
        super().__init__(short_message)
        self.field = field
        self.short_message = short_message
        if code is not None:
            self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.field!r}, {self.short_message!r})"


class Invalid(DomainError):
    code = "invalid"


class NotFound(DomainError):
    code = "not_found"

    def __init__(self, field: str | None = "id", short_message: str = "could not be found") -> None:
        super().__init__(field, short_message)


class InvalidPrimaryKey(DomainError):
    """An id that does not decode, or names another type."""

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
        super().__init__("; ".join(e.short_message for e in errors))
        self.errors = list(errors)


def raise_all(errors: Iterable[DomainError]) -> None:
    """Raise nothing, the one error, or all of them together."""
    found = list(errors)
    if len(found) == 1:
        raise found[0]
    if found:
        raise DomainErrors(found)


class Collector:
    """Runs checks and keeps every failure, so one response lists them all."""

    def __init__(self) -> None:
        self.errors: list[DomainError] = []

    def check(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        try:
            return fn(*args, **kwargs)
        except DomainErrors as many:
            self.errors.extend(many.errors)
        except DomainError as exc:
            self.errors.append(exc)
        return None

    def add(self, error: DomainError) -> None:
        self.errors.append(error)

    def raise_all(self) -> None:
        raise_all(self.errors)

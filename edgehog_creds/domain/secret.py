"""A type for secrets, so that printing one by accident prints `***`."""

from __future__ import annotations

from typing import NoReturn


class Secret:
    """Wraps a password (or any secret string).

    `repr`, `str` and f-strings show `***`; only `reveal()` gives the value, so
    every place that needs the plaintext is easy to find with grep.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> NoReturn:  # never pickle a secret into a cache or a queue
        raise TypeError("a Secret cannot be pickled")

"""The one domain error type. Services raise it; views and the API map `kind` to a response."""

from __future__ import annotations


class DomainError(Exception):
    """A rule said no. `kind` is one of invalid (400), forbidden (403), not_found (404),
    conflict (409) or delivery (502); `errors` names the fields for an invalid input."""

    status_by_kind = {
        "invalid": 400,
        "forbidden": 403,
        "not_found": 404,
        "conflict": 409,
        "delivery": 502,
    }

    def __init__(
        self, message: str, *, kind: str = "invalid", errors: dict[str, list[str]] | None = None
    ):
        super().__init__(message)
        if kind not in self.status_by_kind:
            raise ValueError(f"unknown error kind {kind!r}")
        self.message = message
        self.kind = kind
        self.errors = errors or {}

    @property
    def status_code(self) -> int:
        return self.status_by_kind[self.kind]

    @classmethod
    def invalid(cls, message: str, field: str | None = None) -> DomainError:
        return cls(message, kind="invalid", errors={field: [message]} if field else None)

    @classmethod
    def forbidden(cls, message: str) -> DomainError:
        return cls(message, kind="forbidden")

    @classmethod
    def conflict(cls, message: str) -> DomainError:
        return cls(message, kind="conflict")

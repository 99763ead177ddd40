"""Domain errors. Services raise these; one handler (consult.api.errors) maps them to HTTP."""

from __future__ import annotations


class DomainError(Exception):
    """A refused action. ``code`` is machine-readable; ``field`` names the bad input, if any."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class InvalidInput(DomainError):
    status = 400
    code = "invalid_input"


class NotAllowed(DomainError):
    status = 403
    code = "not_allowed"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class InvalidTransition(DomainError):
    status = 409
    code = "invalid_transition"

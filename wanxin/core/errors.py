"""One error type for business refusals; entry points map it to responses."""

from __future__ import annotations


class WanxinError(Exception):
    """A refusal a person can act on. ``status`` is the HTTP status used at the edge."""

    status = 400

    def __init__(self, message: str, *, code: str = "invalid", status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        if status is not None:
            self.status = status


class NotFound(WanxinError):
    status = 404


class Conflict(WanxinError):
    status = 409

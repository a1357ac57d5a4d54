"""Errors the domain raises; the web layer maps them to 400/403/404/409/422 answers."""

from __future__ import annotations

from engine.errors import EngineError


class DomainError(EngineError):
    """A request the hotline's rules refuse (the message says which rule)."""


class FormInvalid(DomainError):
    """Submitted data failed validation; ``errors`` maps each field key to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


class Forbidden(DomainError):
    """The user's role or department does not allow this."""

"""Errors the engine raises: each says what happened in words a user can act on."""

from __future__ import annotations

from dataclasses import dataclass


class EngineError(Exception):
    """Base class for every error the engine raises on purpose."""


@dataclass(frozen=True)
class Issue:
    """One located validation problem: ``FILE:LINE: ELEMENT_ID: message``."""

    file: str
    line: int | None
    element: str | None
    message: str

    def __str__(self) -> str:
        line = self.line if self.line is not None else 0
        element = self.element or "-"
        return f"{self.file}:{line}: {element}: {self.message}"


class DefinitionInvalid(EngineError):
    """A BPMN file failed validation; ``issues`` holds every located problem."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("; ".join(str(i) for i in issues))


class NotFound(EngineError):
    """A definition, instance or task does not exist."""


class ConflictError(EngineError):
    """The instance changed under us (stale version), or the task is no longer ready.

    ``what_happened`` says, in words, what the engine did instead; callers answer HTTP 409.
    """

    def __init__(self, message: str, *, what_happened: str | None = None) -> None:
        self.what_happened = what_happened
        super().__init__(message)


class ExpressionError(EngineError):
    """An expression or script is not allowed, does not parse, or failed when evaluated."""


class TaskDataError(EngineError):
    """Submitted task data cannot be stored (wrong type, reserved name)."""


class WorkflowRunError(EngineError):
    """Running the workflow raised: the step was rolled back and nothing changed."""

    def __init__(self, message: str, *, element: str | None = None) -> None:
        self.element = element
        super().__init__(message)


class StoredFormatError(EngineError):
    """A stored instance is in a format this engine cannot read (newer than it, say)."""

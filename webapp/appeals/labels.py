"""The words of appeals in the page's language (the translations give the Chinese)."""

from __future__ import annotations

from flask_babel import gettext as _


def ground_choices() -> list[tuple[str, str]]:
    return [
        ("rating", _("Rating (unsatisfied or unresolved)")),
        ("overdue", _("Overdue mark")),
        ("reopen", _("Reopen")),
    ]


def ground_label(value: str) -> str:
    return dict(ground_choices()).get(str(value), str(value))


def status_label(value: str) -> str:
    return {
        "pending": _("Pending review"),
        "upheld": _("Upheld"),
        "rejected": _("Rejected"),
    }.get(str(value), str(value))


def decision_choices() -> list[tuple[str, str]]:
    return [("upheld", _("Uphold")), ("rejected", _("Reject"))]


def field_label(field: str) -> str:
    return {
        "ground": _("Ground"),
        "reason": _("Reason"),
        "case": _("Case"),
        "decision": _("Decision"),
        "appeal": _("Appeal"),
        "window_workdays": _("Appeal window (working days)"),
        "attachments": _("Documents"),
    }.get(field, field)


def appeal_entry(entry, kind: str, payload: dict) -> None:
    """The case timeline's entry for an appeal filed or decided."""
    ground = ground_label(str(payload.get("ground") or ""))
    if kind == "case.appeal_filed":
        entry.title = _("Appeal filed: %(ground)s", ground=ground)
        entry.css = "warning"
    else:
        decision = status_label(str(payload.get("decision") or ""))
        entry.title = _(
            "Appeal decided: %(decision)s (%(ground)s)", decision=decision, ground=ground
        )
        entry.css = "done" if payload.get("decision") == "upheld" else "warning"
    entry.reason = str(payload.get("reason") or "")

"""Reading and checking submitted admin forms: every problem is a message on its field.

A :class:`Form` keeps what was typed (``values``, shown again when the page answers with an
error) and collects ``errors`` per field; the readers return the converted value or None.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

from flask_babel import gettext as _

from workflows.notifications.contacts import ContactInvalid

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class Form:
    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self.data = data or {}
        self.values: dict[str, Any] = {}
        self.errors: dict[str, list[str]] = {}

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Form:
        """A form showing existing values (an edit page before anything is submitted)."""
        form = cls()
        form.values = {k: _shown(v) for k, v in values.items()}
        return form

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def raw(self, name: str) -> str:
        value = self.data.get(name)
        value = "" if value is None else str(value).strip()
        self.values[name] = value
        return value

    def text(self, name: str, *, required: bool = False, max_length: int = 255) -> str:
        value = self.raw(name)
        if required and not value:
            self.error(name, _("Required."))
        elif len(value) > max_length:
            self.error(name, _("At most %(n)s characters.", n=max_length))
        return value

    def code(self, name: str, *, max_length: int = 32) -> str:
        value = self.text(name, required=True, max_length=max_length)
        if value and not CODE.match(value):
            self.error(
                name, _("Letters, digits, '.', '_' and '-' only, starting with a letter or digit.")
            )
        return value

    def integer(
        self,
        name: str,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
        required: bool = True,
    ) -> int | None:
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, _("Required."))
            return None
        try:
            number = int(value)
        except ValueError:
            self.error(name, _("A whole number, please."))
            return None
        if minimum is not None and number < minimum:
            self.error(name, _("At least %(n)s.", n=minimum))
        elif maximum is not None and number > maximum:
            self.error(name, _("At most %(n)s.", n=maximum))
        return number

    def number(self, name: str) -> float | None:
        value = self.raw(name)
        if not value:
            self.error(name, _("Required."))
            return None
        try:
            number = float(value)
        except ValueError:
            self.error(name, _("A number, please."))
            return None
        if number != number or number in (float("inf"), float("-inf")):
            self.error(name, _("A number, please."))
            return None
        return number

    def choice(self, name: str, choices: Iterable[str], *, required: bool = True) -> str | None:
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, _("Choose one."))
            return None
        if value not in set(choices):
            self.error(name, _("Not one of the choices."))
            return None
        return value

    def flag(self, name: str) -> bool:
        # A checkbox posts "true" after its hidden "false": any true value wins.
        getlist = getattr(self.data, "getlist", None)
        raw = getlist(name) if getlist is not None else [self.data.get(name)]
        checked = any(str(v).lower() in ("1", "true", "on", "yes") for v in raw if v is not None)
        self.values[name] = checked
        return checked

    def contact(self, name: str, check: Callable[..., str]) -> str:
        """A phone number, e-mail address, webhook URL or secret checked by ``check`` (one of
        ``workflows.notifications.contacts``), in its stored form; "" when blank or wrong."""
        value = self.raw(name)
        try:
            return check(value, field=name)
        except ContactInvalid as exc:
            self.error(name, contact_problem(exc.problem))
            return ""

    def day(self, name: str) -> date | None:
        value = self.raw(name)
        if not value:
            self.error(name, _("Required."))
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.error(name, _("A date such as 2026-10-01, please."))
            return None


def lang_labels() -> dict[str, str]:
    """The languages a person's messages may be in."""
    return {"zh": _("Chinese"), "en": _("English")}


def contact_problem(problem: str) -> str:
    """What is wrong with a contact field, in the page's language."""
    return {
        "phone": _(
            "Not a phone number: a mobile such as 138 0000 0000 or a landline such as "
            "0750-1234567 (digits, spaces, '+' and '-' only)."
        ),
        "email": _("Not an e-mail address, such as name@example.gov.cn."),
        "url": _("An http:// or https:// address with a host, please."),
        "secret": _("A secret has 16 to 128 characters."),
    }.get(problem, _("Not valid."))


def _shown(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    return "" if value is None else str(value)

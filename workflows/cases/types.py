"""Case types, each declared once: everything else about a type derives from its declaration.

A :class:`CaseTypeSpec` says a type's code, the diagram that runs it, its Chinese and English
labels, its Open311 service, its default deadline policy per urgency and its share of the
simulator's calls. The registry (:class:`CaseTypes`, in declaration order) feeds the intake
form's options (the ``case_types`` list of the form context), the labels on pages, Open311's
services, the seeded policy rows and the simulator's mix. A deployment adds types without
editing code in a TOML file (``type_files.py``, ``HOTLINE_CASE_TYPES``; docs/case-types.md).
A bad declaration is refused when the registry is built, naming the field.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..calendar.service import UNITS
from .enums import Urgency

#: a case type's code: stored on cases (32 characters), an Open311 service code, a URL part
_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
#: a form's key: its path under the forms directory, without .json
_FORM_KEY = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+){0,7}")
#: a BPMN process id (an XML NCName, without the characters no diagram tool writes)
_PROCESS = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,254}")


class CaseTypeError(ValueError):
    """A case type declaration cannot be used; the message names the declaration and field."""


Limit = tuple[int, str]


@dataclass(frozen=True)
class PolicyDefaults:
    """One urgency's default deadline policy row (see ``workflows/policy/models.py``)."""

    sign: Limit
    reply: Limit
    return_: Limit
    extension_max: Limit = (10, "workdays")
    reopen: Limit = (5, "workdays")
    #: the clocks of the centre's own tasks and of the side tasks (every human task has one)
    dispatch: Limit = (2, "workhours")  # dispatch and re-dispatch
    review: Limit = (1, "workdays")  # each review: return, extension, suspension, reply
    callback: Limit = (3, "workdays")  # from the reply to the last callback attempt
    callback_span: Limit = (2, "workdays")  # unreached attempts spread over at least this
    supervision: Limit = (2, "workdays")  # a department's written answer to a supervision order
    cohandle: Limit = (3, "workdays")  # a co-handling unit's part (shorter than the reply)
    suspension_max: Limit = (30, "days")  # the longest a suspended case waits to resume
    warn_share: float = 0.8
    callback_required: bool = True
    review_required: bool = True
    max_returns: int = 3
    #: unreached callback attempts before the case closes as "citizen not reached"
    callback_attempts: int = 3

    def row(self) -> dict[str, Any]:
        """The columns of a ``DeadlinePolicy`` row, without case type and urgency."""
        out: dict[str, Any] = {}
        for name, column in LIMIT_FIELDS.items():
            value, unit = getattr(self, name)
            out[f"{column}_value"], out[f"{column}_unit"] = value, unit
        for name in (
            "warn_share",
            "callback_required",
            "review_required",
            "max_returns",
            "callback_attempts",
        ):
            out[name] = getattr(self, name)
        return out

    def problems(self) -> Iterator[tuple[str, str]]:
        """(field, message) for each value a policy row cannot hold."""
        for name, column in LIMIT_FIELDS.items():
            limit = getattr(self, name)
            if not (
                isinstance(limit, tuple)
                and len(limit) == 2
                and _is_int(limit[0])
                and limit[0] >= 1
                and limit[1] in UNITS
            ):
                yield column, f"{limit!r} is not a limit: a whole number >= 1 and a unit of {UNITS}"
        if not (_is_number(self.warn_share) and 0 < self.warn_share <= 1):
            yield "warn_share", f"{self.warn_share!r} is not a share above 0 and at most 1"
        for name in ("callback_required", "review_required"):
            if not isinstance(getattr(self, name), bool):
                yield name, f"{getattr(self, name)!r} is not true or false"
        if not (_is_int(self.max_returns) and self.max_returns >= 0):
            yield "max_returns", f"{self.max_returns!r} is not a whole number >= 0"
        if not (_is_int(self.callback_attempts) and self.callback_attempts >= 1):
            yield "callback_attempts", f"{self.callback_attempts!r} is not a whole number >= 1"


#: attribute -> policy column prefix (``return`` is a Python keyword)
LIMIT_FIELDS = {
    "sign": "sign",
    "reply": "reply",
    "return_": "return",
    "extension_max": "extension_max",
    "reopen": "reopen",
    "dispatch": "dispatch",
    "review": "review",
    "callback": "callback",
    "callback_span": "callback_span",
    "supervision": "supervision",
    "cohandle": "cohandle",
    "suspension_max": "suspension_max",
}
#: the limits every type has at the higher urgencies (DOMAIN.md): urgent (water, power, gas,
#: heating outage) within 24 hours, critical (life at risk) within 2 hours
URGENCY_LIMITS: dict[str, dict[str, Limit]] = {
    Urgency.URGENT: {
        "sign": (2, "hours"),
        "reply": (24, "hours"),
        "return_": (4, "hours"),
        "dispatch": (1, "hours"),
        "review": (2, "hours"),
        "callback": (1, "workdays"),
        "supervision": (4, "hours"),
        "cohandle": (12, "hours"),
    },
    Urgency.CRITICAL: {
        "sign": (1, "hours"),
        "reply": (2, "hours"),
        "return_": (1, "hours"),
        "dispatch": (1, "hours"),
        "review": (1, "hours"),
        "callback": (1, "workdays"),
        "supervision": (2, "hours"),
        "cohandle": (1, "hours"),
    },
}


def by_urgency(normal: PolicyDefaults) -> dict[str, PolicyDefaults]:
    """A type's defaults for every urgency: ``normal`` as given, the higher urgencies with the
    usual hour limits (a reopened case gets the reply limit again)."""
    out = {str(Urgency.NORMAL): normal}
    for urgency, limits in URGENCY_LIMITS.items():
        out[str(urgency)] = dataclasses.replace(normal, reopen=limits["reply"], **limits)
    return out


@dataclass(frozen=True)
class CaseTypeSpec:
    """One case type. ``policies`` maps every urgency to its default policy row; ``share`` is
    the type's weight among the simulator's calls (0: never simulated); ``diagram`` a BPMN
    file that ``hotline init`` deploys with the bundled ones (None: the process is in
    ``HOTLINE_BPMN_DIR``)."""

    code: str
    process: str
    label_zh: str
    label_en: str
    policies: Mapping[str, PolicyDefaults]
    share: float = 0
    open311_name_zh: str | None = None
    open311_name_en: str | None = None
    open311_group_zh: str = "工单类型"
    open311_group_en: str = "Case type"
    diagram: Path | None = None
    #: the caller's identity is hidden from departments whatever the caller asked (举报: the
    #: law forbids disclosing a reporter); other types only when the caller asks
    confidential: bool = False
    #: the form of the type's own fields at intake (a 12315 consumer complaint's merchant,
    #: product, amount...), shown after the common intake fields; None: no fields of its own
    details_form: str | None = None
    #: where the declaration was read, for error messages
    source: str = field(default="built-in", compare=False)

    def where(self) -> str:
        """The declaration's place and code, for messages."""
        code = self.code if isinstance(self.code, str) and self.code else "?"
        return f"{self.source}: case type {code!r}"

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_zh

    def open311_name(self, lang: str) -> str:
        if lang == "en":
            return self.open311_name_en or self.label_en
        return self.open311_name_zh or self.label_zh

    def open311_group(self, lang: str) -> str:
        return self.open311_group_en if lang == "en" else self.open311_group_zh

    def policy_rows(self) -> list[dict[str, Any]]:
        """The default ``DeadlinePolicy`` rows of this type, one per urgency."""
        return [
            dict(case_type=self.code, urgency=str(urgency), **self.policies[urgency].row())
            for urgency in Urgency
        ]

    def problems(self) -> Iterator[tuple[str, str]]:
        """(field, message) for each thing wrong with the declaration itself."""
        if not isinstance(self.code, str) or not _CODE.fullmatch(self.code):
            yield (
                "code",
                (
                    f"{self.code!r} is not a code: a lower-case letter, then up to 31 lower-case "
                    "letters, digits or _"
                ),
            )
        if not isinstance(self.process, str) or not _PROCESS.fullmatch(self.process):
            yield "process", f"{self.process!r} is not a BPMN process id"
        for name in ("label_zh", "label_en", "open311_group_zh", "open311_group_en"):
            if not _is_text(getattr(self, name)):
                yield name, "missing: give a non-empty text"
        for name in ("open311_name_zh", "open311_name_en"):
            if getattr(self, name) is not None and not _is_text(getattr(self, name)):
                yield name, "give a non-empty text, or leave it out to use the label"
        if not (_is_number(self.share) and self.share >= 0):
            yield "share", f"{self.share!r} is not a number >= 0"
        if not isinstance(self.confidential, bool):
            yield "confidential", f"{self.confidential!r} is not true or false"
        if self.details_form is not None and not (
            isinstance(self.details_form, str) and _FORM_KEY.fullmatch(self.details_form)
        ):
            yield (
                "details_form",
                f"{self.details_form!r} is not a form key (such as consumer/details)",
            )
        if not isinstance(self.policies, Mapping):
            yield "policy", "missing"
            return
        for urgency in Urgency:
            # named as in a TOML declaration: normal's values are policy's own
            prefix = "policy" if urgency == Urgency.NORMAL else f"policy.{urgency}"
            policy = self.policies.get(urgency)
            if not isinstance(policy, PolicyDefaults):
                yield prefix, f"missing the {urgency} urgency's defaults"
                continue
            for name, message in policy.problems():
                yield f"{prefix}.{name}", message
        for urgency in set(self.policies) - {str(u) for u in Urgency}:
            yield f"policy.{urgency}", f"not an urgency (one of {', '.join(Urgency)})"


class CaseTypes:
    """The case types of one installation, in declaration order (the order of the intake
    options, the Open311 services and the policy table)."""

    def __init__(self, specs: Iterable[CaseTypeSpec]) -> None:
        self._specs: dict[str, CaseTypeSpec] = {}
        for spec in specs:
            for name, message in spec.problems():
                raise CaseTypeError(f"{spec.where()}: {name}: {message}")
            if spec.code in self._specs:
                first = self._specs[spec.code].source
                raise CaseTypeError(
                    f"{spec.where()}: code: {spec.code!r} is declared twice ({first})"
                )
            self._specs[spec.code] = spec

    def __iter__(self) -> Iterator[CaseTypeSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def get(self, code: object) -> CaseTypeSpec | None:
        return self._specs.get(code) if isinstance(code, str) else None

    def __contains__(self, code: object) -> bool:
        return code in self._specs

    def __getitem__(self, code: str) -> CaseTypeSpec:
        try:
            return self._specs[code]
        except KeyError:
            raise LookupError(
                f"{code!r} is not a case type (one of {', '.join(self._specs)})"
            ) from None

    def reset(self, specs: Iterable[CaseTypeSpec]) -> None:
        """Hold ``specs`` from now on, in place (every holder of this registry sees them):
        the types administrators add on the pages (``type_store.StoredTypes``). Checked
        first; on an error the registry is left as it was."""
        self._specs = CaseTypes(specs)._specs

    def extended(self, specs: Iterable[CaseTypeSpec]) -> CaseTypes:
        """These types and ``specs`` after them (a code may not be declared twice)."""
        return CaseTypes([*self, *specs])

    def codes(self) -> list[str]:
        return list(self._specs)

    def options(self, lang: str) -> list[dict[str, str]]:
        """The intake form's ``case_types`` option list in ``lang``."""
        return [{"value": s.code, "label": s.label(lang)} for s in self]

    def labels(self, lang: str) -> dict[str, str]:
        return {s.code: s.label(lang) for s in self}

    def label(self, code: str, lang: str) -> str:
        """The label of ``code``, or the code itself for a type no longer declared (old cases
        keep their type)."""
        spec = self._specs.get(code)
        return spec.label(lang) if spec else code

    def policy_rows(self) -> list[dict[str, Any]]:
        return [row for spec in self for row in spec.policy_rows()]

    def mix(self) -> dict[str, float]:
        """The simulator's weights: every type with a share above 0."""
        return {s.code: s.share for s in self if s.share > 0}

    def diagrams(self) -> list[Path]:
        """The declared diagram files (not the bundled directory's), each once."""
        return list(dict.fromkeys(s.diagram for s in self if s.diagram is not None))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


# -- the built-in types ------------------------------------------------------------------------


def _normal(
    sign: Limit, reply: Limit, return_: Limit, *, callback: bool, review: bool
) -> dict[str, PolicyDefaults]:
    # a co-handling unit answers in about half the lead's time, so the lead can use its part
    cohandle = (max(1, reply[0] // 2), reply[1])
    return by_urgency(
        PolicyDefaults(
            sign=sign,
            reply=reply,
            return_=return_,
            cohandle=cohandle,
            callback_required=callback,
            review_required=review,
        )
    )


_WD1, _WD2 = (1, "workdays"), (2, "workdays")

BUILTIN_TYPES: tuple[CaseTypeSpec, ...] = (
    CaseTypeSpec(
        code="complaint",
        process="complaint",
        label_zh="投诉",
        label_en="Complaint",
        policies=_normal(_WD1, (10, "workdays"), _WD2, callback=True, review=True),
        share=35,
    ),
    CaseTypeSpec(
        code="report",
        process="report",
        label_zh="举报",
        label_en="Report (tip-off)",
        policies=_normal(_WD1, (15, "workdays"), _WD2, callback=True, review=True),
        share=8,
        confidential=True,
    ),
    CaseTypeSpec(
        code="consultation",
        process="consultation",
        label_zh="咨询",
        label_en="Consultation",
        policies=_normal(_WD1, (3, "workdays"), _WD1, callback=True, review=False),
        share=25,
    ),
    CaseTypeSpec(
        code="help",
        process="help_request",
        label_zh="求助",
        label_en="Help request",
        policies=_normal(_WD1, (2, "workdays"), _WD1, callback=True, review=False),
        share=15,
    ),
    CaseTypeSpec(
        code="suggestion",
        process="suggestion",
        label_zh="建议",
        label_en="Suggestion",
        policies=_normal(_WD1, (10, "workdays"), _WD2, callback=False, review=False),
        share=12,
    ),
    CaseTypeSpec(
        code="praise",
        process="suggestion",  # praise shares the suggestion diagram
        label_zh="表扬",
        label_en="Praise",
        policies=_normal(_WD1, (5, "workdays"), _WD2, callback=False, review=False),
        share=5,
    ),
)
BUILTIN = CaseTypes(BUILTIN_TYPES)

#: names for the built-in codes, for code that means one of them (``CaseType.COMPLAINT``);
#: to list every type of an installation, iterate its registry (``hotline.case_types``)
CaseType = StrEnum("CaseType", {s.code.upper(): s.code for s in BUILTIN_TYPES})

"""The marshmallow side of forms: one field class per component type, and the schema that
fills in defaults, hides fields by their conditions and rejects unknown keys."""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields

from ..cases.phones import canonical_phone
from .components import CHOICE_TYPES, MISSING, MULTI_TYPES, TEXT_TYPES, Component, Option
from .feel import Condition
from .messages import message, messages_for

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
#: mobile 1[3-9]xxxxxxxxx (optionally +86), landline 0750-1234567 (an extension allowed) or
#: a local 7-8 digit number, five-digit service numbers such as 12345, 95598
PHONE = re.compile(
    r"(?:\+?86-?)?1[3-9]\d{9}"
    r"|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?"
    r"|[2-9]\d{6,7}"
    r"|[19]\d{4}",
    re.ASCII,
)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}.*")
_TIME = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_TRUE = frozenset({"true", "on", "1"})
_FALSE = frozenset({"false", "off", "0"})


def _shown(n: int | float) -> str:
    return str(int(n)) if isinstance(n, float) and n.is_integer() else str(n)


def _check(test: Callable[[Any], bool], key: str, lang: str, **params: Any):
    """A marshmallow validator that raises the message ``key`` when ``test`` fails."""

    def validator(value: Any) -> None:
        if not test(value):
            raise ValidationError(message(key, lang, **params))

    return validator


def _max_length(limit: int, lang: str):
    """Too long text is refused with the limit and its length (never cut to fit)."""

    def validator(value: str) -> None:
        if len(value) > limit:
            raise ValidationError(message("max_length", lang, n=limit, m=len(value)))

    return validator


class FormField(fields.Field):
    """What every component type shares: empty input (None, blank text) is "required" when
    the field is required and the type's empty value otherwise."""

    empty: Any = None

    def __init__(self, component: Component, *, lang: str, **kwargs: Any) -> None:
        super().__init__(
            required=component.required,
            allow_none=False,
            error_messages=messages_for(lang),
            **kwargs,
        )
        self.component = component
        self.lang = lang

    def is_empty(self, value: Any) -> bool:
        return value is None or (isinstance(value, str) and not value.strip())

    def empty_value(self) -> Any:
        return copy.copy(self.empty)

    def deserialize(
        self,
        value: Any,
        attr: str | None = None,
        data: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        if value is fields.missing_ or not self.is_empty(value):
            return super().deserialize(value, attr, data, **kwargs)
        if self.required:
            raise self.make_error("required")
        return self.empty_value()

    def coerce(self, value: Any) -> Any:
        """The typed value, without checking rules or options (for conditions)."""
        return self.empty_value() if self.is_empty(value) else self.convert(value)

    def convert(self, value: Any) -> Any:
        raise NotImplementedError

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return self.convert(value)


class TextField(FormField):
    """textfield, textarea: a string, stripped of surrounding blanks."""

    empty = ""

    def __init__(self, component: Component, *, lang: str) -> None:
        checks = []
        c = component
        if c.min_length is not None:
            checks.append(
                _check(lambda v: len(v) >= c.min_length, "min_length", lang, n=c.min_length)
            )
        if c.max_length is not None:
            checks.append(_max_length(c.max_length, lang))
        if c.pattern is not None:
            checks.append(_check(lambda v: c.pattern.fullmatch(v) is not None, "pattern", lang))
        if c.validation_type == "email":
            checks.append(_check(lambda v: EMAIL.fullmatch(v) is not None, "email", lang))
        if c.validation_type == "phone":
            # as it is stored: +86 139 0223 1234 and 139-0223-1234 are numbers
            checks.append(
                _check(lambda v: PHONE.fullmatch(canonical_phone(v)) is not None, "phone", lang)
            )
        super().__init__(component, lang=lang, validate=checks)

    def convert(self, value: Any) -> str:
        if not isinstance(value, str):
            raise self.make_error("text")
        return value.strip()


class NumberField(FormField):
    """number: int when whole and decimalDigits is 0 or absent, float otherwise; numeric
    strings (from HTML forms) are read too."""

    def __init__(self, component: Component, *, lang: str) -> None:
        checks = []
        c = component
        if c.minimum is not None:
            checks.append(_check(lambda v: v >= c.minimum, "min", lang, n=_shown(c.minimum)))
        if c.maximum is not None:
            checks.append(_check(lambda v: v <= c.maximum, "max", lang, n=_shown(c.maximum)))
        super().__init__(component, lang=lang, validate=checks)

    def convert(self, value: Any) -> int | float:
        if isinstance(value, bool):
            raise self.make_error("number")
        if isinstance(value, str):
            text = value.strip()
            if len(text) > 40 or not _NUMBER.fullmatch(text):
                raise self.make_error("number")
            number = Decimal(text)
        elif isinstance(value, int) or (isinstance(value, Decimal) and value.is_finite()):
            number = Decimal(value)
        elif isinstance(value, float) and math.isfinite(value):
            number = Decimal(repr(value))
        else:
            raise self.make_error("number")
        whole = number == number.to_integral_value()
        digits = self.component.decimal_digits
        places = 0 if whole else -number.normalize().as_tuple().exponent
        if digits == 0 and not whole:
            raise self.make_error("integer")
        if digits and places > digits:
            raise self.make_error("decimal_digits", n=digits)
        if whole and not digits:
            return int(number)
        result = float(number)
        if not math.isfinite(result):
            raise self.make_error("number")
        return result


class CheckboxField(FormField):
    """checkbox: true or false; "true"/"false", "on"/"off", "1"/"0" and 1/0 are read too.
    Required means it must be ticked, as in form-js."""

    empty = False

    def __init__(self, component: Component, *, lang: str) -> None:
        checks = [_check(lambda v: v is True, "required", lang)] if component.required else []
        super().__init__(component, lang=lang, validate=checks)

    def is_empty(self, value: Any) -> bool:
        return value is None or value == ""

    def convert(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str):
            text = value.strip().lower()
            if text in _TRUE or text in _FALSE:
                return text in _TRUE
        raise self.make_error("boolean")


def _same(value: Any, option: Any) -> bool:
    # an HTML form sends "3" for the option 3
    return str(value) == str(option)


class _OptionsMixin:
    """Options are static (``values``) or come from the context (``valuesKey``); ``None``
    means the context did not supply them, which is the caller's bug, not the user's."""

    component: Component
    options: tuple[Option, ...] | None

    def pick(self, value: Any) -> Any:
        if self.options is None:
            raise LookupError(
                f"field {self.component.key!r} takes its options from "
                f"{self.component.values_key!r}, which the validation context does not have"
            )
        for option in self.options:
            if _same(value, option.value):
                return option.value
        return MISSING


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


class ChoiceField(_OptionsMixin, FormField):
    """select, radio: one of the options (the option's own value is returned)."""

    def __init__(
        self, component: Component, *, lang: str, options: tuple[Option, ...] | None
    ) -> None:
        super().__init__(component, lang=lang)
        self.options = options

    def convert(self, value: Any) -> Any:
        if not _scalar(value):
            raise self.make_error("choice")
        return value

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        chosen = self.pick(self.convert(value))
        if chosen is MISSING:
            raise self.make_error("choice")
        return chosen


class MultiChoiceField(_OptionsMixin, FormField):
    """checklist, taglist: a list of options, duplicates dropped, order kept."""

    empty: Any = []

    def __init__(
        self, component: Component, *, lang: str, options: tuple[Option, ...] | None
    ) -> None:
        super().__init__(component, lang=lang)
        self.options = options

    def is_empty(self, value: Any) -> bool:
        return value is None or value == "" or (isinstance(value, list | tuple) and not value)

    def convert(self, value: Any) -> list[Any]:
        if not isinstance(value, list | tuple) or not all(_scalar(v) for v in value):
            raise self.make_error("list")
        out: list[Any] = []
        for item in value:
            if item not in out:
                out.append(item)
        return out

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        chosen, bad = [], []
        for item in self.convert(value):
            picked = self.pick(item)
            if picked is MISSING:
                bad.append(str(item))
            elif picked not in chosen:
                chosen.append(picked)
        if bad:
            raise self.make_error("choices", values=(", " if self.lang == "en" else "、").join(bad))
        return chosen


class DateTimeField(FormField):
    """datetime: ISO 8601. ``datetime`` subtype gives an aware datetime (naive input is read
    in the context's time zone), ``date`` a date, ``time`` a time."""

    def __init__(self, component: Component, *, lang: str, tz: tzinfo) -> None:
        super().__init__(component, lang=lang)
        self.tz = tz

    def convert(self, value: Any) -> datetime | date | time:
        subtype = self.component.subtype or "date"
        try:
            if subtype == "datetime":
                return self._datetime(value)
            if subtype == "date":
                if isinstance(value, date) and not isinstance(value, datetime):
                    return value
                if isinstance(value, str) and _DATE.fullmatch(value.strip()):
                    return date.fromisoformat(value.strip())
            elif isinstance(value, time):
                return value
            elif isinstance(value, str) and _TIME.fullmatch(value.strip()):
                return time.fromisoformat(value.strip())
        except ValueError:
            pass
        raise self.make_error(subtype)

    def _datetime(self, value: Any) -> datetime:
        if isinstance(value, str) and _DATETIME.fullmatch(value.strip()):
            value = datetime.fromisoformat(value.strip())
        if not isinstance(value, datetime):
            raise ValueError("not a date and time")
        return value if value.tzinfo is not None else value.replace(tzinfo=self.tz)


def build_field(
    component: Component, *, lang: str, options: tuple[Option, ...] | None, tz: tzinfo
) -> FormField:
    """The marshmallow field for one input component."""
    kind = component.type
    if kind in TEXT_TYPES:
        return TextField(component, lang=lang)
    if kind == "number":
        return NumberField(component, lang=lang)
    if kind == "checkbox":
        return CheckboxField(component, lang=lang)
    if kind in CHOICE_TYPES:
        return ChoiceField(component, lang=lang, options=options)
    if kind in MULTI_TYPES:
        return MultiChoiceField(component, lang=lang, options=options)
    return DateTimeField(component, lang=lang, tz=tz)


class FormSchema(Schema):
    """Base of the schema built for each form (see ``Form.schema``). ``load`` fills in
    ``defaultValue`` for absent fields, evaluates every ``conditional.hide`` on the submitted
    values (as form-js does, all on the same data), drops hidden fields without checking them,
    and rejects keys the form does not have."""

    class Meta:
        unknown = RAISE
        register = False

    def __init__(
        self,
        *,
        lang: str,
        conditions: Mapping[str, Condition],
        defaults: Mapping[str, Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.error_messages = {
            **self.error_messages,
            "type": message("form", lang),
            "unknown": message("unknown", lang),
        }
        self.conditions = dict(conditions)
        self.defaults = dict(defaults)

    def prepare(self, data: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
        """The submission with defaults in and hidden fields out, and the hidden keys."""
        lists = {k for k, f in self.fields.items() if isinstance(f, MultiChoiceField)}
        getlist = getattr(data, "getlist", None)  # werkzeug MultiDict: a checklist repeats
        raw = {
            str(k): (getlist(k) if getlist is not None and k in lists else data[k]) for k in data
        }
        for key, default in self.defaults.items():
            raw.setdefault(key, copy.deepcopy(default))
        values: dict[str, Any] = {}
        for key, value in raw.items():
            field = self.fields.get(key)
            try:
                values[key] = field.coerce(value) if isinstance(field, FormField) else value
            except ValidationError:
                values[key] = value
        hidden = {key for key, cond in self.conditions.items() if cond.is_true(values)}
        return {k: v for k, v in raw.items() if k not in hidden}, hidden

    def load(
        self, data: Any, *, many: bool | None = None, partial: Any = None, unknown: Any = None
    ) -> Any:
        if many or not isinstance(data, Mapping):
            return super().load(data, many=many, partial=partial, unknown=unknown)
        prepared, hidden = self.prepare(data)
        if partial is not True:
            partial = tuple(set(partial or ()) | hidden)
        return super().load(prepared, many=False, partial=partial, unknown=unknown)

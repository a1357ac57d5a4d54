"""Task forms: form-js JSON files, checked when loaded and validated on the server.

Every BPMN user task names a form by key (``complaint/sign_for`` is the file
``forms/complaint/sign_for.json``, or a version of it stored in the database: see
:mod:`.registry` and :mod:`.store`). The file is what bpmn.io's form editor writes
(``{"type": "default", "components": [...]}``); the server builds a marshmallow schema from it
and answers bad input per field, in Chinese (default) or English.

Conventions (``docs/forms.md`` has them for process designers):

- **Languages.** ``label``, option ``label`` and ``description`` are Chinese. English goes in
  the component's custom ``properties``: ``"en"`` (field label), ``"en:<option value>"``
  (option label), ``"en:description"``. The form's titles are the top-level
  ``"properties": {"title": "<Chinese>", "en": "<English>"}`` (the editor's custom
  properties of the form); missing English falls back to Chinese, missing Chinese to the key.
- **Types.** Input: textfield, textarea, number, select, radio, checkbox (a boolean),
  checklist and taglist (lists of option values), datetime (``subtype`` date [the form-js
  default], time or datetime). Shown but not submitted: text, html, spacer, separator, image,
  button, table, iframe, documentPreview. group, dynamiclist, expression, filepicker and
  multipage/page are refused when the form loads, as is any unknown type.
- **Keys** are ``[A-Za-z_][A-Za-z0-9_]*`` and unique in a form (no nested ``a.b`` keys).
- **validate**: ``required``; ``minLength``/``maxLength`` (counted on the text without
  surrounding blanks, as form-js does), ``pattern`` (Python ``re.fullmatch``, ASCII ``\\d``
  and ``\\w`` as in JavaScript; keep to the syntax both share) and ``validationType``
  (``email``, ``phone``: Chinese mobile, landline such as 0750-1234567, five-digit service
  numbers such as 12345) for text; ``min``/``max`` for numbers. A rule on a type it does not apply to, an
  unknown rule, an expression (``=...``) in a rule or a bad regex is refused at load.
- **Options**: static ``values`` ``[{"label", "value"}]`` (string or whole-number values),
  or ``valuesKey`` naming a list in the validation context (``{"departments": [{"label":
  ..., "value": "D01"}]}``). Submitted values must be among them; a context without the list
  is a ``LookupError`` (the caller's bug), raised only when the field is actually checked.
- **conditional.hide**: ``=`` + a small FEEL subset (see :mod:`.feel`) over this form's
  fields. As in form-js, every condition reads the same data: the submitted values (typed,
  defaults filled in), a hidden field's value included. Hidden fields are not checked (so
  not required) and are dropped from the clean data.
- **defaultValue** is used when a field is absent (not when it is sent empty).
- **Values**: text is stripped; ``number`` gives int when whole and ``decimalDigits`` is 0
  or absent, else float (numeric strings accepted; ``decimalDigits`` limits the places);
  checkbox reads true/false, "true"/"false", "on"/"off", "1"/"0"; datetime reads ISO 8601,
  naive date-times in the context's ``tz`` (default Asia/Shanghai). An empty, non-required
  field gives "" (text), None (number, choice, datetime), [] (lists) or False (checkbox);
  an absent one with no default is left out.
- **Unknown keys** in a submission are errors on that key.

The context passed to validation maps option-list names to lists of ``{"label", "value"}``
(or plain values); the key ``tz`` (a ``tzinfo`` or a zone name) is reserved.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import ValidationError

from ..calendar.service import DEFAULT_TZ
from .components import (
    CHOICE_TYPES,
    MISSING,
    MULTI_TYPES,
    Component,
    FormError,
    Option,
    parse_document,
)
from .messages import normalize_lang
from .schema import FormSchema, build_field

DEFAULT_ZONE = ZoneInfo(DEFAULT_TZ)
_FORM_KEY = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*")
_MAX_KEY = 200
MAX_BYTES = 1_000_000

__all__ = ["Form", "FormError", "FormNotFound", "is_form_key"]


class FormNotFound(FormError, LookupError):
    """No form file for this key (or the key is not a valid form key)."""


def is_form_key(key: Any) -> bool:
    """Whether ``key`` is a well-formed form key (``complaint/reply``): letters, digits,
    ``_``, ``-`` and ``/`` between parts; nothing that could leave the forms directory."""
    return isinstance(key, str) and len(key) <= _MAX_KEY and bool(_FORM_KEY.fullmatch(key))


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise ValueError(f"the name {name!r} appears twice in one object")
        out[name] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _zone(value: Any) -> Any:
    if value is None:
        return DEFAULT_ZONE
    return ZoneInfo(value) if isinstance(value, str) else value


def _context_options(raw: Any) -> tuple[Option, ...] | None:
    if raw is None:
        return None
    options = []
    for entry in raw:
        if isinstance(entry, Mapping):
            options.append(Option(entry.get("value"), str(entry.get("label", entry.get("value")))))
        else:
            options.append(Option(entry, str(entry)))
    return tuple(options)


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    if isinstance(messages, Mapping):
        out: dict[str, list[str]] = {}
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for k, v in _flatten(value, name).items():
                out.setdefault(k, []).extend(v)
        return out
    items = messages if isinstance(messages, list) else [messages]
    return {prefix or "_schema": [str(m) for m in items]}


class Form:
    """One checked form: its titles, its input fields and the schema built from them."""

    def __init__(self, key: str, document: Any, *, file: str | None = None) -> None:
        self.key = key
        self.file = file or f"{key}.json"
        parsed = parse_document(document, self.file)
        self._title_zh = parsed.title_zh
        self._title_en = parsed.title_en
        self._components = parsed.components
        #: the input components, as read-only views of their JSON (``field["key"]``)
        self.fields: tuple[Mapping[str, Any], ...] = tuple(
            MappingProxyType(c.raw) for c in parsed.components
        )
        self._check_defaults()

    @classmethod
    def from_json(cls, key: str, text: str | bytes, *, file: str | None = None) -> Form:
        """A form from the text of its file; FormError when it is not valid JSON."""
        file = file or f"{key}.json"
        try:
            document = json.loads(
                text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
            )
        except json.JSONDecodeError as exc:
            raise FormError(
                file, f"not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}"
            ) from None
        except (ValueError, RecursionError) as exc:
            raise FormError(file, f"not valid JSON: {exc}") from None
        return cls(key, document, file=file)

    def title(self, lang: str = "zh") -> str:
        """The form's title in ``lang`` (``properties.title`` / ``properties.en``)."""
        if normalize_lang(lang) == "en" and self._title_en:
            return self._title_en
        return self._title_zh or self._title_en or self.key

    def schema(self, context: Mapping[str, Any] | None = None, *, lang: str = "zh") -> FormSchema:
        """A marshmallow schema for one submission, with options from ``context``."""
        lang = normalize_lang(lang)
        context = context or {}
        tz = _zone(context.get("tz"))
        built = {
            c.key: build_field(c, lang=lang, options=self._options(c, context), tz=tz)
            for c in self._components
        }
        cls = type(f"FormSchema[{self.key}]", (FormSchema,), built)
        return cls(
            lang=lang,
            conditions={c.key: c.condition for c in self._components if c.condition},
            defaults={c.key: c.default for c in self._components if c.default is not MISSING},
        )

    def validate(
        self, data: Mapping[str, Any], *, context: Mapping[str, Any] | None = None, lang: str = "zh"
    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """``(clean data, errors per field key)``: errors is empty when the data is valid,
        and clean data is empty when it is not."""
        try:
            return self.schema(context, lang=lang).load(data), {}
        except ValidationError as exc:
            return {}, _flatten(exc.messages)

    def describe(
        self, lang: str = "zh", *, context: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """A plain, JSON-able description of the form for rendering it in ``lang``."""
        lang = normalize_lang(lang)
        out = []
        for c in self._components:
            item: dict[str, Any] = {
                "key": c.key,
                "type": c.type,
                "label": c.label_in(lang),
                "description": c.description_in(lang),
                "required": c.required,
            }
            if c.subtype:
                item["subtype"] = c.subtype
            if c.type in CHOICE_TYPES | MULTI_TYPES:
                options = self._options(c, context or {})
                item["options"] = (
                    None
                    if options is None
                    else [{"value": o.value, "label": c.option_label(o, lang)} for o in options]
                )
                if c.values_key:
                    item["valuesKey"] = c.values_key
            rules = {
                "minLength": c.min_length,
                "maxLength": c.max_length,
                "pattern": c.pattern.pattern if c.pattern else None,
                "validationType": c.validation_type,
                "min": c.minimum,
                "max": c.maximum,
                "decimalDigits": c.decimal_digits,
            }
            item.update({k: v for k, v in rules.items() if v is not None})
            if c.default is not MISSING:
                item["default"] = c.default
            if c.condition:
                item["hide"] = c.condition.source
            out.append(item)
        return {"key": self.key, "title": self.title(lang), "fields": out}

    def _options(
        self, component: Component, context: Mapping[str, Any]
    ) -> tuple[Option, ...] | None:
        if component.values_key:
            return _context_options(context.get(component.values_key))
        return component.options

    def _check_defaults(self) -> None:
        """A defaultValue must be a valid value of its field (options from a valuesKey are
        only known at validation time, so those are checked then). An empty default is
        fine even on a required field: the user still has to fill it in."""
        for c in self._components:
            if c.default is MISSING:
                continue
            optional = dataclasses.replace(c, required=False)
            field = build_field(optional, lang="en", options=c.options, tz=DEFAULT_ZONE)
            try:
                field.deserialize(c.default)
            except ValidationError as exc:
                problem = " ".join(_flatten(exc.messages).get("_schema", []))
                raise FormError(
                    self.file,
                    f"defaultValue {c.default!r} is not valid: {problem}",
                    component=c.key,
                ) from None
            except LookupError:
                pass

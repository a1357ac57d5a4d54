"""Reading a form-js document into checked component specs; every problem is a FormError."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .feel import Condition, FeelError

TEXT_TYPES = frozenset({"textfield", "textarea"})
CHOICE_TYPES = frozenset({"select", "radio"})
MULTI_TYPES = frozenset({"checklist", "taglist"})
INPUT_TYPES = TEXT_TYPES | CHOICE_TYPES | MULTI_TYPES | {"number", "checkbox", "datetime"}
#: shown to the user, never submitted: validation skips them
DISPLAY_TYPES = frozenset(
    {"text", "html", "spacer", "separator", "image", "button", "table", "iframe", "documentPreview"}
)
#: real form-js types this server cannot validate (nested or computed data, files, pages)
UNSUPPORTED_TYPES = frozenset(
    {"group", "dynamiclist", "expression", "filepicker", "multipage", "page"}
)
SUBTYPES = ("date", "time", "datetime")
VALIDATION_TYPES = ("email", "phone")

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RULES_FOR = {
    "required": INPUT_TYPES,
    "minLength": TEXT_TYPES,
    "maxLength": TEXT_TYPES,
    "pattern": TEXT_TYPES,
    "validationType": TEXT_TYPES,
    "min": frozenset({"number"}),
    "max": frozenset({"number"}),
}

MISSING: Any = object()


class FormError(Exception):
    """A form file that cannot be used: ``file`` names it, ``component`` (key or id) says
    where in it when known, ``message`` says what is wrong."""

    def __init__(self, file: str, message: str, *, component: str | None = None) -> None:
        self.file = file
        self.message = message
        self.component = component
        where = f"{file}: {component}" if component else file
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Option:
    value: Any
    label: str


@dataclass(frozen=True)
class Component:
    """One input component, checked: its rules parsed, its condition compiled."""

    key: str
    type: str
    raw: Mapping[str, Any]
    label: str
    description: str
    properties: Mapping[str, str]
    required: bool = False
    min_length: int | None = None
    max_length: int | None = None
    pattern: re.Pattern[str] | None = None
    validation_type: str | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    options: tuple[Option, ...] | None = None
    values_key: str | None = None
    condition: Condition | None = None
    default: Any = MISSING
    decimal_digits: int | None = None
    subtype: str | None = None

    def label_in(self, lang: str) -> str:
        if lang == "en" and self.properties.get("en"):
            return self.properties["en"]
        return self.label or self.key

    def description_in(self, lang: str) -> str:
        if lang == "en" and self.properties.get("en:description"):
            return self.properties["en:description"]
        return self.description

    def option_label(self, option: Option, lang: str) -> str:
        if lang == "en":
            return self.properties.get(f"en:{option.value}") or option.label
        return option.label


@dataclass(frozen=True)
class Document:
    """A whole form: its titles and its input components in document order."""

    title_zh: str | None
    title_en: str | None
    components: tuple[Component, ...]


def _is_blank(value: Any) -> bool:
    return value is None or value == ""


def parse_document(document: Any, file: str) -> Document:
    """Check a form-js document and return its input components; raise FormError."""
    if not isinstance(document, Mapping):
        raise FormError(file, "a form is a JSON object")
    if document.get("type", "default") != "default":
        raise FormError(file, f'form type {document.get("type")!r} is not "default"')
    props = _properties(document.get("properties"), file, None)
    items = document.get("components")
    if not isinstance(items, list):
        raise FormError(file, 'a form needs a "components" list')
    components: list[Component] = []
    seen: dict[str, str] = {}
    for index, item in enumerate(items):
        where = f"components[{index}]"
        if not isinstance(item, Mapping):
            raise FormError(file, "a component is a JSON object", component=where)
        name = str(item.get("key") or item.get("id") or where)
        kind = item.get("type")
        if kind in DISPLAY_TYPES:
            continue
        if kind in UNSUPPORTED_TYPES:
            raise FormError(
                file,
                f"component type {kind!r} is not supported by the server's validation",
                component=name,
            )
        if kind not in INPUT_TYPES:
            raise FormError(file, f"unknown component type {kind!r}", component=name)
        component = _component(item, kind, file, name)
        if component.key in seen:
            raise FormError(
                file,
                f"key {component.key!r} is also used by {seen[component.key]}",
                component=name,
            )
        seen[component.key] = where
        components.append(component)
    keys = set(seen)
    for component in components:
        if component.condition and not component.condition.names <= keys:
            unknown = ", ".join(sorted(component.condition.names - keys))
            raise FormError(
                file,
                f"conditional.hide reads {unknown}, which is not a field of this form "
                "(the server only sees the submitted fields)",
                component=component.key,
            )
    return Document(props.get("title"), props.get("en"), tuple(components))


def _component(item: Mapping[str, Any], kind: str, file: str, name: str) -> Component:
    key = item.get("key")
    if not isinstance(key, str) or not key:
        raise FormError(file, f"a {kind} component needs a key", component=name)
    if not _KEY.fullmatch(key):
        raise FormError(
            file,
            f"key {key!r} must be letters, digits and _, not starting with a digit "
            "(nested keys such as a.b are not supported)",
            component=name,
        )
    label = item.get("label", "")
    description = item.get("description", "")
    if not isinstance(label, str) or not isinstance(description, str):
        raise FormError(file, "label and description must be strings", component=key)
    for unsupported in ("valuesExpression",):
        if unsupported in item:
            raise FormError(file, f"{unsupported} is not supported", component=key)
    spec: dict[str, Any] = {
        "key": key,
        "type": kind,
        "raw": dict(item),
        "label": label,
        "description": description,
        "properties": _properties(item.get("properties"), file, key),
    }
    spec.update(_rules(item.get("validate"), kind, file, key))
    if kind in CHOICE_TYPES | MULTI_TYPES:
        spec.update(_values(item, file, key))
    if kind == "number":
        digits = item.get("decimalDigits")
        if not _is_blank(digits):
            if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
                raise FormError(file, "decimalDigits must be a whole number >= 0", component=key)
            spec["decimal_digits"] = digits
    if kind == "datetime":
        subtype = item.get("subtype") or "date"
        if subtype not in SUBTYPES:
            raise FormError(
                file,
                f"datetime subtype {subtype!r} is not one of {', '.join(SUBTYPES)}",
                component=key,
            )
        spec["subtype"] = subtype
    conditional = item.get("conditional") or {}
    if not isinstance(conditional, Mapping):
        raise FormError(file, "conditional must be an object", component=key)
    hide = conditional.get("hide")
    if not _is_blank(hide):
        try:
            spec["condition"] = Condition.parse(hide)
        except FeelError as exc:
            raise FormError(file, f"conditional.hide {hide!r}: {exc}", component=key) from None
    if "defaultValue" in item:
        spec["default"] = item["defaultValue"]
    return Component(**spec)


def _properties(value: Any, file: str, component: str | None) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise FormError(file, "properties must map names to strings", component=component)
    return dict(value)


def _rules(validate: Any, kind: str, file: str, key: str) -> dict[str, Any]:
    if validate is None:
        return {}
    if not isinstance(validate, Mapping):
        raise FormError(file, "validate must be an object", component=key)
    out: dict[str, Any] = {}
    for rule, value in validate.items():
        if rule not in _RULES_FOR:
            raise FormError(file, f"unknown validate rule {rule!r}", component=key)
        if _is_blank(value) or (rule == "validationType" and value == "custom"):
            continue
        if kind not in _RULES_FOR[rule]:
            raise FormError(file, f"validate.{rule} does not apply to {kind}", component=key)
        if isinstance(value, str) and value.startswith("="):
            raise FormError(
                file,
                f"validate.{rule}: expressions are not supported, give a value",
                component=key,
            )
        if rule == "required":
            if not isinstance(value, bool):
                raise FormError(file, "validate.required must be true or false", component=key)
            out["required"] = value
        elif rule in ("minLength", "maxLength"):
            out["min_length" if rule == "minLength" else "max_length"] = _whole(
                value, file, key, rule
            )
        elif rule in ("min", "max"):
            out["minimum" if rule == "min" else "maximum"] = _number(value, file, key, rule)
        elif rule == "pattern":
            out["pattern"] = _pattern(value, file, key)
        elif value not in VALIDATION_TYPES:
            raise FormError(
                file, f"validate.validationType {value!r} is not email or phone", component=key
            )
        else:
            out["validation_type"] = value
    return out


def _whole(value: Any, file: str, key: str, rule: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FormError(file, f"validate.{rule} must be a whole number >= 0", component=key)
    return value


def _number(value: Any, file: str, key: str, rule: str) -> int | float:
    if isinstance(value, str):
        try:
            value = float(value) if "." in value else int(value)
        except ValueError:
            raise FormError(file, f"validate.{rule} must be a number", component=key) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FormError(file, f"validate.{rule} must be a number", component=key)
    return value


def _pattern(value: Any, file: str, key: str) -> re.Pattern[str]:
    if not isinstance(value, str):
        raise FormError(file, "validate.pattern must be a string", component=key)
    try:
        # ASCII: \d and \w mean what they mean in the browser's JavaScript RegExp
        return re.compile(value, re.ASCII)
    except re.error as exc:
        raise FormError(
            file,
            f"validate.pattern {value!r} is not a valid regular expression: {exc}",
            component=key,
        ) from None


def _values(item: Mapping[str, Any], file: str, key: str) -> dict[str, Any]:
    values, values_key = item.get("values"), item.get("valuesKey")
    if values is not None and not _is_blank(values_key):
        raise FormError(file, "give either values or valuesKey, not both", component=key)
    if not _is_blank(values_key):
        if not isinstance(values_key, str) or not _KEY.fullmatch(values_key):
            raise FormError(file, f"valuesKey {values_key!r} is not a plain name", component=key)
        return {"values_key": values_key}
    if not isinstance(values, list) or not values:
        raise FormError(file, "needs a non-empty values list or a valuesKey", component=key)
    options: list[Option] = []
    for entry in values:
        value = entry.get("value") if isinstance(entry, Mapping) else None
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise FormError(
                file, f"option {entry!r} needs a string or whole-number value", component=key
            )
        label = entry.get("label", str(value))
        if not isinstance(label, str):
            raise FormError(
                file, f"option {value!r} has a label that is not a string", component=key
            )
        if any(str(o.value) == str(value) for o in options):
            raise FormError(file, f"option value {value!r} appears twice", component=key)
        options.append(Option(value, label))
    return {"options": tuple(options)}

"""Task forms: form-js JSON files, checked when loaded and validated on the server.

Every BPMN user task names a form by key (``complaint/sign_for`` is the file
``forms/complaint/sign_for.json``). The file is what bpmn.io's form editor writes
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
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from engine.models import Definition, ProcessInstance

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
from .models import FormVersion
from .schema import FormSchema, build_field

DEFAULT_ZONE = ZoneInfo(DEFAULT_TZ)
_FORM_KEY = re.compile(r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)*")
_MAX_KEY = 200
_MAX_BYTES = 1_000_000

__all__ = ["Form", "FormError", "FormNotFound", "FormRegistry", "is_form_key"]


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


class FormRegistry:
    """The forms by key: the versions stored in the database (``form_versions``) and, for a
    key with none, the file under the forms directory. A stored version never changes, so
    it is parsed once and kept (like the engine's SpecCache); a file is read again when it
    changes (modification time or size). Without a ``session_factory`` (``hotline
    validate``) only the files are read."""

    def __init__(
        self,
        forms_dir: Path,
        *,
        session_factory: Callable[[], Session] | None = None,
        cache_size: int = 512,
    ) -> None:
        self.forms_dir = Path(forms_dir)
        self._session_factory = session_factory
        self._cache: dict[str, tuple[tuple[int, int], Form]] = {}
        self._versions: OrderedDict[tuple[str, int], Form] = OrderedDict()
        self._pins: OrderedDict[int, dict[str, int]] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # -- the files ------------------------------------------------------------------------

    def _path(self, key: str) -> Path | None:
        if not is_form_key(key):
            return None
        path = self.forms_dir / f"{key}.json"
        try:
            # a symlink may not lead out of the forms directory either
            path.resolve().relative_to(self.forms_dir.resolve())
        except (ValueError, OSError):
            return None
        return path

    def file_exists(self, key: str) -> bool:
        """Whether a form file exists for ``key`` (False for malformed keys)."""
        path = self._path(key)
        return path is not None and path.is_file()

    def file_text(self, key: str) -> bytes:
        """The bytes of the file of ``key``: FormNotFound, or FormError when unreadable."""
        path = self._path(key)
        if path is None:
            raise FormNotFound(str(key), "not a valid form key (letters, digits, _ - and /)")
        file = f"{key}.json"
        try:
            if not path.is_file():
                raise FormNotFound(file, "no such form")
            if path.stat().st_size > _MAX_BYTES:
                raise FormError(file, f"larger than {_MAX_BYTES} bytes")
            return path.read_bytes()
        except OSError as exc:
            raise FormError(file, f"cannot be read: {exc.strerror}") from None

    def file_form(self, key: str) -> Form:
        """The form in the file of ``key``: FormNotFound when there is none, FormError when
        it is bad (a bad file is never served from the cache of an older, good version)."""
        path = self._path(key)
        if path is None:
            raise FormNotFound(str(key), "not a valid form key (letters, digits, _ - and /)")
        file = f"{key}.json"
        try:
            stat = path.stat()
        except OSError:
            raise FormNotFound(file, "no such form") from None
        if not path.is_file():
            raise FormNotFound(file, "no such form")
        stamp = (stat.st_mtime_ns, stat.st_size)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None and cached[0] == stamp:
                return cached[1]
            self._cache.pop(key, None)
            if stat.st_size > _MAX_BYTES:
                raise FormError(file, f"larger than {_MAX_BYTES} bytes")
            try:
                text = path.read_bytes()
            except OSError as exc:
                raise FormError(file, f"cannot be read: {exc.strerror}") from None
            form = Form.from_json(key, text, file=file)
            self._cache[key] = (stamp, form)
            return form

    def file_keys(self) -> list[str]:
        """Every form key under the directory, sorted."""
        if not self.forms_dir.is_dir():
            return []
        keys = (
            path.relative_to(self.forms_dir).with_suffix("").as_posix()
            for path in self.forms_dir.rglob("*.json")
            if path.is_file()
        )
        return sorted(k for k in keys if is_form_key(k))

    # -- the stored versions --------------------------------------------------------------

    @contextmanager
    def _reading(self, session: Session | None) -> Iterator[Session | None]:
        if session is not None or self._session_factory is None:
            yield session
            return
        own = self._session_factory()
        try:
            yield own
        finally:
            own.close()

    def latest_version(self, key: str, *, session: Session | None = None) -> int | None:
        """The newest stored version of ``key`` (None when only its file, if any, exists)."""
        with self._reading(session) as s:
            return None if s is None else self._latest(s, key, own=session is None)

    @staticmethod
    def _latest(session: Session, key: str, *, own: bool) -> int | None:
        try:
            return session.scalar(
                select(func.max(FormVersion.version)).where(FormVersion.key == key)
            )
        except (OperationalError, ProgrammingError):
            if not own:
                raise
            # a database not migrated yet (the app reads the intake form at start-up)
            return None

    def get(self, key: str, version: int | None = None, *, session: Session | None = None) -> Form:
        """The form for ``key``: the given stored version, else the newest stored one, else
        the file. FormNotFound when there is none (or no such version), FormError when it
        is bad."""
        if not is_form_key(key):
            raise FormNotFound(str(key), "not a valid form key (letters, digits, _ - and /)")
        with self._reading(session) as s:
            if s is None:
                return self.file_form(key)
            if version is None:
                version = self._latest(s, key, own=session is None)
                if version is None:
                    return self.file_form(key)
            with self._lock:
                hit = self._versions.get((key, version))
                if hit is not None:
                    self._versions.move_to_end((key, version))
                    return hit
            text = s.scalar(
                select(FormVersion.schema).where(
                    FormVersion.key == key, FormVersion.version == version
                )
            )
            if text is None:
                if self._latest(s, key, own=session is None) is None:
                    return self.file_form(key)
                raise FormNotFound(f"{key}.json", f"no version {version}")
        form = Form.from_json(key, text, file=f"{key}.json v{version}")
        with self._lock:
            self._versions[(key, version)] = form
            while len(self._versions) > self._cache_size:
                self._versions.popitem(last=False)
        return form

    def exists(self, key: str) -> bool:
        """Whether a form exists for ``key``: stored or as a file (False for bad keys)."""
        if not is_form_key(key):
            return False
        if self.file_exists(key):
            return True
        return self.latest_version(key) is not None

    def keys(self) -> list[str]:
        """Every form key, stored or as a file, sorted."""
        keys = set(self.file_keys())
        with self._reading(None) as s:
            if s is not None:
                # not migrated yet: the files are all there is
                with suppress(OperationalError, ProgrammingError):
                    keys.update(s.scalars(select(FormVersion.key).distinct()))
        return sorted(keys)

    def check_all(self) -> list[FormError]:
        """Load every form's newest version; the errors of the bad ones (empty when all
        are good)."""
        errors = []
        for key in self.keys():
            try:
                self.get(key)
            except FormError as exc:
                errors.append(exc)
        return errors

    # -- what a running case uses ---------------------------------------------------------

    def pinned_version(self, session: Session, *, instance_id: int, key: str) -> int | None:
        """The version of form ``key`` that the definition of instance ``instance_id`` pinned
        when it was deployed (None: deployed before pinning, or the form is not its task's)."""
        definition_id = session.scalar(
            select(ProcessInstance.definition_id).where(ProcessInstance.id == instance_id)
        )
        if definition_id is None:
            return None
        with self._lock:
            pins = self._pins.get(definition_id)
        if pins is None:
            info = session.scalar(select(Definition.info).where(Definition.id == definition_id))
            raw = (info or {}).get("form_versions") or {}
            pins = {str(k): int(v) for k, v in raw.items()}
            with self._lock:
                self._pins[definition_id] = pins
                while len(self._pins) > self._cache_size:
                    self._pins.popitem(last=False)
        return pins.get(key)

    def for_instance(self, session: Session, *, instance_id: int | None, key: str) -> Form:
        """The form ``key`` as a case's task uses it: the version its definition pinned (the
        newest when it pinned none), so a form saved later never changes a running case."""
        version = None
        if instance_id is not None:
            version = self.pinned_version(session, instance_id=instance_id, key=key)
        return self.get(key, version, session=session)

"""The forms by key: the versions stored in the database, else the files under forms/.

A stored version never changes, so it is parsed once and kept; a file is read again when it
changes. ``for_instance`` gives a running case's task the version its definition pinned
(:mod:`.store` pins them at deployment).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from engine.models import Definition, ProcessInstance

from .models import FormVersion
from .service import MAX_BYTES, Form, FormError, FormNotFound, is_form_key

__all__ = ["FormRegistry"]


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
            if path.stat().st_size > MAX_BYTES:
                raise FormError(file, f"larger than {MAX_BYTES} bytes")
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
            if stat.st_size > MAX_BYTES:
                raise FormError(file, f"larger than {MAX_BYTES} bytes")
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

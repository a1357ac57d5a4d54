"""The engine's own stored-format version, and the upgrade of an older stored instance.

A stored instance (``process_instances.state``) is SpiffWorkflow's serialization of the
workflow with the spec left out: ``spec_ref`` names it, and the spec comes back from the
definition's XML (see :mod:`engine.serializer`). Two versions describe such a text:

- ``engine_format`` (:data:`ENGINE_FORMAT`): the engine's own format, the first field of the
  text. It changes when the engine changes what it stores around SpiffWorkflow's dict. A text
  without it is format 1 (everything stored before the engine numbered its format).
- ``serializer_version``: SpiffWorkflow's format of the dict itself ("1.5" for 3.2). It
  changes when SpiffWorkflow is upgraded; SpiffWorkflow ships migrations of older versions
  (``SpiffWorkflow.bpmn.serializer.migration``), which read the embedded spec (``dct['spec']``).

The version lives in the text rather than in a column: it describes that text, so it travels
with it (a copy, an export, a row restored from a backup) and cannot disagree with it; the save
statement and the schema stay as they are; and the check on load is a dict lookup on the dict
that is parsed anyway. Being the first field, ``state LIKE '{"engine_format":2,%'`` finds the
rows of the current format without parsing them.

Loading an older text upgrades it in memory (:func:`upgrade`): first the engine's own upgrades,
one module per format (``version_N.py`` takes format N-1 to N and says what changed); then, if
SpiffWorkflow's version is older, SpiffWorkflow's own migration, run on the full dict: the spec
is put back in (converted from the definition's spec), migrated with the rest, and taken out
again. The spec that comes out is dropped: the workflow is restored on the spec parsed from the
definition by the running SpiffWorkflow, which is already in its current form. (This is
SpiffWorkflow's own ``migrate``, as its ``deserialize_json`` runs it: in 3.2 one entry of
``MIGRATIONS`` per stored version; the 1.3 entry makes the 1.4 change only, and the 1.5 change
touches the spec alone. Every text this engine wrote is 1.5.) The upgraded
workflow is written in the current format by the instance's next step (every step saves the
whole text). Reads do not write: a page view would become a write transaction, and a step
running at the same time would meet a changed version and fail. So an instance that does not
step again keeps its old text, and an upgrade module stays until no row needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import StoredFormatError
from . import version_2

#: the field of the stored text that holds the engine's format version
FORMAT_KEY = "engine_format"
#: the format this engine writes
ENGINE_FORMAT = 2
#: format N -> the upgrade of a format-N dict to format N + 1
UPGRADES: dict[int, Callable[[dict[str, Any]], None]] = {1: version_2.upgrade}


def upgrade(
    dct: dict[str, Any],
    stored_format: Any,
    *,
    spiff_current: str,
    spiff_migrate: Callable[[dict[str, Any]], None],
) -> None:
    """Bring a stored dict of format ``stored_format`` (popped from it) to the current format.

    ``spiff_migrate`` runs SpiffWorkflow's migrations on the dict when its
    ``serializer_version`` is not ``spiff_current``. Raises :class:`StoredFormatError` for a
    format this engine cannot read (newer than it, or no format at all).
    """
    if type(stored_format) is not int or stored_format < 1:
        raise StoredFormatError(f"{FORMAT_KEY} {stored_format!r} is not a format version")
    if stored_format > ENGINE_FORMAT:
        raise StoredFormatError(
            f"it was stored in engine format {stored_format}, newer than this engine's "
            f"({ENGINE_FORMAT}): it was written by a newer release; run that release"
        )
    for version in range(stored_format, ENGINE_FORMAT):
        UPGRADES[version](dct)
    if dct.get("serializer_version") != spiff_current:
        spiff_migrate(dct)

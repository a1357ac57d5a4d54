"""Engine format 1 to 2: the stored text says which format it is in.

Format 1 is everything stored before the engine numbered its format: SpiffWorkflow's dict with
the spec replaced by ``spec_ref`` (the process key), and no ``engine_format`` field. Format 2 is
the same body with ``"engine_format": 2`` as its first field, so nothing in the body changes;
the upgrade checks that the dict is one of ours (it refers to its spec rather than embedding
it) before the engine reads it as one.
"""

from __future__ import annotations

from typing import Any

from ..errors import StoredFormatError


def upgrade(dct: dict[str, Any]) -> None:
    if "spec_ref" not in dct or "spec" in dct:
        raise StoredFormatError(
            "it is not a workflow stored by this engine (no spec_ref; the engine stores the "
            "spec by reference)"
        )

"""How the app is put together: every area's blueprint is registered by name."""

from __future__ import annotations

from pathlib import Path

import webapp
from webapp import blueprints


def test_every_area_with_a_blueprint_is_registered(app):
    """An area package (a folder of webapp/ whose __init__, or one of whose modules, makes
    ``bp``) that is not in ``blueprints()`` would leave its pages out silently."""
    root = Path(webapp.__file__).parent
    areas = set()
    for path in root.glob("*/*.py"):
        if (path.parent / "__init__.py").is_file() and "bp = Blueprint(" in path.read_text(
            encoding="utf-8"
        ):
            parts = path.relative_to(root.parent).with_suffix("").parts
            areas.add(".".join(parts[:-1] if path.name == "__init__.py" else parts))
    registered = {bp.import_name for bp in blueprints()}
    assert areas and areas == registered
    assert registered <= {bp.import_name for bp in app.blueprints.values()}

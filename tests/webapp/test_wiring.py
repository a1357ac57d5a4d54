"""How the app is put together: every area's blueprint is registered by name."""

from __future__ import annotations

from pathlib import Path

import webapp
from webapp import blueprints


def test_every_area_with_a_blueprint_is_registered(app):
    """An area package (a folder of webapp/ whose __init__ makes ``bp``) that is not in
    ``blueprints()`` would leave its pages out silently."""
    root = Path(webapp.__file__).parent
    areas = {
        folder.name
        for folder in root.iterdir()
        if (folder / "__init__.py").is_file()
        and "bp = Blueprint(" in (folder / "__init__.py").read_text(encoding="utf-8")
    }
    registered = {bp.import_name.split(".")[1] for bp in blueprints()}
    assert areas and areas == registered
    assert registered <= {bp.import_name.split(".")[1] for bp in app.blueprints.values()}

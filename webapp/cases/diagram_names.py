"""A deployed diagram as a case page shows it: names in the page's language.

The bundled diagrams name their elements in both languages ("签收 Sign for") and their lanes by
role code ("handler": the code routes the lane's tasks to that role). The viewer draws what
the XML says, so the XML sent to it carries the page's half of each bilingual name and the
role's label on each lane. The stored definition is not changed (a designer edits both
halves); only what is drawn is.
"""

from __future__ import annotations

from flask_babel import gettext as _
from lxml import etree

from engine.xmlsafe import parse_bytes

from .labels import bilingual

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def role_labels() -> dict[str, str]:
    """Each role's name as people say it (the lanes are named by role code)."""
    return {
        "operator": _("Operator"),
        "dispatcher": _("Dispatcher"),
        "handler": _("Handler"),
        "supervisor": _("Supervisor"),
        "callback": _("Callback agent"),
        "lead": _("Centre lead"),
        "admin": _("Administrator"),
        "auditor": _("Auditor"),
        "qa": _("Quality reviewer"),
    }


def shown_diagram(xml: str | bytes, lang: str) -> bytes:
    """``xml`` with each BPMN element's name in ``lang`` and each lane named by its role."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    tree = parse_bytes(data, max_bytes=max(len(data), 1))
    roles = role_labels()
    for element in tree.iter(f"{{{BPMN}}}*"):
        name = element.get("name")
        if not name or etree.QName(element).localname == "property":
            continue
        if etree.QName(element).localname == "lane" and name.lower() in roles:
            element.set("name", roles[name.lower()])
        else:
            element.set("name", bilingual(name, lang))
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")

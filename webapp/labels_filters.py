"""Filters that show codes and bilingual names by their label in the page's language."""

from __future__ import annotations

from .i18n import lang


def bilingual_name(name: str | None) -> str:
    """The page's half of a diagram's bilingual name ("签收 Sign for")."""
    from .cases.labels import bilingual

    return bilingual(name, lang())


def role_label(code: str | None) -> str:
    """A role (or a lane named by its role) by its name; other lane names as they are."""
    from .cases.diagram_names import role_labels

    if not code:
        return ""
    return role_labels().get(code.lower(), bilingual_name(code))


def case_type_label(code: str | None) -> str:
    """A case type (a definition's key) by its name; other keys as they are."""
    from .hotline import get_hotline

    if not code:
        return ""
    return get_hotline().case_types.labels(lang()).get(code, code)

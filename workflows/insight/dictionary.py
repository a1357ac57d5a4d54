"""The centre's dictionary (``Term``), kept by administrators: place names and terms the
segmenter keeps whole, stop words it never counts."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from workflows.errors import FormInvalid

from .models import TERM_KINDS, Term

#: a word: letters (any script), digits, and the few joiners names use; no spaces
_WORD = re.compile(r"[\w·\-]+")


def terms(session: Session) -> list[Term]:
    return list(session.scalars(select(Term).order_by(Term.kind, Term.word)))


def add_term(session: Session, *, word: str, kind: str, actor: str, clock: Clock) -> Term:
    """Add a word to the dictionary; ``FormInvalid`` per field for a bad word or kind or a
    word already there."""
    word = (word or "").strip()
    errors: dict[str, list[str]] = {}
    if not word:
        errors["word"] = ["required"]
    elif len(word) > 40:
        errors["word"] = ["at most 40 characters"]
    elif not _WORD.fullmatch(word):
        errors["word"] = ["one word: letters and digits, no spaces or punctuation"]
    elif session.scalar(select(Term.id).where(Term.word == word)) is not None:
        errors["word"] = ["already in the dictionary"]
    if kind not in TERM_KINDS:
        errors["kind"] = [f"one of {', '.join(TERM_KINDS)}"]
    if errors:
        raise FormInvalid(errors)
    term = Term(word=word, kind=kind, created_by=actor, created_at=clock.now())
    session.add(term)
    session.flush()
    return term


def delete_term(session: Session, term_id: int) -> Term | None:
    """Remove a word; None if there is none with that id."""
    term = session.get(Term, term_id)
    if term is not None:
        session.delete(term)
        session.flush()
    return term


def seed_demo_terms(session: Session, *, words: dict[str, str], actor: str, clock: Clock) -> int:
    """Words not yet in the dictionary (idempotent); returns how many were added."""
    known = set(session.scalars(select(Term.word)))
    added = 0
    for word, kind in words.items():
        if word not in known:
            session.add(Term(word=word, kind=kind, created_by=actor, created_at=clock.now()))
            added += 1
    session.flush()
    return added

"""Safe XML reading for uploaded BPMN: a size limit, no DTDs, no entities, no network.

Two passes. ``defusedxml`` (the well-known guard) vets the bytes and refuses any DTD, entity
declaration or external reference, with an exception that names the attack. Only then does lxml
parse the document (with entity resolution and network access off as a second belt), because
SpiffWorkflow needs an lxml tree and lxml gives line numbers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import defusedxml
import defusedxml.ElementTree as DET
from lxml import etree

#: Default upload limit; a real case-type diagram is a few hundred KB at most.
DEFAULT_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class XmlProblem:
    """Why a document could not be read, and where."""

    message: str
    line: int | None = None


class UnsafeXml(Exception):
    def __init__(self, problem: XmlProblem) -> None:
        self.problem = problem
        super().__init__(problem.message)


def read_limited(path: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a file, refusing (before reading) one larger than ``max_bytes``."""
    size = os.stat(path).st_size
    if size > max_bytes:
        raise UnsafeXml(XmlProblem(_too_large(size, max_bytes)))
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:  # the file grew while we read it
        raise UnsafeXml(XmlProblem(_too_large(len(data), max_bytes)))
    return data


def _too_large(size: int, limit: int) -> str:
    return f"file is {size / 1048576:.1f} MB, larger than the {limit / 1048576:.1f} MB limit"


_LXML_PARSER_OPTIONS = dict(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=False,
)


def parse_bytes(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._ElementTree:
    """Parse untrusted XML into an lxml tree, or raise :class:`UnsafeXml` saying why."""
    if len(data) > max_bytes:
        raise UnsafeXml(XmlProblem(_too_large(len(data), max_bytes)))
    if not data.strip():
        raise UnsafeXml(XmlProblem("file is empty", 1))
    try:
        DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except defusedxml.DTDForbidden:
        raise UnsafeXml(
            XmlProblem("DOCTYPE declarations are not allowed in BPMN files (XML entity attacks)", 1)
        ) from None
    except defusedxml.EntitiesForbidden as exc:
        raise UnsafeXml(
            XmlProblem(f"entity declarations are not allowed (entity {exc.name!r})", 1)
        ) from None
    except defusedxml.ExternalReferenceForbidden:
        raise UnsafeXml(XmlProblem("external references are not allowed", 1)) from None
    except DET.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise UnsafeXml(XmlProblem(f"malformed XML: {_clean(str(exc))}", line)) from None
    except (ValueError, TypeError, LookupError) as exc:  # e.g. an unknown encoding
        raise UnsafeXml(XmlProblem(f"malformed XML: {exc}", 1)) from None
    parser = etree.XMLParser(**_LXML_PARSER_OPTIONS)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml(XmlProblem(f"malformed XML: {_clean(exc.msg)}", exc.lineno)) from None
    return root.getroottree()


def _clean(message: str) -> str:
    return message.split(": line ")[0].strip()

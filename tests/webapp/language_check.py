"""What a page says, and which of it is in the wrong language: the checks of the page walk.

``visible_text`` reads what a user sees of an HTML page (text, the attributes a browser
shows: title, placeholder, aria-label, alt, a button's value, and those whose text the page's
scripts show: ``data-msg-*``, ``data-confirm``...), leaving out scripts, styles,
code samples (``code``, ``pre``, ``kbd``, ``samp``) and anything marked ``translate="no"``.
``problems`` lists every string a page in ``lang`` should not show: English words on a Chinese
page, Chinese on an English page, and on both raw codes (snake_case identifiers, department
codes, ISO timestamps) that belong behind a label or the ``local`` filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

#: elements whose content is not text a user reads as a sentence of the page
SKIPPED = {"script", "style", "code", "pre", "kbd", "samp", "template", "textarea"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip
SHOWN_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
#: attributes whose text the page's scripts show (a confirmation, a status line, a picker's
#: labels): the scripts take every sentence they show from these, translated server-side
SCRIPT_TEXT = re.compile(
    r"data-(?:msg|text|label)-[a-z-]+|data-[a-z-]*label|data-confirm"
    r"|data-error|data-none-chosen|data-no-match"
)
BUTTON_TYPES = {"submit", "button", "reset"}

#: names and abbreviations a Chinese page writes in Latin letters
ALLOWED_WORDS = {
    "Open311", "BPMN", "KPI", "KPIs", "CSV", "PDF", "SMS", "XML", "JSON", "API", "URL", "ID",
    "GeoJSON", "TOTP", "IVR", "PBX", "HTTP", "HTTPS", "UTC", "Excel", "App", "OpenAPI",
    "bpmn", "xml", "json", "csv", "pdf", "geojson", "TF", "IDF", "TF-IDF", "SVG", "PNG", "JPEG",
    "MB", "KB", "GB", "IP", "QR", "SHA", "SMTP", "ASCII", "Webhook", "JavaScript", "Jinja",
    "Google", "Microsoft", "Authenticator", "FreeOTP", "Ctrl", "Enter", "Esc", "POST", "GET",
    "holidays",  # the library the calendar is seeded from
    "FeatureCollection", "Polygon", "MultiPolygon",  # GeoJSON's types, as a map file names them
}  # fmt: skip

WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'’][A-Za-z]+)*")
#: what a sentence quotes rather than says: a template's syntax, a command in backticks, a
#: URL, a file of the docs, a program's name/version (a session's browser), a setting's name
QUOTED = re.compile(
    r"\{\{.*?\}\}|\{%.*?%\}|\{[a-z_]+\}|`[^`]*`|\bYYYY-MM(?:-DD)?\b|https?://\S+|\b[\w./-]+\.(?:md|bpmn|json|csv|pdf)\b"
    r"|\b[A-Za-z]+/[\d.]+\b|\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b"
    r"|“[a-z_]+”"  # a property's name, quoted: “code”
    r"|\b[a-z_]+(?:\.[a-z_]+)+\b"  # an audit action (personal.view), as auditors filter
)
#: an identifier with digits in it (a case number, a call's id): not a word
NUMBERED = re.compile(r"[A-Za-z0-9-]*\d{3,}[A-Za-z0-9-]*")
VERSION = re.compile(r"v\d+")
CJK_RUN = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01-\uff5e]+")
CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
SNAKE = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/])")
DEPARTMENT_CODE = re.compile(r"(?<![\w-])[A-Z]{1,4}-[A-Z]{2,}(?:-[A-Z0-9]+)*(?![\w-])")
ISO_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}[\d:.]*(?:Z|[+-]\d{2}:\d{2})?"
    r"|\d{2}:\d{2}:\d{2}\.\d{3,}"
    r"|\d{2}:\d{2}(?::\d{2})?\+00:00"
)


class _Text(HTMLParser):
    def __init__(self, lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = lang
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []  # (tag, hidden)

    @property
    def hidden(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        hidden = (
            self.hidden
            or tag in SKIPPED
            or values.get("translate") == "no"
            # the language switch says "English" on a Chinese page, marked lang="en"
            or (values.get("lang") or self.lang).split("-")[0].lower() != self.lang
        )
        if not hidden:
            for name in SHOWN_ATTRIBUTES:
                if values.get(name):
                    self.parts.append(values[name])
            for name, value in attrs:
                if value and SCRIPT_TEXT.fullmatch(name):
                    self.parts.append(value)
            if tag == "input" and (values.get("type") or "").lower() in BUTTON_TYPES:
                self.parts.append(values.get("value") or "")
        if tag not in VOID:
            self.stack.append((tag, hidden))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        # pop to the matching open tag (HTML lets some end tags be left out)
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                return

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.parts.append(data)


def visible_text(html: str, lang: str) -> list[str]:
    """The pieces of text a user sees on a page in ``lang``, in order (less what is marked
    as in another language, ``lang="en"`` on a Chinese page)."""
    parser = _Text(lang)
    parser.feed(html)
    parser.close()
    return [" ".join(p.split()) for p in parser.parts if p.strip()]


@dataclass
class Data:
    """What users typed (descriptions, names, codes): it may be in any language. English
    words of it are allowed on a Chinese page, and Chinese that is part of a typed value on an
    English page."""

    words: set[str] = field(default_factory=set)
    chinese: list[str] = field(default_factory=list)

    def add(self, value: str) -> None:
        self.words.update(WORD.findall(value))
        self.words.update(re.findall(r"[A-Za-z0-9_]+", value))  # user names: h_mr
        if CJK_CHAR.search(value):
            self.chinese.append(value)

    def typed_chinese(self, run: str) -> bool:
        """Whether ``run`` is part of something typed (a topic's words are cut from the
        descriptions)."""
        if not hasattr(self, "_joined"):
            self._joined = "\n".join(self.chinese)
        return run in self._joined


def problems(texts: list[str], lang: str, data: Data) -> list[str]:
    """Every string of ``texts`` that a page in ``lang`` should not show (each once)."""
    found: dict[str, None] = {}
    for shown in texts:
        text = QUOTED.sub(" ", shown)
        for match in ISO_TIME.findall(text):
            found[f"raw time {match!r}"] = None
        text = NUMBERED.sub(" ", ISO_TIME.sub(" ", text))
        for match in SNAKE.findall(text):
            if match not in data.words:
                found[f"raw code {match!r}"] = None
        for match in DEPARTMENT_CODE.findall(text):
            if match not in data.words:
                found[f"department code {match!r}"] = None
        if lang == "zh":
            words = DEPARTMENT_CODE.sub(" ", SNAKE.sub(" ", text))
            for word in WORD.findall(words):
                if word in ALLOWED_WORDS or word in data.words:
                    continue
                if VERSION.fullmatch(word):  # v2: a diagram's version, as designers write it
                    continue
                found[f"English {word!r} in {shown[:80]!r}"] = None
        else:
            for run in CJK_RUN.findall(text):
                if not CJK_CHAR.search(run) or data.typed_chinese(run):
                    continue
                found[f"Chinese {run!r} in {shown[:80]!r}"] = None
    return list(found)

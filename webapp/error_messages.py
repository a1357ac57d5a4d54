"""The domain's refusals in the page's language.

``workflows/`` and ``engine/`` raise their errors in English (they know no request and no
language); the web layer shows them translated. Each message pattern below is the English
text of a ``raise`` with its variable parts named, and is its own msgid: the Chinese is in
``webapp/translations/zh/LC_MESSAGES/messages.po``. A message that matches no pattern is
looked up whole (fixed messages) and shown as it is if it has no translation.
"""

from __future__ import annotations

import re
from functools import cache

from flask_babel import gettext

#: the English text of the domain's refusals, with %(name)s for what varies
PATTERNS = (
    "function %(function)s is not allowed in %(source)s (allowed: %(known)s)",
    "name %(name)s is not allowed in %(source)s",
    "attribute %(attr)s is not allowed in %(source)s",
    "method %(method)s is not allowed in %(source)s",
    "only named functions may be called in %(source)s",
    "cannot assign to %(target)s in %(source)s",
    "does not parse: %(problem)s in %(source)s",
    "expression is empty",
    "value is empty",
    "the diagram has no process %(process)s",
    "%(code)s is a case type already",
    "process %(process)s is deployed already: do not copy",
    "no process %(process)s is deployed: deploy its diagram first, or copy another type's",
    "no process %(process)s is deployed",
    "form %(form)s has fields the intake form has already: %(fields)s",
    "the copy does not deploy: %(problem)s",
    "form %(form)s: %(problem)s",
    "task %(task)s of case %(number)s is already claimed by %(user)s",
    "task %(task)s of case %(number)s is claimed by %(user)s",
    "claimed by %(user)s",
    "closed (%(state)s)",
    "not waiting for the signal",
    "changed concurrently",
    "changed by someone else",
    "the deadline timer %(timer)s fired first and took the case past %(task)s",
    "%(task)s was already completed",
    "%(task)s was cancelled (a deadline or another path took the case on)",
    "%(task)s is not ready (%(state)s)",
    "cannot complete %(task)s: %(what)s; your input was kept in the case history",
    "case %(number)s does not exist",
    "task %(task)s does not exist",
    "user %(user)s does not exist",
    "appeal %(appeal)s does not exist",
    "article %(article)s does not exist",
    "saved view %(view)s does not exist",
    "deadline policy %(policy)s does not exist",
    "dispatch rule %(rule)s does not exist",
    "department %(department)s does not exist",
    "definition %(definition)s does not exist",
    "instance %(instance)s does not exist",
    "message %(message)s does not exist",
    "token %(token)s does not exist",
    "channel %(channel)s does not exist",
    "callback task %(callback)s does not exist",
    "SMS reply %(reply)s does not exist",
    "the diagram of case %(number)s is missing",
    "no definition with key %(key)s is deployed",
    "%(key)s has no version %(version)s",
    "no sampled case %(sample)s",
    "no dispute %(dispute)s",
    "no review %(review)s",
    "task %(task)s is %(state)s, not waiting any more",
    "task %(task)s has no form",
    "task %(task)s is claimed by %(user)s, not by you",
    "%(user)s may not act on %(task)s of case %(number)s",
    "%(user)s may not create tokens for %(other)s",
    "case %(number)s is %(status)s: only open cases merge",
    "case %(number)s is itself merged into another case",
    "a case cannot be merged into itself",
    "only dispatchers and supervisors merge cases",
    "only the case being recorded is merged at intake",
    "only supervisors chase cases and send supervision orders",
    "only the handlers of a department appeal its cases",
    "only supervisors and the centre's leads review appeals",
    "a default row cannot be deleted",
    "message %(message)s has no delivery to retry",
    "this dispute was decided already (%(status)s)",
    "callback task %(callback)s is closed (%(state)s)",
    "already %(status)s",
    "case type %(type)s runs the diagram %(process)s, which is not deployed: run `hotline init` "
    "(or deploy it on the admin pages)",
    "no dispatch platform is configured (a department with is_platform and no parent); run "
    "`hotline init --demo` or add one",
    "case %(number)s: the diagram moved it from %(old)s to %(new)s, which the status table does "
    "not allow",
    "message %(message)s is %(status)s: only failed messages and incidents are retried",
    "the case changed since you loaded it (version %(old)s, now %(new)s); reload it and try again",
    "instance %(instance)s is %(status)s, not running",
    "instance %(instance)s was changed by another transaction; nothing was saved",
    "instance %(instance)s is not waiting for the signal %(signal)s",
    "instance %(instance)s changed while it was being moved; try again",
    "another deployment of %(file)s happened at the same time; try again",
)
#: refusals no page shows (the simulator's, the engine's own consistency checks)
NOT_SHOWN = (
    "no active callback agent (role callback) to call the citizen back",
    "expected a date-time in process data, got %(type)s",
    "the stored document has no process %(key)s",
)


@cache
def _compiled() -> list[tuple[re.Pattern[str], str]]:
    compiled = []
    for pattern in PATTERNS:
        parts = re.split(r"%\((\w+)\)s", pattern)
        regex = "".join(
            re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)"
            for index, part in enumerate(parts)
        )
        compiled.append((re.compile(f"^{regex}$"), pattern))
    return compiled


def _shown(name: str, value: str) -> str:
    """A value of a refusal as pages show it: a person by display name, a task by the page's
    half of its bilingual name, a nested message translated."""
    from .cases.labels import bilingual
    from .i18n import lang
    from .people import person

    value = value.strip("'\"")
    if name in ("user", "other"):
        return person(value)
    if name == "what":
        return translated(value) or value
    return bilingual(value, lang())


def translated(message: str | None) -> str | None:
    """``message`` (an English refusal of the domain) in the request's language."""
    if not message:
        return message
    for regex, pattern in _compiled():
        match = regex.match(message)
        if match:
            return gettext(pattern, **{k: _shown(k, v) for k, v in match.groupdict().items()})
    return gettext(message)


def said(message):
    """A note or reason the engine wrote (``engine.instance_moves.Said``) in the page's
    language: its elements by name (the language's half of a bilingual name), its times in
    the hotline's zone; anything else as :func:`translated`."""
    from engine.instance_moves import Element

    from .cases.labels import bilingual
    from .i18n import lang, local_time

    def shown(value):
        if isinstance(value, Element):
            if value.boundary:
                return gettext("the boundary events of %(element)s", element=value.element_id)
            return bilingual(value.name, lang()) or value.element_id
        if hasattr(value, "astimezone"):
            return local_time(value)
        if isinstance(value, str):
            return bilingual(value, lang())
        return value

    if isinstance(message, Element):
        return shown(message)
    template = getattr(message, "template", None)
    if template is None:
        return translated(str(message))
    return gettext(template, **{k: shown(v) for k, v in message.values.items()})

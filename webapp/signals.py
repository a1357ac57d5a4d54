"""In-process signals (blinker, as Flask's own): one part of the app announces, others listen.

Sign-in announces its outcomes here; the audit log and the metrics listen, so neither the
sign-in code nor they import one another. Every signal is sent with the Flask app as sender
(``current_app._get_current_object()``) and keyword arguments only.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: a sign-in was refused. kwargs: ``username`` (as typed), ``ip``, ``reason``
#: (``"wrong"``: bad credentials or unknown user; ``"throttled"``: refused before checking;
#: ``"inactive"``; ``"second_factor"``: the TOTP code was wrong)
sign_in_failed = _signals.signal("sign-in-failed")

#: a user signed in. kwargs: ``user`` (workflows.users.models.User), ``ip``
signed_in = _signals.signal("signed-in")

#: a user signed out, or their sessions were ended. kwargs: ``user_id``, ``reason``
#: (``"logout"``, ``"password_changed"``, ``"deactivated"``, ``"idle"``, ``"expired"``,
#: ``"revoked"``), ``sessions`` (how many sessions ended)
sessions_ended = _signals.signal("sessions-ended")

"""Calls from the centre's phone system: events, operators' states, missed-call callbacks,
the on-duty lead's board and the call KPIs (docs/calls.md)."""

"""Supervision (督办) a supervisor starts on any open case: chase notices and supervision
orders, one case or many at once."""

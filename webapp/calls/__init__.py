"""Calls from the phone system: each page's module has its own blueprint (registered in
``webapp/__init__.py``)."""

"""The channels messages leave by: each a small adapter behind :class:`base.Sender`."""

"""API access: per-user tokens and idempotency records of POST requests."""

"""In-app notifications to departments, delivered through the outbox."""

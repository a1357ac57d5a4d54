"""The audit log: who saw, revealed or exported whose personal data, and every administrative
change; append-only, hash-chained (``service.verify``)."""

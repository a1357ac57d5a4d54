"""Demo data loader (replaced by the hotline domain's simulator)."""

from collections.abc import Iterator


def load() -> Iterator[str]:
    yield "demo data: nothing to load yet"

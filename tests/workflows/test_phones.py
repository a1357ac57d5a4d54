"""Phone numbers in one stored form: one caller however the number was written."""

import pytest

from workflows.cases.phones import canonical_phone


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("13902231234", "13902231234"),
        ("+86 139 0223 1234", "13902231234"),
        ("139-0223-1234", "13902231234"),
        ("0086 13902231234", "13902231234"),
        ("8613902231234", "13902231234"),
        ("+86-139-0223-1234", "13902231234"),
        ("(139) 0223 1234", "13902231234"),
        (" 139 0223 1234 ", "13902231234"),
        ("0750-1234567", "07501234567"),
        ("(0750) 1234567", "07501234567"),
        ("0750 123 4567", "07501234567"),
        ("+86 750 1234567", "07501234567"),
        ("0750-1234567-801", "07501234567-801"),
        ("12345", "12345"),
        ("95598", "95598"),
        ("", ""),
        (None, ""),
        # parts of a number, as a search gets them: separators go, digits stay
        ("0223 1234", "02231234"),
        ("139-0223", "1390223"),
        ("86", "86"),
    ],
)
def test_one_stored_form(written, stored):
    assert canonical_phone(written) == stored
    assert canonical_phone(stored) == stored  # stored numbers stay as they are

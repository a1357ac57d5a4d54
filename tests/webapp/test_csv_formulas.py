"""A citizen's text never becomes a spreadsheet formula in a CSV export (issue 15, item 1)."""

from __future__ import annotations

import pytest

from tests.webapp.test_cases_pages import open_case, parse_csv
from webapp.pagination import FORMULA_STARTS, spreadsheet_safe

HOSTILE = {
    "caller_name": '=HYPERLINK("http://x.example","点我")',
    "address": "+1+cmd|' /C calc'!A0",
    "description": "@SUM(1+1)*cmd|' /C calc'!A0 小区噪音",
}


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_every_formula_start_is_kept_as_text(start):
    assert spreadsheet_safe(f"{start}1+1") == f"'{start}1+1"


def test_other_cells_are_unchanged():
    assert spreadsheet_safe("张三") == "张三"
    assert spreadsheet_safe("13800138000") == "13800138000"
    assert spreadsheet_safe(-3) == -3 and spreadsheet_safe(2.5) == 2.5
    assert spreadsheet_safe(None) == ""
    assert spreadsheet_safe("a=b") == "a=b"  # only the first character starts a formula


# the operator exports callers in full (a supervisor gets them masked: docs/privacy.md)
@pytest.mark.parametrize(("path", "role"), [("/cases", "operator"), ("/queues", "dispatcher")])
def test_exports_show_hostile_text_as_text(hotline_app, as_role, path, role):
    number = open_case(hotline_app, urgency="critical", **HOSTILE)
    rows = parse_csv(as_role(role).get(f"{path}?format=csv"))
    cells = [cell for row in rows for cell in row]
    assert any(number in cell for cell in cells), "the case is in the export"
    assert not any(cell.startswith(FORMULA_STARTS) for cell in cells), path
    if path == "/cases":
        [row] = [r for r in rows if r and r[0] == number]
        for value in HOSTILE.values():
            assert "'" + value in row

"""The intake page and the dispatch task show the dispatch model's top three units with their
confidence beside the catalogue's suggestion; without a usable model, a note."""

from __future__ import annotations

import re

from sqlalchemy import update

from tests.webapp.learned_model import NIGHT_WORKS, store_model
from tests.webapp.test_inbox import ready_task
from tests.webapp.test_intake import open_case
from webapp.extensions import db
from workflows.departments.models import Department


def units(html: str) -> list[tuple[str, int]]:
    """(code, percent) of the learned suggestions on a page, in order."""
    found = re.findall(
        r'class="learned-unit" data-code="([^"]+)">.*?class="confidence">(\d+)%', html, re.S
    )
    return [(code, int(p)) for code, p in found]


def fallback(html: str) -> str:
    match = re.search(r'class="hint learned-fallback" data-reason="([^"]*)"', html)
    return match.group(1) if match else ""


def test_intake_without_a_model_shows_the_catalogue_and_a_note(hotline_app, as_role):
    html = as_role("operator").get("/intake").get_data(as_text=True)
    assert "历史派单参考" in html and 'id="suggestion"' in html
    assert fallback(html) == "no_model" and "尚未训练派单模型" in html
    assert units(html) == []


def test_intake_shows_three_units_as_the_operator_types(hotline_app, as_role):
    store_model(hotline_app)
    client = as_role("operator")
    page = client.get("/intake").get_data(as_text=True)
    assert fallback(page) == "empty"  # nothing typed yet
    html = client.get("/dispatch-model/learned", query_string=NIGHT_WORKS).get_data(as_text=True)
    shown = units(html)
    assert len(shown) == 3 and shown[0][0] == "B-HU"
    assert [p for _, p in shown] == sorted((p for _, p in shown), reverse=True)
    assert "住房和城乡建设局" in html
    english = client.get(
        "/dispatch-model/learned", query_string=NIGHT_WORKS, headers={"Accept-Language": "en"}
    )
    assert "Housing and Urban-Rural Development Bureau" in english.get_data(as_text=True)


def test_the_dispatch_task_shows_the_model_beside_the_catalogue(hotline_app, as_role):
    store_model(hotline_app)
    number = open_case(hotline_app, **NIGHT_WORKS)
    path = f"/tasks/{ready_task(hotline_app, number, 'dispatch')}"
    html = as_role("dispatcher").get(path).get_data(as_text=True)
    # the catalogue's unit for noise stays beside the model's
    assert "派单目录建议： <strong>城市管理和综合执法局</strong>" in html
    shown = units(html)
    assert len(shown) == 3 and shown[0][0] == "B-HU"
    # a unit made inactive is no longer suggested
    with hotline_app.app_context():
        db.session.execute(update(Department).where(Department.code == "B-HU").values(active=False))
        db.session.commit()
    html = as_role("dispatcher").get(path).get_data(as_text=True)
    assert "B-HU" not in [code for code, _ in units(html)] and len(units(html)) >= 1


def test_a_stale_model_leaves_only_the_catalogue(hotline_app, as_role):
    store_model(hotline_app, age_days=45)
    number = open_case(hotline_app, **NIGHT_WORKS)
    path = f"/tasks/{ready_task(hotline_app, number, 'dispatch')}"
    html = as_role("dispatcher").get(path).get_data(as_text=True)
    assert units(html) == [] and fallback(html) == "stale" and "派单模型已过期" in html

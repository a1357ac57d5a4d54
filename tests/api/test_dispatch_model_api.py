"""/api/v1/dispatch-model: the active model's date and figures, and its top three units."""

from __future__ import annotations

from tests.webapp.learned_model import NIGHT_WORKS, store_model

PREDICT = "/api/v1/dispatch-model/predict"


def test_without_a_model_there_is_nothing_to_suggest(api):
    client = api("dispatcher")
    missing = client.get("/api/v1/dispatch-model")
    assert missing.status_code == 404 and "no dispatch model" in missing.json["message"]
    answer = client.post(PREDICT, json=NIGHT_WORKS)
    assert answer.status_code == 200
    assert answer.json == {"model_id": None, "units": [], "reason": "no_model"}


def test_the_active_model_and_its_three_units(api, hotline_app):
    model_id = store_model(hotline_app)
    client = api("operator")
    about = client.get("/api/v1/dispatch-model").json
    assert about["id"] == model_id and about["cases"] == 800 and about["trained_by"] == "tests"
    assert about["metrics"]["top1"] == 0.9
    answer = client.post(PREDICT, json=NIGHT_WORKS).json
    assert answer["model_id"] == model_id and answer["reason"] == ""
    units = answer["units"]
    # the catalogue says the urban management bureau for noise; the words say the works
    assert [u["code"] for u in units][0] == "B-HU" and len(units) == 3
    assert units[0]["name"] == "住房和城乡建设局"
    confidences = [u["confidence"] for u in units]
    assert confidences == sorted(confidences, reverse=True) and sum(confidences) <= 1.0001
    shop = client.post(
        PREDICT, json={**NIGHT_WORKS, "description": "服装店门口用大喇叭循环播放广告"}
    )
    assert shop.json["units"][0]["code"] == "B-UM"


def test_bad_input_names_the_fields(api):
    client = api("dispatcher")
    bad = client.post(PREDICT, json={"category": "x" * 65, "colour": "red"})
    assert bad.status_code == 422
    assert set(bad.json["errors"]) >= {"description", "category", "colour"}
    empty = client.post(PREDICT, json={"description": ""})
    assert empty.status_code == 422 and "description" in empty.json["errors"]


def test_a_stale_model_is_not_used(api, hotline_app):
    store_model(hotline_app, age_days=45)
    answer = api("dispatcher").post(PREDICT, json=NIGHT_WORKS).json
    assert answer["units"] == [] and answer["reason"] == "stale"


def test_departments_handlers_may_not_ask(api):
    client = api("handler")
    assert client.get("/api/v1/dispatch-model").status_code == 403
    assert client.post(PREDICT, json=NIGHT_WORKS).status_code == 403

"""The centre's areas and dictionary, kept by administrators: GeoJSON boundaries checked
whole before anything is stored, populations, and the dictionary's words."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from engine.db import unit_of_work
from tests.webapp.pages import csrf_token
from webapp.cli import cli
from webapp.extensions import db
from webapp.hotline import get_hotline
from workflows.insight.areas import (
    DEMO_GEOJSON,
    MAX_GEOJSON_BYTES,
    SHADES,
    GeoJSONInvalid,
    legend,
    parse_geojson,
    seed_demo_areas,
    shade_of,
)
from workflows.insight.models import Area, Term

SQUARE = [[[113.0, 22.5], [113.1, 22.5], [113.1, 22.6], [113.0, 22.6], [113.0, 22.5]]]


def feature(code="D-PJ", geometry=None, **props):
    return {
        "type": "Feature",
        "properties": {"code": code, **props},
        "geometry": geometry or {"type": "Polygon", "coordinates": SQUARE},
    }


def collection(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


@pytest.fixture
def admin(hotline_app, as_role):
    with hotline_app.app_context(), unit_of_work(db.session):
        seed_demo_areas(db.session, clock=get_hotline().clock)
    client = as_role("admin")
    with client.session_transaction() as session:
        session["lang"] = "en"  # the messages below are the English ones
    return client


def upload(client, data: bytes, **form):
    token = csrf_token(client, "/insight/admin/areas")
    return client.post(
        "/insight/admin/areas/geojson",
        data={
            "csrf_token": token,
            "file": (io.BytesIO(data), "areas.geojson"),
            **form,
        },
        content_type="multipart/form-data",
    )


def geometries(app) -> dict:
    with app.app_context():
        return {a.code: a.geometry for a in db.session.scalars(select(Area))}


def test_a_good_file_sets_each_areas_boundary(hotline_app, admin):
    data = collection(
        feature("D-PJ"),
        feature(
            None,
            name="江海区",
            geometry={"type": "MultiPolygon", "coordinates": [SQUARE]},
        ),
    )
    response = upload(admin, data)
    assert response.status_code == 302
    shapes = geometries(hotline_app)
    assert shapes["D-PJ"] == {"type": "Polygon", "coordinates": SQUARE}
    assert shapes["D-JH"]["type"] == "MultiPolygon"


@pytest.mark.parametrize(
    "data, message",
    [
        (b"{not json", "Not a JSON file"),
        (json.dumps({"type": "Feature"}).encode(), "Not a GeoJSON FeatureCollection"),
        (
            collection(
                feature("D-PJ"),
                {
                    "type": "Feature",
                    "properties": {},
                    "geometry": {"type": "Polygon", "coordinates": SQUARE},
                },
            ),
            "Feature 2: The feature has no property &#39;code&#39;",
        ),
        (collection(feature("D-PJ"), feature("D-ZZ")), "No area has the code D-ZZ"),
        (
            collection(
                feature("D-PJ"), feature("D-XH", {"type": "Point", "coordinates": [113, 22]})
            ),
            "The geometry is Point",
        ),
        (
            collection(
                feature(
                    "D-PJ",
                    {
                        "type": "Polygon",
                        "coordinates": [
                            [[213.0, 22.5], [113.1, 22.5], [113.1, 22.6], [213.0, 22.5]]
                        ],
                    },
                )
            ),
            "A position out of range",
        ),
    ],
)
def test_a_bad_file_changes_nothing_and_says_why(hotline_app, admin, data, message):
    before = geometries(hotline_app)
    response = upload(admin, data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html, html[html.find("geojson-problems") :][:600]
    assert geometries(hotline_app) == before


def test_an_unknown_area_may_be_created(hotline_app, admin):
    assert upload(admin, collection(feature("D-NEW")), create="1").status_code == 302
    assert geometries(hotline_app)["D-NEW"]["type"] == "Polygon"


def test_the_demo_file_is_valid_and_seeded(hotline_app, admin):
    shapes = geometries(hotline_app)
    assert set(shapes) == {"D-PJ", "D-JH", "D-XH"} and all(shapes.values())
    assert upload(admin, DEMO_GEOJSON.read_bytes()).status_code == 302


def test_population_is_checked_per_field(hotline_app, admin):
    token = csrf_token(admin, "/insight/admin/areas")
    bad = admin.post(
        "/insight/admin/areas/D-PJ",
        data={"csrf_token": token, "name": "蓬江区", "population": "-5"},
    )
    assert bad.status_code == 400 and "field-error" in bad.get_data(as_text=True)
    good = admin.post(
        "/insight/admin/areas/D-PJ",
        data={
            "csrf_token": token,
            "name": "蓬江区",
            "name_en": "Pengjiang",
            "population": "1200000",
        },
    )
    assert good.status_code == 302
    with hotline_app.app_context():
        area = db.session.get(Area, "D-PJ")
        assert (area.name, area.population) == ("蓬江区", 1_200_000)


def test_the_dictionary(hotline_app, admin):
    token = csrf_token(admin, "/insight/admin/terms")
    assert (
        admin.post(
            "/insight/admin/terms", data={"csrf_token": token, "word": "紫菜", "kind": "term"}
        ).status_code
        == 302
    )
    again = admin.post(
        "/insight/admin/terms", data={"csrf_token": token, "word": "紫菜", "kind": "place"}
    )
    assert again.status_code == 400 and "Already in the dictionary" in again.get_data(as_text=True)
    for data in (
        {"word": "two words", "kind": "term"},
        {"word": "词", "kind": "noun"},
        {"word": "", "kind": "term"},
    ):
        assert (
            admin.post("/insight/admin/terms", data={"csrf_token": token, **data}).status_code
            == 400
        )
    with hotline_app.app_context():
        term = db.session.scalars(select(Term).where(Term.word == "紫菜")).one()
        assert term.kind == "term" and term.created_by == "admin"
        assert db.session.scalar(select(Term.id).where(Term.word == "词")) is None
    assert (
        admin.post(f"/insight/admin/terms/{term.id}/delete", data={"csrf_token": token}).status_code
        == 302
    )
    with hotline_app.app_context():
        assert db.session.scalar(select(Term.id).where(Term.word == "紫菜")) is None


def test_a_file_too_large_is_refused_before_it_is_read():
    with pytest.raises(GeoJSONInvalid) as refused:
        parse_geojson(b" " * (MAX_GEOJSON_BYTES + 1), known={"D-PJ": ""})
    assert [p.kind for p in refused.value.problems] == ["too_large"]


def test_the_cli_imports_a_file_or_says_what_is_wrong(hotline_app, runner, tmp_path):
    good, bad = tmp_path / "good.geojson", tmp_path / "bad.geojson"
    good.write_bytes(collection(feature("D-PJ")))
    bad.write_bytes(collection(feature("D-JH"), feature("D-ZZ")))
    with hotline_app.app_context(), unit_of_work(db.session):
        seed_demo_areas(db.session, clock=get_hotline().clock)
    before = geometries(hotline_app)
    result = runner.invoke(cli, ["insight", "import-areas", str(bad)])
    assert result.exit_code == 1 and "unknown_area: D-ZZ" in result.output
    assert geometries(hotline_app) == before
    result = runner.invoke(cli, ["insight", "import-areas", str(good)])
    assert result.exit_code == 0, result.output
    assert geometries(hotline_app)["D-PJ"] == {"type": "Polygon", "coordinates": SQUARE}


@pytest.mark.parametrize("low, high", [(92, 113), (1, 3), (1, 1), (1, 100), (3, 7)])
def test_every_count_has_its_colour_in_the_legend(low, high):
    rows = legend(low, high)
    assert shade_of(0, low, high) == 0 and rows[0] == (0, 0, 0)
    assert shade_of(high, low, high) == SHADES  # the highest is the darkest
    for count in range(low, high + 1):
        shade = shade_of(count, low, high)
        assert any(s == shade and first <= count <= last for s, first, last in rows), count

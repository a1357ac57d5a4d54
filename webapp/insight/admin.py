"""Administrators keep the centre's areas (names, populations, boundaries from a GeoJSON
file) and its dictionary of place names, terms and stop words."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.db import unit_of_work
from workflows.errors import FormInvalid
from workflows.insight import areas as area_service
from workflows.insight import dictionary
from workflows.insight.models import TERM_KINDS

from ..admin.common import admin_only, audit
from ..admin.forms import Form
from ..extensions import db
from ..hotline import get_hotline
from . import bp


def problem_text(problem: area_service.Problem) -> str:
    """An upload problem in the page's language."""
    words = {
        "too_large": _("The file is larger than %(n)s bytes.", n=problem.detail),
        "not_json": _("Not a JSON file: %(detail)s", detail=problem.detail),
        "not_feature_collection": _("Not a GeoJSON FeatureCollection."),
        "no_features": _("The FeatureCollection has no features."),
        "no_code": _("The feature has no property 'code' (nor a 'name' of a known area)."),
        "unknown_area": _(
            "No area has the code %(code)s (areas are made from the district departments; "
            "tick 'create unknown areas' to add it).",
            code=problem.detail,
        ),
        "duplicate_area": _("A second feature for the area %(code)s.", code=problem.detail),
        "bad_geometry_type": _(
            "The geometry is %(type)s, not a Polygon or MultiPolygon.", type=problem.detail
        ),
        "bad_coordinates": _("Bad coordinates: %(detail)s", detail=problem.detail),
        "out_of_range": _(
            "A position out of range (longitude -180..180, latitude -90..90): %(detail)s",
            detail=problem.detail,
        ),
        "no_file": _("Choose a file."),
    }
    text = words.get(problem.kind, problem.kind)
    if problem.feature is not None:
        return _("Feature %(n)s: %(text)s", n=problem.feature + 1, text=text)
    return text


def _areas_page(status: int = 200, *, problems=None, form: Form | None = None, code: str = ""):
    return render_template(
        "insight/admin_areas.html",
        areas=area_service.areas(db.session),
        problems=[problem_text(p) for p in problems or []],
        form=form,
        form_code=code,
        max_bytes=area_service.MAX_GEOJSON_BYTES,
    ), status


@bp.get("/admin/areas")
@admin_only
def areas():
    return _areas_page()[0]


@bp.post("/admin/areas/from-departments")
@admin_only
def areas_from_departments():
    with unit_of_work(db.session):
        added = area_service.ensure_district_areas(db.session, clock=get_hotline().clock)
        audit("insight.areas_from_departments", target_type="insight_area", added=added)
    flash(_("%(n)s areas added from the district departments.", n=added))
    return redirect(url_for("insight.areas"))


@bp.post("/admin/areas/<code>")
@admin_only
def area_edit(code: str):
    form = Form(request.form)
    name = form.text("name", required=True, max_length=120)
    name_en = form.text("name_en", max_length=120)
    population = form.integer(
        "population", minimum=1, maximum=area_service.MAX_POPULATION, required=False
    )
    if db.session.get(area_service.Area, code) is None:
        return _areas_page(404)
    if not form.ok:
        return _areas_page(400, form=form, code=code)
    try:
        with unit_of_work(db.session):
            area_service.update_area(
                db.session,
                code=code,
                name=name,
                name_en=name_en,
                population=population,
                clock=get_hotline().clock,
            )
            audit(
                "insight.area_update",
                target_type="insight_area",
                target_id=code,
                population=population,
            )
    except FormInvalid as exc:
        for field, messages in exc.errors.items():
            for message in messages:
                form.error(field, message)
        return _areas_page(400, form=form, code=code)
    flash(_("Area %(code)s saved.", code=code))
    return redirect(url_for("insight.areas"))


@bp.post("/admin/areas/geojson")
@admin_only
def areas_upload():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _areas_page(400, problems=[area_service.Problem("no_file")])
    try:
        data = upload.read(area_service.MAX_GEOJSON_BYTES + 1)
    finally:
        upload.close()
    try:
        with unit_of_work(db.session):
            codes = area_service.import_geojson(
                db.session, data, clock=get_hotline().clock, create=bool(request.form.get("create"))
            )
            audit("insight.areas_import", target_type="insight_area", codes=codes)
    except area_service.GeoJSONInvalid as exc:
        return _areas_page(400, problems=exc.problems)
    flash(_("Boundaries stored for %(codes)s.", codes=", ".join(codes)))
    return redirect(url_for("insight.areas"))


def _terms_page(form: Form | None = None, status: int = 200):
    return render_template(
        "insight/admin_terms.html",
        terms=dictionary.terms(db.session),
        kinds=TERM_KINDS,
        form=form or Form.of({"kind": "place"}),
    ), status


@bp.get("/admin/terms")
@admin_only
def terms():
    return _terms_page()[0]


@bp.post("/admin/terms")
@admin_only
def term_add():
    form = Form(request.form)
    word = form.text("word", required=True, max_length=40)
    kind = form.choice("kind", TERM_KINDS)
    if not form.ok:
        return _terms_page(form, 400)
    try:
        with unit_of_work(db.session):
            dictionary.add_term(
                db.session,
                word=word,
                kind=kind or "",
                actor=g.user.username,
                clock=get_hotline().clock,
            )
            audit("insight.term_add", target_type="insight_term", word=word, kind=kind)
    except FormInvalid as exc:
        messages = {
            "already in the dictionary": _("Already in the dictionary."),
            "one word: letters and digits, no spaces or punctuation": _(
                "One word: letters and digits, no spaces or punctuation."
            ),
        }
        for field, texts in exc.errors.items():
            for text in texts:
                form.error(field, messages.get(text, text))
        return _terms_page(form, 400)
    flash(_("Word %(word)s added.", word=word))
    return redirect(url_for("insight.terms"))


@bp.post("/admin/terms/<int:term_id>/delete")
@admin_only
def term_delete(term_id: int):
    with unit_of_work(db.session):
        term = dictionary.delete_term(db.session, term_id)
        if term is not None:
            audit("insight.term_delete", target_type="insight_term", word=term.word)
    if term is None:
        return _terms_page(status=404)
    flash(_("Word %(word)s deleted.", word=term.word))
    return redirect(url_for("insight.terms"))

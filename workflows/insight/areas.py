"""The centre's areas: names and populations, boundaries from an uploaded GeoJSON file, and
the map of the areas colored by count (SVG paths in a box, no tiles).

An area's code is a district's department code (``cases.area``). ``import_geojson`` checks the
whole file before it changes anything: one bad feature and no area changes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import Clock
from workflows.departments.models import Department
from workflows.errors import FormInvalid

from .dictionary import seed_demo_terms
from .models import Area

#: the largest GeoJSON file accepted (a city's districts, simplified, are a few hundred KB)
MAX_GEOJSON_BYTES = 2 * 1024 * 1024
MAX_POPULATION = 100_000_000
DEMO_GEOJSON = Path(__file__).with_name("demo_areas.geojson")
#: the demo districts' residents (rounded, plausible)
DEMO_POPULATIONS = {"D-PJ": 1_010_000, "D-JH": 330_000, "D-XH": 910_000}
#: the demo's dictionary: its districts' and streets' names (workflows/seed.py DEPARTMENTS),
#: a few of the centre's terms, and a stop word
DEMO_TERMS = {
    **dict.fromkeys(
        [
            "蓬江区",
            "江海区",
            "新会区",
            "蓬江",
            "江海",
            "新会",
            "白沙街道",
            "潮连街道",
            "外海街道",
            "会城街道",
            "白沙",
            "潮连",
            "外海",
            "会城",
        ],
        "place",
    ),
    **dict.fromkeys(
        ["占道经营", "违法建设", "噪音扰民", "乱收费", "网约车", "食品安全", "物业管理"], "term"
    ),
    "您好": "stop",
}
#: colour classes of the map, light to dark (``area-0`` is no case)
SHADES = 5


def areas(session: Session) -> list[Area]:
    return list(session.scalars(select(Area).order_by(Area.code)))


def ensure_district_areas(session: Session, *, clock: Clock) -> int:
    """An area for every district department that has none yet (named after it); returns how
    many were added."""
    known = {code for code in session.scalars(select(Area.code))}
    added = 0
    for dept in session.scalars(select(Department).where(Department.level == "district")):
        if dept.code not in known:
            session.add(
                Area(code=dept.code, name=dept.name, name_en=dept.name_en, updated_at=clock.now())
            )
            added += 1
    session.flush()
    return added


def update_area(
    session: Session,
    *,
    code: str,
    name: str,
    name_en: str,
    population: int | None,
    clock: Clock,
) -> Area:
    """Set an area's names and population (None: not known)."""
    area = session.get(Area, code)
    if area is None:
        raise FormInvalid({"code": [f"no area has the code {code!r}"]})
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["required"]
    elif len(name) > 120:
        errors["name"] = ["at most 120 characters"]
    if len(name_en) > 120:
        errors["name_en"] = ["at most 120 characters"]
    if population is not None and not 0 < population <= MAX_POPULATION:
        errors["population"] = [f"a whole number from 1 to {MAX_POPULATION}"]
    if errors:
        raise FormInvalid(errors)
    area.name, area.name_en, area.population = name.strip(), name_en.strip(), population
    area.updated_at = clock.now()
    session.flush()
    return area


# -- GeoJSON --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an uploaded file: ``kind`` (for the words), ``feature`` (its index,
    None for the whole file) and details."""

    kind: str
    feature: int | None = None
    detail: str = ""

    def __str__(self) -> str:
        where = f"feature {self.feature}: " if self.feature is not None else ""
        return f"{where}{self.kind}{': ' + self.detail if self.detail else ''}"


class GeoJSONInvalid(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def parse_geojson(
    data: bytes, *, known: Mapping[str, str], create: bool = False
) -> dict[str, dict[str, Any]]:
    """code -> geometry of a FeatureCollection's features, or ``GeoJSONInvalid`` listing every
    problem. A feature names its area by the property ``code`` or by ``name`` (an area's name,
    ``known``: code -> name); with ``create`` an unknown ``code`` is a new area."""
    if len(data) > MAX_GEOJSON_BYTES:
        raise GeoJSONInvalid([Problem("too_large", detail=str(MAX_GEOJSON_BYTES))])
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise GeoJSONInvalid([Problem("not_json", detail=str(exc)[:200])]) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise GeoJSONInvalid([Problem("not_feature_collection")])
    features = doc.get("features")
    if not isinstance(features, list) or not features:
        raise GeoJSONInvalid([Problem("no_features")])
    by_name = {name: code for code, name in known.items() if name}
    problems: list[Problem] = []
    found: dict[str, dict[str, Any]] = {}
    for index, feature in enumerate(features):
        props = feature.get("properties") if isinstance(feature, dict) else None
        props = props if isinstance(props, dict) else {}
        code = str(props.get("code") or "").strip()
        name = str(props.get("name") or "").strip()
        if not code and name in by_name:
            code = by_name[name]
        if not code:
            problems.append(Problem("no_code", index, name))
            continue
        if code not in known and not create:
            problems.append(Problem("unknown_area", index, code))
            continue
        if len(code) > 32:
            problems.append(Problem("unknown_area", index, code[:40]))
            continue
        if code in found:
            problems.append(Problem("duplicate_area", index, code))
            continue
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        problem = _geometry_problem(geometry)
        if problem:
            problems.append(Problem(problem[0], index, problem[1]))
            continue
        found[code] = {"type": geometry["type"], "coordinates": geometry["coordinates"]}  # type: ignore[index]
    if problems:
        raise GeoJSONInvalid(problems)
    return found


def _geometry_problem(geometry: Any) -> tuple[str, str] | None:
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        return ("bad_geometry_type", str(kind))
    polygons = geometry["coordinates"]
    if kind == "Polygon":
        polygons = [polygons]
    if not isinstance(polygons, list) or not polygons:
        return ("bad_coordinates", "no polygons")
    for polygon in polygons:
        if not isinstance(polygon, list) or not polygon:
            return ("bad_coordinates", "a polygon without rings")
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4:
                return ("bad_coordinates", "a ring of fewer than 4 positions")
            for position in ring:
                if (
                    not isinstance(position, list)
                    or len(position) < 2
                    or not all(isinstance(v, int | float) for v in position[:2])
                ):
                    return ("bad_coordinates", f"not a position: {str(position)[:40]}")
                lon, lat = position[0], position[1]
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    return ("out_of_range", f"{lon}, {lat}")
    return None


def import_geojson(
    session: Session, data: bytes, *, clock: Clock, create: bool = False
) -> list[str]:
    """Store each feature's geometry on its area (all or nothing); returns the codes set."""
    known = {a.code: a.name for a in areas(session)}
    found = parse_geojson(data, known=known, create=create)
    now = clock.now()
    for code, geometry in found.items():
        area = session.get(Area, code)
        if area is None:
            area = Area(code=code, name=code, name_en="", updated_at=now)
            session.add(area)
        area.geometry = geometry
        area.updated_at = now
    session.flush()
    return sorted(found)


def seed_demo_areas(session: Session, *, clock: Clock) -> list[str]:
    """The demo districts' areas, populations and boundaries, and the dictionary's place names
    and terms (idempotent: an administrator's changes stay)."""
    added = ensure_district_areas(session, clock=clock)
    shaped = 0
    doc = json.loads(DEMO_GEOJSON.read_text(encoding="utf-8"))
    for feature in doc["features"]:
        area = session.get(Area, feature["properties"]["code"])
        if area is None:
            continue
        if area.geometry is None:  # the first seeding: the district's own names, not its office's
            area.geometry = feature["geometry"]
            area.name = feature["properties"]["name"]
            area.name_en = feature["properties"]["name_en"]
            shaped += 1
        if area.population is None:
            area.population = DEMO_POPULATIONS.get(area.code)
    session.flush()
    words = seed_demo_terms(session, words=DEMO_TERMS, actor="demo", clock=clock)
    return [f"insight: {added} areas added, {shaped} boundaries set, {words} dictionary words"]


# -- the map --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapArea:
    code: str
    name: str
    count: int
    shade: int
    #: the SVG path (``d``) of every polygon, holes included (fill-rule evenodd)
    path: str
    #: where the label goes (the centre of the area's box)
    label_x: float
    label_y: float


@dataclass(frozen=True)
class AreaMap:
    width: int
    height: int
    areas: list[MapArea]
    #: (shade, lowest count, highest count) per colour class shown in the legend
    legend: list[tuple[int, int, int]]


def _rings(geometry: Mapping[str, Any]) -> Iterable[list[list[float]]]:
    polygons = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        polygons = [polygons]
    for polygon in polygons:
        yield from polygon


def shade_of(count: int, low: int, high: int) -> int:
    """0 for no case, else 1..SHADES: equal steps from the lowest count above zero (``low``) to
    the highest (``high``), so that areas of similar counts still differ by colour."""
    if count <= 0 or high <= 0:
        return 0
    if high == low:
        return SHADES
    return -(-SHADES * (count - low + 1) // (high - low + 1))  # ceil: the highest is darkest


def area_map(
    shapes: Iterable[tuple[str, str, Mapping[str, Any]]],
    counts: Mapping[str, int],
    *,
    width: int = 480,
    margin: int = 8,
) -> AreaMap | None:
    """The areas with a geometry ((code, name, geometry)), projected into a ``width`` box
    (longitude scaled by the cosine of the middle latitude, north up); None without any."""
    shapes = [s for s in shapes if s[2]]
    if not shapes:
        return None
    points = [p for _c, _n, g in shapes for ring in _rings(g) for p in ring]
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    squeeze = math.cos(math.radians((south + north) / 2))
    span_x = max((east - west) * squeeze, 1e-9)
    span_y = max(north - south, 1e-9)
    scale = (width - 2 * margin) / span_x
    height = round(span_y * scale + 2 * margin)

    def xy(p) -> tuple[float, float]:
        return (
            round(margin + (p[0] - west) * squeeze * scale, 1),
            round(margin + (north - p[1]) * scale, 1),
        )

    positive = [counts.get(code, 0) for code, _n, _g in shapes if counts.get(code, 0) > 0]
    low, high = (min(positive), max(positive)) if positive else (0, 0)
    drawn = []
    for code, name, geometry in shapes:
        parts, xs, ys = [], [], []
        for ring in _rings(geometry):
            projected = [xy(p) for p in ring]
            xs += [x for x, _y in projected]
            ys += [y for _x, y in projected]
            parts.append("M" + " L".join(f"{x},{y}" for x, y in projected) + " Z")
        count = counts.get(code, 0)
        drawn.append(
            MapArea(
                code,
                name,
                count,
                shade_of(count, low, high),
                " ".join(parts),
                round((min(xs) + max(xs)) / 2, 1),
                round((min(ys) + max(ys)) / 2, 1),
            )
        )
    return AreaMap(width, height, drawn, legend(low, high))


def legend(low: int, high: int) -> list[tuple[int, int, int]]:
    """The colour classes and the counts each stands for (``shade_of``'s steps)."""
    rows = [(0, 0, 0)]
    if high <= 0:
        return rows
    if high == low:
        return rows + [(SHADES, low, high)]
    width = high - low + 1
    for shade in range(1, SHADES + 1):
        first = low + (shade - 1) * width // SHADES  # the smallest count of this shade
        last = low + shade * width // SHADES - 1
        if last >= first:
            rows.append((shade, first, last))
    return rows


def area_names(rows: Iterable[Area], lang: str) -> dict[str, str]:
    return {a.code: (a.name_en if lang == "en" and a.name_en else a.name) or a.code for a in rows}

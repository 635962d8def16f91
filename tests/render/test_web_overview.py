"""The district page's overview geometry (render/web): lighter, and still one coverage.

The towns on the district map are simplified together (``_coverage_geometries``): a
border two towns share must come out as the same line for both, with no gap and no
sliver between them, as the full geometry has it.
"""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import CRS, X0, Y0
from shapely.geometry import Polygon

from battlemap.render.web import render_web
from battlemap.render.web.encode import _coverage_geometries, overview_tolerance


def _polygons(latlngs_list: list) -> np.ndarray:
    """Leaflet latlngs (one polygon each: rings of [lat, lon]) back to shapely polygons."""
    out = []
    for rings in latlngs_list:
        lonlat = [[(lon, lat) for lat, lon in ring] for ring in rings]
        out.append(Polygon(lonlat[0], lonlat[1:]))
    return np.array(out, dtype=object)


def _wiggly_towns() -> gpd.GeoDataFrame:
    """Three towns side by side, 4 km tall, their two shared borders zigzags of 5 m steps.

    Simplified one by one, each side of a zigzag keeps different vertices (each ring
    starts elsewhere): the neighbours then overlap and leave gaps along the border.
    """
    y = np.arange(0.0, 4000.0 + 1, 5.0)
    def border(x: float, seed: int) -> list[tuple[float, float]]:
        wiggle = np.random.default_rng(seed).normal(0, 4, len(y))
        wiggle[[0, -1]] = 0
        return list(zip(X0 + x + wiggle, Y0 + y, strict=True))
    west, east = border(2000, 1), border(4000, 2)
    towns = [Polygon([(X0, Y0), *west, (X0, Y0 + 4000)]),
             Polygon([*west, *east[::-1]]),
             Polygon([*east, (X0 + 6000, Y0 + 4000), (X0 + 6000, Y0)])]
    return gpd.GeoDataFrame({"name": ["西", "中", "东"]}, geometry=towns, crs=CRS)


def test_towns_stay_one_coverage_when_simplified():
    towns = _wiggly_towns()
    assert shapely.coverage_is_valid(towns.geometry.values)
    simple = _polygons(_coverage_geometries(towns, 10.0))
    assert shapely.is_valid(simple).all()
    assert shapely.coverage_is_valid(simple)                  # no overlap, borders matched
    union = shapely.union_all(simple)
    assert union.geom_type == "Polygon" and not union.interiors  # no gap between neighbours
    assert shapely.get_num_coordinates(simple).sum() < shapely.get_num_coordinates(
        towns.geometry.values).sum() / 4                       # and much lighter
    for a, b in ((0, 1), (1, 2)):                              # neighbours share a line
        assert simple[a].intersection(simple[b]).length > 0.03  # ~4 km in degrees


def test_overlapping_towns_are_simplified_one_by_one():
    towns = _wiggly_towns()
    towns.geometry.values[1] = towns.geometry.values[1].buffer(50)   # overlaps both sides
    simple = _polygons(_coverage_geometries(towns, 10.0))
    assert shapely.is_valid(simple).all() and len(simple) == 3


@pytest.mark.parametrize(("size", "tolerance"), [(60_000.0, 18.75), (4000.0, 1.25)])
def test_tolerance_is_a_pixel_two_zoom_levels_in(size, tolerance):
    frame = gpd.GeoSeries([shapely.box(X0, Y0, X0 + size * 0.8, Y0 + size)], crs=CRS)
    assert overview_tolerance(frame) == pytest.approx(tolerance, abs=0.01)


def test_district_page_carries_the_overview(tiny_atlas, tmp_path):
    render_web(tiny_atlas, tmp_path)
    text = (tmp_path / "data" / "district" / "440118.js").read_text(encoding="utf-8")
    data = json.loads(text[text.index("{"):text.rindex(")")])
    assert len(data["overview"]["rivers"]) == len(tiny_atlas.rivers)
    assert data["overview"]["outline"]
    towns = _polygons([child["g"] for child in data["children"]])
    assert len(towns) == len(tiny_atlas.units["town"])
    assert shapely.coverage_is_valid(towns)
    town_page = (tmp_path / "data" / "town").glob("*.js")
    assert all('"overview"' not in p.read_text(encoding="utf-8") for p in town_page)

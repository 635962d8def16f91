"""validate.boundaries: bow-ties, bad ids, unknown parents, gaps, overlaps, overhangs."""

from __future__ import annotations

import re

import geopandas as gpd
import pytest
from conftest import X0, Y0, tiny_cases_frame, tiny_units
from shapely.affinity import translate
from shapely.geometry import Polygon, box
from validate_helpers import GRID_11, TO_WGS, assert_every_row_once, folder_with, kinds, run, warnings_of

from battlemap.errors import InputError


def test_bow_tie_is_repaired_with_a_warning_naming_it(tmp_path):
    units = tiny_units()
    grids = units["grid"]
    at = grids.index[grids["code"] == GRID_11][0]
    grids.loc[at, "geometry"] = Polygon([(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0),
                                         (X0, Y0 + 1000)])
    prepared = run(folder_with(tmp_path, units=units))
    [repaired] = warnings_of(prepared, "geometry_repaired")
    assert repaired.feature == GRID_11 and "Self-intersection" in repaired.message
    assert "repaired; kept 500,000 of 1,000,000 m² (50 %, measured against its outline's " \
        "convex hull)" in repaired.message
    assert prepared.atlas.units["grid"].geometry[GRID_11].is_valid
    gaps = warnings_of(prepared, "gap")  # make_valid keeps two of the four triangles
    assert len(gaps) == 2 and all("250,000 m²" in g.message and "°E" in g.message for g in gaps)
    assert_every_row_once(prepared, len(tiny_cases_frame()))


def test_every_boundary_problem_is_reported_at_once(tmp_path):
    units = tiny_units()
    units["grid"].loc[0, "geometry"] = None
    units["grid"].loc[1, "code"] = ""
    units["village"].loc[1, "code"] = units["village"].loc[0, "code"]
    units["town"].loc[1, "geometry"] = Polygon()
    with pytest.raises(InputError) as error:
        run(folder_with(tmp_path, units=units))
    problems = "\n".join(error.value.problems)
    # the repeated village id leaves 440118001002 unnamed, so its two grids are orphans too
    assert len(error.value.problems) == 6
    assert problems.count("parent id '440118001002' does not exist") == 2
    assert f"{GRID_11} 甲一村第1网格 (feature 1): empty or null geometry" in problems
    assert "feature 2 (甲一村第2网格): id is empty" in problems
    assert "id 440118001001 is used by features [1, 2]" in problems
    assert "440118002 乙镇 (feature 2): empty or null geometry" in problems


def test_unknown_parent_is_placed_by_location_with_a_warning(tmp_path):
    units = tiny_units()
    units["village"].loc[0, "town_code"] = "999"
    prepared = run(folder_with(tmp_path, units=units))
    [orphan] = warnings_of(prepared, "unknown_parent")
    assert "'999' does not exist; placed in 440118001 甲镇" in orphan.message
    assert prepared.atlas.units["village"].at["440118001001", "parent_id"] == "440118001"


def test_unknown_parent_with_no_parent_under_it_is_an_error(tmp_path):
    units = tiny_units()
    grids = units["grid"]
    grids.loc[0, "village_code"] = "999"
    grids.loc[0, "geometry"] = box(X0 + 9000, Y0, X0 + 9500, Y0 + 500)
    with pytest.raises(InputError, match="no parent unit lies under it"):
        run(folder_with(tmp_path, units=units))


def shifted_grid(dx: float, code: str = GRID_11) -> dict[str, gpd.GeoDataFrame]:
    units = tiny_units()
    grids = units["grid"]
    at = grids.index[grids["code"] == code][0]
    grids.loc[at, "geometry"] = translate(grids.loc[at, "geometry"], xoff=dx)
    return units


def test_gap_and_overlap_in_square_metres_and_wgs84(tmp_path):
    prepared = run(folder_with(tmp_path, units=shifted_grid(10)))
    [gap] = warnings_of(prepared, "gap")
    [overlap] = warnings_of(prepared, "overlap")
    assert "10,000 m²" in gap.message and "10,000 m²" in overlap.message
    assert overlap.feature == f"{GRID_11}, 440118001001002"
    lon, lat = map(float, re.search(r"([\d.]+)°E, ([\d.]+)°N", gap.message).groups())
    expected = TO_WGS.transform(X0 + 5, Y0 + 500)
    assert abs(lon - expected[0]) < 1e-4 and abs(lat - expected[1]) < 0.006
    assert not warnings_of(prepared, "overhang")


def test_child_sticking_out_of_its_parent(tmp_path):
    prepared = run(folder_with(tmp_path, units=shifted_grid(10, "440118001001002")))
    [overhang] = warnings_of(prepared, "overhang")
    assert overhang.feature == "440118001001002"
    assert "sticks out of its parent 440118001001: 10,000 m²" in overhang.message


def test_slivers_below_the_tolerance_are_noise_unless_configured(tmp_path):
    quiet = run(folder_with(tmp_path / "a", units=shifted_grid(0.05)))
    assert not {"gap", "overlap"} & set(kinds(quiet))
    strict = run(folder_with(tmp_path / "b", units=shifted_grid(0.05),
                             toml_extra="\n[checks]\narea_tolerance_m2 = 1\n"))
    assert {"gap", "overlap"} <= set(kinds(strict))
    assert "50 m²" in warnings_of(strict, "gap")[0].message

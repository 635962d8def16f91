"""validate.coordinates: what people type, each bad coordinate rejected with its reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import X0, Y0
from validate_helpers import (
    GRID_11,
    assert_every_rejection_explained,
    assert_every_row_once,
    case,
    folder_with,
    lonlat,
    rejected,
    run,
    warnings_of,
)

from battlemap.coords import wgs84_to_bd09, wgs84_to_gcj02
from battlemap.validate import parse_coordinates


def test_parse_coordinates_reads_what_people_type():
    number, blank = parse_coordinates(pd.Series(
        ["113.5", "１１３.５", "113.5°E", "东经113.5", "113°30'0\"", "113度30分", " 23.1 ",
         "", "nan", "-", "abc", "1e400"]))
    assert number.iloc[:6].tolist() == [113.5] * 6
    assert number.iloc[6] == 23.1
    assert blank.tolist() == [False] * 7 + [True] * 3 + [False] * 2
    assert np.isnan(number.iloc[10]) and np.isinf(number.iloc[11])


def test_each_bad_coordinate_is_rejected_with_its_reason(tmp_path):
    lon, lat = lonlat(500, 500)
    frame = pd.DataFrame([
        case("OK"),
        case("BLANK", 经度=""),
        case("TEXT", 纬度="见附件"),
        case("ZERO", 经度="0", 纬度="0"),
        case("SWAP", 经度=lat, 纬度=lon),
        case("RANGE", 经度="200", 纬度="95"),
        case("METRES", 经度=str(X0 + 500), 纬度=str(Y0 + 500)),
        case("AWAY", 经度="113.5", 纬度="23.0"),
        case("WIDE", 经度="１" + lon[1:], 纬度=lat),
    ])
    prepared = run(folder_with(tmp_path, cases=frame))
    assert rejected(prepared) == {
        "BLANK": "blank_coordinates", "TEXT": "non_numeric_coordinates",
        "ZERO": "zero_coordinates", "RANGE": "coordinates_out_of_range",
        "METRES": "coordinates_out_of_range", "AWAY": "outside_district"}
    assert set(prepared.atlas.cases.index) == {"OK", "SWAP", "WIDE"}
    [swap] = warnings_of(prepared, "swapped_coordinates")
    assert swap.feature == "row 6" and swap.column == "经度"
    detail = prepared.findings.rejected_frame().set_index("case_id")["detail"]
    assert "projected metres" in detail["METRES"] and "km outside the district" in detail["AWAY"]
    assert prepared.atlas.cases.loc["SWAP", "grid_id"] == GRID_11
    assert_every_row_once(prepared, len(frame))
    assert_every_rejection_explained(prepared)


@pytest.mark.parametrize("system, forward", [("GCJ-02", wgs84_to_gcj02), ("BD-09", wgs84_to_bd09),
                                              ("CGCS2000", None)])
def test_app_coordinate_systems_land_in_the_right_grid(tmp_path, system, forward):
    rows = []
    for n, (x, y) in enumerate([(100, 100), (1900, 900), (3950, 1950)]):
        lon, lat = (float(v) for v in lonlat(x, y))
        if forward:
            lon, lat = forward(lon, lat)
        rows.append(case(f"P{n}", 经度=f"{lon:.7f}", 纬度=f"{lat:.7f}"))
    config = folder_with(tmp_path, cases=pd.DataFrame(rows),
                         replace=('coordinates = "WGS84"', f'coordinates = "{system}"'))
    cases = run(config).atlas.cases
    assert cases["grid_id"].tolist() == [GRID_11, "440118001001002", "440118002002002"]

"""validate: messy boundaries and case tables, each caught, reported where it is, nothing lost."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import X0, Y0, tiny_cases_frame, tiny_units, write_tiny_inputs
from pyproj import Transformer
from shapely.affinity import translate
from shapely.geometry import Polygon, box

from battlemap._findings import DUPLICATE_RULE, Findings
from battlemap.build import Prepared, prepare, write_report
from battlemap.config import load_config
from battlemap.coords import wgs84_to_bd09, wgs84_to_gcj02
from battlemap.errors import InputError
from battlemap.validate import parse_coordinates, parse_datetimes, validate_cases

TO_WGS = Transformer.from_crs("EPSG:4526", "EPSG:4326", always_xy=True)


# --- helpers ----------------------------------------------------------------

def folder_with(tmp_path: Path, cases: pd.DataFrame | None = None,
                units: dict[str, gpd.GeoDataFrame] | None = None, toml_extra: str = "",
                replace: tuple[str, str] | None = None) -> Path:
    """The tiny district, with some of its inputs swapped for messy ones."""
    folder = tmp_path / "tiny"
    config = write_tiny_inputs(folder, cases=cases)
    if units is not None:
        (folder / "boundaries.gpkg").unlink()
        for level, frame in units.items():
            frame.to_file(folder / "boundaries.gpkg", layer=level, engine="pyogrio")
    text = config.read_text(encoding="utf-8")
    if replace:
        text = text.replace(*replace)
    config.write_text(text + toml_extra, encoding="utf-8")
    return config


def run(config_path: Path) -> Prepared:
    return prepare(load_config(config_path, out_dir=config_path.parent / "output"))


def kinds(prepared: Prepared) -> list[str]:
    return [w.kind for w in prepared.findings.warnings]


def warnings_of(prepared: Prepared, kind: str) -> list:
    return [w for w in prepared.findings.warnings if w.kind == kind]


def lonlat(x: float, y: float) -> tuple[str, str]:
    """Tiny-district metres (from X0, Y0) to WGS84 text, as an export has it."""
    lon, lat = TO_WGS.transform(X0 + x, Y0 + y)
    return f"{lon:.7f}", f"{lat:.7f}"


def case(case_id: str, x: float = 500, y: float = 500, **columns: str) -> dict[str, str]:
    """One export row in grid 1-1 by default; ``columns`` override by Chinese header."""
    row = tiny_cases_frame().iloc[0].to_dict()
    row["问题编号"] = case_id
    row["处理状态"], row["办结时间"] = "已交办", ""
    row["经度"], row["纬度"] = lonlat(x, y)
    row.update(columns)
    return row


def assert_every_row_once(prepared: Prepared, table_rows: int) -> None:
    """The ledger invariant: each input row is mapped or rejected, exactly once."""
    ledger = prepared.ledger()
    assert ledger["cases_in"] == ledger["cases_mapped"] + ledger["cases_rejected"]
    rows = (list(prepared.atlas.cases["source_row"])
            + list(prepared.findings.rejected_frame()["source_row"]))
    assert sorted(rows) == list(range(2, table_rows + 2))


def assert_every_rejection_explained(prepared: Prepared) -> None:
    """The invariant: no case is rejected without a detail saying what was wrong."""
    frame = prepared.findings.rejected_frame()
    empty = frame[frame["detail"].map(lambda d: not isinstance(d, str) or not d.strip())]
    assert empty.empty, empty


def test_every_rejection_on_the_tiny_district_has_a_detail(tiny_prepared):
    assert set(tiny_prepared.findings.rejected_frame()["reason_code"]) == {
        "outside_district", "unknown_status", "blank_coordinates", "duplicate_case_id"}
    assert_every_rejection_explained(tiny_prepared)


def rejected(prepared: Prepared) -> dict[str, str]:
    """case id -> reason code (for ids that occur once among the rejected)."""
    frame = prepared.findings.rejected_frame()
    return dict(zip(frame["case_id"], frame["reason_code"], strict=True))


# --- boundaries -------------------------------------------------------------

GRID_11 = "440118001001001"


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


# --- dates ------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2019-11-05 08:30", "2019-11-05 08:30:00"),
    ("2019-11-05 08:30:15", "2019-11-05 08:30:15"),
    ("2019/11/5", "2019-11-05 00:00:00"),
    ("2019/11/5 8:30", "2019-11-05 08:30:00"),
    ("2019.11.05", "2019-11-05 00:00:00"),
    ("2019年11月5日", "2019-11-05 00:00:00"),
    ("2019年11月5日 8时30分", "2019-11-05 08:30:00"),
    ("２０１９－１１－０５", "2019-11-05 00:00:00"),
    ("20191105", "2019-11-05 00:00:00"),
    ("43774", "2019-11-05 00:00:00"),
    ("43774.354166666664", "2019-11-05 08:30:00"),
    ("2019-11-05T00:30:00Z", "2019-11-05 08:30:00"),
    ("2019-11-05T08:30:00+08:00", "2019-11-05 08:30:00"),
    ("1572913800", "2019-11-05 08:30:00"),
    ("1572913800000", "2019-11-05 08:30:00"),
    ("2019-11-05 下午2:30", "2019-11-05 14:30:00"),
])
def test_date_formats_parse_as_beijing_wall_time(text, expected):
    assert parse_datetimes(pd.Series([text])).iloc[0] == pd.Timestamp(expected)


@pytest.mark.parametrize("text", ["", "明天", "2019-02-30", "2019-13-01", "9999-12-31",
                                  "0001-01-01", "2019-11-05 25:00", "12", "nan"])
def test_impossible_dates_are_not_dates(text):
    assert pd.isna(parse_datetimes(pd.Series([text])).iloc[0])


def test_dates_parse_as_nanosecond_timestamps():
    parsed = parse_datetimes(pd.Series(["2019-11-05", None, 43774.5, "x"]))
    assert str(parsed.dtype) == "datetime64[ns]"


def test_future_and_closed_before_report_are_flagged_but_kept(tmp_path):
    frame = pd.DataFrame([
        case("F1", 上报时间="2030-01-01"),
        case("F2", 上报时间="2026-03-01", 办结时间="2026-02-01", 处理状态="已销号"),
        case("F3", 上报时间="2026-03-01", 整改期限="下周"),
    ])
    prepared = run(folder_with(tmp_path, cases=frame))
    assert set(prepared.atlas.cases.index) == {"F1", "F2", "F3"}
    flagged = {(w.kind, w.feature) for w in prepared.findings.warnings}
    assert {("future_date", "row 2"), ("closed_before_report", "row 3"),
            ("bad_date", "row 4")} <= flagged


# --- coordinates ------------------------------------------------------------

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


# --- status, duplicates, the ledger -------------------------------------------

def test_unknown_status_words_are_counted_with_rows_never_coerced(tmp_path):
    frame = pd.DataFrame([case("S1", 处理状态="待核实"), case("S2", 处理状态="已交办"),
                          case("S3", 处理状态="待核实"), case("S4", 处理状态="")])
    prepared = run(folder_with(tmp_path, cases=frame))
    assert rejected(prepared) == {"S1": "unknown_status", "S3": "unknown_status",
                                  "S4": "unknown_status"}
    detail = prepared.findings.rejected_frame().set_index("case_id")["detail"]
    assert detail["S1"] == "处理状态: 待核实" and detail["S4"] == "处理状态 is blank"
    messages = [w.message for w in warnings_of(prepared, "unknown_status")]
    assert "status word '待核实' is not in [cases.status_map] (2 case(s), rows 2, 4)" in "".join(
        messages)


def test_duplicates_keep_the_newest_and_state_the_rule(tmp_path):
    frame = pd.DataFrame([
        case("D1", 上报时间="2026-06-01", 处理状态="已交办"),
        case("D1", 上报时间="2026-06-01", 处理状态="已销号", 办结时间="2026-06-20"),
        case("D1", 上报时间="2026-06-02", 处理状态="整改中"),
        case(" D2 ", 上报时间="2026-06-01"),
        case("D2", 上报时间="2026-05-01"),
    ])
    prepared = run(folder_with(tmp_path, cases=frame))
    assert prepared.atlas.cases.loc["D1", "source_row"] == 3
    assert prepared.atlas.cases.loc["D2", "source_row"] == 5
    out = prepared.findings.rejected_frame()
    assert out["source_row"].tolist() == [2, 4, 6]
    assert set(out["reason_code"]) == {"duplicate_case_id"}
    assert out["detail"].tolist() == ["newer record kept: row 3"] * 2 + [
        "newer record kept: row 5"]
    [summary] = warnings_of(prepared, "duplicate_case_id")
    assert DUPLICATE_RULE in summary.message and "3 older record(s) of 2" in summary.message


def test_excel_ids_and_blank_ids(tmp_path):
    frame = pd.DataFrame([case('="20190001"'), case("20190002.0"), case("  "), case("无")])
    prepared = run(folder_with(tmp_path, cases=frame))
    assert set(prepared.atlas.cases.index) == {"20190001", "20190002"}
    assert list(rejected(prepared).values()) == ["missing_case_id"]
    details = prepared.findings.rejected_frame()["detail"].tolist()
    assert details == ["问题编号 is blank; fill in the number",
                       "问题编号 is blank ('无'); fill in the number"]
    assert prepared.ledger()["rejected_by_reason"] == {"missing_case_id": 2}


def test_private_columns_never_reach_any_output(tmp_path):
    frame = tiny_cases_frame()
    frame["上报人电话"] = [f"1391234{n:04d}" for n in range(len(frame))]
    frame.loc[0, "问题描述"] = "请联系13600001111处理"
    config = folder_with(tmp_path, cases=frame)
    prepared = run(config)
    out = config.parent / "output"
    write_report(prepared, out)
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files
    for path in files:
        data = path.read_bytes()
        for phone in [*frame["上报人电话"], "13600001111"]:
            assert phone.encode() not in data, (phone, path)
    assert "136****1111" in prepared.atlas.cases.loc["C01", "description"]


def test_validate_cases_keeps_every_row_of_32k(tmp_path):
    """Correctness at the sample's size; its speed is measured in bench/, not here."""
    config = load_config(write_tiny_inputs(tmp_path / "tiny"))
    base = [case(f"B{n}", x=100 + (n * 37) % 3800, y=100 + (n * 53) % 1800,
                 上报时间=f"2025-{n % 12 + 1:02d}-{n % 28 + 1:02d} 08:30")
            for n in range(200)]
    table = pd.DataFrame(base * 161)
    table.columns = [config.cases.columns.get(c, c) for c in table.columns]
    reverse = {v: k for k, v in config.cases.columns.items()}
    table = table.rename(columns=reverse).drop(columns=["上报人电话"])
    table["case_id"] = [f"Z{n}" for n in range(len(table))]
    table.insert(0, "source_row", range(2, len(table) + 2))
    from battlemap.load import load_boundaries
    from battlemap.validate import validate_boundaries
    units = validate_boundaries(load_boundaries(config), config, Findings())
    cases = validate_cases(table, config, units["district"], Findings())
    assert len(cases) == len(table) == 32_200


# --- the messy copy -----------------------------------------------------------

def test_messy_copy_end_to_end(tmp_path):
    """GBK CSV, a GBK shapefile without .cpg in EPSG:4526, a bow-tie, duplicates and swaps."""
    units = tiny_units()
    grids = units["grid"]
    at = grids.index[grids["code"] == GRID_11][0]
    grids.loc[at, "geometry"] = Polygon([(X0, Y0), (X0 + 1000, Y0 + 1000), (X0 + 1000, Y0),
                                         (X0, Y0 + 1000)])
    lon, lat = lonlat(1500, 500)
    frame = pd.concat([tiny_cases_frame(), pd.DataFrame([
        case("M1", 1500, 500), case("M1", 1500, 500, 办结时间="2026-07-01", 处理状态="已销号"),
        case("M2", 经度=lat, 纬度=lon), case("M3", 上报时间="去年"),
        case("M4", 经度="113.0", 纬度="22.0"), case("M5", 处理状态="退回"),
    ])], ignore_index=True)
    config = folder_with(tmp_path, units=units, cases=frame,
                         replace=('path = "boundaries.gpkg"\nlayer = "village"',
                                  'path = "villages.shp"'))
    folder = config.parent
    frame.to_csv(folder / "cases.csv", index=False, encoding="gbk")
    units["village"].to_file(folder / "villages.shp", engine="pyogrio", encoding="GBK")
    (folder / "villages.cpg").unlink()
    assert (folder / "villages.prj").exists()

    prepared = run(config)

    found = set(kinds(prepared))
    assert {"encoding_detected", "encoding_guessed", "geometry_repaired", "gap",
            "duplicate_case_id", "swapped_coordinates"} <= found
    assert prepared.atlas.units["village"]["name"].tolist() == units["village"]["name"].tolist()
    reasons = prepared.findings.rejected_frame().groupby("case_id")["reason_code"].agg(list)
    assert reasons["M1"] == ["duplicate_case_id"]
    assert reasons["M3"] == ["bad_report_date"]
    assert reasons["M4"] == ["outside_district"]
    assert reasons["M5"] == ["unknown_status"]
    assert prepared.atlas.cases.loc["M1", "state"] == "closed"
    assert prepared.atlas.cases.loc["M2", "grid_id"] == "440118001001002"
    assert_every_row_once(prepared, len(frame))
    assert_every_rejection_explained(prepared)

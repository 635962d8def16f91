"""validate.cases: every row placed or rejected with its reason, nothing lost."""

from __future__ import annotations

import pandas as pd
from conftest import X0, Y0, tiny_cases_frame, tiny_units, write_tiny_inputs
from shapely.geometry import Polygon
from validate_helpers import (
    GRID_11,
    assert_every_rejection_explained,
    assert_every_row_once,
    case,
    folder_with,
    kinds,
    lonlat,
    rejected,
    run,
    warnings_of,
)

from battlemap._findings import DUPLICATE_RULE, Findings
from battlemap.build import write_report
from battlemap.config import load_config
from battlemap.validate import validate_cases


def test_every_rejection_on_the_tiny_district_has_a_detail(tiny_prepared):
    assert set(tiny_prepared.findings.rejected_frame()["reason_code"]) == {
        "outside_district", "unknown_status", "blank_coordinates", "duplicate_case_id"}
    assert_every_rejection_explained(tiny_prepared)


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

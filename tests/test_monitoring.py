"""Monitoring: the reader's dirt, samples classed and attained, rejected rows, a clear error."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from battlemap._findings import Findings
from battlemap.config import Config, ContextConfig, MonitoringConfig, ProjectConfig
from battlemap.errors import InputError
from battlemap.load import read_monitoring_table
from battlemap.monitoring import monitoring_statistics, parse_value, read_samples

AS_OF = dt.date(2026, 11, 27)
PARAMETERS = {"pH": "pH", "DO": "溶解氧", "CODMn": "高锰酸盐指数", "COD": "化学需氧量",
              "BOD5": "五日生化需氧量", "NH3-N": "氨氮", "TP": "总磷", "TN": "总氮"}
HEADER = ("断面名称,采样时间,pH,溶解氧(mg/L),高锰酸盐指数,化学需氧量（mg/L）,五日生化需氧量,"
          "氨氮(mg/L),总磷(μg/L),总氮")
UNITS = ",,无量纲,mg/L,mg/L,mg/L,mg/L,mg/L,μg/L,mg/L"


def _config(path: Path, **extra: object) -> MonitoringConfig:
    return MonitoringConfig(path=path, columns={"section": "断面名称", "sampled_at": "采样时间"},
                            parameters=PARAMETERS, **extra)


def _sections() -> gpd.GeoDataFrame:
    frame = pd.DataFrame({"name": ["大墩断面（国考）", "支流断面"], "river_id": ["M", "T1"],
                          "river": ["干流", "一涌"], "kind": ["国考", "市考"],
                          "target": pd.array([3, 4], dtype="Int64"),
                          "target_label": ["III类", "IV类"]}, index=["GK001", "SJ001"])
    return gpd.GeoDataFrame(frame.rename_axis("section_id"),
                            geometry=[Point(0, 0), Point(1, 1)], crs="EPSG:4526")


def _write(tmp_path: Path, rows: list[str], encoding: str = "utf-8-sig") -> Path:
    path = tmp_path / "监测.csv"
    path.write_text("\n".join(rows) + "\n", encoding=encoding)
    return path


@pytest.mark.parametrize(("text", "value", "below", "bad"), [
    ("0.35", 0.35, False, False), (" 1.2 ", 1.2, False, False), ("0.35mg/L", 0.35, False, False),
    ("<0.01", 0.01, True, False), ("＜0.01", 0.01, True, False), ("0.01L", 0.01, True, False),
    ("ND", None, True, False), ("未检出", None, True, False), ("", None, False, False),
    ("—", None, False, False), ("/", None, False, False), ("待复核", None, False, True),
    ("1..2", None, False, True)])
def test_parse_value(text: str, value: float | None, below: bool, bad: bool) -> None:
    got = parse_value(text)
    assert (got[0] == value if value is not None else pd.isna(got[0]))
    assert got[1:] == (below, bad)


def test_reader_dirt_gbk_title_units_and_blank_rows(tmp_path: Path) -> None:
    path = _write(tmp_path, [
        "增城区断面水质月报（示例）", HEADER, UNITS,
        "大墩,2026-01-10,7.2,6.1,3.3,12,2.1,0.61,120,1.9",
        ",,,,,,,,,",
        "大墩,2026/2/9,7.1,5.9,3.1,,2.0,ND,<10,",
        "GK001,2026年3月8日,7.0,6.0,3.0,14,待复核,1.2,150,2.1",
        "旧镇断面,2026-03-08,7.0,6.0,3.0,14,2,0.2,50,1",
        "支流断面,2030-01-01,7.0,6.0,3.0,14,2,0.2,50,1",
        "支流断面,someday,7.0,6.0,3.0,14,2,0.2,50,1",
        "支流断面,2026-04-01,,,,,,,,9.9",
        "合计,,,,,,,,,",
    ], encoding="gb18030")
    table = read_monitoring_table(_config(path))
    findings = Findings()
    samples, rejected, samples_in = read_samples(table, _sections(), _config(path), AS_OF, findings)
    assert samples_in == 7  # title, header, unit, blank and footer rows are not samples
    assert len(samples) + len(rejected) == samples_in
    assert samples["section_id"].tolist() == ["GK001"] * 3
    assert samples["sampled_at"].dt.strftime("%Y-%m-%d").tolist() == [
        "2026-01-10", "2026-02-09", "2026-03-08"]
    assert samples["TP"].round(4).tolist() == [0.12, 0.01, 0.15]  # μg/L from the unit row
    assert samples["TP_nd"].tolist() == [False, True, False]
    assert samples["NH3-N_nd"].tolist() == [False, True, False] and pd.isna(samples["NH3-N"][1])
    assert pd.isna(samples["COD"][1]) and pd.isna(samples["BOD5"][2])
    by_reason = dict(zip(rejected["source_row"], rejected["reason_code"], strict=True))
    assert by_reason == {8: "unknown_section", 9: "date_out_of_range", 10: "bad_date",
                         11: "no_values"}
    kinds = {w.kind: w for w in findings.warnings}
    assert {"monitoring_unit_row", "monitoring_value", "monitoring_rejected", "blank_rows",
            "footer_row"} <= set(kinds)
    bad = kinds["monitoring_value"]
    assert (bad.feature, bad.column) == ("row 7", "五日生化需氧量") and "待复核" in bad.message
    assert bad.file == str(path)
    assert all("not samples" in w.message for w in findings.warnings if w.kind == "blank_rows")


def test_missing_header_names_the_monitoring_table(tmp_path: Path) -> None:
    path = _write(tmp_path, ["断面,日期,氨氮", "大墩,2026-01-10,0.5"])
    with pytest.raises(InputError) as err:
        read_monitoring_table(_config(path))
    text = str(err.value)
    assert "[monitoring.columns]" in text and "case" not in text and "断面名称" in text


def test_nothing_usable_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path, [HEADER, "旧镇,2026-01-10,7,6,3,12,2,0.6,0.1,1"])
    table = read_monitoring_table(_config(path))
    with pytest.raises(InputError, match="not one sample") as err:
        read_samples(table, _sections(), _config(path), AS_OF, Findings())
    assert "row 2" in str(err.value)


def _statistics(tmp_path: Path, rows: list[str], **extra: object):
    path = _write(tmp_path, [HEADER, *rows])
    monitoring = _config(path, **extra)
    context = gpd.GeoDataFrame({
        "context_id": ["GK001", "SJ001"], "name": ["大墩断面（国考）", "支流断面"],
        "kind": ["monitoring_section"] * 2, "river_id": ["M", "T1"], "target": ["Ⅲ类", "VI类"],
        "section_kind": ["国考", "市考"], "feature": [1, 2]},
        geometry=[Point(0, 0), Point(5, 5)], crs="EPSG:4526")
    config = Config.model_construct(
        project=ProjectConfig(name="测试区", as_of=AS_OF),
        context=ContextConfig.model_construct(path=Path("context.geojson"), target_field="target",
                                              river_field="river",
                                              section_kinds=("monitoring_section",)),
        monitoring=monitoring)
    rivers = gpd.GeoDataFrame({"name": ["干流", "一涌"], "kind": ["main", "tributary"],
                               "flows_into": ["", "M"]}, index=["M", "T1"],
                              geometry=[LineString([(0, 0), (9, 0)]), LineString([(5, 5), (5, 0)])])
    cases = pd.DataFrame({"river_id": ["M", "T1", "T1"], "state": ["assigned", "closed", "reported"],
                          "overdue": [True, False, False], "town_id": ["A", "B", "B"],
                          "village_id": ["a", "b", "b"]})
    findings = Findings()
    return monitoring_statistics(read_monitoring_table(monitoring), config, context, rivers, cases,
                                 None, findings), findings


def test_class_is_the_worst_parameter_and_attainment_by_month(tmp_path: Path) -> None:
    m, findings = _statistics(tmp_path, [
        "大墩,2025-12-10,7.2,6.1,3.3,12,2.1,0.61,120,9.9",  # III, TN not assessed
        "大墩,2026-01-10,7.2,6.1,3.3,12,2.1,1.2,120,1",     # IV on NH3-N: not met
        "大墩,2026-01-25,7.2,6.1,3.3,12,2.1,0.4,120,1",     # III (TP), but January is as bad as its worst
        "大墩,2026-03-10,7.2,4.9,3.3,12,2.1,0.4,120,1",     # DO 4.9 < 5: IV
        "大墩,2026-05-10,7.2,6.1,3.3,12,2.1,ND,<20,1",      # below detection: class I for them
        "大墩,2026-07-10,9.5,6.1,3.3,12,2.1,0.4,120,1",     # pH out of 6–9: 劣V
        "大墩,2026-08-10,7.2,8.0,1.0,10,1,0.1,10,1",        # I
        "支流断面,2026-08-10,7.2,8.0,1.0,10,1,0.1,10,1",    # target VI: no attainment
    ])
    gk = m.samples[m.samples["section_id"] == "GK001"]
    assert gk["class_label"].tolist() == ["III类", "IV类", "III类", "IV类", "II类", "劣V类", "I类"]
    assert gk["met"].tolist() == [True, False, True, False, True, False, True]
    assert gk["exceeding"].iloc[1] == "氨氮 0.20倍" and gk["exceeding"].iloc[3] == "溶解氧 0.02倍"
    months = m.months[m.months["section_id"] == "GK001"]
    assert months["month"].tolist() == ["2025-12", "2026-01", "2026-03", "2026-05", "2026-07",
                                        "2026-08"]
    assert months["class_label"].tolist() == ["III类", "IV类", "IV类", "II类", "劣V类", "I类"]
    row = m.sections.loc["GK001"]
    # gaps (Feb, Apr, Jun, Sep–Nov) count neither way; 2025-12 is in the last 12 months only
    assert (row["ytd_met"], row["ytd_months"]) == (2, 5)
    assert (row["last12_met"], row["last12_months"]) == (3, 6)
    assert row["met_since"] == "2026-08" and row["latest_label"] == "I类"
    assert row["main_exceeding"].startswith("溶解氧（1次") or "氨氮（1次" in row["main_exceeding"]
    years = m.years[m.years["section_id"] == "GK001"].set_index("year")
    assert years.loc[2026, "met"] == 2 and years.loc[2025, "months"] == 1
    sj = m.samples[m.samples["section_id"] == "SJ001"]
    assert sj["class_label"].tolist() == ["I类"] and pd.isna(sj["met"].iloc[0])
    assert any(w.kind == "monitoring_target" and w.feature == "2" for w in findings.warnings)
    assert set(m.warnings[m.warnings["rule"] == "month_not_met"]["date"]) == {
        "2026-01", "2026-03", "2026-07"}
    assert m.ledger()["samples_in"] == 8 and m.ledger()["samples_used"] == 8


def test_missing_assessed_parameter_is_warned_and_not_assessed(tmp_path: Path) -> None:
    path = _write(tmp_path, ["断面名称,采样时间,氨氮", "大墩,2026-01-10,1.2"])
    monitoring = _config(path)
    findings = Findings()
    samples, _, _ = read_samples(read_monitoring_table(monitoring), _sections(), monitoring,
                                 AS_OF, findings)
    missing = {w.column for w in findings.warnings if w.kind == "monitoring_parameter"}
    assert missing == {"pH", "溶解氧", "高锰酸盐指数", "化学需氧量", "五日生化需氧量", "总磷"}
    assert "TP" not in samples.columns and samples["NH3-N"].tolist() == [1.2]


def test_near_limit_warning_two_samples_running(tmp_path: Path) -> None:
    m, _ = _statistics(tmp_path, [
        "大墩,2026-01-10,7,7,3,12,2,0.85,100,1",   # NH3-N 0.85 > 0.8 × 1.0
        "大墩,2026-02-10,7,7,3,12,2,0.70,100,1",   # run broken
        "大墩,2026-03-10,7,7,3,12,2,0.81,100,1",
        "大墩,2026-04-10,7,7,3,12,2,0.95,100,1",   # second running: warning
        "大墩,2026-05-10,7,7,3,12,2,0.99,100,1",   # same run: no second warning
    ])
    near = m.warnings[m.warnings["rule"] == "near_limit"]
    assert near[["date", "parameter"]].values.tolist() == [["2026-04-10", "NH3-N"]]
    assert "2026-03-10起" in near["message"].iloc[0]


def test_month_rule_can_be_switched_off(tmp_path: Path) -> None:
    rows = ["大墩,2026-01-10,7,7,3,12,2,1.2,100,1"]
    on, _ = _statistics(tmp_path, rows)
    off, _ = _statistics(tmp_path, rows, warn_month_not_met=False)
    assert on.warnings["rule"].tolist() == ["month_not_met"] and off.warnings.empty


def test_upstream_ranking_from_the_river_network(tmp_path: Path) -> None:
    m, _ = _statistics(tmp_path, ["大墩,2026-01-10,7,6,3,12,2,0.5,100,1",
                                  "支流断面,2026-01-10,7,6,3,12,2,0.5,100,1"])
    gk = m.rivers[m.rivers["section_id"] == "GK001"]
    assert gk[["river_id", "open", "overdue", "rank"]].values.tolist() == [
        ["M", 1, 1, 1], ["T1", 1, 0, 2]]
    assert m.rivers[m.rivers["section_id"] == "SJ001"]["river_id"].tolist() == ["T1"]


def test_below_detection_meets_class_one_whatever_the_limit_written(tmp_path: Path) -> None:
    # at face value <0.5 NH3-N is class II and 0.05L TP (50 μg/L written as mg/L) class II
    m, _ = _statistics(tmp_path, ["大墩,2026-09-10,7.2,8.0,1.0,10,1,<0.5,ND,1",
                                  "大墩,2026-10-10,7.2,8.0,1.0,10,1,0.5L,未检出,1"])
    assert m.samples["class_label"].tolist() == ["I类", "I类"]
    assert m.samples["NH3-N_nd"].all() and m.samples["TP_nd"].all()


def test_config_refuses_unknown_and_unmapped_parameters(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="no GB 3838-2002 limits"):
        _config(tmp_path / "x.csv", assessed=("NH3-N", "叶绿素"))
    with pytest.raises(ValidationError, match=r"need a header in \[monitoring.parameters\]"):
        _config(tmp_path / "x.csv", assessed=("NH3-N", "Cd"))
    with pytest.raises(ValidationError, match="sampled_at"):
        MonitoringConfig(path=tmp_path, columns={"section": "断面"}, parameters=PARAMETERS)


def test_a_workbook_is_read_like_the_csv(tmp_path: Path) -> None:
    path = tmp_path / "监测.xlsx"
    rows = [["断面水质（示例）"] + [""] * 9, HEADER.split(","), UNITS.split(","),
            ["大墩", "2026-01-10", "7.2", "6.1", "3.3", "12", "2.1", "0.61", "120", "1.9"]]
    pd.DataFrame(rows).to_excel(path, header=False, index=False)
    table = read_monitoring_table(_config(path))
    samples, rejected, _ = read_samples(table, _sections(), _config(path), AS_OF, Findings())
    assert rejected.empty and samples["TP"].round(3).tolist() == [0.12]
    assert samples["source_row"].tolist() == [4]

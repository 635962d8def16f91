"""The build report: report.json, report.html's sections, rejected_cases.csv."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pandas as pd
from conftest import leftover_temp_files, tiny_cases_frame, write_tiny_inputs

from battlemap.build import prepare, write_report
from battlemap.cli import main
from battlemap.config import load_config
from battlemap.report import write_report_files

SECTIONS = ["台账 Ledger", "退回原因 Rejected by reason", "个人信息遮蔽 Personal data masked",
            "输出 Outputs", "申报地点不符 Declared place mismatches", "警告 Warnings",
            "退回案件 Rejected cases", "公文 Letters written", "用时 Timings (s)"]


def _report(**changes) -> dict:
    """A report as build.write_report makes it, with known values."""
    report = {
        "battlemap_version": "0.1.0", "district": "测试区", "as_of": "2026-11-27",
        "sample_data": False, "cases_in": 5, "cases_mapped": 2, "cases_rejected": 3,
        "duplicate_rule": "同一问题编号只保留最新一条",
        "warnings": [
            {"kind": "unknown_status", "message": "status word '待核实' is not mapped",
             "file": "cases.csv", "feature": "", "column": "处理状态"},
            {"kind": "garbled_text", "message": "names read as GBK", "file": "towns.shp",
             "feature": "3", "column": "name"},
            {"kind": "unknown_status", "message": "status word '挂起' is not mapped",
             "file": "cases.csv", "feature": "", "column": "处理状态"}],
        "rejected": [
            {"source_row": 4, "case_id": "C03", "reason_code": "outside_district",
             "reason": "位于辖区外 outside the district", "detail": "1.0 km outside"},
            {"source_row": 8, "case_id": "C07", "reason_code": "unknown_status",
             "reason": "未知处理状态 unknown status word", "detail": "处理状态: 待核实"},
            {"source_row": 9, "case_id": "C08", "reason_code": "outside_district",
             "reason": "位于辖区外 outside the district", "detail": "2.5 km outside"}],
        "masked": {"问题描述": 2, "所属村居": 0}, "nothing_mapped": None,
        "outputs": {"web": {"rendered": 3, "skipped": 9, "removed": 1}},
        "declared_mismatch_cases": [
            {"source_row": 6, "case_id": "C04", "declared_town": "乙镇", "declared_village": "乙一村",
             "town": "乙镇", "village": "乙二村"}],
        "timings_s": {"load": 0.8, "validate": 1.5, "join": 0.1, "stats": 0.4},
    }
    return report | changes


def _frames(report: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    rejected = pd.DataFrame(report["rejected"])
    original = pd.DataFrame({"source_row": [2, 4, 8, 9, 10],
                             "问题编号": ["C01", "C03", "C07", "C08", "C10"],
                             "处理状态": ["已销号", "已交办", "待核实", "已交办", "整改中"]})
    return rejected, original


def _write(tmp_path: Path, report: dict) -> Path:
    write_report_files(report, *_frames(report), tmp_path)
    return tmp_path


def _html(out: Path) -> str:
    return (out / "report.html").read_text(encoding="utf-8")


def _tables(html: str) -> list[list[list[str]]]:
    """Every table's body rows as cell texts."""
    return [[re.findall(r"<td>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", body)]
            for body in re.findall(r"<tbody>(.*?)</tbody>", html)]


def test_three_files_written_atomically(tmp_path) -> None:
    out = _write(tmp_path, _report())
    assert sorted(p.name for p in out.iterdir()) == ["rejected_cases.csv", "report.html",
                                                     "report.json"]
    assert not leftover_temp_files(out)


def test_report_json_is_the_report(tmp_path) -> None:
    report = _report()
    out = _write(tmp_path, report)
    assert json.loads((out / "report.json").read_text(encoding="utf-8")) == report


def test_html_sections_in_order(tmp_path) -> None:
    html = _html(_write(tmp_path, _report()))
    assert re.findall(r"<h1>(.*?)</h1>", html) == ["测试区 挂图作战 构建报告"]
    assert re.findall(r"<h2>(.*?)</h2>", html) == SECTIONS
    assert "<title>测试区 构建报告</title>" in html
    assert "截至 as of 2026-11-27 · battlemap 0.1.0" in html
    assert "同一问题编号只保留最新一条" in html
    assert 'class="sample"' not in html


def test_html_ledger_reasons_rejected_and_timings(tmp_path) -> None:
    tables = _tables(_html(_write(tmp_path, _report())))
    ledger, reasons, rejected, timings = tables[0], tables[1], tables[-2], tables[-1]
    assert ledger == [["输入案件 cases in", "5"], ["上图案件 cases mapped", "2"],
                      ["退回案件 cases rejected", "3"]]
    assert reasons == [["位于辖区外 outside the district", "2"],
                       ["未知处理状态 unknown status word", "1"]]
    assert [row[:2] for row in rejected] == [["4", "C03"], ["8", "C07"], ["9", "C08"]]
    assert timings == [["load", "0.8"], ["validate", "1.5"], ["join", "0.1"], ["stats", "0.4"]]


def test_html_warnings_grouped_by_kind(tmp_path) -> None:
    html = _html(_write(tmp_path, _report()))
    assert re.findall(r"<summary>(.*?)</summary>", html) == [
        "乱码已修复 (garbled_text) · 1", "未知处理状态 (unknown_status) · 2"]
    assert "<td>towns.shp</td><td>3</td><td>name</td>" in html
    empty = _html(_write(tmp_path / "none", _report(warnings=[])))
    assert "<h2>警告 Warnings</h2><p>无 none</p>" in empty


def test_html_marks_sample_data(tmp_path) -> None:
    html = _html(_write(tmp_path, _report(sample_data=True)))
    assert '<p class="sample">示例数据 sample data</p>' in html


def test_html_escapes_text_from_the_data(tmp_path) -> None:
    report = _report(district='<b>区</b>')
    report["rejected"][0]["detail"] = "<script>alert(1)</script>"
    report["warnings"][1]["message"] = '<img src=x onerror="alert(1)">'
    html = _html(_write(tmp_path, report))
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_rejected_csv_keeps_the_original_columns(tmp_path) -> None:
    out = _write(tmp_path, _report())
    raw = (out / "rejected_cases.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")                    # BOM: Excel opens it as UTF-8
    rows = pd.read_csv(out / "rejected_cases.csv", dtype=str, encoding="utf-8-sig")
    assert list(rows.columns) == ["原始行号", "退回原因", "说明", "问题编号", "处理状态"]
    assert rows["原始行号"].tolist() == ["4", "8", "9"]
    assert rows["问题编号"].tolist() == ["C03", "C07", "C08"]
    assert rows.loc[1, "处理状态"] == "待核实" and rows.loc[1, "退回原因"].startswith("未知处理状态")


def test_no_rejected_cases(tmp_path) -> None:
    report = _report(rejected=[], cases_rejected=0, cases_mapped=5)
    out = tmp_path
    none = pd.DataFrame(columns=["source_row", "case_id", "reason_code", "reason", "detail"])
    write_report_files(report, none, _frames(_report())[1], out)
    rows = pd.read_csv(out / "rejected_cases.csv", encoding="utf-8-sig")
    assert rows.empty and list(rows.columns)[:3] == ["原始行号", "退回原因", "说明"]
    assert _tables(_html(out))[1] == []                       # no reasons


def test_report_of_the_tiny_district(tiny_prepared, tmp_path) -> None:
    """The real report of a build: the ledger adds up and every rejected case is listed."""
    from battlemap.build import write_report

    report = write_report(tiny_prepared, tmp_path)
    assert report["cases_in"] == report["cases_mapped"] + report["cases_rejected"]
    html = _html(tmp_path)
    assert re.findall(r"<h2>(.*?)</h2>", html) == [*SECTIONS, "输出大小 Output size"]
    assert report["output_sizes"]["total"] == 0               # measured before its own files
    listed = [row[1] for row in _tables(html)[-3]]
    assert sorted(listed) == sorted(r["case_id"] for r in report["rejected"])
    csv_rows = pd.read_csv(tmp_path / "rejected_cases.csv", dtype=str, encoding="utf-8-sig")
    assert len(csv_rows) == report["cases_rejected"]
    assert "上报人电话" not in csv_rows                      # private column never reaches an output


# ---------------------------------------------------------------- formulas made inert

FORMULAS = ['=HYPERLINK("http://x","点我")', "+1", "-2+3", "@SUM(A1)", "\t=1"]
REJECTED = {"C03": 2, "C07": 6, "C08": 7}
"""Rejected case -> its row in the tiny case table."""


def test_rejected_cases_are_inert_and_numbers_plain(tmp_path: Path) -> None:
    cases = tiny_cases_frame()
    for text, row in zip(FORMULAS, REJECTED.values(), strict=False):
        cases.loc[row, "问题描述"] = text
    cases.loc[REJECTED["C08"], "所属村居"] = FORMULAS[3]
    cases.loc[REJECTED["C03"], "所属村居"] = "请回电13955020002"
    cases["=备注"] = "-"
    config = load_config(write_tiny_inputs(tmp_path / "in", cases), out_dir=tmp_path / "out")
    prepared = prepare(config)
    out = tmp_path / "out"
    write_report(prepared, out)
    with (out / "rejected_cases.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = {row["问题编号"]: row for row in csv.DictReader(handle)}
    assert set(REJECTED) <= set(rows)
    assert [rows[c]["问题描述"] for c in REJECTED] == [f"'{t}" for t in FORMULAS[:3]]
    assert rows["C08"]["所属村居"] == f"'{FORMULAS[3]}"
    assert rows["C03"]["经度"].startswith("113.") and rows["C03"]["'=备注"] == "-"
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["masked"]["所属村居"] == 1 and report["masked"]["问题描述"] == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "所属村居 1" in html and "13955020002" not in html


# ---------------------------------------------------------------- nothing mapped

def validate(folder: Path, cases: pd.DataFrame, capsys) -> tuple[int, dict, str]:
    config = write_tiny_inputs(folder, cases=cases)
    code = main(["validate", "--config", str(config), "--out", str(folder / "out"), "--quiet"])
    report = json.loads((folder / "out" / "report.json").read_text(encoding="utf-8"))
    html = (folder / "out" / "report.html").read_text(encoding="utf-8")
    return code, report | {"html": html}, capsys.readouterr().err


def test_a_build_where_every_case_is_rejected_says_so_with_the_main_reason(tmp_path, capsys):
    frame = tiny_cases_frame()
    frame["经度"] = ""
    frame.loc[0, "处理状态"] = "待核实"
    code, report, err = validate(tmp_path / "t", frame, capsys)
    assert code == 0
    expected = ("0 of 11 cases mapped: most (8) rejected for 坐标为空 blank coordinates; "
                "see rejected_cases.csv")
    assert report["nothing_mapped"] == expected
    assert f"battlemap: warning: {expected}" in err  # printed even with --quiet
    assert expected in report["html"]


def test_a_header_only_file_says_it_has_no_rows(tmp_path, capsys):
    code, report, err = validate(tmp_path / "t", tiny_cases_frame().iloc[0:0], capsys)
    assert code == 0 and report["cases_in"] == 0
    assert "0 cases mapped: the case table has no rows below its header" in err
    assert report["nothing_mapped"] in report["html"]


def test_a_normal_build_has_no_such_line(tmp_path, capsys):
    code, report, err = validate(tmp_path / "t", tiny_cases_frame(), capsys)
    assert code == 0
    assert report["nothing_mapped"] is None and err == ""


def test_outputs_mismatches_and_warning_kinds_read_in_chinese(tmp_path) -> None:
    html = _html(_write(tmp_path, _report()))
    assert "<td>网页 web atlas</td><td>3</td><td>9</td><td>1</td>" in html
    assert "<td>C04</td><td>乙镇</td><td>乙一村</td><td>乙镇</td><td>乙二村</td>" in html
    assert "未知处理状态 (unknown_status) · 2" in html and "乱码已修复 (garbled_text) · 1" in html


def test_the_tiny_report_lists_its_declared_place_mismatch(tmp_path) -> None:
    from battlemap.build import write_report as write

    config = load_config(write_tiny_inputs(tmp_path / "in"), out_dir=tmp_path / "out")
    report = write(prepare(config), tmp_path / "out")
    assert [r["case_id"] for r in report["declared_mismatch_cases"]] == ["C04"]
    assert report["declared_mismatch_cases"][0]["village"] == "乙二村"
def test_output_sizes_per_kind_of_file_reach_the_html(tmp_path) -> None:
    from battlemap.report import output_sizes

    out = tmp_path / "out"
    for rel, size in [("posters/grid/a_A4.pdf", 300), ("posters/atlas/t.pdf", 1000),
                      ("bulletin/b.pdf", 70), ("index.html", 5), ("town/t.html", 20),
                      ("statistics.xlsx", 9), ("odd.txt", 1)]:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(b"x" * size)
    sizes = output_sizes(out)
    assert sizes == {"atlas": 1000, "bulletin": 70, "exports": 9, "other": 1, "posters": 300,
                     "web": 25, "total": 1405}
    html = _html(_write(tmp_path, _report(output_sizes={"atlas": 12_300_000, "total": 10**8})))
    assert "输出大小 Output size" in html
    assert _tables(html)[-1] == [["atlas", "12.3"], ["total", "100.0"]]

"""The build report says plainly when no case reached a map, and why."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from conftest import tiny_cases_frame, write_tiny_inputs

from battlemap.cli import main


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

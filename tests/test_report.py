"""The report files: rejected_cases.csv is inert in a spreadsheet; the masked counts are shown."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from conftest import tiny_cases_frame, write_tiny_inputs

from battlemap.build import prepare, write_report
from battlemap.config import load_config

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

"""Formula-like text is made inert the same way for every CSV and workbook."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from battlemap._sheets import formula_like, inert_csv_frame, inert_workbook

FORMULAS = ['=HYPERLINK("http://x","点我")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "=1",
            "-1-", "+", "@"]
PLAIN = ["点我", "1+1", "a=b", "-113.5", "-2", "12", "", " =1", "-", "--"]


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_like(text: str) -> None:
    assert formula_like(text)


@pytest.mark.parametrize("value", [*PLAIN, -2, -2.5, None])
def test_not_formula_like(value: object) -> None:
    assert not formula_like(value)


def test_csv_frame_prefixes_text_and_headers_not_numbers() -> None:
    frame = pd.DataFrame({"=cmd": FORMULAS[:3], "值": [-1.5, -2.0, 3.0],
                          "经度": ["-113.5", "113.5", ""]})
    out = inert_csv_frame(frame)
    assert list(out.columns) == ["'=cmd", "值", "经度"]
    assert out["'=cmd"].tolist() == [f"'{t}" for t in FORMULAS[:3]]
    assert out["值"].tolist() == [-1.5, -2.0, 3.0] and out["值"].dtype == float
    assert out["经度"].tolist() == ["-113.5", "113.5", ""]
    assert frame.columns[0] == "=cmd"  # the input is not changed


def test_workbook_cells_are_text_and_numbers_stay_numbers(tmp_path: Path) -> None:
    path = tmp_path / "x.xlsx"
    frame = pd.DataFrame({"名称": FORMULAS[:6], "值": [-1.5, -2, 0, 1, 2, 3]})
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        frame.to_excel(writer, index=False)
        assert inert_workbook(writer.book) == len(FORMULAS[:6])
    sheet = openpyxl.load_workbook(path).active
    names = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in names] == FORMULAS[:6]
    assert all(c.data_type == "s" and c.quotePrefix for c in names)
    numbers = [row[1] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in numbers] == [-1.5, -2, 0, 1, 2, 3]
    assert {c.data_type for c in numbers} == {"n"}

"""Formula-like text is made inert the same way for every CSV and workbook."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from battlemap import _sheets
from battlemap._sheets import DATE, DATE_TIME, PERCENT, formula_like, inert_csv_frame, write_workbook

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


def _book(tmp_path: Path, frames: dict[str, pd.DataFrame], **options: object) -> openpyxl.Workbook:
    return openpyxl.load_workbook(write_workbook(tmp_path / "x.xlsx", frames, **options))


def test_workbook_cells_are_text_and_numbers_stay_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame({"名称": FORMULAS[:6], "值": [-1.5, -2, 0, 1, 2, 3],
                          "计数": [1, 2, 3, 4, 5, 6], "文字": PLAIN[:6]})
    sheet = _book(tmp_path, {"表": frame}).active
    names = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in names] == FORMULAS[:6]
    assert all(c.data_type == "s" and c.quotePrefix for c in names)
    for column, values in ((1, [-1.5, -2, 0, 1, 2, 3]), (2, [1, 2, 3, 4, 5, 6])):
        numbers = [row[column] for row in sheet.iter_rows(min_row=2)]
        assert [c.value for c in numbers] == values
        assert {c.data_type for c in numbers} == {"n"} and not any(c.quotePrefix for c in numbers)
    plain = [row[3] for row in sheet.iter_rows(min_row=2)]
    assert [c.value for c in plain] == PLAIN[:6] and not any(c.quotePrefix for c in plain)


def test_workbook_headers_are_inert_and_control_characters_go(tmp_path: Path) -> None:
    frame = pd.DataFrame({"=cmd": ["a\x00b\x1fc", "=x\x07"], "说明": ["第一\x0b行", None]})
    sheet = _book(tmp_path, {"表": frame}).active
    assert sheet["A1"].value == "=cmd" and sheet["A1"].data_type == "s" and sheet["A1"].quotePrefix
    assert [sheet["A2"].value, sheet["A3"].value, sheet["B2"].value] == ["abc", "=x", "第一行"]
    assert sheet["A3"].quotePrefix and not sheet["A2"].quotePrefix


def test_workbook_drops_what_xml_cannot_hold(tmp_path: Path) -> None:
    """U+FFFE and U+FFFF are valid UTF-8 in a CSV; no XML parser (Excel's) takes them."""
    frame = pd.DataFrame({"说明": ["尾\uffff巴\ufffe", "孤\ud800立"]})
    sheet = _book(tmp_path, {"表": frame}).active  # openpyxl's parser refuses them, as Excel
    assert [sheet["A2"].value, sheet["A3"].value] == ["尾巴", "孤立"]


def test_workbook_missing_values_are_empty_cells(tmp_path: Path) -> None:
    frame = pd.DataFrame({"数": [1.5, np.nan], "文字": ["a", None],
                          "时间": [pd.NaT, pd.Timestamp("2026-01-02")],
                          "可空整数": pd.array([1, None], dtype="Int64")})
    sheet = _book(tmp_path, {"表": frame}).active
    assert [c.value for c in sheet[3]] == [None, None, dt.datetime(2026, 1, 2), None]
    assert sheet["A2"].value == 1.5 and sheet["D2"].value == 1 and sheet["D2"].data_type == "n"


def test_workbook_formats_percent_and_dates(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "销号率": [0.873, np.nan, 1.0], "数": [0.5, 0.25, 1.0],
        "整改期限": pd.to_datetime(["2026-01-02", "2026-03-04", None]),
        "上报时间": pd.to_datetime(["2026-01-02 08:30:00", "2026-03-04 00:00:00", "2026-03-05 00:00:01"]),
        "日期": [dt.date(2026, 1, 2), None, np.datetime64("2026-01-03T10:00")]})
    sheet = _book(tmp_path, {"表": frame}, percent=("销号率",)).active
    assert [sheet[f"A{r}"].number_format for r in (2, 3, 4)] == [PERCENT] * 3  # the empty one too
    assert sheet["A2"].value == 0.873 and sheet["A1"].number_format == "General"
    assert {sheet[f"B{r}"].number_format for r in (2, 3, 4)} == {"General"}
    assert [sheet[f"C{r}"].number_format for r in (2, 3)] == [DATE, DATE]
    assert [sheet[f"D{r}"].number_format for r in (2, 3, 4)] == [DATE_TIME, DATE, DATE_TIME]
    assert sheet["C2"].value == dt.datetime(2026, 1, 2) and sheet["C2"].data_type == "d"
    assert sheet["E2"].number_format == DATE and sheet["E2"].value == dt.datetime(2026, 1, 2)
    assert sheet["E4"].number_format == DATE_TIME and sheet["E4"].value == dt.datetime(2026, 1, 3, 10)


def test_workbook_layout_widths_frozen_header_filter_and_print(tmp_path: Path) -> None:
    frames = {"甲": pd.DataFrame({"编码": ["1", "22"], "名称": ["增城区" * 40, "x"], "n": [1, 2]}),
              "乙": pd.DataFrame({"空表": pd.Series([], dtype=object)})}
    book = _book(tmp_path, frames, max_width=50)
    assert book.sheetnames == ["甲", "乙"]
    first, empty = book["甲"], book["乙"]
    assert [first.column_dimensions[k].width for k in "ABC"] == [6, 50, 6]
    assert first.freeze_panes == "A2" and first.auto_filter.ref == "A1:C3" == first.dimensions
    assert first.print_title_rows == "$1:$1" and first.page_setup.orientation == "landscape"
    assert first.page_setup.fitToWidth == 1 and first.page_setup.fitToHeight == 0
    assert first.sheet_properties.pageSetUpPr.fitToPage
    assert empty["A1"].value == "空表" and empty.auto_filter.ref == "A1:A1"
    assert empty.column_dimensions["A"].width == 6


def test_workbook_widths_from_the_first_rows_and_every_chunk_written(tmp_path: Path,
                                                                     monkeypatch) -> None:
    monkeypatch.setattr(_sheets, "CHUNK_ROWS", 7)
    monkeypatch.setattr(_sheets, "WIDTH_ROWS", 10)
    texts = ["=1+1" if k % 5 == 0 else f"行{k}" for k in range(30)]
    texts[7] = "中等长度"                         # row 9: measured (8 wide)
    texts[12] = "很长" * 10                       # row 14: not among the first 10 rows measured
    frame = pd.DataFrame({"文字": texts, "值": range(30)})
    sheet = _book(tmp_path, {"表": frame}).active
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == texts
    assert [row[1].value for row in sheet.iter_rows(min_row=2)] == list(range(30))
    assert [row[0].quotePrefix for row in sheet.iter_rows(min_row=2)] == [
        k % 5 == 0 for k in range(30)]
    assert sheet.column_dimensions["A"].width == 10 and sheet.auto_filter.ref == "A1:B31"


def test_workbook_text_round_trips_and_no_cell_is_a_formula(tmp_path: Path) -> None:
    texts = ["a & b <c> \"d\" 'e'", " 前后空格 ", "第一行\r\n第二行\t制表", "=1+1", "x" * 40000,
             "𬒈塱氹"]
    frame = pd.DataFrame({"文字": texts, "时间": pd.to_datetime(
        ["2026-11-27 08:30:15.250", "1900-01-01", "1900-03-01", None, "2026-01-02", "2026-12-31"],
        format="ISO8601")})
    path = write_workbook(tmp_path / "x.xlsx", {"表&<'甲'>": frame})
    book = openpyxl.load_workbook(path)
    sheet = book["表&<'甲'>"]
    assert [sheet[f"A{r}"].value for r in range(2, 8)] == [*texts[:4], "x" * 32767, texts[5]]
    assert sheet.print_title_rows == "$1:$1" and sheet.auto_filter.ref == "A1:B7"
    assert [sheet[f"B{r}"].value for r in (2, 3, 4, 6, 7)] == [
        dt.datetime(2026, 11, 27, 8, 30, 15, 250000), dt.datetime(1900, 1, 1),
        dt.datetime(1900, 3, 1), dt.datetime(2026, 1, 2), dt.datetime(2026, 12, 31)]
    with zipfile.ZipFile(path) as package:
        xml = package.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "<f " not in xml and xml.count('t="inlineStr"') == 8
    assert xml.count('<t xml:space="preserve">') == 8   # Excel keeps leading and trailing spaces


def test_workbook_refuses_a_sheet_name_excel_cannot_hold(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sheet name"):
        write_workbook(tmp_path / "x.xlsx", {"a/b": pd.DataFrame({"x": [1]})})

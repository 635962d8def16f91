"""load.tables: CSV in any encoding, workbooks, and files that are not what they are named."""

from __future__ import annotations

import functools
import re
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import tiny_cases_frame
from hypothesis import given, settings
from hypothesis import strategies as st
from load_helpers import LIBRARY_WORDS, cases_config, notes, write_xlsx, xlsx_rows

from battlemap.errors import InputError
from battlemap.load import read_case_table


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings_are_detected(tmp_path, encoding):
    path = tmp_path / "cases.csv"
    frame = tiny_cases_frame()
    frame.loc[0, "问题描述"] = "河涌𠀾边有垃圾" if encoding == "gb18030" else "河涌边有垃圾"
    frame.to_csv(path, index=False, encoding=encoding, sep="\t" if encoding == "utf-16" else ",")
    table = read_case_table(cases_config(path)).table
    assert table["description"].iloc[0] == frame.loc[0, "问题描述"]
    assert table["declared_town"].iloc[0] == "甲镇"
    kinds = [n.kind for n in notes(table)]
    assert kinds == ([] if encoding.startswith("utf-8") else ["encoding_detected"])


def test_configured_csv_encoding_is_used_and_a_wrong_one_explained(tmp_path):
    path = tmp_path / "cases.csv"
    tiny_cases_frame().to_csv(path, index=False, encoding="gbk")
    table = read_case_table(cases_config(path, encoding="GBK")).table
    assert table["declared_town"].iloc[0] == "甲镇" and notes(table) == []
    with pytest.raises(InputError, match=r'not in the configured encoding UTF-8.*"gb18030"'):
        read_case_table(cases_config(path, encoding="UTF-8"))
    with pytest.raises(InputError, match=r"garbled.*encoding"):
        read_case_table(cases_config(path, encoding="latin-1"))


def test_xlsx_first_sheet_with_real_cell_types(tmp_path):
    path = write_xlsx(tmp_path / "cases.xlsx", xlsx_rows())
    table = read_case_table(cases_config(path)).table
    assert len(table) == len(tiny_cases_frame())
    assert table["reported_at"].iloc[0] == "2026-01-05 09:00:00"
    assert table["case_id"].iloc[0] == "C01"
    from battlemap.validate import parse_datetimes
    parsed = parse_datetimes(table["reported_at"].iloc[:2])
    assert parsed.tolist() == [pd.Timestamp("2026-01-05 09:00"), pd.Timestamp("2026-11-05 08:30")]


def test_xlsx_named_sheet_and_a_missing_one(tmp_path):
    path = write_xlsx(tmp_path / "cases.xlsx", xlsx_rows(), sheet="案件", other="封面")
    table = read_case_table(cases_config(path, sheet="案件")).table
    assert table["case_id"].iloc[0] == "C01"
    with pytest.raises(InputError, match=r"no sheet named '问题'.*\['封面', '案件'\]"):
        read_case_table(cases_config(path, sheet="问题"))
    with pytest.raises(InputError, match="set \\[cases\\] sheet"):
        read_case_table(cases_config(path))


def test_damaged_workbook_is_an_input_error_in_our_words(tmp_path):
    path = tmp_path / "cases.xlsx"
    good = write_xlsx(tmp_path / "good.xlsx", xlsx_rows()).read_bytes()
    path.write_bytes(good[: len(good) // 2])  # cut short, as by a failed download
    with pytest.raises(InputError, match="not a readable Excel workbook") as error:
        read_case_table(cases_config(path))
    assert "save it again as .xlsx" in str(error.value)
    assert "engine" not in str(error.value) and "zip" not in str(error.value).lower().replace(
        "a zip or office file", "")


@pytest.mark.parametrize("name, content, expected", [
    ("cases.csv", b"", "is empty (0 bytes"),
    ("cases.xlsx", b"", "is empty (0 bytes"),
    ("cases.csv", b" \r\n\r\n ", "holds only blank space, no table"),
    ("cases.xlsx", bytes(range(256)) * 8, "is neither a spreadsheet nor text"),
    ("cases.xls", b"<html><body><table><tr><td>x</td></tr></table></body></html>",
     "is a web page (HTML or XML)"),
])
def test_what_a_case_file_really_is(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=re.escape(expected)) as error:
        read_case_table(cases_config(path))
    assert str(path) in str(error.value)


def test_csv_named_xlsx_and_a_workbook_named_csv_are_read_for_what_they_are(tmp_path):
    csv_text = tmp_path / "cases.xlsx"
    tiny_cases_frame().to_csv(csv_text, index=False)
    table = read_case_table(cases_config(csv_text)).table
    assert len(table) == len(tiny_cases_frame())
    assert [n.message for n in notes(table) if n.kind == "file_kind"] == [
        "the case table is CSV text, though named .xlsx; read as CSV (rename it to .csv to say so)"]
    workbook = tmp_path / "cases.csv"
    workbook.write_bytes(write_xlsx(tmp_path / "w.xlsx", xlsx_rows()).read_bytes())
    table = read_case_table(cases_config(workbook)).table
    assert table["case_id"].iloc[0] == "C01"
    assert [n.kind for n in notes(table)] == ["file_kind"]


def test_a_row_wider_than_the_header_does_not_stop_the_table(tmp_path):
    path = tmp_path / "cases.csv"
    text = tiny_cases_frame().to_csv(index=False)
    lines = text.splitlines()
    lines[-1] += ",多出来的一格,又一格"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = read_case_table(cases_config(path)).table
    assert len(table) == len(tiny_cases_frame()) and table["case_id"].iloc[-1] == "C10"


@functools.cache
def good_workbook() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return write_xlsx(Path(tmp) / "good.xlsx", xlsx_rows()).read_bytes()


@settings(max_examples=15, deadline=None)
@given(cut=st.floats(0, 1), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)),
                                          max_size=6),
       suffix=st.sampled_from([".xlsx", ".csv", ".xls"]))
def test_any_damaged_workbook_is_read_or_refused_in_our_words(tmp_path_factory, cut, flips,
                                                             suffix):
    """A real workbook cut short or with bytes changed: a table or an InputError, nothing else."""
    folder = tmp_path_factory.mktemp("damaged")
    data = bytearray(good_workbook())
    data = data[: max(1, int(len(data) * cut))]
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    path = folder / f"cases{suffix}"
    path.write_bytes(bytes(data))
    try:
        table = read_case_table(cases_config(path)).table
    except InputError as error:
        assert str(path) in str(error)
        assert not [w for w in LIBRARY_WORDS if w in str(error)], str(error)
        return
    assert "case_id" in table

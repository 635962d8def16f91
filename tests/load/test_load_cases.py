"""load.cases: the header found, blank and footer rows left out, private columns dropped."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
from conftest import TINY_TOML, tiny_cases_frame, write_tiny_inputs
from load_helpers import cases_config, notes, write_xlsx, xlsx_rows

from battlemap._findings import NOTES, Findings
from battlemap.config import load_config
from battlemap.errors import InputError
from battlemap.load import read_case_table


def test_missing_mapped_column_is_one_error_listing_the_file_columns(tmp_path):
    path = tmp_path / "cases.csv"
    tiny_cases_frame().drop(columns=["经度", "处理状态"]).rename(
        columns={"纬度": "纬度 "}).to_csv(path, index=False)
    with pytest.raises(InputError) as error:
        read_case_table(cases_config(path))
    message = str(error.value)
    assert "['经度', '处理状态'] not found" in message
    assert "'问题编号', '上报时间'" in message and "[cases.columns]" in message


def test_title_row_above_the_header_is_skipped_and_rows_numbered_as_excel_shows(tmp_path):
    path = tmp_path / "cases.csv"
    body = tiny_cases_frame().to_csv(index=False)
    path.write_text("增城区河长办问题清单（导出）\n" + body, encoding="utf-8-sig")
    table = read_case_table(cases_config(path)).table
    assert table["case_id"].iloc[0] == "C01"
    assert table["source_row"].iloc[0] == 3


def test_blank_rows_are_not_cases(tmp_path):
    path = tmp_path / "cases.csv"
    frame = tiny_cases_frame()
    blank = pd.DataFrame([[""] * frame.shape[1]], columns=frame.columns)
    pd.concat([frame.iloc[:2], blank, frame.iloc[2:]]).to_csv(path, index=False)
    table = read_case_table(cases_config(path)).table
    assert len(table) == len(frame)
    assert 4 not in table["source_row"].tolist()
    assert [n.kind for n in notes(table)] == ["blank_rows"]


def test_private_columns_are_dropped_and_phone_numbers_masked(tmp_path):
    path = tmp_path / "cases.csv"
    frame = tiny_cases_frame()
    frame["联系手机"] = "13912345678"
    frame.loc[0, "问题描述"] = "请回电13800138000，身份证440101199001011234"
    frame.to_csv(path, index=False)
    result = read_case_table(cases_config(path))
    everything = result.table.to_csv() + result.original.to_csv()
    assert "13800138000" not in everything and "13912345678" not in everything
    assert "440101199001011234" not in everything
    assert "上报人电话" not in result.original and "联系手机" not in result.original
    assert result.table["description"].iloc[0].startswith("请回电138****8000")
    assert [n.kind for n in notes(result.table)] == ["private_column"]


def test_xlsx_with_merged_title_rows_and_a_footer_row(tmp_path):
    rows = xlsx_rows()
    width = len(rows[0])
    titles = [["增城区河长办 问题清单"] + [None] * (width - 1),
              ["导出时间：2026-11-27"] + [None] * (width - 1)]
    footer = ["合计", None, None, None, None, None, None, None, None, None, None, None,
              f"{len(rows) - 1}条", None, None]
    path = write_xlsx(tmp_path / "cases.xlsx", [*titles, *rows, footer, [" "] + [None] * (width - 1)])
    book = openpyxl.load_workbook(path)
    for n in (1, 2):
        book.active.merge_cells(start_row=n, start_column=1, end_row=n, end_column=width)
    book.save(path)
    table = read_case_table(cases_config(path)).table
    assert len(table) == len(rows) - 1 and table["case_id"].iloc[0] == "C01"
    assert table["source_row"].tolist() == list(range(4, 4 + len(rows) - 1))
    footer_row = 3 + len(rows)  # two titles, the header, the cases
    found = {n.kind: n for n in notes(table)}
    assert found["footer_row"].message == (f"row {footer_row}: a footer row ('合计' in column "
                                           "'问题编号') left out; it is not a case")
    assert found["footer_row"].file == str(path)
    assert found["blank_rows"].message.endswith(f"rows {footer_row + 1}")


def test_csv_footer_rows_in_any_writing_and_a_case_that_only_mentions_them(tmp_path):
    frame = tiny_cases_frame()
    frame.loc[0, "问题描述"] = "合计三处排口"
    footer = pd.DataFrame([{"问题编号": "合 计：", "问题描述": "11"}, {"上报时间": "总计"},
                           {"问题编号": "小计3"}], columns=frame.columns, dtype=object).fillna("")
    path = tmp_path / "cases.csv"
    pd.concat([frame, footer]).to_csv(path, index=False)
    table = read_case_table(cases_config(path)).table
    assert len(table) == len(frame)
    footers = [n.message for n in notes(table) if n.kind == "footer_row"]
    assert [m.split(":")[0] for m in footers] == ["row 13", "row 14", "row 15"]
    assert "('总计' in column '上报时间')" in footers[1]


def test_load_notes_reach_the_findings(tmp_path):
    folder = tmp_path / "tiny"
    write_tiny_inputs(folder)
    frame = tiny_cases_frame()
    frame.to_csv(folder / "cases.csv", index=False, encoding="gbk")
    table = read_case_table(load_config(folder / "battlemap.toml").cases).table
    findings = Findings()
    findings.absorb(table)
    assert [w.kind for w in findings.warnings] == ["encoding_detected"]
    assert NOTES not in table.attrs
    assert "cases.csv" in TINY_TOML

"""Exports of the tiny district: the GeoPackage's layers and statistics.xlsx's sheets and columns."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
from conftest import leftover_temp_files, tiny_units, write_tiny_inputs

from battlemap import LEVELS
from battlemap._sheets import PERCENT
from battlemap.build import prepare
from battlemap.config import load_config
from battlemap.escalate import escalations
from battlemap.export import SHEETS, STAT_HEADERS, write_geopackage, write_statistics_xlsx


@pytest.fixture
def workbook(tiny_atlas, tmp_path) -> openpyxl.Workbook:
    path = write_statistics_xlsx(tiny_atlas, tmp_path / "statistics.xlsx")
    assert path == tmp_path / "statistics.xlsx" and not leftover_temp_files(tmp_path)
    return openpyxl.load_workbook(path, read_only=True)


def _sheet(book: openpyxl.Workbook, name: str) -> pd.DataFrame:
    rows = list(book[name].iter_rows(values_only=True))
    return pd.DataFrame(rows[1:], columns=rows[0])


# ---------------------------------------------------------------- statistics.xlsx


def test_one_sheet_per_level_one_for_the_rivers_and_the_case_lists(workbook) -> None:
    assert workbook.sheetnames == ["区", "镇街", "村居", "网格", "流域", "超期案件", "反复案件"]
    assert list(SHEETS) == [*LEVELS, "river", "overdue", "recurring"]


def test_overdue_sheet_lists_every_overdue_case_longest_first(workbook, tiny_atlas) -> None:
    overdue = _sheet(workbook, "超期案件")
    cases = tiny_atlas.cases[tiny_atlas.cases["overdue"]]
    assert list(overdue.columns[:3]) == ["问题编号", "镇街", "村居"] and "督办" in overdue
    assert sorted(overdue["问题编号"]) == sorted(cases.index)
    assert overdue["超期天数"].tolist() == sorted(cases["days_overdue"], reverse=True)
    due = escalations(tiny_atlas).set_index("case_id")["level"]
    for row in overdue.itertuples():
        assert (row.督办 or "") == due.get(row.问题编号, ""), row.问题编号


def test_recurring_sheet_names_the_earlier_closed_case(workbook, tiny_atlas) -> None:
    recurring = _sheet(workbook, "反复案件").set_index("问题编号")
    cases = tiny_atlas.cases[tiny_atlas.cases["recurring"]]
    assert sorted(recurring.index) == sorted(cases.index) and len(cases)
    for case_id, row in cases.iterrows():
        assert recurring.loc[case_id, "前案编号"] == row["recurring_of"]


def test_sheets_are_laid_out_with_frozen_headers_filters_and_percent(tiny_atlas, tmp_path) -> None:
    book = openpyxl.load_workbook(write_statistics_xlsx(tiny_atlas, tmp_path / "s.xlsx"))
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref == sheet.dimensions, sheet.title
        assert sheet.column_dimensions["A"].width >= 6
        assert sheet.print_title_rows == "$1:$1" and sheet.page_setup.fitToWidth == 1
    towns = book["镇街"]
    rate = next(c.column_letter for c in towns[1] if c.value == "销号率")
    assert towns[f"{rate}2"].number_format == PERCENT
    assert towns["A2"].number_format != PERCENT
    overdue = book["超期案件"]
    deadline = next(c.column_letter for c in overdue[1] if c.value == "整改期限")
    assert overdue[f"{deadline}2"].number_format == "yyyy-mm-dd"


def test_unit_sheets_have_chinese_headers_in_a_fixed_order(workbook, tiny_atlas) -> None:
    for level in LEVELS:
        table = _sheet(workbook, SHEETS[level])
        assert list(table.columns) == [
            "编码", "名称", "上级编码", "河长", "案件总数", "待交办", "已交办", "整改中", "已销号",
            "销号率", "其中超期", "最长超期天数", "其中反复", "本期新增", "本期销号", "较上期新增",
            "较上期销号", "较上期新超期", "较上期重新打开", "排名", "不计整改(无效及不计整改案件)"], level
        assert len(table) == len(tiny_atlas.units[level]), level


def test_unit_sheets_hold_the_statistics_stage_figures(workbook, tiny_atlas) -> None:
    towns = _sheet(workbook, "镇街").set_index("编码")
    stats = tiny_atlas.units["town"]
    assert sorted(towns.index) == sorted(stats.index)       # ids stay text, not numbers
    for unit_id, row in stats.iterrows():
        assert towns.loc[unit_id, "名称"] == row["name"]
        assert towns.loc[unit_id, "上级编码"] == row["parent_id"]
        for column in ("total", "closed", "overdue", "recurring", "rank"):
            assert towns.loc[unit_id, STAT_HEADERS[column]] == row[column], (unit_id, column)
        assert towns.loc[unit_id, "销号率"] == pytest.approx(round(row["closed_rate"], 4))
    district = _sheet(workbook, "区")
    assert district["案件总数"].tolist() == [len(tiny_atlas.cases)]


def test_river_sheet_has_kind_and_length(workbook, tiny_atlas) -> None:
    rivers = _sheet(workbook, "流域")
    assert list(rivers.columns[:5]) == ["编码", "名称", "河长", "类别", "案件总数"]
    assert rivers.columns[-1] == "河道长度(公里)" and "上级编码" not in rivers
    assert len(rivers) == len(tiny_atlas.rivers)
    rivers = rivers.set_index("名称")
    for _, row in tiny_atlas.rivers.iterrows():
        assert rivers.loc[row["name"], "类别"] == {"main": "干流", "tributary": "一级支流"}[row["kind"]]
        assert rivers.loc[row["name"], "河道长度(公里)"] == pytest.approx(round(row.geometry.length / 1000, 2))
        assert rivers.loc[row["name"], "案件总数"] == row["total"]


def test_river_sheet_carries_the_river_code(workbook, tiny_atlas) -> None:
    rivers = _sheet(workbook, "流域")
    assert sorted(rivers["编码"]) == sorted(tiny_atlas.rivers.index)


# ---------------------------------------------------------------- battlemap.gpkg


def test_geopackage_layers(tiny_atlas, tmp_path) -> None:
    path = write_geopackage(tiny_atlas, tmp_path / "battlemap.gpkg")
    layers = dict(pyogrio.list_layers(path))
    assert list(layers) == ["cases", *LEVELS, "rivers"]      # no context layer in the tiny district
    assert layers["cases"] == "Point" and layers["rivers"] == "LineString"
    assert all(layers[level] == "Polygon" for level in LEVELS)
    assert not leftover_temp_files(tmp_path)


def test_geopackage_cases_are_the_mapped_cases_without_private_columns(tiny_atlas, tmp_path) -> None:
    path = write_geopackage(tiny_atlas, tmp_path / "battlemap.gpkg")
    cases = gpd.read_file(path, layer="cases")
    assert sorted(cases["case_id"]) == sorted(tiny_atlas.cases.index)
    assert cases.crs == tiny_atlas.cases.crs
    assert {"grid_id", "town_id", "state", "overdue", "recurring", "age_band"} <= set(cases.columns)
    assert not {"上报人电话", "phone", "reporter_phone"} & set(cases.columns)
    by_id = cases.set_index("case_id")
    assert by_id["overdue"].to_dict() == tiny_atlas.cases["overdue"].astype(int).to_dict()


def test_geopackage_units_carry_their_statistics(tiny_atlas, tmp_path) -> None:
    path = write_geopackage(tiny_atlas, tmp_path / "battlemap.gpkg")
    for level in LEVELS:
        layer = gpd.read_file(path, layer=level).set_index("unit_id")
        stats = tiny_atlas.units[level]
        assert sorted(layer.index) == sorted(stats.index), level
        assert layer["total"].to_dict() == stats["total"].to_dict(), level
        assert layer["closed_rate"].to_dict() == pytest.approx(stats["closed_rate"].to_dict(),
                                                               nan_ok=True), level


def test_geopackage_is_replaced_whole(tiny_atlas, tmp_path) -> None:
    path = tmp_path / "battlemap.gpkg"
    path.write_bytes(b"an older file")
    write_geopackage(tiny_atlas, path)
    assert "cases" in dict(pyogrio.list_layers(path))


# ---------------------------------------------------------------- formulas made inert

FORMULAS = ['=HYPERLINK("http://x","点我")', "+1", "-2+3", "@SUM(A1)", "\t=1"]
SHOWN = [text.strip() for text in FORMULAS]  # load strips names and chiefs


@pytest.fixture
def statistics(tmp_path: Path) -> Path:
    """statistics.xlsx of the tiny district whose grid names and a chief look like formulas."""
    folder = tmp_path / "in"
    config = write_tiny_inputs(folder)
    units = tiny_units()
    units["grid"].loc[: len(FORMULAS) - 1, "name"] = FORMULAS
    units["village"].loc[0, "chief"] = FORMULAS[0]
    (folder / "boundaries.gpkg").unlink()
    for level, frame in units.items():
        frame.to_file(folder / "boundaries.gpkg", layer=level, engine="pyogrio")
    prepared = prepare(load_config(config, out_dir=tmp_path / "out"))
    return write_statistics_xlsx(prepared.atlas, tmp_path / "statistics.xlsx")


def test_no_formula_cells_and_numbers_stay_numbers(statistics: Path) -> None:
    book = openpyxl.load_workbook(statistics)
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    grids = book["网格"]
    names = [row[1] for row in grids.iter_rows(min_row=2, max_row=len(FORMULAS) + 1)]
    assert [c.value for c in names] == SHOWN
    assert all(c.data_type == "s" and c.quotePrefix for c in names)
    assert book["村居"]["D2"].value == SHOWN[0] and book["村居"]["D2"].quotePrefix
    header = [c.value for c in grids[1]]
    totals = [row[header.index("案件总数")] for row in grids.iter_rows(min_row=2)]
    assert {c.data_type for c in totals} == {"n"}
    assert not any(c.quotePrefix for c in totals)


@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="needs LibreOffice")
def test_libreoffice_shows_the_text(statistics: Path, tmp_path: Path) -> None:
    """A spreadsheet program reads the cells as typed, not their results (点我, 1, #NAME?)."""
    filter_ = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    subprocess.run(["libreoffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", filter_, "--outdir", str(tmp_path / "csv"), str(statistics)],
                   check=True, capture_output=True, timeout=300)
    text = (tmp_path / "csv" / "statistics-网格.csv").read_text(encoding="utf-8")
    assert '"=HYPERLINK(""http://x"",""点我"")"' in text
    for shown in SHOWN[1:]:
        assert f",{shown}," in text

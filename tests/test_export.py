"""statistics.xlsx: text from the boundary files is text, never a formula; numbers stay numbers."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from conftest import tiny_units, write_tiny_inputs

from battlemap.build import prepare
from battlemap.config import load_config
from battlemap.export import write_statistics_xlsx

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

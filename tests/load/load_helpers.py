"""Shared by the tests of battlemap.load: the tiny district's towns as files, case tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
from conftest import tiny_cases_frame, tiny_units, write_tiny_inputs

from battlemap._findings import NOTES
from battlemap.config import CasesConfig, LayerConfig, load_config
from battlemap.load import read_layer

TOWN_FIELDS = {"unit_id": "code", "name": "name", "parent_id": "district"}
TOWN_NAMES = ["甲镇", "乙镇"]


def towns() -> gpd.GeoDataFrame:
    """The tiny district's two towns (field names short enough for a .dbf)."""
    return tiny_units()["town"].rename(columns={"district_code": "district"})


def notes(frame: pd.DataFrame) -> list:
    return list(frame.attrs.get(NOTES, []))


def read_towns(path: Path, **layer: object) -> gpd.GeoDataFrame:
    return read_layer(LayerConfig(path=path, **layer), "EPSG:4526", TOWN_FIELDS, kind="polygon")


def write_shapefile(frame: gpd.GeoDataFrame, path: Path, encoding: str,
                    cpg: str | None = "keep") -> Path:
    """A shapefile with its .dbf in ``encoding``.

    ``cpg=None`` deletes the .cpg; a string rewrites it.
    """
    frame.to_file(path, engine="pyogrio", encoding=encoding)
    cpg_path = path.with_suffix(".cpg")
    if cpg is None:
        cpg_path.unlink(missing_ok=True)
    elif cpg != "keep":
        cpg_path.write_text(cpg)
    return path


def cases_config(path: Path, **extra: object) -> CasesConfig:
    config = load_config(write_tiny_inputs(path.parent / "cfg"))
    return config.cases.model_copy(update={"path": path, **extra})


def write_xlsx(path: Path, rows: list[list[object]], sheet: str = "Sheet1",
               other: str | None = None) -> Path:
    book = openpyxl.Workbook()
    if other:
        book.active.title = other
        book.active.append(["说明"])
        sheet_ = book.create_sheet(sheet)
    else:
        sheet_ = book.active
        sheet_.title = sheet
    for row in rows:
        sheet_.append(row)
    book.save(path)
    return path


def xlsx_rows() -> list[list[object]]:
    frame = tiny_cases_frame()
    rows: list[list[object]] = [list(frame.columns)]
    for record in frame.to_dict("records"):
        rows.append([record[c] for c in frame.columns])
    # real cell types: a datetime, a float serial, numbers for coordinates
    rows[1][1] = dt.datetime(2026, 1, 5, 9, 0)
    rows[2][1] = 46331.354166666664  # 2026-11-05 08:30 as an Excel serial
    rows[1][7], rows[1][8] = float(rows[1][7]), float(rows[1][8])
    return rows


LIBRARY_WORDS = ("engine manually", "DRIVER", "not recognized as being in a supported file",
                 "No columns to parse", "Error tokenizing", "Traceback", "BadZipFile",
                 "File is not a zip file")

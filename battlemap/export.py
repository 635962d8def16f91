"""Exports for the GIS technician and the officials.

``battlemap.gpkg``: cases (joined, derived fields, no private columns), each
unit level with its statistics, and the rivers, for QGIS.
``statistics.xlsx``: one sheet per level, Chinese headers, for officials;
text that a spreadsheet would read as a formula is stored as text
(:mod:`battlemap._sheets`).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from battlemap import LEVELS, RIVER_KINDS
from battlemap._io import atomic_path
from battlemap._model import Atlas
from battlemap._sheets import inert_workbook

__all__ = ["STAT_HEADERS", "write_geopackage", "write_statistics_xlsx"]

STAT_HEADERS = {
    "unit_id": "编码", "river_id": "编码", "name": "名称", "parent_id": "上级编码", "chief": "河长",
    "kind": "类别", "total": "案件总数", "reported": "待交办", "assigned": "已交办",
    "rectifying": "整改中", "closed": "已销号", "closed_rate": "销号率", "overdue": "其中超期",
    "max_days_overdue": "最长超期天数", "recurring": "其中反复", "new_in_period": "本期新增",
    "closed_in_period": "本期销号", "new_since": "较上期新增", "closed_since": "较上期销号",
    "overdue_since": "较上期新超期", "reopened_since": "较上期重新打开", "rank": "排名",
    "uncounted": "不计整改(无效及不计整改案件)", "length_km": "河道长度(公里)",
}
SHEETS = {"district": "区", "town": "镇街", "village": "村居", "grid": "网格", "river": "流域"}


def write_geopackage(atlas: Atlas, path: Path) -> Path:
    """Write every layer into one GeoPackage, atomically."""
    layers: dict[str, gpd.GeoDataFrame] = {"cases": _plain(atlas.cases.reset_index())}
    for level in LEVELS:
        layers[level] = _plain(atlas.units[level].reset_index())
    layers["rivers"] = _plain(atlas.rivers.reset_index())
    if atlas.context is not None:
        layers["context"] = _plain(atlas.context)
    with atomic_path(path) as tmp:
        tmp.unlink()
        for name, frame in layers.items():
            frame.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
    return path


def write_statistics_xlsx(atlas: Atlas, path: Path) -> Path:
    """One sheet per level and one for the rivers, with Chinese headers; no cell is a formula."""
    frames = {level: atlas.units[level] for level in LEVELS}
    rivers = atlas.rivers.assign(length_km=(atlas.rivers.length / 1000).round(2),
                                 kind=atlas.rivers["kind"].map(RIVER_KINDS))
    frames["river"] = rivers
    with atomic_path(path) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as writer:
        for key, frame in frames.items():
            table = pd.DataFrame(frame.drop(columns="geometry")).reset_index()
            table = table[[c for c in STAT_HEADERS if c in table.columns]]
            if "closed_rate" in table:
                table["closed_rate"] = table["closed_rate"].round(4)
            table = table.map(  # control characters an .xlsx cell cannot hold
                lambda v: ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v)
            table.rename(columns=STAT_HEADERS).to_excel(writer, sheet_name=SHEETS[key],
                                                        index=False)
        inert_workbook(writer.book)
    return path


def _plain(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns GeoPackage can store: bools as ints, objects as text."""
    out = frame.copy()
    for column in out.columns:
        if column == out.geometry.name:
            continue
        if out[column].dtype == bool:
            out[column] = out[column].astype(int)
        elif out[column].dtype == object:
            out[column] = out[column].astype(str)
    return out

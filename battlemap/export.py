"""Exports for the GIS technician and the officials.

``battlemap.gpkg``: cases (joined, derived fields, no private columns), each
unit level with its statistics, and the rivers, for QGIS.
``statistics.xlsx``: one sheet per level, the rivers, the overdue cases
(超期案件, with their escalation level) and the recurring cases (反复案件, with
the earlier closed case), Chinese headers, 销号率 as a percentage, frozen
headers and filters, for officials; text that a spreadsheet would read as a
formula is stored as text (:mod:`battlemap._sheets`).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from battlemap import LEVELS, RIVER_KINDS
from battlemap._io import atomic_path
from battlemap._model import Atlas
from battlemap._sheets import write_workbook
from battlemap._text import as_text
from battlemap.escalate import escalations

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
SHEETS = {"district": "区", "town": "镇街", "village": "村居", "grid": "网格", "river": "流域",
          "overdue": "超期案件", "recurring": "反复案件"}
CASE_HEADERS = {
    "case_id": "问题编号", "town": "镇街", "village": "村居", "grid": "网格",
    "problem_type": "问题类型", "state": "状态", "reported_at": "上报时间", "deadline": "整改期限",
    "days_overdue": "超期天数", "level": "督办", "chief": "镇街河长", "recurring_of": "前案编号",
    "recurring_of_closed": "前案销号时间", "description": "问题描述",
}


def write_geopackage(atlas: Atlas, path: Path) -> Path:
    """Write every layer into one GeoPackage, atomically."""
    layers: dict[str, gpd.GeoDataFrame] = {"cases": _plain(atlas.cases.reset_index())}
    for level in LEVELS:
        layers[level] = _plain(atlas.units[level].reset_index())
    layers["rivers"] = _plain(atlas.rivers.reset_index())
    if atlas.context is not None:
        layers["context"] = _plain(atlas.context)
    if "monitoring" in atlas.extra:
        layers["monitoring_samples"] = _plain(_sample_points(atlas))
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
    tables = {}
    for key, frame in frames.items():
        table = pd.DataFrame(frame.drop(columns="geometry")).reset_index()
        table = table[[c for c in STAT_HEADERS if c in table.columns]]
        if "closed_rate" in table:
            table["closed_rate"] = table["closed_rate"].round(4)
        tables[SHEETS[key]] = table.rename(columns=STAT_HEADERS)
    for key, table in _case_sheets(atlas).items():
        tables[SHEETS[key]] = table.rename(columns=CASE_HEADERS)
    if "monitoring" in atlas.extra:
        tables["断面水质"] = _sample_table(atlas)
    with atomic_path(path) as tmp:
        write_workbook(tmp, tables, percent=(STAT_HEADERS["closed_rate"],))
    return path


def _case_sheets(atlas: Atlas) -> dict[str, pd.DataFrame]:
    """The overdue cases (longest first, with the escalation level) and the recurring ones."""
    cases = atlas.cases
    units = atlas.units
    labels = atlas.config.style.status_labels
    level = dict(zip(*escalations(atlas)[["case_id", "level"]].to_numpy().T, strict=True))

    def rows(picked: pd.DataFrame, *columns: str) -> pd.DataFrame:
        frame = pd.DataFrame({
            "case_id": picked.index.astype(str),
            "town": picked["town_id"].map(units["town"]["name"]).fillna("").to_numpy(),
            "village": picked["village_id"].map(units["village"]["name"]).fillna("").to_numpy(),
            "grid": picked["grid_id"].map(units["grid"]["name"]).fillna("").to_numpy(),
            "problem_type": picked["problem_type"].map(as_text).to_numpy(),
            "state": picked["state"].map(lambda s: labels.get(s, s)).to_numpy(),
            "reported_at": picked["reported_at"].to_numpy(),
            "deadline": picked["deadline"].to_numpy(),
            "days_overdue": picked["days_overdue"].astype(int).to_numpy(),
            "level": [level.get(c, "") for c in picked.index],
            "chief": picked["town_id"].map(units["town"]["chief"]).map(as_text).to_numpy(),
            "recurring_of": picked["recurring_of"].map(as_text).to_numpy(),
            "recurring_of_closed": picked["recurring_of"].map(cases["closed_at"]).to_numpy(),
            "description": picked["description"].map(as_text).to_numpy(),
        })
        return frame[list(columns)]

    overdue = cases[cases["overdue"].astype(bool)].sort_values("days_overdue", ascending=False,
                                                               kind="stable")
    recurring = cases[cases["recurring"].astype(bool)].sort_values("reported_at", kind="stable")
    return {
        "overdue": rows(overdue, "case_id", "town", "village", "grid", "problem_type", "state",
                        "deadline", "days_overdue", "level", "chief", "description"),
        "recurring": rows(recurring, "case_id", "town", "village", "grid", "problem_type",
                          "state", "reported_at", "recurring_of", "recurring_of_closed",
                          "description"),
    }


def _sample_table(atlas: Atlas) -> pd.DataFrame:
    """The monitoring samples with their class and attainment, Chinese headers (sheet 断面水质)."""
    from battlemap.gb3838 import LIMITS

    monitoring = atlas.extra["monitoring"]
    samples = monitoring.samples
    names = monitoring.sections["name"]
    table = pd.DataFrame({
        "断面编码": samples["section_id"], "断面名称": samples["section_id"].map(names),
        "采样日期": samples["sampled_at"].dt.strftime("%Y-%m-%d"), "原始行号": samples["source_row"],
        "水质类别": samples["class_label"],
        "目标水质": samples["section_id"].map(monitoring.sections["target_label"]),
        "是否达标": samples["met"].map({True: "是", False: "否"}).fillna("—"),
        "超标因子(超标倍数)": samples["exceeding"]})
    for code in monitoring.parameters:
        value = samples[code].astype(float)
        text = value.map(lambda v: "" if pd.isna(v) else f"{v:g}")
        below = samples[f"{code}_nd"].astype(bool)
        text = text.where(~below, ("<" + text).where(value.notna(), "未检出"))
        table[f"{LIMITS[code].name}({LIMITS[code].unit})"] = text
    return table


def _sample_points(atlas: Atlas) -> gpd.GeoDataFrame:
    """The samples at their section's point, for QGIS (layer monitoring_samples)."""
    monitoring = atlas.extra["monitoring"]
    samples = monitoring.samples.drop(columns=["month"])
    points = monitoring.sections.geometry.reindex(samples["section_id"]).to_numpy()
    frame = gpd.GeoDataFrame(samples.assign(sampled_at=samples["sampled_at"].dt.strftime(
        "%Y-%m-%d")), geometry=points, crs=monitoring.sections.crs)
    for column in ("class", "target"):
        frame[column] = frame[column].astype("float")
    frame["met"] = frame["met"].map({True: 1, False: 0}).astype("float")
    return frame


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

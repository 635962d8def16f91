"""The configured layers, each read into its canonical columns.

Boundary levels (:func:`load_boundaries`), rivers, the context points and
the catchments: each names its fields for :func:`~battlemap.load.layers.read_layer`
and cleans the ids and names it returns. A new kind of layer (for example
the neighbouring districts) is one more function here.
"""

from __future__ import annotations

import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd

from battlemap import LEVELS
from battlemap._text import text_series
from battlemap.config import BoundaryConfig, Config
from battlemap.load.layers import read_layer

__all__ = ["load_boundaries", "load_catchments", "load_context", "load_neighbours", "load_rivers"]


def load_boundaries(config: Config) -> dict[str, gpd.GeoDataFrame]:
    """Every boundary level, canonical: unit_id, name, parent_id, chief, level."""
    return {level: _load_level(config.boundaries[level], level, config) for level in LEVELS}


def load_rivers(config: Config) -> gpd.GeoDataFrame:
    """Rivers, canonical: river_id, name, kind ("main" or "tributary"), chief (河长, "" if none)."""
    rivers = config.rivers
    fields = {"river_id": rivers.id_field, "name": rivers.name_field, "kind": rivers.kind_field}
    if rivers.flows_into_field:
        fields["flows_into"] = rivers.flows_into_field
    if rivers.chief_field:
        fields["chief"] = rivers.chief_field
    frame = read_layer(rivers, config.project.analysis_crs, fields, kind="line")
    frame["river_id"] = _as_id(frame["river_id"])
    frame["flows_into"] = _as_id(frame["flows_into"]) if "flows_into" in frame else ""
    frame["name"] = text_series(frame["name"], strip=True)
    frame["kind"] = text_series(frame["kind"], strip=True).isin(rivers.main_kinds).map(
        {True: "main", False: "tributary"}).astype(object)
    frame["chief"] = text_series(frame["chief"], strip=True) if "chief" in frame else ""
    return frame


def load_context(config: Config) -> gpd.GeoDataFrame | None:
    """Context points (monitoring sections, treatment plants), or None."""
    context = config.context
    if context is None:
        return None
    fields = {"context_id": context.id_field, "name": context.name_field,
              "kind": context.kind_field}
    if context.label_field:
        fields["label"] = context.label_field
    extra = {"river_id": context.river_field, "target": context.target_field,
             "section_kind": context.section_kind_field}
    fields.update({canonical: field for canonical, field in extra.items() if field})
    frame = read_layer(context, config.project.analysis_crs, fields)
    for canonical in extra:  # monitoring sections: their river, target class and kind
        frame[canonical] = text_series(frame[canonical], strip=True) if canonical in frame else ""
    frame["context_id"] = _as_id(frame["context_id"])
    frame["name"] = text_series(frame["name"], strip=True)
    frame["kind"] = text_series(frame["kind"], strip=True)
    frame["label"] = text_series(frame["label"], strip=True) if "label" in frame else ""
    frame["legend"] = frame["kind"].map(dict(context.kinds)).astype(object).fillna(frame["kind"])
    return frame


def load_neighbours(config: Config) -> gpd.GeoDataFrame | None:
    """Neighbouring districts (polygons), canonical: neighbour_id, name; or None when not configured."""
    neighbours = config.neighbours
    if neighbours is None:
        return None
    frame = read_layer(neighbours, config.project.analysis_crs,
                       {"neighbour_id": neighbours.id_field, "name": neighbours.name_field},
                       kind="polygon")
    frame["neighbour_id"] = _as_id(frame["neighbour_id"])
    frame["name"] = text_series(frame["name"], strip=True)
    return frame


def load_catchments(config: Config) -> gpd.GeoDataFrame | None:
    """Catchment polygons (汇水区), canonical: river_id, or None when not configured."""
    catchments = config.catchments
    if catchments is None:
        return None
    frame = read_layer(catchments, config.project.analysis_crs,
                       {"river_id": catchments.river_field}, kind="polygon")
    frame["river_id"] = _as_id(frame["river_id"])
    return frame


def _load_level(boundary: BoundaryConfig, level: str, config: Config) -> gpd.GeoDataFrame:
    fields = {"unit_id": boundary.id_field, "name": boundary.name_field}
    if boundary.parent_field:
        fields["parent_id"] = boundary.parent_field
    if boundary.chief_field:
        fields["chief"] = boundary.chief_field
    frame = read_layer(boundary, config.project.analysis_crs, fields, kind="polygon")
    frame["unit_id"] = _as_id(frame["unit_id"])
    frame["parent_id"] = _as_id(frame["parent_id"]) if "parent_id" in frame else None
    frame["name"] = text_series(frame["name"], strip=True)
    frame["chief"] = text_series(frame["chief"], strip=True) if "chief" in frame else ""
    frame["level"] = level
    return frame


def _as_id(values: pd.Series) -> pd.Series:
    """Ids as clean strings: 440118001.0 → "440118001", missing → ""."""
    def clean(value: object) -> str:
        if value is None or (isinstance(value, float) and not np.isfinite(value)):
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return unicodedata.normalize("NFKC", str(value)).strip()

    return values.map(clean).astype(object)

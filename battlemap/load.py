"""Load: every input through one canonical path.

Boundary levels, rivers and the context layer go through :func:`read_layer`,
which fixes the CRS (from the file, else from the config, else an error),
reprojects to the analysis CRS and renames the configured fields to the
canonical ``unit_id``/``name``/… columns. The case table goes through
:func:`read_case_table`, which detects the encoding, maps the export's
Chinese headers to canonical fields and drops private columns at once.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import pandas as pd
import pyogrio
from pyproj import CRS
from pyproj.exceptions import CRSError

from battlemap import LEVELS
from battlemap.config import BoundaryConfig, CasesConfig, Config, LayerConfig
from battlemap.errors import ConfigError, InputError

__all__ = ["CaseTable", "load_boundaries", "load_context", "load_rivers", "read_case_table", "read_layer"]

CSV_ENCODINGS = ("utf-8-sig", "gb18030")
"""Tried in order; GB18030 is a superset of GBK and GB2312."""


def read_layer(layer: LayerConfig, crs: str, columns: dict[str, str]) -> gpd.GeoDataFrame:
    """Read one vector layer into the analysis CRS with canonical column names.

    Parameters
    ----------
    layer
        The layer's config: path, optional layer name, CRS and encoding.
    crs
        The analysis CRS to reproject to.
    columns
        Canonical name -> the file's field name, for the fields to keep.
    """
    frame = _read_vector(layer)
    _require_fields(frame, layer, columns)
    frame = _assign_crs(frame, layer).to_crs(crs)
    out = gpd.GeoDataFrame(
        {canonical: frame[field] for canonical, field in columns.items()},
        geometry=frame.geometry.values, crs=frame.crs,
    )
    out["feature"] = range(1, len(out) + 1)
    return out


def load_boundaries(config: Config) -> dict[str, gpd.GeoDataFrame]:
    """Every boundary level, canonical: unit_id, name, parent_id, chief, level."""
    return {level: _load_level(config.boundaries[level], level, config) for level in LEVELS}


def load_rivers(config: Config) -> gpd.GeoDataFrame:
    """Rivers, canonical: river_id, name, kind ("main" or "tributary")."""
    rivers = config.rivers
    frame = read_layer(rivers, config.project.analysis_crs, {
        "river_id": rivers.id_field, "name": rivers.name_field, "kind": rivers.kind_field})
    frame["river_id"] = _as_id(frame["river_id"])
    frame["name"] = frame["name"].fillna("").astype(str)
    frame["kind"] = frame["kind"].astype(str).isin(rivers.main_kinds).map(
        {True: "main", False: "tributary"})
    return frame


def load_context(config: Config) -> gpd.GeoDataFrame | None:
    """Context points (monitoring sections, treatment plants), or None."""
    context = config.context
    if context is None:
        return None
    fields = {"context_id": context.id_field, "name": context.name_field, "kind": context.kind_field}
    if context.label_field:
        fields["label"] = context.label_field
    frame = read_layer(context, config.project.analysis_crs, fields)
    frame["context_id"] = _as_id(frame["context_id"])
    if "label" not in frame:
        frame["label"] = ""
    frame["label"] = frame["label"].fillna("").astype(str)
    frame["legend"] = frame["kind"].map(dict(context.kinds)).fillna(frame["kind"])
    return frame


class CaseTable(NamedTuple):
    """The case export: canonical text columns, and the original columns."""

    table: pd.DataFrame
    original: pd.DataFrame


def read_case_table(cases: CasesConfig) -> CaseTable:
    """The case export as text, canonical columns, private columns dropped.

    Every value stays a string here (validation parses them); ``source_row``
    is the row number a spreadsheet shows (the header is row 1). ``original``
    keeps the export's own (non-private) columns for the rejected list.
    """
    raw = _read_table(cases)
    missing = [col for col in cases.columns.values() if col not in raw.columns]
    if missing:
        raise InputError(
            f"{cases.path}: mapped column(s) {missing} not found. "
            f"The file has: {list(raw.columns)}. Fix [cases.columns] in the config."
        )
    private = set(cases.private_columns)
    table = pd.DataFrame({field: raw[col] for field, col in cases.columns.items()
                          if col not in private})
    table.insert(0, "source_row", range(2, len(raw) + 2))
    original = raw[[c for c in raw.columns if c not in private]]
    original.insert(0, "source_row", table["source_row"])
    return CaseTable(table, original)


def _load_level(boundary: BoundaryConfig, level: str, config: Config) -> gpd.GeoDataFrame:
    fields = {"unit_id": boundary.id_field, "name": boundary.name_field}
    if boundary.parent_field:
        fields["parent_id"] = boundary.parent_field
    if boundary.chief_field:
        fields["chief"] = boundary.chief_field
    frame = read_layer(boundary, config.project.analysis_crs, fields)
    frame["unit_id"] = _as_id(frame["unit_id"])
    frame["parent_id"] = _as_id(frame["parent_id"]) if "parent_id" in frame else None
    frame["name"] = frame["name"].fillna("").astype(str)
    frame["chief"] = frame["chief"].fillna("").astype(str) if "chief" in frame else ""
    frame["level"] = level
    return frame


def _read_vector(layer: LayerConfig) -> gpd.GeoDataFrame:
    kwargs: dict[str, object] = {"engine": "pyogrio"}
    if layer.layer:
        kwargs["layer"] = layer.layer
    if layer.encoding:
        kwargs["encoding"] = layer.encoding
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's notes on .cpg files
            return gpd.read_file(layer.path, **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        layers = _layers(layer.path)
        hint = f" Layers in the file: {layers}." if layers else ""
        raise InputError(f"{layer.path}: cannot read this layer: {exc}.{hint}") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{layer.path}: attributes are not in encoding {layer.encoding or 'UTF-8'} ({exc}); "
            "set 'encoding' for this layer in the config (GBK is common for .dbf files)"
        ) from None


def _layers(path: Path) -> list[str]:
    try:
        return [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except (pyogrio.errors.DataSourceError, OSError):
        return []


def _require_fields(frame: gpd.GeoDataFrame, layer: LayerConfig, columns: dict[str, str]) -> None:
    missing = [f for f in columns.values() if f not in frame.columns]
    if missing:
        fields = [c for c in frame.columns if c != "geometry"]
        raise InputError(
            f"{layer.path}: field(s) {missing} named in the config are not in the file. "
            f"It has: {fields}. Fix the *_field keys for this layer."
        )


def _assign_crs(frame: gpd.GeoDataFrame, layer: LayerConfig) -> gpd.GeoDataFrame:
    if frame.crs is not None:
        return frame
    if layer.crs is None:
        raise InputError(
            f"{layer.path}: the file carries no CRS and the config names none; add "
            "crs = \"EPSG:4490\" (or the right code: 4526, 4326, …) to this layer's config"
        )
    try:
        return frame.set_crs(CRS.from_user_input(layer.crs))
    except CRSError as exc:
        raise ConfigError(f"{layer.path}: crs = {layer.crs!r} is not a CRS pyproj knows ({exc})") from None


def _as_id(values: pd.Series) -> pd.Series:
    """Ids as clean strings: 440118001.0 → "440118001", missing → ""."""
    def clean(value: object) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()

    return values.map(clean).astype(object)


def _read_table(cases: CasesConfig) -> pd.DataFrame:
    path = cases.path
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
            return _read_excel(cases)
        if cases.encoding:
            return _read_csv(path, cases.encoding)
        for encoding in CSV_ENCODINGS:
            try:
                return _read_csv(path, encoding)
            except UnicodeDecodeError:
                continue
    except (OSError, pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"{path}: cannot read the case table: {exc}") from None
    raise InputError(
        f"{path}: the case table is neither UTF-8 nor GBK/GB18030; save it as UTF-8 "
        "or set [cases] encoding in the config"
    )


def _read_csv(path: Path, encoding: str) -> pd.DataFrame:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read_excel(cases: CasesConfig) -> pd.DataFrame:
    try:
        frame = pd.read_excel(cases.path, sheet_name=cases.sheet or 0, dtype=str,
                              keep_default_na=False)
    except ValueError as exc:
        if cases.sheet:
            raise InputError(
                f"{cases.path}: no sheet named {cases.sheet!r} ({exc}); fix [cases] sheet"
            ) from None
        raise
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame

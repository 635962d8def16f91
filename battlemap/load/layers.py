"""One vector layer through the canonical path: :func:`read_layer`.

Reads Shapefile, GeoPackage (a named layer) or GeoJSON with its text
repaired (:mod:`battlemap.load.encodings`), checks the configured fields are
there, fixes the CRS (from the file, else from the config, else an error),
checks that the layer lands in China, reprojects to the analysis CRS, checks
the geometry kind and renames the fields to canonical columns, masking
personal numbers in the text columns.
"""

from __future__ import annotations

import difflib
import functools

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from battlemap._findings import note
from battlemap.config import LayerConfig
from battlemap.errors import ConfigError, InputError
from battlemap.load.encodings import _read_vector_text
from battlemap.privacy import MASKED, mask_columns, mask_text

__all__ = ["CHINA_LONLAT", "GEOMETRY_KINDS", "read_layer"]


CHINA_LONLAT = (73.0, 3.0, 136.0, 54.0)
"""A generous box around China (lon/lat): every input must land inside it."""


GEOMETRY_KINDS = {
    "polygon": ("Polygon", "MultiPolygon"),
    "line": ("LineString", "MultiLineString"),
    "point": ("Point", "MultiPoint"),
}


def read_layer(layer: LayerConfig, crs: str, columns: dict[str, str],
               kind: str | None = None) -> gpd.GeoDataFrame:
    """Read one vector layer into the analysis CRS with canonical column names.

    Parameters
    ----------
    layer
        The layer's config: path, optional layer name, CRS and encoding.
    crs
        The analysis CRS to reproject to.
    columns
        Canonical name -> the file's field name, for the fields to keep.
    kind
        ``"polygon"``, ``"line"`` or ``"point"``: the geometry type every
        feature must have (null and empty geometries are left for validate
        to report by name). ``None`` accepts any.

    Returns
    -------
    GeoDataFrame
        The canonical columns, ``feature`` (1-based feature number in the
        file) and a 2-D geometry in ``crs``. Personal numbers in the text
        columns other than ids (``*_id``) are masked; how many per field,
        and warnings (an encoding that had to be guessed, …), travel in
        ``attrs``.

    Raises
    ------
    InputError
        The file or layer cannot be read, a named field is missing, the
        text encoding is wrong and cannot be guessed, the layer has no CRS
        and the config names none, it lands outside China, or a feature
        has the wrong geometry type.
    """
    frame, notes = _read_vector_text(layer, list(columns.values()))
    _require_fields(frame, layer, columns)
    frame = _assign_crs(frame, layer, notes)
    _check_lands_in_china(frame, layer)
    frame = frame.to_crs(crs)
    geometry = _check_geometry_kind(frame, layer, kind)
    out = gpd.GeoDataFrame(
        {canonical: frame[field].to_numpy() for canonical, field in columns.items()},
        geometry=geometry, crs=frame.crs,
    )
    out["feature"] = np.arange(1, len(out) + 1)
    where = f"{layer.path.name}{'/' + layer.layer if layer.layer else ''}"
    out.attrs[MASKED] = mask_columns(out, [c for c in columns if not c.endswith("_id")],
                                     {c: f"{where}:{field}" for c, field in columns.items()})
    for kind_, message in notes:  # they quote values read before masking
        note(out, kind_, mask_text(message), file=str(layer.path))
    return out


def _require_fields(frame: gpd.GeoDataFrame, layer: LayerConfig, columns: dict[str, str]) -> None:
    missing = [f for f in columns.values() if f not in frame.columns]
    if missing:
        fields = [c for c in frame.columns if c != "geometry"]
        hints = [f"'{m}' → did you mean {close}?" for m in missing
                 if (close := difflib.get_close_matches(m, fields, n=2, cutoff=0.6))]
        raise InputError(
            f"{layer.path}: field(s) {missing} named in the config are not in the file. "
            f"It has: {fields}. Fix the *_field keys for this layer.", hints)


def _assign_crs(frame: gpd.GeoDataFrame, layer: LayerConfig,
                notes: list[tuple[str, str]]) -> gpd.GeoDataFrame:
    configured = _configured_crs(layer)
    if frame.crs is None:
        if configured is None:
            raise InputError(
                f"{layer.path}: the file carries no CRS (no .prj or CRS record) and the config "
                "names none; add crs = \"EPSG:4490\" (or the right code: 4526, 4326, …) to this "
                "layer's config")
        return frame.set_crs(configured)
    if configured is not None and not frame.crs.equals(configured):
        if frame.crs.is_geographic and not _plausible_degrees(frame) and configured.is_projected:
            notes.append(("crs_overridden", f"the file says {_crs_name(frame.crs)} but its "
                          f"coordinates are not degrees; using the configured {layer.crs}"))
            return frame.set_crs(configured, allow_override=True)
        notes.append(("crs_ignored", f"the file carries its own CRS {_crs_name(frame.crs)}; "
                      f"the configured crs = {layer.crs!r} (for files without one) is ignored"))
    return frame


def _configured_crs(layer: LayerConfig) -> CRS | None:
    if layer.crs is None:
        return None
    try:
        return CRS.from_user_input(layer.crs)
    except CRSError:
        raise ConfigError(f"{layer.path}: crs = {layer.crs!r} is not a coordinate reference "
                          "system battlemap knows; use an EPSG code such as \"EPSG:4490\" "
                          "(CGCS2000) or \"EPSG:4526\"") from None


def _crs_name(crs: CRS) -> str:
    code = crs.to_epsg()
    return f"EPSG:{code} ({crs.name})" if code else crs.name


def _bounds(frame: gpd.GeoDataFrame) -> np.ndarray | None:
    geoms = frame.geometry.values
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return None
    bounds = shapely.total_bounds(geoms[present])
    return bounds if np.isfinite(bounds).all() else None


def _plausible_degrees(frame: gpd.GeoDataFrame) -> bool:
    bounds = _bounds(frame)
    if bounds is None:
        return True
    return bool(-180 <= bounds[0] <= bounds[2] <= 180 and -90 <= bounds[1] <= bounds[3] <= 90)


def _check_lands_in_china(frame: gpd.GeoDataFrame, layer: LayerConfig) -> None:
    """A wrong CRS puts a layer in the sea or at (0, 0); say so instead of drawing it."""
    bounds = _bounds(frame)
    if bounds is None:
        return
    xs, ys = _to_wgs84(frame.crs).transform(bounds[[0, 2, 0, 2]], bounds[[1, 1, 3, 3]],
                                            errcheck=False)
    west, south, east, north = CHINA_LONLAT
    inside = (np.isfinite(xs).all() and np.isfinite(ys).all()
              and west <= min(xs) and max(xs) <= east and south <= min(ys) and max(ys) <= north)
    if inside:
        return
    hint = ""
    if frame.crs.is_projected and bounds[0] < 1_000_000 <= _false_easting(frame.crs):
        hint = (" Its eastings lack the zone prefix this CRS expects (e.g. 38 for EPSG:4526); "
                "the data may be in the matching CM projection (EPSG:4547 for 114°E).")
    elif frame.crs.is_projected and bounds[0] >= 10_000_000 > _false_easting(frame.crs):
        hint = (" Its eastings carry a zone prefix (e.g. 38…) the CRS does not expect; the data "
                "may be in a zone CRS such as EPSG:4526.")
    elif frame.crs.is_geographic and not _plausible_degrees(frame):
        hint = " Its coordinates are not degrees: the data are projected; set the right crs."
    where = (f"lon {np.nanmin(xs):.3f}…{np.nanmax(xs):.3f}, lat {np.nanmin(ys):.3f}…"
             f"{np.nanmax(ys):.3f}" if np.isfinite(xs).any() else "nowhere on Earth")
    raise InputError(
        f"{layer.path}: in its CRS {_crs_name(frame.crs)} the layer lands at {where}, outside "
        f"China; the CRS is wrong.{hint} Fix the .prj or set crs in this layer's config.")


@functools.lru_cache(maxsize=16)
def _to_wgs84(crs: CRS) -> Transformer:
    """Transformers take ~80 ms to build; every layer of a build shares one per CRS."""
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)


def _false_easting(crs: CRS) -> float:
    for param in (crs.coordinate_operation.params if crs.coordinate_operation else []):
        if param.name == "False easting":
            return float(param.value)
    return 0.0


def _check_geometry_kind(frame: gpd.GeoDataFrame, layer: LayerConfig,
                         kind: str | None) -> np.ndarray:
    geoms = shapely.force_2d(frame.geometry.values)
    if kind is None:
        return geoms
    types = pd.Series(shapely.get_type_id(geoms)).map(
        {0: "Point", 1: "LineString", 2: "LineString", 3: "Polygon", 4: "MultiPoint",
         5: "MultiLineString", 6: "MultiPolygon", 7: "GeometryCollection"})
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    wrong = present & ~types.isin(GEOMETRY_KINDS[kind]).to_numpy()
    if wrong.any():
        features = np.flatnonzero(wrong) + 1
        raise InputError(
            f"{layer.path}: this layer must hold {kind}s, but feature(s) have other geometry "
            "types; fix or remove them",
            [f"feature {n}: {t}" for n, t in zip(features, types[wrong], strict=True)])
    return geoms

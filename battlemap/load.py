"""Load: every input through one canonical path.

Boundary levels, rivers and the context layer go through :func:`read_layer`,
which reads Shapefile, GeoPackage (a named layer) or GeoJSON, repairs the
text encoding of the attributes (a GBK ``.dbf`` without ``.cpg`` is read
by GDAL as ISO-8859-1 and comes out as mojibake such as ``'Ôö³ÇÇø'``), fixes
the CRS (from the file, else from the config, else an error), checks that
the layer lands in China, reprojects to the analysis CRS and renames the
configured fields to the canonical ``unit_id``/``name``/… columns.

The case table goes through :func:`read_case_table`: ``.xlsx`` (first or
named sheet) or ``.csv`` in UTF-8, UTF-8 with BOM, GBK, GB18030 or UTF-16,
detected; a title row above the header is skipped; the export's Chinese
headers are mapped to canonical fields; private columns (reporter phone
numbers) are dropped at once, and personal numbers (phone, ID card, e-mail,
bank card) in every other column are masked by :mod:`battlemap.privacy`, as
they are in the text attributes of every layer.

What load notices without stopping (an encoding it had to guess, a column
it dropped) is attached to the frame (:func:`battlemap._findings.note`) and
moved into the build's findings by validate.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import functools
import io
import re
import unicodedata
import warnings
import zipfile
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from battlemap import LEVELS
from battlemap._findings import note
from battlemap._sniff import describe_content, sniff, vector_problem
from battlemap._text import text_series
from battlemap.config import BoundaryConfig, CasesConfig, Config, LayerConfig
from battlemap.errors import ConfigError, InputError
from battlemap.privacy import MASKED, mask_columns, mask_text

__all__ = [
    "CSV_ENCODINGS", "PRIVATE_HINTS", "CaseTable", "load_boundaries", "load_context",
    "load_rivers", "read_case_table", "read_layer",
]

CSV_ENCODINGS = ("utf-8-sig", "gb18030")
"""Tried in order; GB18030 is a superset of GBK and GB2312. A UTF-16 BOM is honoured."""

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
"""Names that say "workbook"; the content decides how a case table is read."""

LAYER_ENCODINGS = ("UTF-8", "GBK", "GB18030")
"""Tried, in order, when a layer's text comes out garbled and no encoding is configured."""

CHINA_LONLAT = (73.0, 3.0, 136.0, 54.0)
"""A generous box around China (lon/lat): every input must land inside it."""

PRIVATE_HINTS = ("电话", "手机", "联系方式", "联系电话", "身份证", "phone", "mobile", "tel")
"""Unmapped columns whose header contains one of these are dropped as private."""

GEOMETRY_KINDS = {
    "polygon": ("Polygon", "MultiPolygon"),
    "line": ("LineString", "MultiLineString"),
    "point": ("Point", "MultiPoint"),
}

_MOJIBAKE_MARKERS = ("\ufffd", "锟斤拷", "閿熸枻鎷", "烫烫烫", "屯屯屯")
_LATIN1_HIGH = re.compile(r"[\x80-\xff]")
_CJK = re.compile(r"[\u3400-\u9fff]")
_HEADER_SEARCH_ROWS = 20


# --- vector layers ----------------------------------------------------------

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


def load_boundaries(config: Config) -> dict[str, gpd.GeoDataFrame]:
    """Every boundary level, canonical: unit_id, name, parent_id, chief, level."""
    return {level: _load_level(config.boundaries[level], level, config) for level in LEVELS}


def load_rivers(config: Config) -> gpd.GeoDataFrame:
    """Rivers, canonical: river_id, name, kind ("main" or "tributary")."""
    rivers = config.rivers
    frame = read_layer(rivers, config.project.analysis_crs, {
        "river_id": rivers.id_field, "name": rivers.name_field, "kind": rivers.kind_field},
        kind="line")
    frame["river_id"] = _as_id(frame["river_id"])
    frame["name"] = text_series(frame["name"], strip=True)
    frame["kind"] = text_series(frame["kind"], strip=True).isin(rivers.main_kinds).map(
        {True: "main", False: "tributary"}).astype(object)
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
    frame = read_layer(context, config.project.analysis_crs, fields)
    frame["context_id"] = _as_id(frame["context_id"])
    frame["name"] = text_series(frame["name"], strip=True)
    frame["kind"] = text_series(frame["kind"], strip=True)
    frame["label"] = text_series(frame["label"], strip=True) if "label" in frame else ""
    frame["legend"] = frame["kind"].map(dict(context.kinds)).fillna(frame["kind"])
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


def _read_vector_text(layer: LayerConfig, fields: list[str]
                      ) -> tuple[gpd.GeoDataFrame, list[tuple[str, str]]]:
    """Read the layer and make sure its text is not mojibake.

    GDAL decodes a ``.dbf`` with its ``.cpg`` (or LDID byte); without either
    it assumes ISO-8859-1, so GBK text arrives as ``'Ôö³ÇÇø'``. A configured
    encoding is trusted, but checked: garbled text under it is an error that
    names the encoding to set. Without one, GBK/GB18030/UTF-8 are tried and
    the first that decodes cleanly is used, with a warning.
    """
    if layer.encoding:
        try:
            codecs.lookup(layer.encoding)
        except LookupError:
            raise ConfigError(f"{layer.path}: encoding = {layer.encoding!r} is unknown; use e.g. "
                              "\"GBK\", \"GB18030\" or \"UTF-8\"") from None
    in_effect = layer.encoding or _native_encoding(layer)
    try:
        frame = _read_vector(layer, layer.encoding)
    except UnicodeDecodeError:
        frame = _read_vector(layer, "ISO-8859-1")  # lossless: every byte is a character
        in_effect = f"{in_effect} (the bytes are not valid {in_effect})"
    garbled = _garbled_fields(frame, fields)
    if not garbled:
        return frame, []
    field, example = next(iter(garbled.items()))
    for candidate in LAYER_ENCODINGS:
        if layer.encoding and candidate.lower() == layer.encoding.lower():
            continue
        try:
            retry = _read_vector(layer, candidate)
        except UnicodeDecodeError:
            continue
        if not _garbled_fields(retry, fields) and _has_cjk(retry, fields):
            fixed = _first_text(retry, field)
            if layer.encoding:
                raise InputError(
                    f"{layer.path}: field '{field}' read as {layer.encoding} is garbled "
                    f"({example!r}); the file is {candidate} ({fixed!r}). "
                    f"Set encoding = \"{candidate}\" for this layer in the config."
                )
            return retry, [("encoding_guessed",
                            f"field '{field}' read as {in_effect} was garbled ({example!r}); "
                            f"decoded as {candidate} instead ({fixed!r}). Add encoding = "
                            f"\"{candidate}\" to this layer's config (or a .cpg file) to say so")]
    message = (f"{layer.path}: field(s) {sorted(garbled)} read as {in_effect} are garbled "
               f"(e.g. {example!r}) and neither UTF-8 nor GBK/GB18030 reads them cleanly; "
               "re-export the layer as UTF-8 or set this layer's encoding in the config")
    if layer.encoding or "not valid" in in_effect:
        raise InputError(message)
    return frame, [("garbled_text", message.split(": ", 1)[1])]


def _read_vector(layer: LayerConfig, encoding: str | None) -> gpd.GeoDataFrame:
    kwargs: dict[str, object] = {"engine": "pyogrio"}
    if layer.layer:
        kwargs["layer"] = layer.layer
    if encoding:
        kwargs["encoding"] = encoding
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # GDAL's notes on .cpg files
            return gpd.read_file(layer.path, **kwargs)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
        problem = vector_problem(layer.path, layer.layer, _layers(layer.path))
        raise InputError(f"{layer.path}: {problem}") from None


def _native_encoding(layer: LayerConfig) -> str:
    try:
        kwargs = {"layer": layer.layer} if layer.layer else {}
        return str(pyogrio.read_info(layer.path, **kwargs).get("encoding") or "UTF-8")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
        return "UTF-8"


def _layers(path: Path) -> list[str]:
    try:
        return [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    except (pyogrio.errors.DataSourceError, OSError):
        return []


def _text_values(frame: pd.DataFrame, field: str) -> list[str]:
    if field not in frame.columns:
        return []
    values = frame[field]
    return [v for v in pd.unique(values[values.map(lambda v: isinstance(v, str))]) if v]


def _looks_garbled(value: str) -> bool:
    """Mojibake: Latin-1 high characters, replacement marks, or UTF-8 read as GBK."""
    if value.isascii():
        return False
    if _LATIN1_HIGH.search(value) or any(m in value for m in _MOJIBAKE_MARKERS):
        return True
    try:  # UTF-8 bytes read as GBK: they go back to GBK bytes and decode as UTF-8
        return bool(_CJK.search(value.encode("gb18030").decode("utf-8")))
    except UnicodeError:
        return False


def _garbled_fields(frame: pd.DataFrame, fields: list[str]) -> dict[str, str]:
    """Field -> first garbled value, for the fields that have one."""
    found = {}
    for field in fields:
        bad = [v for v in _text_values(frame, field) if _looks_garbled(v)]
        if bad:
            found[field] = bad[0]
    return found


def _has_cjk(frame: pd.DataFrame, fields: list[str]) -> bool:
    return any(_CJK.search(v) for f in fields for v in _text_values(frame, f))


def _first_text(frame: pd.DataFrame, field: str) -> str:
    values = [v for v in _text_values(frame, field) if not v.isascii()]
    return values[0] if values else ""


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


def _as_id(values: pd.Series) -> pd.Series:
    """Ids as clean strings: 440118001.0 → "440118001", missing → ""."""
    def clean(value: object) -> str:
        if value is None or (isinstance(value, float) and not np.isfinite(value)):
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return unicodedata.normalize("NFKC", str(value)).strip()

    return values.map(clean).astype(object)


# --- the case table ---------------------------------------------------------

class CaseTable(NamedTuple):
    """The case export: canonical text columns, and the original columns."""

    table: pd.DataFrame
    original: pd.DataFrame


def read_case_table(cases: CasesConfig) -> CaseTable:
    """The case export as text, canonical columns, private columns dropped.

    Every value stays a string here (validate parses them); ``source_row``
    is the row number a spreadsheet shows (the header is row 1, or lower when
    a title row sits above it). Fully blank rows are not cases and are left
    out, with a warning. ``original`` keeps the export's own non-private
    columns for the rejected list. Personal numbers (phone, ID card, e-mail,
    bank card) are masked in every column but the case number
    (``138****8000``, see :mod:`battlemap.privacy`); how many per column is
    in ``original.attrs[MASKED]``.

    Raises
    ------
    InputError
        The file cannot be read or decoded, the sheet does not exist, or a
        mapped column is missing (listing the columns the file has).
    """
    raw, header_row, notes = _read_table(cases)
    raw = _find_header(raw, header_row, cases)
    raw, source_row = _drop_blank_rows(raw, notes)
    raw.attrs = {}
    private = _private_columns(raw, cases, notes)
    kept = [c for c in raw.columns if c not in private]
    masked = mask_columns(raw, [c for c in kept if c != cases.columns["case_id"]])
    table = pd.DataFrame({field: raw[col].to_numpy() for field, col in cases.columns.items()
                          if col not in private}, index=raw.index)
    table.insert(0, "source_row", source_row)
    original = raw[kept].copy()
    original.insert(0, "source_row", source_row)
    for kind, message, column in notes:
        note(table, kind, mask_text(message), file=str(cases.path), column=column)
    original = original.reset_index(drop=True)
    original.attrs[MASKED] = masked
    return CaseTable(table.reset_index(drop=True), original)


def _read_table(cases: CasesConfig) -> tuple[pd.DataFrame, int, list[tuple[str, str, str]]]:
    """The raw table, all text, and the 0-based row of its header (as pandas read it).

    The content decides how the file is read, not its name: a workbook named
    ``.csv`` or CSV text named ``.xlsx`` is read for what it is, with a note.
    """
    path = cases.path
    notes: list[tuple[str, str, str]] = []
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not the case table; set [cases] path to the "
                         "export file") from None
    except OSError:
        raise InputError(f"{path}: the case table cannot be opened (no permission to read it, "
                         "or it is open and locked in another program); close it and run "
                         "again") from None
    kind = sniff(data)
    if kind == "binary" and cases.encoding:
        kind = "text"  # e.g. UTF-16 without a BOM: the configured encoding is trusted
    excel = path.suffix.lower() in EXCEL_SUFFIXES
    if kind in ("empty", "html", "binary"):
        raise InputError(f"{path}: the case table {describe_content(kind, data)}; export the case list "
                         "from the app again, or open it in Excel and save it as .xlsx")
    if kind in ("zip", "ole2"):
        if not excel:
            notes.append(("file_kind", f"the case table is an Excel workbook, though named "
                          f"{path.suffix or 'without a suffix'}; read as a workbook", ""))
        return _read_excel(cases), 0, notes
    if excel:
        notes.append(("file_kind", f"the case table is CSV text, though named {path.suffix}; "
                      "read as CSV (rename it to .csv to say so)", ""))
    text, encoding = _decode(data, path, cases.encoding)
    if encoding not in ("utf-8-sig", "utf-8") and not cases.encoding:
        notes.append(("encoding_detected", f"the case table is not UTF-8; read as "
                      f"{encoding.upper()} (set [cases] encoding to say so)", ""))
    frame = _read_csv_text(text, path)
    if excel:
        frame.attrs["content"] = f"the file is CSV text, though named {path.suffix}"
    return frame, 0, notes


def _decode(data: bytes, path: Path, encoding: str | None) -> tuple[str, str]:
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ConfigError(f"[cases] encoding = {encoding!r} is unknown; use e.g. \"GBK\", "
                              "\"GB18030\" or \"UTF-8\"") from None
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            detected = _detect_encoding(data)
            hint = (f" It reads cleanly as {detected.upper()}: set encoding = \"{detected}\"."
                    if detected else "")
            raise InputError(f"{path}: the case table is not in the configured encoding "
                             f"{encoding} (byte {exc.start}).{hint}") from None
    detected = _detect_encoding(data)
    if detected is None:
        raise InputError(f"{path}: the case table is neither UTF-8 nor GBK/GB18030; save it "
                         "as UTF-8 (Excel: CSV UTF-8) or set [cases] encoding in the config")
    return data.decode(detected), detected


def _detect_encoding(data: bytes) -> str | None:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates: tuple[str, ...] = ("utf-16",)
    else:
        candidates = CSV_ENCODINGS
    for encoding in candidates:
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _read_csv_text(text: str, path: Path) -> pd.DataFrame:
    """Every record, as wide as the widest one (a stray separator never stops the build)."""
    text = text.removeprefix("\ufeff")
    first = text.split("\n", 1)[0]
    separator = max((",", "\t", ";"), key=first.count)
    try:
        width = max((len(record) for record in csv.reader(io.StringIO(text), delimiter=separator)),
                    default=1)
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, sep=separator,
                            header=None, names=range(max(width, 1)), skip_blank_lines=False)
    except (csv.Error, pd.errors.ParserError, pd.errors.EmptyDataError):
        raise InputError(f"{path}: the case table is not a well-formed CSV file (a quote left "
                         "open, or text that is not a table); open it in Excel and save it "
                         "again as .xlsx or CSV UTF-8") from None
    frame.columns = range(frame.shape[1])
    return frame


def _read_excel(cases: CasesConfig) -> pd.DataFrame:
    try:
        book = pd.ExcelFile(cases.path)
    except ImportError:
        raise InputError(f"{cases.path}: old-style .xls workbooks need the xlrd package; save "
                         "the file as .xlsx (Excel: Save As → Excel Workbook) or CSV") from None
    except (ValueError, zipfile.BadZipFile, KeyError, OSError, EOFError):
        raise InputError(_not_a_workbook(cases.path)) from None
    with book:
        sheet = cases.sheet if cases.sheet is not None else 0
        if cases.sheet is not None and cases.sheet not in book.sheet_names:
            raise InputError(f"{cases.path}: no sheet named {cases.sheet!r}; the workbook has "
                             f"{book.sheet_names}. Fix [cases] sheet")
        try:
            frame = pd.read_excel(book, sheet_name=sheet, dtype=str, keep_default_na=False,
                                  header=None)
        except (ValueError, zipfile.BadZipFile, KeyError, OSError, EOFError, TypeError):
            raise InputError(_not_a_workbook(cases.path)) from None
    frame.attrs["sheets"] = list(book.sheet_names)
    frame.columns = range(frame.shape[1])
    return frame


def _not_a_workbook(path: Path) -> str:
    return (f"{path}: not a readable Excel workbook: it is a ZIP or Office file, but not an "
            ".xlsx workbook, or a damaged one (cut short by a download?); open it in Excel and "
            "save it again as .xlsx, or export the case list again")


def _find_header(raw: pd.DataFrame, header_row: int, cases: CasesConfig) -> pd.DataFrame:
    """Use the first row that holds every mapped column as the header (a title may sit above)."""
    wanted = list(dict.fromkeys(cases.columns.values()))
    rows = raw.head(_HEADER_SEARCH_ROWS).fillna("").astype(str).map(str.strip)
    best, best_hits = header_row, -1
    for position in range(len(rows)):
        hits = len(set(rows.iloc[position]) & set(wanted))
        if hits > best_hits:
            best, best_hits = position, hits
        if hits == len(wanted):
            break
    if raw.empty:
        raise InputError(f"{cases.path}: the case table is empty (no header row)")
    header = [str(h).strip() for h in rows.iloc[best]]
    missing = [c for c in wanted if c not in header]
    if missing:
        _missing_columns(cases, raw, rows.iloc[0].tolist() if best_hits <= 0 else header, missing)
    body = raw.iloc[best + 1:].copy()
    body.columns = _unique(header)
    body.attrs["first_row"] = best + 2  # spreadsheet numbering: header at best + 1
    return body


def _unique(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in header:
        name = name or "未命名"
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(name if count == 0 else f"{name}.{count}")
    return out


def _missing_columns(cases: CasesConfig, raw: pd.DataFrame, header: list[str],
                     missing: list[str]) -> None:
    header = [str(h).strip() for h in header if str(h).strip()]
    problems = []
    for column in missing:
        close = difflib.get_close_matches(column, header, n=2, cutoff=0.5)
        if close:
            problems.append(f"'{column}' → did you mean {close}?")
    garbled = [h for h in header if _looks_garbled(h)]
    if garbled:
        problems.append(f"headers such as {garbled[0]!r} are garbled: the file's encoding is not "
                        f"{cases.encoding or 'what was detected'}; set [cases] encoding "
                        "(\"GBK\" or \"UTF-8\")")
    if "content" in raw.attrs:
        problems.append(f"{raw.attrs['content']}: is it the export you meant?")
    sheets = raw.attrs.get("sheets", [])
    if len(sheets) > 1:
        problems.append(f"the workbook has sheets {sheets}; set [cases] sheet if the cases "
                        "are on another one")
    raise InputError(
        f"{cases.path}: mapped column(s) {missing} not found. The file has: {header}. "
        "Fix [cases.columns] in the config.", problems)


FOOTER_WORDS = ("合计", "总计", "小计", "共计")
"""A row whose first cells hold one of these (合 计, 合计：, 合计32197 too) is a footer."""

_FOOTER = re.compile(r"^(?:" + "|".join(FOOTER_WORDS) + r")(?![\u3400-\u9fff])")
_FOOTER_COLUMNS = 3


def _drop_blank_rows(raw: pd.DataFrame, notes: list[tuple[str, str, str]]
                     ) -> tuple[pd.DataFrame, np.ndarray]:
    """Leave out blank rows and footer rows (合计, 总计, 小计), which are not cases, with a note."""
    first = raw.attrs.get("first_row", 2)
    source_row = np.arange(first, first + len(raw))
    raw = raw.fillna("")
    blank = np.ones(len(raw), dtype=bool)
    for column in raw.columns:
        blank &= (raw[column].astype(str).str.strip() == "").to_numpy()
    if blank.any():
        rows = source_row[blank]
        notes.append(("blank_rows", f"{blank.sum()} blank row(s) left out (not cases): rows "
                      f"{', '.join(map(str, rows[:20]))}{' …' if len(rows) > 20 else ''}", ""))
    found: dict[int, tuple[str, str]] = {}  # position -> (cell, column), first column first
    for column in raw.columns[:_FOOTER_COLUMNS]:
        cells = raw[column].astype(str)
        hit = cells.str.replace(r"\s+", "", regex=True).str.contains(_FOOTER).to_numpy()
        for position in np.flatnonzero(hit):
            found.setdefault(int(position), (cells.iloc[position].strip(), str(column)))
    footer = np.zeros(len(raw), dtype=bool)
    for position, (cell, column) in sorted(found.items()):
        footer[position] = True
        notes.append(("footer_row", f"row {source_row[position]}: a footer row ({cell!r} in "
                      f"column {column!r}) left out; it is not a case", column))
    keep = ~blank & ~footer
    return raw[keep], source_row[keep]


def _private_columns(raw: pd.DataFrame, cases: CasesConfig,
                     notes: list[tuple[str, str, str]]) -> set[str]:
    """Configured private columns, plus unmapped ones whose header says phone or ID card."""
    private = set(cases.private_columns) & set(raw.columns)
    mapped = set(cases.columns.values())
    for column in raw.columns:
        lowered = str(column).lower()
        if column in private or column in mapped:
            continue
        if any(h in lowered for h in PRIVATE_HINTS):
            private.add(column)
            notes.append(("private_column", f"column {column!r} looks private (phone or ID) and "
                          "was dropped; add it to [cases] private_columns to confirm", column))
    for column in sorted(set(cases.private_columns) - set(raw.columns)):
        notes.append(("private_column_absent", f"private column {column!r} is not in the file; "
                      "check [cases] private_columns against the export's headers", column))
    return private

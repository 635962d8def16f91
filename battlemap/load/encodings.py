"""Text encoding of vector layers: detect mojibake and read the layer again.

GDAL decodes a ``.dbf`` with its ``.cpg`` (or LDID byte); without either it
assumes ISO-8859-1, so GBK text arrives as ``'Ôö³ÇÇø'``. This module reads a
layer through pyogrio, recognises garbled text (Latin-1 high characters,
replacement marks, UTF-8 read as GBK) and tries the encodings of
:data:`LAYER_ENCODINGS` until one reads cleanly. :func:`_looks_garbled` also
serves the case table's header check.
"""

from __future__ import annotations

import codecs
import re
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from battlemap._sniff import vector_problem
from battlemap.config import LayerConfig
from battlemap.errors import ConfigError, InputError

LAYER_ENCODINGS = ("UTF-8", "GBK", "GB18030")
"""Tried, in order, when a layer's text comes out garbled and no encoding is configured."""


_MOJIBAKE_MARKERS = ("\ufffd", "锟斤拷", "閿熸枻鎷", "烫烫烫", "屯屯屯")
_LATIN1_HIGH = re.compile(r"[\x80-\xff]")
_CJK = re.compile(r"[\u3400-\u9fff]")


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

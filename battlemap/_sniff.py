"""What an input file really holds, whatever its name says, in our own words.

Exports are renamed, truncated and mislabelled: a CSV saved as ``.xlsx``, an
HTML page that an app calls "Excel", a 0-byte file left by a failed
download. Libraries then answer with their own wording ("you must specify an
engine manually", "prefix with '<DRIVER>:'"); these helpers say instead what
the file is and what to do.
"""

from __future__ import annotations

import codecs
from pathlib import Path

__all__ = ["describe_content", "sniff", "vector_problem"]

_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TEXT_ENCODINGS = ("utf-8-sig", "gb18030")


def sniff(data: bytes) -> str:
    """The kind of content: ``empty``, ``zip``, ``ole2``, ``html``, ``text`` or ``binary``.

    >>> sniff(b""), sniff(b"PK\\x03\\x04..."), sniff("编号,时间\\n".encode()), sniff(b"\\x00\\xff")
    ('empty', 'zip', 'text', 'binary')
    """
    if not data.strip():
        return "empty"
    if data.startswith(_ZIP):
        return "zip"
    if data.startswith(_OLE2):
        return "ole2"
    head = data[:2048].lstrip(codecs.BOM_UTF8).lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")):
        return "html"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "text"
    if b"\x00" in data[:4096]:
        return "binary"
    sample = data[:65536]
    for encoding in _TEXT_ENCODINGS:
        try:  # not final: a character cut by the sample's end is no error
            codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
        except UnicodeDecodeError:
            continue
        return "text"
    return "binary"


_WHAT = {
    "empty": "is empty (0 bytes)",
    "blank": "holds only blank space, no table",
    "zip": "is a ZIP archive",
    "ole2": "is an old-style Office file (.xls)",
    "html": "is a web page (HTML or XML), not a spreadsheet, whatever its name says",
    "text": "is plain text (CSV)",
    "binary": "is neither a spreadsheet nor text: its bytes are not an Excel workbook and do "
              "not read as UTF-8 or GBK text",
}


def describe_content(kind: str, data: bytes = b"") -> str:
    """What a file of this :func:`sniff` kind (and these bytes) is, as a sentence fragment."""
    return _WHAT["blank" if kind == "empty" and data else kind]


_LAYER_WHAT = {
    "zip": "it is a ZIP archive: unpack it and point the config at the .shp, .gpkg or .geojson "
           "inside",
    "ole2": "it is an Office file, not a map layer",
    "html": "it is a web page (HTML or XML), not a map layer",
    "binary": "its content is no format battlemap reads (damaged, or not a map layer)",
}


def vector_problem(path: Path, layer: str | None, layers: list[str]) -> str:
    """Why a vector layer cannot be opened, and what to do, for an :class:`InputError`."""
    try:
        data = path.read_bytes()[:4096] if path.is_file() else b""
    except OSError:
        return "cannot be opened (no permission to read it?); check the file's permissions"
    if path.is_file() and not data.strip():
        return f"{describe_content('empty', data)}; copy or export the layer again"
    if layer and layers and layer not in layers:
        return f"has no layer named {layer!r}. Layers in the file: {layers}; set 'layer' in the config"
    if path.suffix.lower() == ".shp":
        missing = [s for s in (".shx", ".dbf") if not _sibling(path, s).exists()]
        if missing:
            return (f"is a Shapefile without its {' and '.join(missing)} beside it; copy every "
                    "file of the Shapefile (.shp, .shx, .dbf, .prj, .cpg) into the same folder")
    what = _LAYER_WHAT.get(sniff(data), "")
    what = f"; {what}" if what else ""
    return (f"cannot be read as a vector layer (Shapefile, GeoPackage or GeoJSON){what}; export "
            "the layer again in one of these formats")


def _sibling(path: Path, suffix: str) -> Path:
    for candidate in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
        if candidate.exists():
            return candidate
    return path.with_suffix(suffix)

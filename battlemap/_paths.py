"""File names made from ids, and paths that never leave the output folder.

Every file name that comes from data (a unit id, a river id, a date) goes
through :func:`safe_stem`; every path a renderer writes goes through
:func:`inside`. The helpers are pure, so web links, page data, the
manifest and the renderers use the very same names as the files.

A stem must work on Linux, on Windows and on a FAT or exFAT USB stick, so
it is ASCII, and two distinct ids never give stems that differ only in
letter case (those file systems ignore case).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from battlemap.errors import RenderError

__all__ = ["MARKER", "TEMP_DIR", "atlas_file", "inside", "page_data_file", "page_file",
           "poster_file", "safe_stem"]

MARKER = ".battlemap-output"
"""The file that says battlemap made (and may write into) an output folder."""

TEMP_DIR = ".battlemap-tmp"
"""battlemap's private temporary folder inside the output folder (emptied at each start)."""

MAX_KEPT = 64          # an id longer than this is shortened
_READABLE = 40         # characters of the id kept in front of the hash when it is changed
_HASH = 16             # hex digits of sha256: 64 bits, no collision among millions of ids
_KEPT = re.compile(r"[A-Z0-9_][A-Z0-9_.-]*")
"""Ids kept as they are: ASCII, no lower case (so no two kept stems differ only by case)."""
_HASHED = re.compile(rf"_[0-9a-f]{{{_HASH}}}", re.IGNORECASE)
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))])


def safe_stem(unit_id: object) -> str:
    """The file stem of an id: the id itself when it is already a safe name.

    An id is kept when it is at most 64 characters of ``A-Z 0-9 _ . -``,
    starts with a letter, digit or ``_``, does not end with ``.``, is not a
    Windows device name (``CON``, ``NUL``, ``COM1`` …) and does not end like a
    changed stem. Any other id becomes its ASCII letters and digits (at most
    40, runs of other characters as ``_``) followed by ``_`` and 16 hex digits
    of the SHA-256 of the id: distinct ids never share a stem, a changed stem
    never equals a kept one, and no stem is ``.``, ``..`` or longer than 64.

    Examples
    --------
    >>> safe_stem("440118001")
    '440118001'
    >>> safe_stem("../../../ESCAPED")[:8]
    'ESCAPED_'
    """
    text = str(unit_id)
    if _kept(text):
        return text
    readable = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")[:_READABLE].rstrip("_") or "x"
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH]
    return f"{readable}_{digest}"


def _kept(text: str) -> bool:
    return (len(text) <= MAX_KEPT and _KEPT.fullmatch(text) is not None
            and not text.endswith(".") and text.split(".")[0] not in _WINDOWS_DEVICES
            and _HASHED.search(text[-(_HASH + 1):]) is None)


def inside(out: Path, path: Path) -> Path:
    """Return ``path`` if, resolved, it lies inside the folder ``out``; else raise.

    Raises
    ------
    RenderError
        When the path (after resolving ``..`` and links) leaves ``out``.
    """
    root = Path(out).resolve()
    target = Path(path).resolve()
    if target == root or not target.is_relative_to(root):
        raise RenderError(f"{path}: refusing to write outside the output folder {root}; "
                          "this is a bug in battlemap, please report it")
    return path


def page_file(level: str, unit_id: object) -> str:
    """A unit's web page, relative to the output folder (the district's is index.html)."""
    return "index.html" if level == "district" else f"{level}/{safe_stem(unit_id)}.html"


def page_data_file(level: str, unit_id: object) -> str:
    """The page data script of a unit's web page, relative to the output folder."""
    return f"data/{level}/{safe_stem(unit_id)}.js"


def poster_file(level: str, unit_id: object, paper: str) -> str:
    """A unit's poster on one paper size, relative to the output folder."""
    return f"posters/{level}/{safe_stem(unit_id)}_{paper}.pdf"


def atlas_file(town_id: object) -> str:
    """A town's meeting atlas (会议图册), relative to the output folder."""
    return f"posters/atlas/{safe_stem(town_id)}.pdf"

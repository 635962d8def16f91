"""Spreadsheet cells made inert: public text never becomes a formula in Excel or WPS.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read by Excel and WPS as the start of a formula (``=HYPERLINK(…)``,
``-2+3``, ``@SUM(A1)``). :func:`formula_like` is the one test; every CSV
writer passes its frame through :func:`inert_csv_frame` (such text gets a
leading apostrophe, as OWASP advises), and every workbook is written by
:func:`write_workbook` (the cell is stored as a string with Excel's "quote
prefix", shown as text and kept as text when edited). Numbers stay numbers:
numeric columns are not touched, nor is text that is a plain number such as
``-113.5`` (or only dashes, ``-``, a common blank).

:func:`write_workbook` is also the one place sheets get their look, and it
writes each sheet in one pass (:mod:`battlemap._xlsx` streams the rows into
the file a chunk at a time, never holding a workbook of cell objects), so the
layout is decided from the frame before the first row goes out.

The history snapshots (``history/*.csv.gz``) are left as they are: they
are battlemap's own state, read back by :mod:`battlemap.history` and not
meant for a spreadsheet, they hold only ids, state words and flags, and an
apostrophe before an id such as ``-1`` would make it another id next week.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from battlemap._xlsx import GENERAL, Package, SheetWriter, Styled

__all__ = ["DATE", "DATE_TIME", "PERCENT", "formula_like", "inert_csv_frame", "inert_csv_text",
           "write_workbook"]

PERCENT = "0.0%"
"""The number format of shares (销号率, 有效率)."""
DATE, DATE_TIME = "yyyy-mm-dd", "yyyy-mm-dd hh:mm"
"""Dates (整改期限) and times (上报时间) as the office writes them."""

WIDTH_ROWS = 2000
"""Column widths are measured on the first rows of a sheet (the header among them)."""
CHUNK_ROWS = 5000
"""Rows turned into cells at a time: the memory of a sheet stays that of a chunk."""
FORMATS = (PERCENT, DATE, DATE_TIME)
ILLEGAL_CHARACTERS_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""What an .xlsx cell cannot hold, since XML 1.0 cannot: control characters (openpyxl's
list), the two noncharacters U+FFFE and U+FFFF (valid UTF-8 in a CSV), lone surrogates."""

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_HARMLESS = re.compile(r"-?\d+(?:\.\d+)?|-+")
"""A plain number (``-113.5``) or dashes only (``-``, a blank in many exports): never formulas."""


def formula_like(value: object) -> bool:
    """Whether a text cell would be read as a formula by a spreadsheet.

    >>> formula_like('=HYPERLINK("http://x","点我")'), formula_like("-2+3"), formula_like("-113.5")
    (True, True, False)
    """
    return (isinstance(value, str) and value.startswith(FORMULA_STARTS)
            and _HARMLESS.fullmatch(value) is None)


def inert_csv_text(value: object) -> object:
    """``value`` with a leading apostrophe if it is formula-like, else unchanged."""
    return f"'{value}" if formula_like(value) else value


def inert_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells and headers are inert in a spreadsheet."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(inert_csv_text)
    out.columns = [inert_csv_text(c) for c in out.columns]
    return out


def write_workbook(path: Path, sheets: Mapping[str, pd.DataFrame], *, percent: tuple[str, ...] = (),
                   max_width: int = 60) -> Path:
    """Write one sheet per frame (header row from its columns) to ``path``, laid out, inert.

    Each sheet's XML is written straight into the package in one pass, a
    chunk of rows at a time (:mod:`battlemap._xlsx`). Text loses the control
    characters an .xlsx cell cannot hold and is always stored as text
    (an inline string: no cell is ever a formula); formula-like text
    (:func:`formula_like`) also gets the quote prefix, so Excel and WPS keep
    it as text when it is edited; NaN, NaT and None are empty cells; numbers
    stay numbers. The layout: column widths from the longest text of the
    first rows (a Chinese character counts two), the header row frozen, an
    autofilter over the used range, the columns whose header is in
    ``percent`` shown as percentages (the values stay fractions, 0.873 shows
    as 87.3%), dates without a time of day shown as dates (:data:`DATE`),
    others with their time (:data:`DATE_TIME`), and for printing:
    landscape, one page wide, the header row repeated on every page.

    Parameters
    ----------
    path
        The file to write (callers pass the temporary file of an atomic write).
    sheets
        Sheet name → frame, in the order of the tabs; the index is not written.
    percent
        Headers of the columns shown as percentages.
    max_width
        The widest a column gets, in characters.

    Returns
    -------
    Path
        ``path``.
    """
    with Package(path, FORMATS) as package:
        for name, frame in sheets.items():
            with package.sheet(name) as sheet:
                _write_sheet(sheet, frame, percent, max_width)
    return path


def _write_sheet(sheet: SheetWriter, frame: pd.DataFrame, percent: tuple[str, ...],
                 max_width: int) -> None:
    header = [_cell(name) for name in frame.columns]
    shown_as_percent = [name in percent for name in frame.columns]
    if header:  # the layout goes first: it comes before the rows in the sheet's XML
        head = frame.iloc[:WIDTH_ROWS - 1]
        measured = [[_value(v), *map(_value, _column(head.iloc[:, k], shown_as_percent[k]))]
                    for k, v in enumerate(header)]
        sheet.lay_out([min(max_width, max(6, max(map(_display_width, column)) + 2))
                       for column in measured], len(frame) + 1)
    sheet.rows([header])
    for start in range(0, len(frame), CHUNK_ROWS):
        chunk = frame.iloc[start:start + CHUNK_ROWS]
        sheet.rows(zip(*(_column(chunk.iloc[:, k], shown)
                         for k, shown in enumerate(shown_as_percent)), strict=True))


def _column(values: pd.Series, shown_as_percent: bool) -> list[object]:
    """One column's cells: plain values, or :class:`Styled` where a format or prefix is needed."""
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_integer_dtype(values.dtype):
        items = values.tolist() if not values.hasnans else [_cell(v) for v in values]
    elif pd.api.types.is_float_dtype(values.dtype):
        items = [_number(v) for v in values.tolist()]
    elif isinstance(values.dtype, np.dtype) and values.dtype.kind == "M":  # naive datetime64
        items = _dates(values)
    else:
        items = [_cell(v) for v in values.tolist()]
    if shown_as_percent:
        items = [_percent(v) for v in items]
    return items


def _dates(values: pd.Series) -> list[object]:
    """A datetime column's cells: a date format at midnight, a date-and-time format otherwise."""
    midnight = (values == values.dt.normalize()).tolist()
    return [None if missing else Styled(value, DATE if at_midnight else DATE_TIME)
            for value, at_midnight, missing in zip(values.dt.to_pydatetime().tolist(), midnight,
                                                   values.isna().tolist(), strict=True)]


def _percent(item: object) -> Styled:
    """The cell shown as a percentage; a date keeps its date format."""
    if not isinstance(item, Styled):
        return Styled(item, PERCENT)
    return item if item.number_format != GENERAL else item._replace(number_format=PERCENT)


def _number(value: float) -> object:
    """A float as pandas wrote it: NaN empty, infinities as the words ``inf`` / ``-inf``."""
    if value != value:  # NaN
        return None
    if value in (np.inf, -np.inf):
        return "inf" if value > 0 else "-inf"
    return value


def _cell(value: object) -> object:
    """A value as it goes into a cell: inert text, dates formatted, missing values empty."""
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)   # characters a cell cannot hold
        return Styled(text, GENERAL, quote=True) if formula_like(text) else text
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, dt.datetime | np.datetime64):
        value = pd.Timestamp(value).to_pydatetime()
        return Styled(value, DATE if value.time() == dt.time() else DATE_TIME)
    if isinstance(value, dt.date):
        return Styled(value, DATE)
    if isinstance(value, np.generic):
        return _number(value.item()) if isinstance(value, np.floating) else value.item()
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, bool | int):
        return value
    return _cell(str(value))


def _value(item: object) -> object:
    return item.value if isinstance(item, Styled) else item


def _display_width(value: object) -> int:
    if value is None:
        return 0
    text = value if isinstance(value, str) else f"{value}"
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

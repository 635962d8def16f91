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
writes each sheet in one pass through openpyxl's write-only mode (rows are
streamed to the file, never held as a workbook of cell objects), so the
layout is decided from the frame before the first row goes out.

The history snapshots (``history/*.csv.gz``) are left as they are: they
are battlemap's own state, read back by :mod:`battlemap.history` and not
meant for a spreadsheet, they hold only ids, state words and flags, and an
apostrophe before an id such as ``-1`` would make it another id next week.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook

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
Sheet = Any
"""openpyxl's write-only worksheet (its class lives in a private openpyxl module)."""

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

    Each sheet is written in one pass (openpyxl's write-only mode). Text
    loses the control characters an .xlsx cell cannot hold, and formula-like
    text (:func:`formula_like`) is stored as a string with the quote prefix;
    NaN, NaT and None are empty cells; numbers stay numbers. The layout:
    column widths from the longest text of the first rows (a Chinese
    character counts two), the header row frozen, an autofilter over the
    used range, the columns whose header is in ``percent`` shown as
    percentages (the values stay fractions, 0.873 shows as 87.3%), dates
    without a time of day shown as dates (:data:`DATE`), others with their
    time (:data:`DATE_TIME`), and for printing: landscape, one page wide,
    the header row repeated on every page.

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
    book = Workbook(write_only=True)
    for name, frame in sheets.items():
        _write_sheet(book.create_sheet(name), frame, percent, max_width)
    book.save(path)
    return path


def _write_sheet(sheet: Sheet, frame: pd.DataFrame, percent: tuple[str, ...],
                 max_width: int) -> None:
    header = [_cell(sheet, name) for name in frame.columns]
    rows = _rows(sheet, frame, [name in percent for name in frame.columns])
    first = list(islice(rows, WIDTH_ROWS - 1))
    if header:  # the layout goes first: write-only sheets write it before the rows
        _lay_out(sheet, [header, *first], len(frame) + 1, max_width)
    for row in (header, *first):
        sheet.append(row)
    for row in rows:
        sheet.append(row)


def _lay_out(sheet: Sheet, first: list[list[object]], rows: int, max_width: int) -> None:
    for k, column in enumerate(zip(*first, strict=True), start=1):
        width = max(_display_width(v.value if isinstance(v, Cell) else v) for v in column)
        sheet.column_dimensions[get_column_letter(k)].width = min(max_width, max(6, width + 2))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(first[0]))}{rows}"
    sheet.print_title_rows = "1:1"                  # printed: the header on every page,
    sheet.page_setup.orientation = "landscape"      # landscape, all columns on one page width
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0


def _rows(sheet: Sheet, frame: pd.DataFrame, percent: list[bool]) -> Iterator[tuple[object, ...]]:
    """The frame's rows as cell values (or styled cells), converted a chunk of rows at a time."""
    for start in range(0, len(frame), CHUNK_ROWS):
        chunk = frame.iloc[start:start + CHUNK_ROWS]
        yield from zip(*(_column(sheet, chunk.iloc[:, k], shown_as_percent)
                         for k, shown_as_percent in enumerate(percent)), strict=True)


def _column(sheet: Sheet, values: pd.Series, shown_as_percent: bool) -> list[object]:
    """One column's cells: plain values where openpyxl's defaults do, styled cells elsewhere."""
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_integer_dtype(values.dtype):
        items = values.tolist() if not values.hasnans else [_cell(sheet, v) for v in values]
    elif pd.api.types.is_float_dtype(values.dtype):
        items = [_number(v) for v in values.tolist()]
    elif isinstance(values.dtype, np.dtype) and values.dtype.kind == "M":  # naive datetime64
        items = _dates(sheet, values)
    else:
        items = [_cell(sheet, v) for v in values.tolist()]
    if shown_as_percent:
        items = [_percent(sheet, v) for v in items]
    return items


def _dates(sheet: Sheet, values: pd.Series) -> list[object]:
    """A datetime column's cells: a date format at midnight, a date-and-time format otherwise."""
    midnight = (values == values.dt.normalize()).tolist()
    return [None if missing else _styled(sheet, value, DATE if at_midnight else DATE_TIME)
            for value, at_midnight, missing in zip(values.dt.to_pydatetime().tolist(), midnight,
                                                   values.isna().tolist(), strict=True)]


def _percent(sheet: Sheet, item: object) -> Cell:
    """The cell shown as a percentage; a date keeps its date format."""
    if not isinstance(item, Cell):
        return _styled(sheet, item, PERCENT)
    if item.number_format == "General":
        item.number_format = PERCENT
    return item


def _number(value: float) -> object:
    """A float as pandas wrote it: NaN empty, infinities as the words ``inf`` / ``-inf``."""
    if value != value:  # NaN
        return None
    if value in (np.inf, -np.inf):
        return "inf" if value > 0 else "-inf"
    return value


def _cell(sheet: Sheet, value: object) -> object:
    """A value as it goes into a cell: inert text, dates formatted, missing values empty."""
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)   # control characters a cell cannot hold
        if formula_like(text):
            cell = WriteOnlyCell(sheet, value=text)
            cell.data_type, cell.quotePrefix = "s", True
            return cell
        return text
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    if isinstance(value, dt.datetime | np.datetime64):
        value = pd.Timestamp(value).to_pydatetime()
        return _styled(sheet, value, DATE if value.time() == dt.time() else DATE_TIME)
    if isinstance(value, dt.date):
        return _styled(sheet, value, DATE)
    if isinstance(value, np.generic):
        return _number(value.item()) if isinstance(value, np.floating) else value.item()
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, bool | int):
        return value
    return _cell(sheet, str(value))


def _styled(sheet: Sheet, value: object, number_format: str) -> Cell:
    cell = WriteOnlyCell(sheet)
    cell.number_format = number_format   # first: a date then keeps it, not openpyxl's default
    cell.value = value
    return cell


def _display_width(value: object) -> int:
    if value is None:
        return 0
    text = value if isinstance(value, str) else f"{value}"
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

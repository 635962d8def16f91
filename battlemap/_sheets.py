"""Spreadsheet cells made inert: public text never becomes a formula in Excel or WPS.

A text cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is read by Excel and WPS as the start of a formula (``=HYPERLINK(…)``,
``-2+3``, ``@SUM(A1)``). :func:`formula_like` is the one test; every CSV
writer passes its frame through :func:`inert_csv_frame` (such text gets a
leading apostrophe, as OWASP advises), every openpyxl workbook through
:func:`inert_workbook` (the cell is stored as a string with Excel's
"quote prefix", shown as text and kept as text when edited). Numbers stay
numbers: numeric columns are not touched, nor is text that is a plain
number such as ``-113.5`` (or only dashes, ``-``, a common blank).

The history snapshots (``history/*.csv.gz``) are left as they are: they
are battlemap's own state, read back by :mod:`battlemap.history` and not
meant for a spreadsheet, they hold only ids, state words and flags, and an
apostrophe before an id such as ``-1`` would make it another id next week.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

__all__ = ["DATE", "DATE_TIME", "PERCENT", "format_sheet", "formula_like", "inert_csv_frame", "inert_csv_text",
           "inert_workbook"]

PERCENT = "0.0%"
"""The number format of shares (销号率, 有效率)."""
DATE, DATE_TIME = "yyyy-mm-dd", "yyyy-mm-dd hh:mm"
"""Dates (整改期限) and times (上报时间) as the office writes them."""

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


def inert_workbook(book: Workbook) -> int:
    """Store every formula-like text cell of ``book`` as quoted text; return how many.

    openpyxl turns any string that starts with ``=`` into a formula cell;
    this makes it a string cell again and sets the quote prefix on each
    formula-like text cell, so Excel and WPS show the text as typed.
    """
    changed = 0
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type in ("s", "f") and formula_like(cell.value):
                    cell.data_type = "s"
                    cell.quotePrefix = True
                    changed += 1
    return changed


def format_sheet(sheet: Worksheet, percent: tuple[str, ...] = (), max_width: int = 60) -> None:
    """Lay out a sheet whose first row is its header: the one place sheets get their look.

    Column widths from the longest text (a Chinese character counts two),
    the header row frozen, an autofilter over the used range, the columns
    whose header is in ``percent`` shown as percentages (the values stay
    fractions, 0.873 shows as 87.3%), dates without a time of day shown as
    dates, and for printing: landscape, one page wide, the header row
    repeated on every page.
    """
    if sheet.max_row < 1 or sheet.max_column < 1:
        return
    for k, column in enumerate(sheet.iter_cols(min_row=1, max_row=min(sheet.max_row, 2000)),
                               start=1):
        width = max((_display_width(cell.value) for cell in column), default=4)
        sheet.column_dimensions[get_column_letter(k)].width = min(max_width, max(6, width + 2))
        if column[0].value in percent:
            for cell in sheet.iter_rows(min_row=2, min_col=k, max_col=k):
                cell[0].number_format = PERCENT
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = DATE if cell.value.time() == dt.time() else DATE_TIME
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    sheet.print_title_rows = "1:1"                  # printed: the header on every page,
    sheet.page_setup.orientation = "landscape"      # landscape, all columns on one page width
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0


def _display_width(value: object) -> int:
    if value is None:
        return 0
    text = value if isinstance(value, str) else f"{value}"
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

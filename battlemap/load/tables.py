"""A spreadsheet export read as raw text cells, whatever its name says.

The content decides how the file is read: ``.xlsx``/``.xls`` workbooks
(first or named sheet) through pandas, anything else as CSV text in UTF-8,
UTF-8 with BOM, GBK, GB18030 or UTF-16 (detected, or the configured
encoding, checked), with the separator guessed and ragged rows padded. Every
unreadable file is an :class:`~battlemap.errors.InputError` in our words.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from pathlib import Path

import pandas as pd

from battlemap._sniff import describe_content, sniff
from battlemap.config import CasesConfig
from battlemap.errors import ConfigError, InputError

__all__ = ["CSV_ENCODINGS", "EXCEL_SUFFIXES"]

CSV_ENCODINGS = ("utf-8-sig", "gb18030")
"""Tried in order; GB18030 is a superset of GBK and GB2312. A UTF-16 BOM is honoured."""

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls")
"""Names that say "workbook"; the content decides how a case table is read."""


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
        # as UTF-8 bytes: pandas reads a text buffer chunk by chunk in Python, 2.5× slower
        frame = pd.read_csv(io.BytesIO(text.encode("utf-8", "surrogatepass")), encoding="utf-8",
                            encoding_errors="surrogatepass", dtype=str, keep_default_na=False,
                            sep=separator, header=None, names=range(max(width, 1)),
                            skip_blank_lines=False)
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

"""The case table (问题清单): :func:`read_case_table`.

From the raw cells of :mod:`battlemap.load.tables`: the header row is found
(a title may sit above it) and the export's headers are mapped to canonical
fields; blank rows and footer rows (合计, 总计, 小计) are left out; private
columns (reporter phone numbers) are dropped, and personal numbers in every
other column are masked by :mod:`battlemap.privacy`. Notes on what was left
out travel with the frame.
"""

from __future__ import annotations

import difflib
import re
from typing import NamedTuple

import numpy as np
import pandas as pd

from battlemap._findings import note
from battlemap.config import CasesConfig
from battlemap.errors import InputError
from battlemap.load.encodings import _looks_garbled
from battlemap.load.tables import _read_table
from battlemap.privacy import MASKED, mask_columns, mask_text

__all__ = ["FOOTER_WORDS", "PRIVATE_HINTS", "CaseTable", "read_case_table"]


PRIVATE_HINTS = ("电话", "手机", "联系方式", "联系电话", "身份证", "phone", "mobile", "tel")
"""Unmapped columns whose header contains one of these are dropped as private."""


_HEADER_SEARCH_ROWS = 20


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
_FOOTER_STARTS = frozenset(word[0] for word in FOOTER_WORDS)
"""The first character of a footer cell, past its blanks: the quick test of every cell."""
_SPACE = re.compile(r"\s+")
_FOOTER_COLUMNS = 3


def _drop_blank_rows(raw: pd.DataFrame, notes: list[tuple[str, str, str]]
                     ) -> tuple[pd.DataFrame, np.ndarray]:
    """Leave out blank rows and footer rows (合计, 总计, 小计), which are not cases, with a note."""
    first = raw.attrs.get("first_row", 2)
    source_row = np.arange(first, first + len(raw))
    raw = raw.fillna("")
    blank = np.ones(len(raw), dtype=bool)
    for column in raw.columns:  # each column looks only at the rows still blank
        rows = np.flatnonzero(blank)
        if not len(rows):
            break
        cells = raw[column].to_numpy(dtype=object)[rows]
        blank[rows] = [not str(cell).strip() for cell in cells]
    if blank.any():
        rows = source_row[blank]
        notes.append(("blank_rows", f"{blank.sum()} blank row(s) left out (not cases): rows "
                      f"{', '.join(map(str, rows[:20]))}{' …' if len(rows) > 20 else ''}", ""))
    found: dict[int, tuple[str, str]] = {}  # position -> (cell, column), first column first
    for column in raw.columns[:_FOOTER_COLUMNS]:
        cells = [str(cell) for cell in raw[column].to_numpy(dtype=object)]
        for position, cell in enumerate(cells):
            if cell.lstrip()[:1] in _FOOTER_STARTS and _FOOTER.search(_SPACE.sub("", cell)):
                found.setdefault(position, (cell.strip(), str(column)))
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

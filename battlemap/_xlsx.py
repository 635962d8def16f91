"""The .xlsx package itself: parts, styles and sheet XML, written straight into the zip.

:func:`battlemap._sheets.write_workbook` decides what each cell holds (and
makes text inert); this module only lays that out as SpreadsheetML (ECMA-376):
the workbook with its sheets and their defined names (print titles, the
filter range), one cell style per number format with and without the quote
prefix, and each sheet's XML streamed a block of rows at a time. A cell is
a number, a boolean, an empty styled cell or an inline string: this writer
has no way to write a formula. Dates are Excel serial numbers (1900 date
system) with a date format, computed and printed as openpyxl does
(``"%.16g"``), so a sheet reads back the same through openpyxl.

Writing the XML with string formatting, not one library object per cell,
is what makes a ×10 statistics.xlsx (1.2 M cells) take seconds (issue 16).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, NamedTuple
from xml.sax.saxutils import escape, quoteattr

__all__ = ["GENERAL", "MAX_TEXT", "Package", "SheetWriter", "Styled", "column_letter"]

GENERAL = "General"
MAX_TEXT = 32767
"""The most characters a cell holds; longer text is cut, as openpyxl cuts it."""
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_EPOCH = dt.datetime(1899, 12, 30)
_BAD_NAME = re.compile(r"[\\/*?:\[\]]")
_XML_TEXT = {"\r": "&#13;"}
"""Beyond ``& < >``: a carriage return survives a parser only as a character reference."""


class Styled(NamedTuple):
    """A cell value with a number format, and whether it gets Excel's quote prefix."""

    value: object
    number_format: str
    quote: bool = False


def column_letter(index: int) -> str:
    """The letters of the 1-based column ``index`` (1 → A, 27 → AA)."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class SheetWriter:
    """One sheet's XML: :meth:`lay_out` (optional, first), then :meth:`rows`, block by block."""

    def __init__(self, stream: IO[bytes], styles: dict[tuple[str, bool], int]) -> None:
        self._stream, self._styles, self._row = stream, styles, 0
        self.filter_ref: str | None = None
        self._head = f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{_MAIN}"><sheetData>'

    def lay_out(self, widths: Sequence[float], rows: int) -> None:
        """Widths per column, frozen header, autofilter over ``rows`` rows, printed landscape."""
        self.filter_ref = f"A1:{column_letter(len(widths))}{rows}"
        cols = "".join(f'<col min="{k}" max="{k}" width="{w}" customWidth="1"/>'
                       for k, w in enumerate(widths, start=1))
        self._head = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="{_MAIN}">'
            '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
            f'<dimension ref="{self.filter_ref}"/>'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
            'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" '
            'activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{cols}</cols><sheetData>')

    def rows(self, rows: Iterable[Sequence[object]]) -> None:
        """Append rows of cells (plain values, :class:`Styled`, or None for no cell)."""
        if self._head:
            self._stream.write(self._head.encode())
            self._head = ""
        lines = []
        for row in rows:
            self._row += 1
            number = self._row
            cells = "".join([self._cell(f"{column_letter(k)}{number}", item)
                             for k, item in enumerate(row, start=1) if item is not None])
            lines.append(f'<row r="{number}">{cells}</row>')
        self._stream.write("".join(lines).encode())

    def close(self) -> None:
        if self._head:
            self._stream.write(self._head.encode())
        tail = "</sheetData>"
        if self.filter_ref:
            tail += (f'<autoFilter ref="{self.filter_ref}"/><pageMargins left="0.75" '
                     'right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>'
                     '<pageSetup orientation="landscape" fitToWidth="1" fitToHeight="0"/>')
        self._stream.write(f"{tail}</worksheet>".encode())

    def _cell(self, ref: str, item: object) -> str:
        style = ""
        if isinstance(item, Styled):
            style = f' s="{self._styles[item.number_format, item.quote]}"'
            item = item.value
            if item is None:
                return f'<c r="{ref}"{style}/>'
        if isinstance(item, str):
            if not item:
                return f'<c r="{ref}"{style} t="inlineStr"/>'
            text = escape(item[:MAX_TEXT], _XML_TEXT)
            return f'<c r="{ref}"{style} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
        if isinstance(item, bool):
            return f'<c r="{ref}"{style} t="b"><v>{int(item)}</v></c>'
        if isinstance(item, dt.date):
            item = _serial(item)
        return f'<c r="{ref}"{style} t="n"><v>{item:.16g}</v></c>'


def _serial(value: dt.date) -> float:
    """Excel's serial number of a date or time (1900 system), as openpyxl computes it."""
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if value.tzinfo is not None:
        raise TypeError("a spreadsheet date has no time zone")
    days = (value - _EPOCH).days
    if 0 < days <= 60:   # Excel's 29 February 1900
        days -= 1
    return days + (value.hour * 3600 + value.minute * 60 + value.second
                   + value.microsecond / 10**6) / 86400


class Package:
    """An .xlsx file being written: sheets one after another, the other parts at the end."""

    def __init__(self, path: Path, formats: Sequence[str]) -> None:
        self._zip = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED)
        self._formats = [GENERAL, *(f for f in formats if f != GENERAL)]
        self._styles = {(f, quote): 2 * k + quote for k, f in enumerate(self._formats)
                        for quote in (False, True)}
        self._sheets: list[tuple[str, str | None]] = []   # name, autofilter ref

    def __enter__(self) -> Package:
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        try:
            if kind is None:
                self._finish()
        finally:
            self._zip.close()

    @contextmanager
    def sheet(self, name: str) -> Iterator[SheetWriter]:
        """The next sheet, named ``name`` (at most 31 characters, none of ``\\ / * ? : [ ]``)."""
        if not 0 < len(name) <= 31 or _BAD_NAME.search(name) or name in dict(self._sheets):
            raise ValueError(f"not a usable sheet name: {name!r}")
        part = f"xl/worksheets/sheet{len(self._sheets) + 1}.xml"
        with self._zip.open(part, "w") as stream:
            writer = SheetWriter(stream, self._styles)
            yield writer
            writer.close()
        self._sheets.append((name, writer.filter_ref))

    def _finish(self) -> None:
        count = len(self._sheets)
        sheets = "".join(f'<sheet name={quoteattr(name)} sheetId="{k}" r:id="rId{k}"/>'
                         for k, (name, _) in enumerate(self._sheets, start=1))
        names = "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{k}" hidden="1">'
            f"{escape(_quoted(name))}!{_absolute(ref)}</definedName>"
            f'<definedName name="_xlnm.Print_Titles" localSheetId="{k}">'
            f"{escape(_quoted(name))}!$1:$1</definedName>"
            for k, (name, ref) in enumerate(self._sheets) if ref)
        self._write("xl/workbook.xml", (
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView/></bookViews>'
            f"<sheets>{sheets}</sheets>"
            + (f"<definedNames>{names}</definedNames>" if names else "") + "</workbook>"))
        self._write("xl/styles.xml", self._stylesheet())
        self._write("xl/_rels/workbook.xml.rels", _relationships(
            [(f"{_REL}/worksheet", f"worksheets/sheet{k}.xml") for k in range(1, count + 1)]
            + [(f"{_REL}/styles", "styles.xml")]))
        self._write("_rels/.rels", _relationships([(f"{_REL}/officeDocument", "xl/workbook.xml")]))
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{k}.xml" ContentType="{_TYPE}.worksheet+xml"/>'
            for k in range(1, count + 1))
        self._write("[Content_Types].xml", (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPE}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{_TYPE}.styles+xml"/>'
            f"{overrides}</Types>"))

    def _stylesheet(self) -> str:
        custom = self._formats[1:]
        formats = "".join(f'<numFmt numFmtId="{164 + k}" formatCode={quoteattr(code)}/>'
                          for k, code in enumerate(custom))
        xfs = "".join(
            f'<xf numFmtId="{164 + k - 1 if k else 0}" fontId="0" fillId="0" borderId="0" xfId="0"'
            + (' applyNumberFormat="1"' if k else "") + (' quotePrefix="1"' if quote else "") + "/>"
            for k in range(len(self._formats)) for quote in (False, True))
        return (
            f'<styleSheet xmlns="{_MAIN}"><numFmts count="{len(custom)}">{formats}</numFmts>'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/>'
            '<scheme val="minor"/></font></fonts><fills count="2"><fill><patternFill '
            'patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
            '</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
            f'borderId="0"/></cellStyleXfs><cellXfs count="{2 * len(self._formats)}">{xfs}'
            '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
            "</cellStyles></styleSheet>")

    def _write(self, part: str, xml: str) -> None:
        self._zip.writestr(part, f'<?xml version="1.0" encoding="UTF-8"?>\n{xml}')


def _relationships(targets: list[tuple[str, str]]) -> str:
    return (f'<Relationships xmlns="{_PKG_REL}">'
            + "".join(f'<Relationship Id="rId{k}" Type="{kind}" Target="{target}"/>'
                      for k, (kind, target) in enumerate(targets, start=1))
            + "</Relationships>")


def _quoted(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _absolute(ref: str) -> str:
    return ":".join(re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", part) for part in ref.split(":"))

"""The bulletin's PDF, HTML and .docx hold the same figures: every table cell and headline.

Each file is read back as a reader would get it: the PDF through
``pdftotext``, the HTML through an HTML parser, the .docx through
python-docx. The expected figures come from the document's blocks, which
the snapshot test pins to the statistics.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import docx
import pytest

from battlemap.render.bulletin import bulletin_data, bulletin_document, render_bulletin
from battlemap.render.document import KeyFigures, Table

FIGURE = re.compile(r"[↑↓]?[\d,]+(\.\d+)?%?|\d{4}-\d\d-\d\d|—|持平")


def _busy(atlas):
    """The tiny district with four overdue cases, so every section has rows."""
    cases = atlas.cases.copy()
    for case_id, days in zip(cases.index[:4], (8, 40, 12, 90), strict=True):
        cases.loc[case_id, ["overdue", "days_overdue", "state"]] = [True, days, "assigned"]
    return dataclasses.replace(atlas, cases=cases)


class _Tables(HTMLParser):
    """The tables (rows of cell texts) and headline values of a bulletin page."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.headline: list[str] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._skip = False
        self._box = False

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row, self._skip = [], False
        elif tag == "td":
            self._cell = []
            self._skip |= "colspan" in attrs            # the "（无）" of an empty table
        elif tag == "div" and attrs.get("class") == "figure":
            self._box = True
        elif tag == "b" and self._box:
            self._cell = []

    def handle_endtag(self, tag) -> None:
        if tag == "td" and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row and not self._skip:
            self.tables[-1].append(self._row)
        elif tag == "b" and self._box:
            self.headline.append("".join(self._cell))
            self._cell, self._box = None, False

    def handle_data(self, data) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _pdf_tokens(path: Path) -> list[str]:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    return text.split()


def _in_order(expected: list[str], tokens: list[str]) -> list[str]:
    """The expected figures not found, in order, among the tokens (empty when all are)."""
    it = iter(tokens)
    return [figure for figure in expected if not any(figure == t for t in it)]


@pytest.fixture
def rendered(tiny_atlas, tmp_path):
    atlas = _busy(tiny_atlas)
    document = bulletin_document(bulletin_data(atlas))
    return document, render_bulletin(atlas, tmp_path)


def test_html_and_docx_tables_hold_every_cell(rendered) -> None:
    document, (_, page, word) = rendered
    tables = [b for b in document.blocks if isinstance(b, Table)]
    headline = [i.value for b in document.blocks if isinstance(b, KeyFigures) for i in b.items]
    assert len(tables) >= 8 and sum(len(t.rows) for t in tables) >= 10

    html = _Tables()
    html.feed(page.read_text(encoding="utf-8"))
    assert html.headline == headline
    assert html.tables == [[[c.text for c in row] for row in t.rows] for t in tables]

    word_tables = [[[cell.text for cell in row.cells] for row in t.rows]
                   for t in docx.Document(str(word)).tables]
    word_tables = [t for t in word_tables if any(any(c for c in row) for row in t)]  # not charts
    boxes, data = word_tables[0], word_tables[1:]
    assert [cell.split("\n")[0] for cell in boxes[0]] == headline
    paper = [[[c.text for c, col in zip(row, t.columns, strict=True) if not col.screen_only]
              for row in t.rows] for t in tables]
    assert [[r for r in t[1:] if set(r) != {tables[k].empty}] for k, t in enumerate(data)] == paper
    assert [t[0] for t in data] == [[c.header for c in t.columns if not c.screen_only]
                                    for t in tables]


def test_pdf_holds_every_figure_in_order(rendered) -> None:
    document, (pdf, _, _) = rendered
    expected = [i.value for b in document.blocks if isinstance(b, KeyFigures) for i in b.items]
    for block in document.blocks:
        if isinstance(block, Table):
            expected += [cell.text for row in block.rows
                         for cell, col in zip(row, block.columns, strict=True)
                         if not col.screen_only and FIGURE.fullmatch(cell.text)]
    assert len(expected) > 50
    assert _in_order(expected, _pdf_tokens(pdf)) == []

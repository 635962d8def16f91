"""PDF writer: a :class:`~battlemap.render.document.Document` flowed onto A4 pages.

A small flow-layout engine on matplotlib: headings kept with what follows
them, paragraphs wrapped, headline boxes, charts (two halves side by side),
and tables that break across pages with their header repeated. Every page
is a matplotlib figure written through the posters' fast text path, then
the pages are joined.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D
from matplotlib.transforms import Affine2D

from battlemap._io import atomic_path
from battlemap.render.document import (
    Block,
    Colophon,
    Column,
    Document,
    Figure,
    Heading,
    KeyFigures,
    Letterhead,
    Paragraph,
    Signature,
    Table,
)
from battlemap.render.fonts import (
    FontSpec,
    check_chart,
    check_text,
    clip_to_width,
    em_width,
    rc_params,
    wrap_to_width,
)
from battlemap.render.pdf import TextBatch, save_pages

__all__ = ["write_pdf"]

PAGE_W, PAGE_H = 595.28, 841.89           # A4 portrait, points
MARGIN, TOP, BOTTOM = 42.0, 800.0, 50.0
ROW, BODY = 12.5, 7.5                     # table row height and text size, points
INK, GREY, LIGHT, MARK_RED = "#222222", "#777777", "#eeeeee", "#c62828"
SIZES = {"body": 9.0, "note": 7.5, "list": 7.5, "address": 9.0}
COLORS = {"body": INK, "note": "#555555", "list": INK, "address": INK}
BOXES, RULES, TEXTS = -3, -2, -1
"""Drawing order of a page's boxes, rules and text: below the charts (axes, zorder 0), as when
they were the children of a page-wide axes drawn first. The page has no axes of its own: one
cost 17 ms a page (issue 16)."""


def write_pdf(document: Document, path: Path, font: FontSpec) -> Path:
    """Lay ``document`` out on A4 pages and write it atomically to ``path``.

    A character the font lacks is drawn as □ (see :func:`~battlemap.render.fonts.check_text`).
    """
    with matplotlib.rc_context(rc_params(font)):
        flow = _Flow(document, font)
        flow.title()
        blocks = document.blocks
        k = 0
        while k < len(blocks):
            k = flow.block(blocks, k)
        return flow.save(path, font)


class _Flow:
    """A flow of A4 pages: the cursor ``y`` moves down, a new page starts when one is full."""

    def __init__(self, doc: Document, font: FontSpec) -> None:
        self.doc, self.font = doc, font
        self.pages: list[tuple[MplFigure, Affine2D, TextBatch]] = []
        self.boxes_of_page: list[list[tuple]] = []
        self.y = TOP
        self.width = PAGE_W - 2 * MARGIN
        self.new_page()

    # page furniture ------------------------------------------------------
    def new_page(self) -> None:
        fig = MplFigure(figsize=(PAGE_W / 72, PAGE_H / 72), dpi=72)
        points = Affine2D().scale(1 / 72) + fig.dpi_scale_trans   # page points → display
        texts = TextBatch(self.font.path, points, zorder=TEXTS)
        fig.add_artist(texts)
        self.pages.append((fig, points, texts))
        self.boxes_of_page.append([])
        self.y = TOP
        doc = self.doc
        if doc.mark:
            self.rect(0, PAGE_H - 16, PAGE_W, 16, MARK_RED)
            self.text(PAGE_W / 2, PAGE_H - 8, doc.mark, 7.5, ha="center", va="center",
                      color="white")
            fig.text(PAGE_W / 2, PAGE_H / 2, doc.mark.split("·")[0].strip(), fontsize=48,
                     ha="center", va="center", rotation=55, color=MARK_RED, alpha=0.07,
                     parse_math=False, transform=points, zorder=TEXTS)
        if len(self.pages) > 1:
            self.text(MARGIN, PAGE_H - 32, doc.title, 7, color=GREY)
            self.rule(PAGE_H - 37, LIGHT, 0.6)
            self.y = PAGE_H - 56
        self.text(MARGIN, 26, clip_to_width(doc.footer, 5.5, self.width - 80), 5.5, color=GREY)

    def rule(self, y: float, color: str, width: float) -> None:
        """A horizontal line across the text width at height ``y``."""
        fig, points, _ = self.pages[-1]
        fig.add_artist(Line2D([MARGIN, PAGE_W - MARGIN], [y, y], color=color, lw=width,
                              transform=points, zorder=RULES))

    def rect(self, x: float, y: float, width: float, height: float, fill: str,
             edge: str = "none") -> None:
        """A box below the text; a page's boxes are drawn as one collection."""
        self.boxes_of_page[-1].append((x, y, width, height, fill, edge))

    def text(self, x: float, y: float, text: str, size: float, color: str = INK,
             ha: str = "left", va: str = "baseline") -> None:
        text = check_text(text, self.font)  # a character the font lacks is drawn as □
        self.pages[-1][2].add(x, y, text, size, color=color, ha=ha, va=va)

    def ensure(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self.new_page()

    # blocks ----------------------------------------------------------------
    def title(self) -> None:
        if self.doc.letterhead:
            self.letterhead(self.doc.letterhead)
        text, size = self.doc.title, 17.0
        while em_width(text) * size > self.width and size > 11:
            size -= 0.5
        self.text(PAGE_W / 2, self.y - size, text, size, ha="center")
        self.y -= size + 12
        if self.doc.meta:
            self.paragraph(Paragraph(self.doc.meta, "note"))
            self.y -= 4

    def block(self, blocks: Sequence[Block], k: int) -> int:
        """Lay out ``blocks[k]`` (and its partner, for two half-width figures); next index."""
        block = blocks[k]
        if isinstance(block, Heading):
            self.heading(block, _keep(blocks, k + 1, self.width, block.level))
        elif isinstance(block, Paragraph):
            self.paragraph(block)
        elif isinstance(block, KeyFigures):
            self.boxes(block)
        elif isinstance(block, Table):
            self.table(block)
        elif isinstance(block, Signature):
            self.signature(block)
        elif isinstance(block, Colophon):
            self.colophon(block)
        elif isinstance(block, Figure):
            pair = blocks[k + 1] if k + 1 < len(blocks) else None
            if block.width < 1 and isinstance(pair, Figure) and pair.width < 1:
                self.figures([block, pair])
                return k + 2
            self.figures([block])
        else:
            raise TypeError(f"not a document block: {block!r}")
        return k + 1

    def letterhead(self, head: Letterhead) -> None:
        """The red issuer's name, the document number under it, and a red rule."""
        size = 26.0
        while em_width(head.issuer) * size > self.width and size > 12:
            size -= 0.5
        self.text(PAGE_W / 2, self.y - size, head.issuer, size, color=head.color, ha="center")
        self.y -= size + 16
        if head.number:
            self.text(PAGE_W / 2, self.y - 10.5, head.number, 10.5, ha="center")
            self.y -= 18
        self.rule(self.y, head.color, 1.8)
        self.y -= 22

    def signature(self, block: Signature) -> None:
        self.ensure(len(block.lines) * 16 + 24)
        self.y -= 18
        for line in block.lines:
            self.text(PAGE_W - MARGIN - 24, self.y - 10, line, 10, ha="right")
            self.y -= 16
        self.y -= 6

    def colophon(self, block: Colophon) -> None:
        height = len(block.lines) * 15 + 10
        self.ensure(height + 6)
        self.y -= 4
        for y in (self.y, self.y - height):
            self.rule(y, INK, 0.7)
        for line in block.lines:
            self.text(MARGIN + 6, self.y - 13, clip_to_width(line, 8.5, self.width - 12), 8.5)
            self.y -= 15
        self.y -= 16

    def heading(self, block: Heading, keep: float) -> None:
        color = self.doc.color(block.tone)
        if block.level <= 1:
            self.ensure(22 + keep)
            self.y -= 8
            self.text(MARGIN, self.y - 12, block.text, 12.5, color=color)
            self.y -= 22
        else:
            self.ensure(18 + keep)
            self.y -= 4
            self.text(MARGIN, self.y - 9, clip_to_width(block.text, 9, self.width), 9,
                      color=color)
            self.y -= 15

    def paragraph(self, block: Paragraph) -> None:
        size = SIZES[block.kind]
        color = self.doc.color(block.tone) if block.tone else COLORS[block.kind]
        for line in _lines(block, self.width):
            self.ensure(size * 1.65)
            self.text(MARGIN, self.y - size, line, size, color=color)
            self.y -= size * 1.65
        self.y -= 3

    def boxes(self, block: KeyFigures) -> None:
        height, gap, items = 46.0, 6.0, block.items
        self.ensure(height + 8)
        width = (self.width - gap * (len(items) - 1)) / len(items)
        for k, item in enumerate(items):
            x = MARGIN + k * (width + gap)
            self.rect(x, self.y - height, width, height, "#f6f6f6", LIGHT)
            size = 17.0
            while em_width(item.value) * size > width - 8 and size > 9:
                size -= 0.5
            self.text(x + width / 2, self.y - 22, item.value, size, ha="center", va="center",
                      color=self.doc.color(item.tone))
            self.text(x + width / 2, self.y - 38, item.label, 7.5, ha="center", va="center",
                      color="#555555")
        self.y -= height + 10

    def figures(self, figures: list[Figure]) -> None:
        gap = 16.0
        height = max(f.height for f in figures)
        self.ensure(height)
        x = MARGIN
        fig = self.pages[-1][0]
        for figure in figures:
            width = self.width if len(figures) == 1 and figure.width >= 1 else (
                (self.width - gap) / 2 if len(figures) == 2 else self.width * figure.width)
            rect = ((x + figure.room) / PAGE_W, (self.y - height + 20) / PAGE_H,
                    (width - figure.room - 6) / PAGE_W, (height - 20 - 16) / PAGE_H)
            ax = fig.add_axes(rect)
            figure.draw(ax, 6.5)
            check_chart(ax, self.font)
            x += width + gap
        self.y -= height + 6

    def table(self, table: Table) -> None:
        """Rows that break across pages, header repeated, ``continued`` and ``group`` honoured."""
        keep = [k for k, c in enumerate(table.columns) if not c.screen_only]
        columns = [table.columns[k] for k in keep]
        scale = self.width / sum(c.width for c in columns)
        widths = [c.width * min(scale, 1.0) for c in columns]
        xs = [MARGIN, *(MARGIN + np.cumsum(widths)[:-1])]
        group = keep.index(table.group) if table.group in keep else None
        rows = table.rows
        self.ensure((len(rows) + 1) * ROW + 2 if len(rows) <= table.keep_together else 5 * ROW)
        if not rows:
            self.ensure(2 * ROW)
            self._header(columns, widths, xs)
            self.text(MARGIN + 2, self.y - ROW + 3, table.empty, BODY, color=GREY)
            self.y -= ROW + 6
            return
        header_pending, broken, current = True, False, ""
        for k, row in enumerate(rows):
            if self.y - ROW * (2 if header_pending else 1) < BOTTOM:
                self.new_page()
                header_pending = broken = True
                if table.continued:
                    self.heading(Heading(f"{table.continued}（续）", level=2), 2 * ROW)
            if header_pending:
                self._header(columns, widths, xs)
                header_pending = False
            texts = [(row[j].text, self.doc.color(row[j].tone)) for j in keep]
            if group is not None:
                if texts[group][0]:
                    current, broken = texts[group][0], False
                elif broken:
                    texts[group] = (f"{current}（续）", texts[group][1])
                    broken = False
            if k % 2:
                self.rect(MARGIN, self.y - ROW, self.width, ROW, "#f5f5f5")
            for (text, color), col, x0, w in zip(texts, columns, xs, widths, strict=True):
                self._cell(text, col.align, x0, w, color)
            self.y -= ROW
        self.y -= 6

    def _header(self, columns: Sequence[Column], widths, xs) -> None:
        self.rect(MARGIN, self.y - ROW - 1, self.width, ROW + 1, "#e8eef5")
        for col, x0, w in zip(columns, xs, widths, strict=True):
            self._cell(col.header, col.align, x0, w, "#333333")
        self.y -= ROW + 1

    def _cell(self, text: str, align: str, x0: float, width: float, color: str) -> None:
        text = clip_to_width(text, BODY, width - 5)
        x = {"left": x0 + 2.5, "right": x0 + width - 2.5, "center": x0 + width / 2}[align]
        self.text(x, self.y - ROW / 2 - 0.3, text, BODY, ha=align, va="center", color=color)

    # output ---------------------------------------------------------------
    def save(self, path: Path, font: FontSpec) -> Path:
        total = len(self.pages)
        meta = {"Title": self.doc.title, "Creator": self.doc.creator}
        figs = []
        for number, ((fig, points, texts), boxes) in enumerate(
                zip(self.pages, self.boxes_of_page, strict=True), start=1):
            if boxes:
                fig.add_artist(PolyCollection(
                    [[(x, y), (x + w, y), (x + w, y + h), (x, y + h)] for x, y, w, h, _, _ in boxes],
                    facecolors=[b[4] for b in boxes], edgecolors=[b[5] for b in boxes],
                    linewidths=[0.6 if b[5] != "none" else 0 for b in boxes], transform=points,
                    zorder=BOXES))
            texts.add(PAGE_W - MARGIN, 26, f"第 {number} 页 / 共 {total} 页", 6.5, color=GREY,
                      ha="right")
            figs.append(fig)
        with atomic_path(path) as tmp:
            save_pages(figs, tmp, {**meta, "CreationDate": None}, font.path)
        return path


def _lines(block: Paragraph, width: float) -> list[str]:
    first = "\u3000\u3000" if block.kind == "body" else ""
    return wrap_to_width(first + block.text, SIZES[block.kind], width)


def _keep(blocks: Sequence[Block], start: int, width: float, level: int) -> float:
    """Room a heading of ``level`` needs below it: what follows, up to the first table or chart.

    A short table (``keep_together``) comes whole, a long one with a few rows;
    a paragraph counts with at most three lines; a sub-heading of a section
    heading counts with what it keeps; the next heading of the same level ends it.
    """
    room = 0.0
    for k in range(start, len(blocks)):
        block = blocks[k]
        if isinstance(block, Paragraph):
            size = SIZES[block.kind]
            lines = em_width(block.text) * size / width + 1
            room += min(3, int(lines)) * size * 1.65 + 3
        elif isinstance(block, Heading):
            if block.level <= level:
                break
            return room + 18 + _keep(blocks, k + 1, width, block.level)
        elif isinstance(block, Table):
            rows = len(block.rows)
            return room + ((rows + 1) * ROW + 8 if rows <= block.keep_together else 4 * ROW)
        elif isinstance(block, Figure):
            return room + block.height
        elif isinstance(block, KeyFigures):
            return room + 54
        elif isinstance(block, Signature | Colophon):
            return room + 16 * len(block.lines) + 24
    return max(room, 20.0)


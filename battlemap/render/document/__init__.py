"""A small document model: content built once as plain blocks, laid out by one writer per format.

Like Sphinx's doctree or pandoc's AST: the bulletin (通报) and the office's
letters (交办函, 提醒函, 预警函) build a :class:`Document` of blocks, and the
writers (:mod:`.pdf`, :mod:`.html`, :mod:`.docx`) only lay those blocks out,
so a figure cannot differ between two formats.

Blocks are frozen dataclasses holding text that is already formatted (the
writers never format a number). Colours are named by *tone* (``"warn"``,
``"up"``, ``"down"``, ``"muted"``), which each writer maps through
:attr:`Document.tones` to a colour or a CSS class.

Examples
--------
>>> doc = Document("通报", (Heading("一、总体情况"), Paragraph("全区累计受理 12 件。"),
...                        Table((Column("镇街"), Column("案件", align="right")),
...                              ((Cell("石滩镇"), Cell("12")),))))
>>> [type(b).__name__ for b in doc.blocks]
['Heading', 'Paragraph', 'Table']
"""

from __future__ import annotations

import struct
import weakref
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure

from battlemap.render.fonts import check_chart

__all__ = ["DEFAULT_TONES", "Block", "Cell", "Colophon", "Column", "Document", "Figure", "Heading",
           "KeyFigure", "KeyFigures", "Letterhead", "Paragraph", "Signature", "Table", "cells",
           "figure_png", "text_of"]

Tone = Literal["", "warn", "up", "down", "muted"]
"""A named colour: "" is the ink; writers map the others through Document.tones."""

DEFAULT_TONES = {"": "#222222", "warn": "#c62828", "up": "#2e7d32", "down": "#c62828",
                 "muted": "#777777"}


@dataclass(frozen=True)
class Heading:
    """A section heading (level 1, e.g. 一、总体情况) or a sub-heading (level 2)."""

    text: str
    level: int = 1
    tone: Tone = ""


@dataclass(frozen=True)
class Paragraph:
    """Running text. ``kind``: body (indented two ems), note (small, grey), list (small) or
    address (body size, not indented: a letter's 主送 line)."""

    text: str
    kind: Literal["body", "note", "list", "address"] = "body"
    tone: Tone = ""


@dataclass(frozen=True)
class KeyFigure:
    """One headline figure: its key (for machines), label, formatted value and raw value."""

    key: str
    label: str
    value: str
    raw: float
    tone: Tone = ""


@dataclass(frozen=True)
class KeyFigures:
    """A row of headline figures in boxes."""

    items: tuple[KeyFigure, ...]


@dataclass(frozen=True)
class Cell:
    """A table cell: formatted text and a tone."""

    text: str
    tone: Tone = ""


@dataclass(frozen=True)
class Column:
    """A table column: header, width hint (points on an A4 page) and alignment.

    ``screen_only`` columns (long free text such as the public's description)
    are written on screen (HTML) and left out on paper (PDF, .docx).
    """

    header: str
    width: float = 60.0
    align: Literal["left", "right", "center"] = "left"
    screen_only: bool = False


@dataclass(frozen=True)
class Table:
    """Rows of cells under a header row that repeats on every page.

    ``keep_together``: a table of at most that many rows is never split
    across pages. ``continued``: written above the repeated header after a
    page break, with "（续）". ``group``: the column whose empty cells mean
    "same as above"; after a page break the first such cell is filled in.
    """

    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    empty: str = "（无）"
    keep_together: int = 25
    continued: str | None = None
    group: int | None = None

    def __post_init__(self) -> None:
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(f"a row of {len(row)} cells in a table of "
                                 f"{len(self.columns)} columns")


@dataclass(frozen=True, eq=False)
class Figure:
    """A chart: ``draw(ax, font_size)`` draws it on a matplotlib Axes.

    ``width`` is the share of the text width (two consecutive halves sit side
    by side), ``height`` the height in points on an A4 page, ``room`` the
    points kept free on the left for tick labels on paper. Figures compare
    by identity (two charts with the same caption are still two charts).
    """

    draw: Callable[[object, float], None] = field(compare=False)
    alt: str
    height: float = 170.0
    width: float = 1.0
    room: float = 38.0


@dataclass(frozen=True)
class Signature:
    """Closing lines set to the right (落款): e.g. the issuer's name and the date."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class Colophon:
    """Lines between two thin rules at the end (版记): e.g. the 抄送 line and who printed it."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class Letterhead:
    """An official header (版头, after GB/T 9704-2012): the issuer in red, a number, a red rule.

    Written above the title; ``color`` is the issuer's and the rule's colour.
    """

    issuer: str
    number: str = ""
    color: str = "#d40000"


Block = Heading | Paragraph | KeyFigures | Table | Figure | Signature | Colophon


@dataclass(frozen=True)
class Document:
    """A titled sequence of blocks, with what every page carries.

    ``meta`` is a line under the title; ``footer`` is printed on every page
    (PDF, .docx) or at the end (HTML); ``mark`` (e.g. a sample-data notice)
    is stamped on every page; ``tones`` maps tone names to colours;
    ``letterhead`` (a letter's red header) comes above the title.
    """

    title: str
    blocks: tuple[Block, ...]
    meta: str = ""
    letterhead: Letterhead | None = None
    footer: str = ""
    mark: str | None = None
    creator: str = ""
    tones: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TONES))

    def color(self, tone: str) -> str:
        """The colour of ``tone``."""
        return self.tones.get(tone) or DEFAULT_TONES.get(tone, DEFAULT_TONES[""])


def cells(*values: object) -> tuple[Cell, ...]:
    """A row: each value a Cell already, or its text (``(text, tone)`` pairs allowed)."""
    out = []
    for value in values:
        if isinstance(value, Cell):
            out.append(value)
        elif isinstance(value, tuple):
            out.append(Cell(str(value[0]), value[1]))
        else:
            out.append(Cell(str(value)))
    return tuple(out)


def text_of(document: Document) -> Iterator[str]:
    """Every text a writer draws from ``document`` (for a font check before drawing)."""
    yield from (document.title, document.meta, document.footer, document.mark or "")
    if document.letterhead:
        yield from (document.letterhead.issuer, document.letterhead.number)
    for block in document.blocks:
        if isinstance(block, Heading | Paragraph):
            yield block.text
        elif isinstance(block, Signature | Colophon):
            yield from block.lines
        elif isinstance(block, KeyFigures):
            for item in block.items:
                yield item.label
                yield item.value
        elif isinstance(block, Table):
            yield block.empty
            yield from (c.header for c in block.columns)
            for row in block.rows:
                yield from (cell.text for cell, col in zip(row, block.columns, strict=True)
                            if not col.screen_only)


_PNGS: weakref.WeakKeyDictionary[Figure, dict[tuple, bytes]] = weakref.WeakKeyDictionary()


def figure_png(figure: Figure, dpi: int = 150, font_size: float = 8.0) -> bytes:
    """The chart as PNG bytes, 4.6 inches wide (a half) or 9 (full width), at its aspect on A4.

    Drawn once per figure and size: the HTML and .docx writers share it.
    """
    inches = 4.6 if figure.width < 1 else 9.0
    paper = 247.6 if figure.width < 1 else 511.3          # its width in points on A4
    key = (dpi, font_size)
    cache = _PNGS.setdefault(figure, {})
    if key not in cache:
        fig = MplFigure(figsize=(inches, max(2.4, inches * figure.height / paper)), dpi=dpi,
                        layout="constrained")
        ax = fig.add_subplot()
        figure.draw(ax, font_size)
        check_chart(ax)  # data labels (town names) as the font draws them
        cache[key] = _png(fig, dpi)
    return cache[key]


def _png(fig: MplFigure, dpi: int) -> bytes:
    """The figure's pixels as PNG, drawn in one pass (the pixels ``savefig`` gives).

    ``savefig`` draws a figure with a layout engine twice (once to lay it out,
    once to paint); the canvas lays out and paints in one draw. An opaque
    figure is written without its alpha channel (issue 16).
    """
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    opaque = bool((rgba[..., 3] == 255).all())
    return _encode_png(rgba[..., :3] if opaque else rgba, dpi)


_SOFTWARE = f"Matplotlib version{matplotlib.__version__}, https://matplotlib.org/".encode()


def _encode_png(pixels: np.ndarray, dpi: int) -> bytes:
    """8-bit RGB or RGBA ``pixels`` (rows, columns, channels) as PNG bytes.

    Every row unfiltered (filter type 0) and deflated at zlib level 2: charts
    and maps are mostly flat colour, which deflate packs well by itself.
    Pillow picks a filter for each row by trying them (adaptive filtering);
    on the letters' town maps that took it 36-50 ms and 121 KB a map where
    unfiltered rows take 23 ms and 105 KB (issue 16). The same pixels.
    """
    rows, columns, channels = pixels.shape
    lines = np.zeros((rows, columns * channels + 1), np.uint8)   # column 0: the filter type
    lines[:, 1:] = pixels.reshape(rows, -1)
    metres = round(dpi / 0.0254)
    return b"".join([
        b"\x89PNG\r\n\x1a\n",
        _chunk(b"IHDR", struct.pack(">IIBBBBB", columns, rows, 8, 2 if channels == 3 else 6,
                                    0, 0, 0)),
        _chunk(b"pHYs", struct.pack(">IIB", metres, metres, 1)),
        _chunk(b"tEXt", b"Software\0" + _SOFTWARE),
        _chunk(b"IDAT", zlib.compress(lines.data, 2)),
        _chunk(b"IEND", b""),
    ])


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

"""PDF output for posters: fast one-font text, batch artists, layers, joining pages.

What the renderers use:

- :func:`save_pdf` writes a figure as a one-page PDF, :func:`save_pages`
  figures as the pages of one PDF with one set of fonts; :func:`make_layer`
  turns a figure into a :class:`Layer` stamped under or over many pages;
- :class:`TextBatch` and :class:`ShapeBatch` draw many labels or shapes as
  one artist;
- :func:`concatenate` joins pages into one PDF (the meeting atlas), each
  object the pages share written once, with page numbers, an outline and
  links (:class:`Navigation`).

Two ways to write a page, the same page either way:

- the **fast path** (:mod:`._mpl`, the only module touching matplotlib's
  private API), on the matplotlib releases it was written and tested for
  (:data:`._mpl.TESTED`). It is kept because it still pays: measured
  2026-12-01 with ``bench/pdf_paths.py`` (2 cores shared, load average 7–10,
  so CPU-time medians; matplotlib 3.11.2), fast vs public path: one A4 page
  with 60 strings of 21 CJK characters 60 vs 579 ms (×9.6); a grid poster in
  a series (``render_posters``, sheet reused) 68 vs 368 ms (×5.5); one A4
  grid poster on its own 134 vs 391 ms; an A1 district poster with 32,000
  cases 656 vs 891 ms (its points, not its text, dominate);
- the **public path**: ``Figure.savefig``, and layers laid under and over the
  page with pypdf. It is taken on any other matplotlib release (one
  :class:`FastPathWarning` per process), and for one file whenever the fast
  path raises ``TypeError`` or ``AttributeError`` while writing it (a
  changed private signature): that file is written again this way, with one
  warning, and the build goes on.

Nothing in matplotlib is replaced, globally or otherwise: the fast path
subclasses ``PdfFile`` and ``RendererPdf`` for the one file being written,
so threads writing posters side by side do not meet.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from battlemap.render.pdf import _mpl
from battlemap.render.pdf._mpl import FastPathWarning
from battlemap.render.pdf.artists import ShapeBatch, TextBatch
from battlemap.render.pdf.join import Navigation, NotClassicError, concatenate
from battlemap.render.pdf.layer import Layer, stack

__all__ = ["FAST_TEXT", "FastPathWarning", "Layer", "Navigation", "ShapeBatch", "TextBatch",
           "concatenate", "fast_path", "make_layer", "save_pages", "save_pdf"]

FAST_TEXT = ".".join(_mpl.VERSION.split(".")[:2]) in _mpl.TESTED
"""Whether this matplotlib is one the fast path was written for (see :func:`fast_path`)."""


def fast_path() -> bool:
    """Whether pages are written on the fast path now (this matplotlib, these rcParams).

    Warns once per process (:class:`FastPathWarning`) when the release is not
    one the fast path was tested for.
    """
    return _mpl.enabled()


def save_pdf(fig: Figure, target: Path | BinaryIO, metadata: Mapping[str, object],
             font_path: Path, under: Layer | None = None, over: Layer | None = None) -> None:
    """Write ``fig`` as a one-page PDF to ``target`` (a path or binary file object).

    Parameters
    ----------
    fig
        The figure; its size is the page size.
    target
        A path or a binary file object.
    metadata
        The document information (``Title``, ``Creator``; ``None`` leaves one out).
    font_path
        The poster font: its text takes the fast path; any other text
        (another font, math) is drawn by matplotlib as usual.
    under, over
        Layers (see :func:`make_layer`) stamped below and above the figure.
    """
    data = None
    if _mpl.enabled():
        try:
            data = _mpl.write(fig, metadata, str(font_path), under, over)
        except (TypeError, AttributeError) as err:
            _mpl.warn_once("fallback", f"battlemap's fast PDF path failed with matplotlib "
                           f"{_mpl.VERSION} ({type(err).__name__}: {err}); this file and any "
                           "that fail the same way are written through the slower public path.")
    if data is None:
        data = _public(fig, metadata, under, over)
    if isinstance(target, (str, Path)):
        Path(target).write_bytes(data)
    else:
        target.write(data)


def save_pages(figs: Sequence[Figure], target: Path | BinaryIO, metadata: Mapping[str, object],
               font_path: Path) -> None:
    """Write ``figs`` as the pages of one PDF, each font written once for all of them.

    Parameters
    ----------
    figs
        The figures, one a page; each one's size is its page's size.
    target
        A path or a binary file object.
    metadata
        The document information (``Title``, ``Creator``; ``None`` leaves one out).
    font_path
        The poster font (see :func:`save_pdf`).
    """
    data = None
    if _mpl.enabled():
        try:
            data = _mpl.write_pages([(fig, None, None) for fig in figs], metadata, str(font_path))
        except (TypeError, AttributeError) as err:
            _mpl.warn_once("fallback", f"battlemap's fast PDF path failed with matplotlib "
                           f"{_mpl.VERSION} ({type(err).__name__}: {err}); this file and any "
                           "that fail the same way are written through the slower public path.")
    if data is None:
        buffer = io.BytesIO()
        with PdfPages(buffer, metadata=dict(metadata)) as pdf:
            for fig in figs:
                pdf.savefig(fig)
        data = buffer.getvalue()
    if isinstance(target, (str, Path)):
        Path(target).write_bytes(data)
    else:
        target.write(data)


def _public(fig: Figure, metadata: Mapping[str, object], under: Layer | None,
            over: Layer | None) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="pdf", metadata=dict(metadata))
    if under is None and over is None:
        return buffer.getvalue()
    return stack(buffer.getvalue(), under, over)


def make_layer(fig: Figure, font_path: Path) -> Layer | None:
    """``fig`` as a :class:`Layer`, or None off the fast path (then draw the artists instead).

    Parameters
    ----------
    fig
        The figure holding only what the layer shows.
    font_path
        The poster font.
    """
    if not _mpl.enabled():
        return None
    try:
        return Layer(_mpl.write(fig, {}, str(font_path), decimals=_mpl.LAYER_DECIMALS))
    except (TypeError, AttributeError) as err:
        _mpl.warn_once("fallback", f"battlemap's fast PDF path failed with matplotlib "
                       f"{_mpl.VERSION} ({type(err).__name__}: {err}); posters are drawn "
                       "without layers, through the slower public path.")
        return None
    except NotClassicError:
        return None

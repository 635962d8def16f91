"""The fast PDF path's shortcuts write what matplotlib's own steps would (issue #16, CPU)."""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.path import Path as MplPath

from battlemap.render import pdf
from battlemap.render.fonts import _bundled_font, _register, rc_params
from battlemap.render.pdf import ShapeBatch, TextBatch, _mpl, save_pdf
from battlemap.render.poster.layout import orientation
from battlemap.render.poster.sheet import Sheet
from battlemap.render.poster.view import Context

needs_fast = pytest.mark.skipif(not pdf.FAST_TEXT, reason=f"matplotlib {_mpl.VERSION}: the fast "
                                f"path is written for {_mpl.TESTED} only")
needs_poppler = pytest.mark.skipif(not shutil.which("pdftoppm"), reason="poppler-utils not "
                                   "installed; CI installs them")


@pytest.fixture
def poster_font():
    return _register(Path(_bundled_font()).resolve())


def content(data: bytes) -> bytes:
    """Every compressed stream of a PDF, inflated and joined (the page's operators among them)."""
    return b"".join(zlib.decompress(s) for s in re.findall(
        rb"/FlateDecode >>\nstream\n(.*?)\nendstream", data, re.S))


def colourful_page(font) -> Figure:
    """Texts changing colour (grey and RGB, then another alpha) between shapes and more text.

    The state the texts leave shows in what the next artist's ``check_gc`` writes."""
    fig = Figure(figsize=(4, 3), dpi=72)
    first = TextBatch(font.path, fig.transFigure, 3)
    colours = ["#222222", "#777777", "#c0392b", "#777777", (0.2, 0.4, 0.6, 0.5), "#1f77b4",
               (0.9, 0.1, 0.1, 0.5), "#222222", "black"]   # ends as a new gc starts: black
    for k, colour in enumerate(colours):
        first.add(0.1, 0.1 + 0.1 * k, f"乙镇 {k}", 8, color=colour, halo=1.5 if k % 3 else None)
    shapes = ShapeBatch(fig.transFigure, 4)
    shapes.add(MplPath([(0.5, 0.5), (0.6, 0.5), (0.6, 0.6), (0.5, 0.5)]), (0.1, 0.2, 0.3, 1.0),
               (0.4, 0.4, 0.4, 1.0), 0.8)
    second = TextBatch(font.path, fig.transFigure, 5)
    for k, colour in enumerate(["#777777", "#222222", "#777777"]):
        second.add(0.6, 0.2 + 0.1 * k, f"河长 {k}", 9, color=colour)
    for artist in (first, shapes, second):
        fig.add_artist(artist)
    return fig


def written_by_check_gc(renderer, gc) -> bytes:
    """What ``check_gc`` itself writes for ``gc``: the operators :func:`_mpl.recolour` stands for."""
    out: list[bytes] = []
    renderer.file.write = out.append          # PdfFile.output writes through file.write
    try:
        renderer.check_gc(gc, gc.get_rgb())
    finally:
        del renderer.file.write
    return b"".join(out)


@needs_fast
def test_a_text_colour_change_writes_the_bytes_check_gc_would(monkeypatch, poster_font, tmp_path):
    calls = []

    def page(path: Path) -> bytes:
        with matplotlib.rc_context(rc_params(poster_font)):
            save_pdf(colourful_page(poster_font), path, {"CreationDate": None}, poster_font.path)
        return path.read_bytes()

    recolour = _mpl.recolour
    monkeypatch.setattr(_mpl, "recolour", lambda r, gc: calls.append(1) or recolour(r, gc))
    fast = page(tmp_path / "table.pdf")
    assert len(calls) == 6         # each change at an unchanged alpha: 4 in the first batch, 2
    monkeypatch.setattr(_mpl, "recolour", written_by_check_gc)
    assert fast == page(tmp_path / "check_gc.pdf")
    ops = content(fast)
    assert b"0.4666666667 g 0.4666666667 G 0.4666666667 g" in ops   # #777: fill, stroke, fill


@needs_fast
def test_shapes_are_written_as_paths_to_a_hundredth_of_a_point(poster_font, tmp_path):
    fig = Figure(figsize=(4, 3), dpi=72)
    shapes = ShapeBatch(fig.transFigure, 2)
    shapes.add(MplPath([(0.1234567, 0.1), (0.9, 0.2345678), (0.5, 0.87654), (0.1234567, 0.1)],
                       [MplPath.MOVETO, MplPath.LINETO, MplPath.LINETO, MplPath.CLOSEPOLY]),
               (1.0, 0.0, 0.0, 1.0))
    circle = MplPath.unit_circle()
    shapes.add(circle.transformed(matplotlib.transforms.Affine2D().scale(0.1).translate(0.5, 0.5)),
               None, (0.0, 0.0, 1.0, 1.0), 1.0)
    fig.add_artist(shapes)
    with matplotlib.rc_context(rc_params(poster_font)):
        save_pdf(fig, tmp_path / "p.pdf", {"CreationDate": None}, poster_font.path)
    ops = content((tmp_path / "p.pdf").read_bytes())
    assert b"35.56 21.6 m\n259.2 50.67 l\n144 189.33 l\nh\n f\n" in ops    # × 288 pt, × 216 pt
    curves = re.findall(rb"^([-\d.]+ ){6}c$", ops, re.M)
    assert len(curves) == 8 and b" c\nh\n S\n" in ops   # the circle: 8 Béziers, closed, stroked
    numbers = re.findall(rb"(?<![\w.])-?\d+\.(\d+)(?= [\d.-]* ?[mlc]\b)", ops)
    assert numbers and all(len(n) <= 2 for n in numbers)


def frame_darkness(path: Path, folder: Path, sheet: Sheet) -> tuple[float, float]:
    """Darkest mean grey of the pixel columns on the map's left frame, and of the margin left of it.

    At 288 dpi (4 px a point) the 0.6 pt grey (#777777) frame covers whole pixels.
    """
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-r", "288", "-gray", "-png", "-singlefile", str(path),
                    str(folder / "page")], check=True)
    grey = np.asarray(Image.open(folder / "page.png").convert("L"), dtype=float)
    x, y, _w, h = (4 * v for v in sheet.lay.map)
    rows = slice(round(grey.shape[0] - (y + h * 0.9)), round(grey.shape[0] - (y + h * 0.1)))
    on = min(grey[rows, round(x) + dx].mean() for dx in range(-2, 3))
    return on, grey[rows, round(x) - 12].mean()


@needs_poppler
@needs_fast
@pytest.mark.parametrize("fast", [True, False])
def test_the_map_frame_is_drawn_once_axes_are_off_after_the_layers(tiny_atlas, monkeypatch,
                                                                  tmp_path, fast):
    if not fast:
        monkeypatch.setattr(_mpl, "enabled", lambda: False)
    ctx = Context(tiny_atlas)
    view = ctx.view("grid", "440118002001002")
    with matplotlib.rc_context(rc_params(ctx.font)):
        sheet = Sheet(ctx, "A4", orientation(view.bounds, "A4"))
        assert (sheet.layers[0] is not None) is fast
        # on the fast path the spines are in the layer over the map, not drawn on each page
        assert all(ax.axison is not fast for ax in sheet.fig.axes)
        path = sheet.save(view, tmp_path / "grid.pdf")
    on, outside = frame_darkness(path, tmp_path / "png", sheet)
    assert outside > 250 and on < 135                   # the grey (119) frame on a white margin


class _Forgetful(dict):
    """A cache that never finds anything: every layout made afresh."""

    def get(self, key, default=None):
        return default


@needs_fast
def test_texts_laid_out_from_the_cache_land_where_fresh_layouts_put_them(monkeypatch, poster_font,
                                                                          tmp_path):
    def page(path: Path) -> bytes:
        fig = Figure(figsize=(4, 3), dpi=72)
        batch = TextBatch(poster_font.path, fig.transFigure, 3)
        for k, (va, size, spacing) in enumerate([("top", 8, None), ("bottom", 8, None),
                                                 ("center", 8, 1.4), ("baseline", 9, None),
                                                 ("top", 8, 1.4), ("top", 8, None)]):
            batch.add(0.1 + 0.12 * k, 0.5, "乙镇\n销号率 25%", size, va=va, linespacing=spacing,
                      ha="center")
        fig.add_artist(batch)
        with matplotlib.rc_context(rc_params(poster_font)):
            save_pdf(fig, path, {"CreationDate": None}, poster_font.path)
        return path.read_bytes()

    from battlemap.render.pdf import artists

    monkeypatch.setattr(artists, "_LAID", {})
    cold, warm = page(tmp_path / "cold.pdf"), page(tmp_path / "warm.pdf")
    assert len(artists._LAID) == 5                       # one layout per text, size, va, spacing
    monkeypatch.setattr(artists, "_LAID", _Forgetful())
    assert cold == warm == page(tmp_path / "fresh.pdf")


def test_to_unicode_entries_read_back_as_written_from_the_cache(poster_font, tmp_path):
    from battlemap.render.pdf.objects import _BFCHAR, classic_objects, our_fonts, split_stream

    def page(path: Path, text: str) -> bytes:
        with matplotlib.rc_context(rc_params(poster_font)):
            fig = Figure(figsize=(4, 3), dpi=72)
            fig.text(0.1, 0.5, text, fontsize=12)
            save_pdf(fig, path, {"CreationDate": None}, poster_font.path)
        return path.read_bytes()

    for k, text in enumerate(["塱氹𬒈 · 销号率", "销号率 • 𬒈村 ・", "销号率"]):   # again, and anew
        objects = classic_objects(page(tmp_path / f"{k}.pdf", text))[0]
        [(chars, _parts)] = our_fonts(objects).values()
        streams = [zlib.decompressobj().decompress(split_stream(body)[1]) for body in
                   objects.values() if b"/FlateDecode" in split_stream(body)[0]]
        [cmap] = [data for data in streams if b"beginbfchar" in data]
        assert chars == {int(g, 16): bytes.fromhex(u.decode()).decode("utf-16-be")
                         for g, u in _BFCHAR.findall(cmap)}
        assert set(text) - {" "} <= set("".join(chars.values()))

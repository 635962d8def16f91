"""What a poster's bytes are spent on (issue #16): layers, halos, the locator's borders."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zlib
from pathlib import Path

import matplotlib
import pytest
import shapely
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from battlemap.render import pdf
from battlemap.render.fonts import _bundled_font, _register, rc_params
from battlemap.render.pdf import TextBatch, make_layer, save_pdf
from battlemap.render.pdf.objects import classic_objects, split_stream
from battlemap.render.poster.layers import _town_borders

needs_fast = pytest.mark.skipif(not pdf.FAST_TEXT, reason="the fast path is off here")
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils")


@pytest.fixture
def poster_font():
    return _register(Path(_bundled_font()).resolve())


def contents(data: bytes) -> bytes:
    """Every Flate stream of ``data`` (a PDF), decompressed, one after the other."""
    return b"".join(zlib.decompress(s) for s in re.findall(
        rb"/FlateDecode >>\nstream\n(.*?)\nendstream", data, re.S))


def frame_figure() -> Figure:
    fig = Figure(figsize=(4, 3), dpi=72)
    fig.add_artist(Polygon([(0.1234567, 0.1), (0.9, 0.2345678), (0.5, 0.87654)],
                           transform=fig.transFigure))
    fig.text(0.1, 0.9, "位置示意 北 N", fontsize=9)
    return fig


@needs_fast
@needs_poppler
def test_a_layer_carries_its_paths_to_a_tenth_of_a_point_and_nothing_it_does_not_use(
        poster_font, tmp_path):
    from pypdf import PdfReader

    with matplotlib.rc_context(rc_params(poster_font)):
        layer = make_layer(frame_figure(), poster_font.path)
        assert layer is not None
        heads = [head for head, _tail in layer.objects.values()]
        assert not [h for h in heads if b"/ProcSet" in h or b"/Annots" in h or b"/Pattern" in h]
        assert not [h for h in heads if h.strip() in (b"<< >>", b"[ ]") or h.strip().isdigit()]
        form = layer.objects[layer.content][0]
        assert re.search(rb"/Length \d+ ", form)           # written in, not a reference
        coordinates = re.findall(rb"^([\d.]+) ([\d.]+) [ml]$",
                                 zlib.decompress(layer.objects[layer.content][1]
                                                 .rpartition(b"\nendstream")[0]), re.M)
        assert (b"35.6", b"21.6") in coordinates            # 0.1234567 × 288 pt, 0.1 × 216 pt
        assert all(len(n.partition(b".")[2]) <= 1 for pair in coordinates for n in pair)
        page = Figure(figsize=(4, 3), dpi=72)
        page.text(0.5, 0.5, "乙镇", fontsize=12)
        save_pdf(page, tmp_path / "p.pdf", {"CreationDate": None}, poster_font.path, layer)
    data = (tmp_path / "p.pdf").read_bytes()
    reader = PdfReader(io.BytesIO(data), strict=True)       # every reference still resolves
    form = reader.pages[0]["/Resources"]["/XObject"]["/BmL0"].get_object()
    assert b" m" in form.get_data() and "/Font" in form["/Resources"]
    text = subprocess.run(["pdftotext", "-raw", tmp_path / "p.pdf", "-"], check=True,
                          capture_output=True, text=True).stdout
    assert "位置示意" in text and "乙镇" in text


@needs_fast
def test_a_halo_is_the_text_stroked_not_its_glyph_outlines(poster_font, tmp_path):
    fig = Figure(figsize=(4, 2), dpi=72)
    batch = TextBatch(poster_font.path, fig.transFigure, 3)
    fig.add_artist(batch)
    batch.add(0.5, 0.5, "石滩河段", 20, color="black", ha="center", va="center", halo=5)
    with matplotlib.rc_context(rc_params(poster_font)):
        save_pdf(fig, tmp_path / "p.pdf", {"CreationDate": None}, poster_font.path)
    data = (tmp_path / "p.pdf").read_bytes()
    objects, [page], _skip = classic_objects(data)
    [content] = [split_stream(objects[int(n)])[1] for n in re.findall(
        rb"/Contents (\d+) 0 R", objects[page])]
    ops = zlib.decompress(content.rpartition(b"\nendstream")[0].strip())
    assert not re.search(rb" c$", ops, re.M)                 # no glyph outline as a path
    halo, fill = re.findall(rb"BT /BmF 20 Tf (.*?) Tj ET", ops)
    assert halo == fill                                      # the same glyphs twice
    assert re.search(rb"/ActualText \(\) >> BDC\nq .* cm 5 w 1 j 0 J 1 1 1 RG 1 Tr BT", ops)


def test_the_locator_draws_each_town_border_once_and_none_under_the_district_outline():
    west, east = shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)
    district = shapely.box(0, 0, 20, 10)
    fill, borders = _town_borders([west, east], district, 0.5)
    assert fill.equals(district)
    assert shapely.get_num_geometries(borders) == 1
    assert borders.equals(shapely.LineString([(10, 0), (10, 10)]).intersection(
        shapely.box(0, 0.5, 20, 9.5)))                       # its ends are under the outline
    # a town reaching out of the district keeps its border where the outline is not
    outside = shapely.box(20, 0, 25, 10)
    _fill, borders = _town_borders([west, east, outside], district, 0.5)
    assert borders.length == pytest.approx(9 + 4.5 + 4.5 + 10)    # its three other sides

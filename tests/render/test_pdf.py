"""battlemap.render.pdf: the version gate, the per-file fallback, fast vs public pages, joining."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from battlemap.render import pdf
from battlemap.render.fonts import _bundled_font, _register, rc_params
from battlemap.render.pdf import FastPathWarning, Navigation, _mpl, concatenate, save_pdf
from battlemap.render.pdf.join import NotClassicError, classic_objects, concatenate_pypdf
from battlemap.render.poster import PAPER_MM, render_poster

POPPLER = all(shutil.which(tool) for tool in ("pdfinfo", "pdftotext", "pdftoppm"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdfinfo, pdftotext, "
                                   "pdftoppm) not installed; CI installs them")
needs_fast = pytest.mark.skipif(not pdf.FAST_TEXT, reason=f"matplotlib {_mpl.VERSION}: the fast "
                                f"path is written for {_mpl.TESTED} only")

POSTERS = {"district": ("440118", "A3", "测试区"), "town": ("440118002", "A3", "乙镇"),
           "grid": ("440118002001002", "A4", "乙一村第2网格")}
"""Level → (unit id, paper, name) of the posters compared (the tiny district of conftest)."""


def run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True,
                          text=True).stdout


def text_of(path: Path) -> str:
    return re.sub(r"\s+", "", run("pdftotext", path, "-"))


def page_count(path: Path) -> int:
    return int(re.search(r"Pages:\s+(\d+)", run("pdfinfo", path))[1])


def gray_pages(path: Path, folder: Path) -> list[np.ndarray]:
    """Every page of ``path`` at 50 dpi in grey levels 0–255."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / path.stem
    run("pdftoppm", "-r", "50", "-gray", "-png", path, stem)
    return [np.asarray(Image.open(p).convert("L"), dtype=float)
            for p in sorted(folder.glob(f"{path.stem}-*.png"))]


@pytest.fixture
def fresh_warnings(monkeypatch):
    """Every test sees the once-per-process warnings as not yet given."""
    monkeypatch.setattr(_mpl, "_WARNED", set())


@pytest.fixture
def poster_font():
    return _register(Path(_bundled_font()).resolve())


def small_figure() -> Figure:
    fig = Figure(figsize=(4, 3), dpi=72)
    fig.text(0.1, 0.5, "乙镇 河长制 销号率 25%", fontsize=12)
    return fig


def public(monkeypatch) -> None:
    """Take the public path for the rest of the test (as on another matplotlib, without warning)."""
    monkeypatch.setattr(_mpl, "enabled", lambda: False)


# --------------------------------------------------------------------------- the gate


@pytest.mark.parametrize(("version", "fast"), [("3.11.2", True), ("3.11.9", True),
                                               ("3.10.9", False), ("3.12.0", False),
                                               ("4.0.0", False)])
def test_the_gate_opens_on_the_tested_release_series_only(monkeypatch, fresh_warnings, poster_font,
                                                         version, fast):
    monkeypatch.setattr(_mpl, "VERSION", version)
    with matplotlib.rc_context(rc_params(poster_font)):
        if fast:
            assert pdf.fast_path() is True           # no warning: filterwarnings = error
        else:
            with pytest.warns(FastPathWarning, match=f"matplotlib {version}.*public path"):
                assert pdf.fast_path() is False


@needs_poppler
def test_another_release_writes_through_savefig_with_one_warning(monkeypatch, fresh_warnings,
                                                                 poster_font, tmp_path):
    monkeypatch.setattr(_mpl, "VERSION", "3.10.9")

    def refuse(*args, **kwargs):
        raise AssertionError("the private path ran on a release it was not tested for")

    monkeypatch.setattr(_mpl, "write", refuse)
    with matplotlib.rc_context(rc_params(poster_font)), pytest.warns(FastPathWarning) as seen:
        for name in ("a", "b", "c"):
            save_pdf(small_figure(), tmp_path / f"{name}.pdf", {"Title": name}, poster_font.path)
        assert pdf.make_layer(small_figure(), poster_font.path) is None
    assert len([w for w in seen if issubclass(w.category, FastPathWarning)]) == 1
    for name in ("a", "b", "c"):
        assert "乙镇河长制销号率25%" in text_of(tmp_path / f"{name}.pdf")
        assert {row[1] for row in fonts_of(tmp_path / f"{name}.pdf")} == {"Type"}   # Type 3


# --------------------------------------------------------------------------- threads, no patching


@needs_fast
def test_threads_write_the_same_files_and_matplotlib_is_left_alone(monkeypatch, poster_font):
    from concurrent.futures import ThreadPoolExecutor

    from matplotlib import font_manager
    from matplotlib.backends import backend_pdf

    from battlemap.render.pdf import _metrics

    for cache in ("_FONTS", "_GLYPHS", "_BLOBS"):            # cold caches: threads fill them
        monkeypatch.setattr(_mpl.type3, cache, {})
    monkeypatch.setattr(_metrics, "_METRICS", {})
    monkeypatch.setattr(_mpl.cid, "_FONTS", {})
    before = {k: id(v) for k, v in (*vars(backend_pdf).items(), *vars(font_manager).items())}
    chars = [chr(c) for c in range(0x4E00, 0x9FA6) if c in poster_font.codepoints][:600]

    def one(k: int) -> bytes:
        fig = Figure(figsize=(8, 11), dpi=72)
        for i in range(10):
            fig.text(0.02, 0.97 - i * 0.09, "".join(chars[(k * 97 + i * 30 + j) % 600]
                                                    for j in range(30)), fontsize=8)
        buffer = io.BytesIO()
        save_pdf(fig, buffer, {"Title": str(k), "CreationDate": None}, poster_font.path)
        return buffer.getvalue()

    with matplotlib.rc_context(rc_params(poster_font)):
        with ThreadPoolExecutor(4) as pool:
            together = list(pool.map(one, range(6)))
        alone = [one(k) for k in range(6)]
    assert together == alone
    after = {k: id(v) for k, v in (*vars(backend_pdf).items(), *vars(font_manager).items())}
    assert after == before


# --------------------------------------------------------------------------- the per-file fallback


def _raise(kind: type[Exception]):
    def broken(*args, **kwargs):
        raise kind("a private signature changed")
    return broken


BREAKS = {
    # text operators: the page and both layers fail, the poster is drawn without layers
    "track_glyph": (_mpl._Renderer, "_text_ops", TypeError),
    # shapes are only on the page: the layers are made fast, the page is stacked on them (pypdf)
    "shapes": (_mpl, "draw_shapes", AttributeError),
    # font embedding runs last, after the whole page was drawn into the buffer
    "embedding": (_mpl, "_embed_cid", TypeError),
}


@needs_poppler
@needs_fast
@pytest.mark.parametrize("where", list(BREAKS))
def test_a_failing_private_path_rewrites_the_file_publicly(tiny_atlas, monkeypatch, fresh_warnings,
                                                           tmp_path, where):
    unit, paper, name = POSTERS["grid"]
    reference = render_poster(tiny_atlas, "grid", unit, paper, tmp_path / "fast.pdf")
    owner, attribute, kind = BREAKS[where]
    monkeypatch.setattr(owner, attribute, _raise(kind))
    with pytest.warns(FastPathWarning, match=f"{kind.__name__}: a private signature") as seen:
        path = render_poster(tiny_atlas, "grid", unit, paper, tmp_path / "fallback.pdf")
    assert len([w for w in seen if issubclass(w.category, FastPathWarning)]) == 1
    assert page_count(path) == 1
    text = text_of(path)
    assert f"{name}河长制挂图作战作战图" in text and "北" in text    # the page, and the layer
    assert_same_pages(gray_pages(reference, tmp_path / "a"), gray_pages(path, tmp_path / "b"))


# --------------------------------------------------------------------------- fast vs public pages


MEAN_DIFF = 0.005
"""Largest mean absolute grey difference (share of full scale) between fast and public pages."""

STRONG_SHARE = 0.005
"""Largest share of pixels whose grey level differs by more than :data:`STRONG` levels."""

STRONG = 64


def _soft(page: np.ndarray) -> np.ndarray:
    """``page`` through a 3×3 box filter: how a glyph's edge is anti-aliased no longer counts."""
    padded = np.pad(page, 1, mode="edge")
    h, w = page.shape
    return sum(padded[i:i + h, j:j + w] for i in range(3) for j in range(3)) / 9


def assert_same_pages(fast: list[np.ndarray], public: list[np.ndarray]) -> None:
    """Pages that look the same at 50 dpi, once softened by :func:`_soft`.

    The fast path's text is a CID-keyed CFF font, which poppler rasterizes
    with FreeType; ``savefig``'s is Type 3, glyphs filled as paths. The same
    glyphs in the same places, but their edges are anti-aliased differently
    (unsoftened, 0.3–0.5 % mean difference at 50 dpi, all on glyph edges).
    Softened, measured on matplotlib 3.11.2 for the posters of the tiny
    district: mean difference 0.1–0.3 %, at most 0.03 % of pixels more than
    a quarter of the grey range apart. Against the 0.5 % allowed, measured
    on wrong pages: the whole page moved by one pixel 0.7 % and 0.5 %; text
    spaced by wrong widths (an empty W array) 1.0 % and 1.6 %; halos
    advancing by a whole em 3.8 % and 5.1 %.
    """
    assert len(fast) == len(public)
    for a, b in zip(fast, public, strict=True):
        assert a.shape == b.shape
        diff = np.abs(_soft(a) - _soft(b))
        assert diff.mean() / 255 < MEAN_DIFF
        assert (diff > STRONG).mean() < STRONG_SHARE


@needs_poppler
@needs_fast
@pytest.mark.parametrize("level", list(POSTERS))
def test_fast_and_public_paths_draw_the_same_poster(tiny_atlas, monkeypatch, tmp_path, level):
    unit, paper, name = POSTERS[level]
    assert pdf.fast_path()
    fast = render_poster(tiny_atlas, level, unit, paper, tmp_path / "fast.pdf")
    public(monkeypatch)
    slow = render_poster(tiny_atlas, level, unit, paper, tmp_path / "public.pdf")
    assert fast.read_bytes() != slow.read_bytes()            # two writers, really
    # the same text; its extraction order may differ (the fast path batches texts by z-order)
    assert name in text_of(slow) and sorted(text_of(fast)) == sorted(text_of(slow))
    assert_same_pages(gray_pages(fast, tmp_path / "f"), gray_pages(slow, tmp_path / "p"))


# --------------------------------------------------------------------------- joining


@pytest.fixture
def posters(tiny_atlas, tmp_path) -> list[Path]:
    return [render_poster(tiny_atlas, level, unit, paper, tmp_path / f"{level}.pdf")
            for level, (unit, paper, _name) in POSTERS.items()]


def text_of_page(path: Path, page: int) -> str:
    return re.sub(r"\s+", "", run("pdftotext", "-raw", "-f", page, "-l", page, path, "-"))


@needs_poppler
@needs_fast
def test_a_halo_is_stroked_white_under_text_that_stays_text(monkeypatch, poster_font, tmp_path):
    from battlemap.render.pdf import TextBatch

    def page(path: Path) -> Path:
        fig = Figure(figsize=(4, 2), dpi=72)
        fig.patch.set_facecolor("black")           # black text on black: only the halo shows
        batch = TextBatch(poster_font.path, fig.transFigure, 3)
        fig.add_artist(batch)
        batch.add(0.5, 0.5, "石滩河 段\n66.7%", 20, color="black", ha="center", va="center",
                  rotation=25, halo=5)
        with matplotlib.rc_context(rc_params(poster_font)):
            save_pdf(fig, path, {"CreationDate": None}, poster_font.path)
        return path

    fast = page(tmp_path / "fast.pdf")
    public(monkeypatch)
    slow = page(tmp_path / "public.pdf")
    for written in (fast, slow):                   # text (poppler orders turned text its way)
        assert sorted(text_of(written)) == sorted("石滩河段66.7%")
    [a], [b] = gray_pages(fast, tmp_path / "f"), gray_pages(slow, tmp_path / "p")
    assert (a > 128).mean() > 0.03                  # the halo is there
    assert_same_pages([a], [b])


@needs_poppler
def test_our_posters_join_byte_by_byte_scaled_to_a4(posters, tmp_path):
    a4 = tuple(v * 72 / 25.4 for v in PAPER_MM["A4"])
    joined = tmp_path / "joined.pdf"
    for part in posters:
        classic_objects(part.read_bytes())                 # the byte path, not pypdf
    assert concatenate(posters, joined, {"Title": "会议图册"}, page_size=a4) == 3
    assert page_count(joined) == 3
    for k, (_unit, _paper, name) in enumerate(POSTERS.values(), start=1):
        assert f"{name}河长制挂图作战作战图" in text_of_page(joined, k)
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)",
                       run("pdfinfo", "-f", "1", "-l", "3", joined))
    assert all(sorted(float(v) for v in size) == pytest.approx(sorted(a4), abs=1) for size in sizes)
    assert "会议图册" in run("pdfinfo", joined)


@needs_poppler
def test_a_pdf_not_written_by_us_joins_through_pypdf(posters, tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter(posters[1], incremental=True)         # cross-reference stream, /Prev
    writer.add_metadata({"/Subject": "edited elsewhere"})
    buffer = io.BytesIO()
    writer.write(buffer)
    foreign = buffer.getvalue()
    with pytest.raises(NotClassicError):
        classic_objects(foreign)
    joined = tmp_path / "mixed.pdf"
    assert concatenate([posters[0], foreign, posters[2]], joined, {"Title": "乙"}) == 3
    assert page_count(joined) == 3
    for k, (_unit, _paper, name) in enumerate(POSTERS.values(), start=1):
        assert f"{name}河长制挂图作战作战图" in text_of_page(joined, k)


@needs_poppler
def test_pypdf_and_byte_joins_give_the_same_pages(posters, tmp_path):
    a4 = tuple(v * 72 / 25.4 for v in PAPER_MM["A4"])
    fast, slow = tmp_path / "fast.pdf", tmp_path / "slow.pdf"
    assert concatenate(posters, fast, {"Title": "乙"}, page_size=a4) == 3
    assert concatenate_pypdf([p.read_bytes() for p in posters], slow, {"Title": "乙"}, a4) == 3
    assert [text_of_page(fast, k) for k in (1, 2, 3)] == [text_of_page(slow, k) for k in (1, 2, 3)]
    assert_same_pages(gray_pages(fast, tmp_path / "f"), gray_pages(slow, tmp_path / "s"))


def _navigation(path: Path) -> tuple[list, list, list]:
    """(page labels, outline as (depth, title, page), links of page 1 as target pages)."""
    from pypdf import PdfReader

    reader = PdfReader(path)

    def walk(items, depth=0):
        for item in items:
            if isinstance(item, list):
                yield from walk(item, depth + 1)
            else:
                yield depth, item.title, reader.get_destination_page_number(item)

    refs = [page.indirect_reference for page in reader.pages]
    links = [refs.index(annot.get_object()["/Dest"][0])
             for annot in reader.pages[0].get("/Annots", [])]
    return list(reader.page_labels), list(walk(reader.outline)), links


@needs_poppler
def test_pypdf_and_byte_joins_give_the_same_navigation(posters, tmp_path):
    nav = Navigation(outline=[(0, "甲", 0), (1, "乙", 1), (2, "丙", 2), (0, "丁", 2)],
                     links=[(0, (10, 10, 100, 30), 2), (0, (10, 40, 100, 60), 1)])
    fast, slow = tmp_path / "fast.pdf", tmp_path / "slow.pdf"
    assert concatenate(posters, fast, {"Title": "乙"}, nav=nav) == 3
    assert concatenate_pypdf([p.read_bytes() for p in posters], slow, {"Title": "乙"}, nav=nav) == 3
    expected = (["1", "2", "3"], [(0, "甲", 0), (1, "乙", 1), (2, "丙", 2), (0, "丁", 2)], [2, 1])
    assert _navigation(fast) == expected
    assert _navigation(slow) == expected
    for path in (fast, slow):
        assert "3/3" in text_of_page(path, 3)
    assert_same_pages(gray_pages(fast, tmp_path / "f"), gray_pages(slow, tmp_path / "s"))


# --------------------------------------------------------------------------- sharing objects


def test_share_writes_equal_objects_once_following_their_references():
    from battlemap.render.pdf.objects import share

    glyph = b"\n<< /Length 3 >>\nstream\nabc\nendstream\n"
    objects = {
        10: b"\n<< /Type /Page /Font 11 0 R >>\n", 11: b"\n<< /A 12 0 R >>\n", 12: glyph,
        20: b"\n<< /Type /Page /Font 21 0 R >>\n", 21: b"\n<< /A 22 0 R >>\n", 22: glyph,
        30: b"\n<< /A 31 0 R >>\n",                 # the same text as 11, pointing elsewhere
        31: b"\n<< /Length 3 >>\nstream\nxyz\nendstream\n",
        40: b"\n<< /Next 41 0 R /Gone 99 0 R >>\n", 41: b"\n<< /Next 40 0 R >>\n",  # a cycle
    }
    out, renum = share(objects, keep={10, 20})
    assert renum[10] != renum[20]                   # kept apart although equal
    assert renum[11] == renum[21] and renum[12] == renum[22]
    assert renum[30] != renum[11] and renum[31] != renum[12]
    assert list(renum.values()) == [1, 2, 3, 4, 2, 3, 5, 6, 7, 8]
    assert out[1] == b"\n<< /Type /Page /Font 2 0 R >>\n" and out[2] == b"\n<< /A 3 0 R >>\n"
    assert out[3] == glyph and out[5] == b"\n<< /A 6 0 R >>\n"
    assert out[7] == b"\n<< /Next 8 0 R /Gone 0 0 R >>\n" and out[8] == b"\n<< /Next 7 0 R >>\n"


def test_share_reads_references_in_the_dictionary_only():
    from battlemap.render.pdf.objects import share

    objects = {5: b"\n<< /Length 5 >>\nstream\n6 0 R\nendstream\n",
               6: b"\n<< /Length 5 >>\nstream\n5 0 R\nendstream\n", 7: b"\n<< /X 5 0 R >>\n"}
    out, renum = share(objects)
    assert renum == {5: 1, 6: 2, 7: 3}              # stream data that looks like a reference
    assert out == {1: objects[5], 2: objects[6], 3: b"\n<< /X 1 0 R >>\n"}


# --------------------------------------------------------------------------- one composite font


def fonts_of(path: Path) -> list[list[str]]:
    """``pdffonts`` rows: [name, type words…, encoding, emb, sub, uni, object, generation]."""
    return [line.split() for line in run("pdffonts", path).splitlines()[2:] if line.strip()]


def embedded_cffs(path: Path) -> list:
    """The CFF font programs of the composite fonts of ``path``, parsed by fontTools."""
    from fontTools.cffLib import CFFFontSet
    from pypdf import PdfReader

    found = []
    reader = PdfReader(path)
    for num in range(1, reader.trailer["/Size"]):
        obj = reader.get_object(num)
        if hasattr(obj, "get") and obj.get("/FontFile3") is not None:
            program = obj["/FontFile3"].get_object()
            assert program["/Subtype"] == "/CIDFontType0C"
            cff = CFFFontSet()
            cff.decompile(io.BytesIO(program.get_data()), None)
            found.append(cff)
    return found


def cids(cff) -> set[int]:
    """The CIDs a CID-keyed CFF holds (its charset names glyphs ``cidNNNNN``)."""
    return {0} | {int(name[3:]) for name in cff.topDictIndex[0].charset[1:]}


@needs_poppler
@needs_fast
def test_a_poster_has_one_composite_font_whose_cff_parses(tiny_atlas, poster_font, tmp_path):
    from fontTools.pens.recordingPen import RecordingPen
    from fontTools.ttLib import TTFont

    unit, paper, name = POSTERS["grid"]
    path = render_poster(tiny_atlas, "grid", unit, paper, tmp_path / "grid.pdf")
    [row] = fonts_of(path)                     # page, layers under and over: one font
    assert row[0].endswith("+NotoSansSC-Regular-Identity-H") and row[1:4] == ["CID", "Type", "0C"]
    assert row[4:8] == ["Identity-H", "yes", "yes", "yes"]
    [cff] = embedded_cffs(path)
    top = cff.topDictIndex[0]
    assert top.ROS == ("Adobe", "Identity", 0) and not cff.GlobalSubrs
    source = TTFont(poster_font.path)
    order = source.getGlyphOrder()
    gid = {n: i for i, n in enumerate(order)}
    cmap = source.getBestCmap()
    face = _mpl.cid.font(str(poster_font.path))
    text = text_of(path)
    assert name in text
    # CID = glyph id, but for a character whose glyph a lower code point shows too
    assert {face.code(c, gid[cmap[ord(c)]]) for c in text if ord(c) in cmap} <= cids(cff)
    of_alias = {cid: face.gid(char) for char, cid in face.aliases.items()}
    source_top = source["CFF "].cff.topDictIndex[0]
    for glyph in top.charset[1:]:
        charstring, fd = top.CharStrings.getItemAndSelector(glyph)
        private = top.FDArray[fd].Private.rawDict
        glyph_id = of_alias.get(int(glyph[3:]), int(glyph[3:]))
        source_fd = source_top.FDSelect[glyph_id]             # the glyph keeps its hints
        assert private == {k: v for k, v in source_top.FDArray[source_fd].Private.rawDict.items()
                           if k != "Subrs"}
        pen = RecordingPen()
        charstring.draw(pen)                   # parses, no subroutine calls left
        name = order[glyph_id]                 # the source's glyph of that id
        reference = RecordingPen()
        source_top.CharStrings[name].draw(reference)
        assert pen.value == reference.value and charstring.width == source["hmtx"][name][0]


@needs_poppler
@needs_fast
def test_text_reads_back_exactly_through_to_unicode(poster_font, tmp_path):
    lines = ["石滩镇 塱头村 氹仔 冚家 第3网格", "销号率 66.7% (12/18) · 超期 3 件",
             "ABC xyz 0123456789 — “引号” 《书名》", "垌 壆 埗 㘵 𬒈"]
    with matplotlib.rc_context(rc_params(poster_font)):
        fig = Figure(figsize=(6, 3), dpi=72)
        for k, line in enumerate(lines):
            fig.text(0.05, 0.85 - 0.2 * k, line, fontsize=11)
        save_pdf(fig, tmp_path / "t.pdf", {"CreationDate": None}, poster_font.path)
    [row] = fonts_of(tmp_path / "t.pdf")
    assert row[1:4] == ["CID", "Type", "0C"]
    assert run("pdftotext", "-raw", tmp_path / "t.pdf", "-").split("\n")[:4] == lines


@needs_poppler
@needs_fast
def test_a_text_written_again_in_another_file_brings_its_glyphs_along(poster_font, tmp_path):
    # the second file encodes the line from the process's cache of texts (_mpl._RUNS)
    line = "再写一遍 塱头村 第7网格 · 超期 3 件"
    for name in ("a.pdf", "b.pdf"):
        with matplotlib.rc_context(rc_params(poster_font)):
            fig = Figure(figsize=(4, 1), dpi=72)
            fig.text(0.05, 0.4, line, fontsize=11)
            save_pdf(fig, tmp_path / name, {"CreationDate": None}, poster_font.path)
    assert any(text == line for _path, text in _mpl._RUNS)
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    assert run("pdftotext", "-raw", tmp_path / "b.pdf", "-").split("\n")[0] == line


@needs_poppler
@needs_fast
def test_a_truetype_poster_font_keeps_type3_subsets_on_the_fast_path(tmp_path):
    dejavu = _register(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans.ttf")
    with matplotlib.rc_context(rc_params(dejavu)):
        fig = Figure(figsize=(4, 2), dpi=72)
        fig.text(0.1, 0.5, "Station 12: 66.7 %", fontsize=12)
        save_pdf(fig, tmp_path / "t.pdf", {"CreationDate": None}, dejavu.path)
    assert [row[1:3] for row in fonts_of(tmp_path / "t.pdf")] == [["Type", "3"]]
    assert "Station12:66.7%" in text_of(tmp_path / "t.pdf")


@needs_poppler
@needs_fast
def test_a_joined_atlas_has_one_font_with_the_union_of_the_posters_glyphs(posters, poster_font,
                                                                         tmp_path):
    a4 = tuple(v * 72 / 25.4 for v in PAPER_MM["A4"])
    merged, apart = tmp_path / "merged.pdf", tmp_path / "apart.pdf"
    assert concatenate(posters, merged, {"Title": "乙"}, page_size=a4, nav=Navigation(),
                       font=poster_font.path) == 3
    assert concatenate(posters, apart, {"Title": "乙"}, page_size=a4, nav=Navigation()) == 3
    assert len(fonts_of(apart)) == 4                        # three posters' and Helvetica
    [row] = fonts_of(merged)
    assert row[1:4] == ["CID", "Type", "0C"]
    [cff] = embedded_cffs(merged)
    union = set().union(*(cids(c) for p in posters for c in embedded_cffs(p)))
    digits = {poster_font_gid(poster_font, c) for c in "0123456789 /"}
    assert cids(cff) == union | digits                      # and the page numbers' glyphs
    for k in (1, 2, 3):
        assert text_of_page(merged, k) == text_of_page(apart, k)
        assert f"{k}/3" in text_of_page(merged, k)
    assert merged.stat().st_size < apart.stat().st_size
    assert_same_pages(gray_pages(merged, tmp_path / "m"), gray_pages(apart, tmp_path / "a"))


def poster_font_gid(font, char: str) -> int:
    from fontTools.ttLib import TTFont

    tt = TTFont(font.path)
    return tt.getGlyphOrder().index(tt.getBestCmap()[ord(char)])


@needs_poppler
@needs_fast
def test_characters_sharing_a_glyph_read_back_as_themselves_in_files_and_atlases(poster_font,
                                                                                 tmp_path):
    face = _mpl.cid.font(str(poster_font.path))
    assert face.gid("·") == face.gid("•") == face.gid("・")     # one glyph in Noto Sans SC
    texts = [["甲 · 乙", "…"], ["丙 • 丁 ・ 戊", "⋯ ·"]]       # … ⋯ share one too
    parts = []
    for k, lines in enumerate(texts):
        with matplotlib.rc_context(rc_params(poster_font)):
            fig = Figure(figsize=(4, 2), dpi=72)
            for j, line in enumerate(lines):
                fig.text(0.1, 0.7 - 0.4 * j, line, fontsize=14)
            save_pdf(fig, tmp_path / f"{k}.pdf", {"CreationDate": None}, poster_font.path)
        parts.append(tmp_path / f"{k}.pdf")
        assert run("pdftotext", "-raw", parts[-1], "-").split("\n")[:2] == lines
    joined = tmp_path / "joined.pdf"
    concatenate(parts, joined, {"Title": "乙"}, nav=Navigation(numbers=False),
                font=poster_font.path)
    assert len(fonts_of(joined)) == 1
    for k, lines in enumerate(texts, start=1):
        assert run("pdftotext", "-raw", "-f", k, "-l", k, joined, "-").split("\n")[:2] == lines


def test_paths_are_written_to_a_hundredth_of_a_point(poster_font, tmp_path):
    import zlib

    from matplotlib.patches import Polygon

    fig = Figure(figsize=(4, 3), dpi=72)
    fig.add_artist(Polygon([(0.1234567, 0.1), (0.9, 0.2345678), (0.5, 0.87654)],
                           transform=fig.transFigure))
    with matplotlib.rc_context(rc_params(poster_font)):
        save_pdf(fig, tmp_path / "p.pdf", {"CreationDate": None}, poster_font.path)
    data = (tmp_path / "p.pdf").read_bytes()
    content = b"".join(zlib.decompress(s) for s in re.findall(
        rb"/FlateDecode >>\nstream\n(.*?)\nendstream", data, re.S))
    coordinates = re.findall(rb"^([\d.]+) ([\d.]+) [ml]$", content, re.M)
    assert (b"35.56", b"21.6") in coordinates           # 0.1234567 × 288 pt, 0.1 × 216 pt
    assert all(len(n.partition(b".")[2]) <= 2 for pair in coordinates for n in pair)

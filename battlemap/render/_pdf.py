"""Fast PDF output for posters: one-font text without per-glyph FreeType work; page assembly.

Matplotlib's PDF backend lays every string out with FreeType three times
(measure, shape, draw) and converts every used glyph to a Type 3 procedure
again in every file: with the CFF outlines of Noto Sans SC that is about
0.15 ms per character, and a grid poster has a thousand of them.

:func:`save_pdf` writes a figure through a renderer that, for text in the
poster font, takes advances from a per-process table (one FreeType load
per distinct character, ever) and emits the same Type 3 text operators,
so text stays text (searchable, ``pdftotext`` reads it). Glyph procedures
and widths are cached per process. Kerning is not applied (Chinese needs
none; Latin digits and letters of this font have little).

The renderer uses matplotlib's PDF internals (``PdfFile``, ``RendererPdf``,
the character tracker). They are checked once; when they are missing (a
matplotlib release changed them) :func:`save_pdf` falls back to
``Figure.savefig``, slower but the same poster.

:func:`concatenate` joins PDFs page by page with pypdf, scaling pages to a
target paper size without reparsing their content streams.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import matplotlib as mpl
from matplotlib.artist import Artist
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

__all__ = ["FAST_TEXT", "Layer", "ShapeBatch", "TextBatch", "concatenate", "make_layer",
           "save_pdf"]

try:  # matplotlib internals, checked once
    from matplotlib.backends import backend_pdf as _bp
    from matplotlib.backends.backend_mixed import MixedModeRenderer
    from matplotlib.font_manager import FontPath, findfont, get_font
    from matplotlib.ft2font import LoadFlags

    _NO_SCALE = LoadFlags.NO_SCALE | LoadFlags.NO_HINTING
    FAST_TEXT = all((
        hasattr(_bp, "PdfFile"), hasattr(_bp, "_get_pdf_charprocs"), hasattr(_bp, "get_font"),
        hasattr(_bp.RendererPdf, "_setup_textpos"), hasattr(_bp.RendererPdf, "check_gc"),
        hasattr(_bp.PdfFile, "fontName"), hasattr(_bp, "pdfRepr")))
except ImportError:  # pragma: no cover - depends on the matplotlib release
    FAST_TEXT = False
"""Whether the fast text path is available with this matplotlib."""


# --------------------------------------------------------------------------- figure → PDF


def save_pdf(fig: Figure, target, metadata: Mapping[str, object], font_path: Path,
             under: Layer | None = None, over: Layer | None = None) -> None:
    """Write ``fig`` as a one-page PDF to ``target`` (a path or binary file object).

    Text in the font at ``font_path`` takes the fast path; any other text
    (another font, math) is drawn by matplotlib as usual. ``under`` and
    ``over`` (see :func:`make_layer`) are stamped below and above the figure.
    """
    if not FAST_TEXT or mpl.rcParams["pdf.fonttype"] != 3 or mpl.rcParams["pdf.use14corefonts"]:
        if under is not None or over is not None:
            raise ValueError("layers need the fast PDF path (FAST_TEXT)")
        fig.savefig(target, format="pdf", metadata=dict(metadata))
        return
    metrics = _metrics(str(font_path))
    dpi = fig.dpi
    fig.dpi = 72                      # PDF points, as FigureCanvasPdf.print_pdf does
    width, height = fig.get_size_inches()
    try:
        with _cached_embedding():
            file = _File(target, metadata=dict(metadata))
            try:
                file.newPage(width, height)
                if under is not None:
                    file.stamp(under)
                # the figure inside q … Q: the layer above starts from the page's initial state
                file.write(b"q\n")
                renderer = MixedModeRenderer(
                    fig, width, height, dpi, _Renderer(file, dpi, height, width, metrics))
                fig.draw(renderer)
                renderer.finalize()
                file.write(b"Q\n")
                if over is not None:
                    file.stamp(over)
                file.finalize()
            finally:
                file.close()
    finally:
        fig.dpi = dpi


class Layer:
    """A drawing made once and stamped on many pages as a Form XObject.

    Made from a one-page PDF written by :func:`save_pdf`: its page content
    becomes the form, its resources (fonts with their glyph procedures,
    graphics states) come along. Stamping copies the objects as bytes,
    renumbered; nothing is drawn again.
    """

    def __init__(self, data: bytes) -> None:
        objects, pages, skip = _classic_objects(data)
        [page] = pages
        head = objects[page]
        box = _MEDIABOX.search(head)
        contents = _CONTENTS.search(head)
        resources = re.search(rb"/Resources\s+(\d+) 0 R", head)
        if not box or not contents or not resources or b"[" in contents[1]:
            raise _NotClassicError("layer page without one content stream and resources")
        self.content = int(contents[1].split()[0])
        body = objects[self.content]
        stream = _STREAM.search(body)
        if stream is None or not body.lstrip().startswith(b"<<"):
            raise _NotClassicError("layer content is not a stream")
        start = body.index(b"<<") + 2
        objects[self.content] = (
            body[:start] + b" /Type /XObject /Subtype /Form /BBox [ " + box[1].strip() +
            b" ] /Resources " + resources[1] + b" 0 R" + body[start:])
        self.objects = {num: _split_stream(body) for num, body in objects.items()
                        if num not in skip and num != page}

    def write(self, file, ref) -> None:
        """Write the layer's objects into the PdfFile ``file``, its form as object ``ref``."""
        numbers = {num: (ref.id if num == self.content else file.reserveObject("layer").id)
                   for num in self.objects}

        def renumber(match: re.Match) -> bytes:
            return b"%d 0 R" % numbers[int(match[1])]

        for num, (head, tail) in self.objects.items():
            file.recordXref(numbers[num])
            file.fh.write(b"%d 0 obj" % numbers[num] + _REF.sub(renumber, head) + tail +
                          b"endobj\n")


def make_layer(fig: Figure, font_path: Path) -> Layer | None:
    """``fig`` as a :class:`Layer`, or None without the fast path (draw the artists instead)."""
    if not FAST_TEXT or mpl.rcParams["pdf.fonttype"] != 3 or mpl.rcParams["pdf.use14corefonts"]:
        return None
    buffer = io.BytesIO()
    save_pdf(fig, buffer, {}, font_path)
    try:
        return Layer(buffer.getvalue())
    except _NotClassicError:
        return None


def _split_stream(body: bytes) -> tuple[bytes, bytes]:
    """(dictionary part, stream data part) of an object body; refs live only in the first."""
    stream = _STREAM.search(body)
    return (body[:stream.end()], body[stream.end():]) if stream else (body, b"")


class _Metrics:
    """Glyph index and advance (in ems) of each character of one font, filled lazily."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.font = get_font(path)
        units = self.font.units_per_EM
        os2 = self.font.get_sfnt_table("OS/2")
        if os2:
            self.ascent, self.descent = os2["sTypoAscender"] / units, -os2["sTypoDescender"] / units
            self.line_gap = os2["sTypoLineGap"] / units
        else:
            hhea = self.font.get_sfnt_table("hhea")
            self.ascent, self.descent = hhea["ascent"] / units, -hhea["descent"] / units
            self.line_gap = hhea["lineGap"] / units
        self.units = units
        self.glyphs: dict[str, tuple[int, float] | None] = {}

    def glyph(self, char: str) -> tuple[int, float] | None:
        """(glyph index, advance in ems), or None when the font lacks the character."""
        try:
            return self.glyphs[char]
        except KeyError:
            pass
        index = self.font.get_char_index(ord(char))
        if index or char == " ":
            advance = self.font.load_glyph(index, flags=_NO_SCALE).horiAdvance / self.units
            self.glyphs[char] = (index, advance)
        else:
            self.glyphs[char] = None
        return self.glyphs[char]


_METRICS: dict[str, _Metrics] = {}


def _metrics(path: str) -> _Metrics:
    if path not in _METRICS:
        _METRICS[path] = _Metrics(path)
    return _METRICS[path]


if FAST_TEXT:
    class _Renderer(_bp.RendererPdf):
        """RendererPdf with table-driven measuring and drawing of text in the poster font."""

        def __init__(self, file, dpi, height, width, metrics: _Metrics) -> None:
            super().__init__(file, dpi, height, width)
            self._m = metrics
            self._ours: dict[tuple, bool] = {}
            self._codes: dict[str, tuple[int, int]] = {}   # char → (subset, code) in this file
            self._font_path = FontPath(metrics.font.fname, metrics.font.face_index)

        def _is_ours(self, prop) -> bool:
            # Text metrics come with a copy of the properties: key on their values, not id
            key = (tuple(prop.get_family()), prop.get_style(), prop.get_variant(),
                   prop.get_weight(), prop.get_stretch(), prop.get_file())
            hit = self._ours.get(key)
            if hit is None:
                hit = self._ours[key] = findfont(prop) == self._m.path
            return hit

        def _advances(self, s: str) -> list[tuple[int, float]] | None:
            glyph = self._m.glyph
            out = []
            for char in s:
                g = glyph(char)
                if g is None:
                    return None
                out.append(g)
            return out

        def get_text_width_height_descent(self, s, prop, ismath):
            if ismath or not self._is_ours(prop):
                return super().get_text_width_height_descent(s, prop, ismath)
            glyphs = self._advances(s)
            if glyphs is None:
                return super().get_text_width_height_descent(s, prop, ismath)
            size = prop.get_size_in_points()
            m = self._m
            return (sum(a for _, a in glyphs) * size, (m.ascent + m.descent) * size,
                    m.descent * size)

        def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
            if ismath or gc.get_url() is not None or not self._is_ours(prop):
                return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
            glyphs = self._advances(s)
            if glyphs is None:
                return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
            self.check_gc(gc, gc._rgb)
            size = prop.get_size_in_points()
            file, codes, font = self.file, self._codes, self._m.font
            a = math.radians(angle)
            out = [b"q ", _nums(math.cos(a), math.sin(a), -math.sin(a), math.cos(a), x, y),
                   b" cm BT"]
            subset_now, start, pen, chunk = None, 0.0, 0.0, bytearray()
            for char, (index, advance) in zip(s, glyphs, strict=True):
                code = codes.get(char)
                if code is None:
                    code = codes[char] = file._character_tracker.track_glyph(font, char, index)
                subset, charcode = code
                if subset != subset_now:
                    if chunk:
                        out += [b" [", _bp.pdfRepr(bytes(chunk)), b"] TJ"]
                        chunk = bytearray()
                    name = file.fontName(self._font_path, subset)
                    out += [b" ", _bp.pdfRepr(name), b" ", _nums(size), b" Tf ",
                            _nums(pen - start, 0), b" Td"]
                    subset_now, start = subset, pen
                chunk.append(charcode)
                pen += advance * size
            if chunk:
                out += [b" [", _bp.pdfRepr(bytes(chunk)), b"] TJ"]
            out.append(b" ET Q\n")
            file.write(b"".join(out))
            return None


if FAST_TEXT:
    class _File(_bp.PdfFile):
        """PdfFile that stamps layers and writes cached glyph procedure streams as bytes."""

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._layers: list[tuple[object, object, Layer]] = []

        def stamp(self, layer: Layer) -> None:
            """Draw ``layer`` here (its objects are written at the end)."""
            name = _bp.Name(f"BmL{len(self._layers)}")
            self._layers.append((name, self.reserveObject("layer form"), layer))
            self.write(_bp.pdfRepr(name) + b" Do\n")

        def writeObject(self, object, contents):  # noqa: N802 - matplotlib's name
            if object is self.XObjectObject and self._layers:
                contents = {**contents, **{name: ref for name, ref, _ in self._layers}}
            super().writeObject(object, contents)

        def writeImages(self):  # noqa: N802 - matplotlib's name
            super().writeImages()
            for _name, ref, layer in self._layers:
                layer.write(self, ref)

        def outputStream(self, ref, data, *, extra=None):  # noqa: N802 - matplotlib's name
            # glyph procedures are the same bytes in every file: compress them once
            if extra is None and self.currentstream is None and type(data) is bytes and \
                    data in _PROC_BLOBS:
                level = mpl.rcParams["pdf.compression"]
                blob = _PROC_BLOBS[data].get(level)
                if blob is None:
                    packed = zlib.compress(data, level) if level else data
                    head = {"Length": len(packed)}
                    if level:
                        head["Filter"] = _bp.Name("FlateDecode")
                    blob = _PROC_BLOBS[data][level] = (
                        _bp.pdfRepr(head) + b"\nstream\n" + packed + b"\nendstream\nendobj\n")
                self.recordXref(ref.id)
                self.fh.write(b"%d 0 obj\n" % ref.id + blob)
                return
            super().outputStream(ref, data, extra=extra)


_PROC_BLOBS: dict[bytes, dict[int, bytes]] = {}
"""Glyph procedure → {compression level: the stream object's bytes after its number}."""


def _nums(*values: float) -> bytes:
    return " ".join(f"{v:.4f}".rstrip("0").rstrip(".") if v % 1 else str(int(v))
                    for v in values).encode("ascii")


# Glyph procedures and widths depend only on the font file and the glyph: cache them.
_CHARPROCS: dict[tuple[object, int], tuple[str, bytes]] = {}


def _charprocs(font_path, glyph_indices):
    glyph_indices = list(glyph_indices)
    font = get_font(font_path)
    missing = [g for g in glyph_indices if (font_path, g) not in _CHARPROCS]
    if missing:
        made = _ORIGINAL_CHARPROCS(font_path, missing)
        for g in missing:
            name = font.get_glyph_name(g)
            _CHARPROCS[(font_path, g)] = (name, made[name])
            _PROC_BLOBS.setdefault(made[name], {})
    return dict(_CHARPROCS[(font_path, g)] for g in glyph_indices)


class _GlyphCache:
    """An FT2Font whose unscaled ``load_glyph`` and glyph names are remembered (widths)."""

    def __init__(self, font) -> None:
        self._font = font
        self._glyphs: dict[tuple[int, object], object] = {}
        self._names: dict[int, str] = {}

    def load_glyph(self, index, flags=None):
        key = (index, flags)
        if key not in self._glyphs:
            self._glyphs[key] = self._font.load_glyph(index, flags=flags)
        return self._glyphs[key]

    def get_glyph_name(self, index):
        if index not in self._names:
            self._names[index] = self._font.get_glyph_name(index)
        return self._names[index]

    def __getattr__(self, name):
        return getattr(self._font, name)


_CACHED_FONTS: dict[int, _GlyphCache] = {}


def _cached_get_font(*args, **kwargs):
    font = get_font(*args, **kwargs)
    cached = _CACHED_FONTS.get(id(font))
    if cached is None or cached._font is not font:
        cached = _CACHED_FONTS[id(font)] = _GlyphCache(font)
    return cached


_ORIGINAL_CHARPROCS = _bp._get_pdf_charprocs if FAST_TEXT else None


@contextlib.contextmanager
def _cached_embedding() -> Iterator[None]:
    """Use the caches while one file is written (``PdfFile.embedTTF`` looks these up)."""
    _bp._get_pdf_charprocs, _bp.get_font = _charprocs, _cached_get_font
    try:
        yield
    finally:
        _bp._get_pdf_charprocs, _bp.get_font = _ORIGINAL_CHARPROCS, get_font


class TextBatch(Artist):
    """Many plain texts in one font, laid out as :class:`matplotlib.text.Text` would, drawn at once.

    A ``Text`` artist costs a few tenths of a millisecond to create, lay out
    and draw; a poster has dozens. Here a text is a tuple: no rotation, no
    box, no effects. Positions are in the artist's transform; horizontal
    (left, center, right) and vertical (top, center, bottom, baseline)
    alignment, multi-line alignment and line spacing follow matplotlib 3.11's
    ``Text._get_layout`` for one font, so the page looks the same.
    """

    def __init__(self, font_path: Path, transform, zorder: float) -> None:
        super().__init__()
        self.font_path = str(font_path)
        self.set_transform(transform)
        self.set_zorder(zorder)
        self.items: list[tuple] = []
        self._props: dict[float, FontProperties] = {}

    def add(self, x: float, y: float, text: str, size: float, color="black", ha="left",
            va="baseline", multialignment=None, linespacing=None) -> None:
        self.items.append((x, y, text, size, color, ha, va, multialignment or ha,
                           "normal" if linespacing is None else linespacing))
        self.stale = True

    def clear(self) -> None:
        self.items.clear()
        self.stale = True

    def _prop(self, size: float) -> FontProperties:
        prop = self._props.get(size)
        if prop is None:
            prop = self._props[size] = FontProperties(fname=self.font_path, size=size)
        return prop

    def draw(self, renderer) -> None:
        if not self.get_visible() or not self.items:
            return
        m = _metrics(self.font_path)
        trans = self.get_transform()
        xy = trans.transform([(x, y) for x, y, *_ in self.items])
        flip = renderer.flipy()
        height = renderer.get_canvas_width_height()[1]
        gc = renderer.new_gc()
        try:
            for (px, py), (_x, _y, text, size, color, ha, va, malign, spacing) in zip(
                    xy, self.items, strict=True):
                prop = self._prop(size)
                lines = text.split("\n")
                min_a, min_d = m.ascent * size, m.descent * size
                gap = m.line_gap * size if len(lines) > 1 else 0.0
                placed, thisy, a, d = [], 0.0, 0.0, 0.0
                for line in lines:
                    if line:
                        w, h, d = renderer.get_text_width_height_descent(line, prop, False)
                    else:
                        w = h = d = 0.0
                    a = h - d
                    if spacing == "normal":
                        a, d = max(a, min_a) + gap / 2, max(d, min_d) + gap / 2
                    else:
                        leading = spacing * (min_a + min_d) - (a + d)
                        a, d = a + leading / 2, d + leading / 2
                    thisy -= a
                    placed.append((line, w, thisy))
                    thisy -= d
                width = max(w for _, w, _ in placed)
                ymin = placed[-1][2] - d
                ox = 0.0 if ha == "left" else width if ha == "right" else width / 2
                oy = (ymin if va == "bottom" else 0.0 if va == "top" else ymin / 2
                      if va == "center" else ymin + d)
                gc.set_foreground(color)
                for line, w, ly in placed:
                    if not line.strip():
                        continue
                    lx = 0.0 if malign == "left" else width - w if malign == "right" else \
                        (width - w) / 2
                    x, y = px + lx - ox, py + ly - oy
                    renderer.draw_text(gc, x, height - y if flip else y, line, prop, 0.0)
        finally:
            gc.restore()
        self.stale = False


class ShapeBatch(Artist):
    """Many filled and/or stroked paths (in the artist's transform) drawn at once.

    With the fast PDF path, the paths go straight into the content stream
    inside one ``q … Q`` (colours, width, alpha set per shape as needed);
    otherwise each is drawn with ``renderer.draw_path``. A matplotlib
    collection costs about half a millisecond to create and draw; a
    rectangle here costs a few microseconds.
    """

    def __init__(self, transform, zorder: float) -> None:
        super().__init__()
        self.set_transform(transform)
        self.set_zorder(zorder)
        self.items: list[tuple] = []

    def add(self, path, fill=None, edge=None, linewidth: float = 0.0, capstyle: str = "butt"):
        """``fill``/``edge`` RGBA tuples or None; no edge when ``linewidth`` is 0."""
        if edge is not None and (linewidth <= 0 or edge[3] == 0):
            edge = None
        if fill is not None and fill[3] == 0:
            fill = None
        if fill is not None or edge is not None:
            self.items.append((path, fill, edge, linewidth, capstyle))
            self.stale = True

    def clear(self) -> None:
        self.items.clear()
        self.stale = True

    def draw(self, renderer) -> None:
        if not self.get_visible() or not self.items:
            return
        trans = self.get_transform()
        base = getattr(renderer, "_renderer", renderer)
        if FAST_TEXT and isinstance(base, _Renderer) and not renderer.flipy():
            gc = renderer.new_gc()
            base.check_gc(gc)          # leave the clip of the artist drawn before
            gc.restore()
            self._draw_raw(base.file, trans)
        else:
            gc = renderer.new_gc()
            try:
                for path, fill, edge, lw, cap in self.items:
                    gc.set_capstyle(cap)
                    gc.set_linewidth(lw if edge is not None else 0)
                    gc.set_foreground(edge if edge is not None else (0, 0, 0, 0),
                                      isRGBA=True)
                    gc.set_alpha(None)
                    renderer.draw_path(gc, path, trans, fill)
            finally:
                gc.restore()
        self.stale = False

    def _draw_raw(self, file, trans) -> None:
        out = [b"q\n"]
        fill_now = edge_now = lw_now = cap_now = alpha_now = None
        for path, fill, edge, lw, cap in self.items:
            alpha = (edge[3] if edge is not None else 1.0, fill[3] if fill is not None else 1.0)
            if alpha != alpha_now and (alpha_now is not None or alpha != (1.0, 1.0)):
                out.append(_bp.pdfRepr(file.alphaState(alpha)) + b" gs\n")
                alpha_now = alpha
            if fill is not None and fill[:3] != fill_now:
                fill_now = fill[:3]
                out.append(_nums(*fill_now) + b" rg\n")
            if edge is not None:
                if edge[:3] != edge_now:
                    edge_now = edge[:3]
                    out.append(_nums(*edge_now) + b" RG\n")
                if lw != lw_now:
                    lw_now = lw
                    out.append(_nums(lw) + b" w\n")
                if cap != cap_now:
                    cap_now = cap
                    out.append(b"%d J\n" % {"butt": 0, "round": 1, "projecting": 2}[cap])
            ops = _bp.PdfFile.pathOperations(path, trans, clip=None, simplify=False)
            out.append(b"".join(op if isinstance(op, bytes) else _bp.pdfRepr(op) for op in ops))
            out.append(b" f\n" if edge is None else b" S\n" if fill is None else b" B\n")
        out.append(b"Q\n")
        file.write(b"".join(out))


# --------------------------------------------------------------------------- assembly


def concatenate(parts: Iterable[Path | bytes], target: Path | io.BufferedIOBase,
                metadata: Mapping[str, str], page_size: tuple[float, float] | None = None) -> int:
    """Join the pages of ``parts`` (files or PDF bytes) into ``target``; return the page count.

    With ``page_size`` (short, long side in points), every page is scaled
    to that paper, keeping its orientation: an A3 poster becomes an A4 page
    that looks the same, only smaller. The scaling wraps the page's content
    in a transformation; content streams are never parsed.

    PDFs as matplotlib writes them (one classic cross-reference table, no
    object streams) are copied object by object as bytes, renumbered: about
    a millisecond a page. Any other PDF sends the whole job to pypdf (tens
    of milliseconds a page: it parses every object, and a poster has a
    couple of hundred glyph procedures).
    """
    datas = [part if isinstance(part, bytes) else Path(part).read_bytes() for part in parts]
    try:
        files = [_classic_objects(data) for data in datas]
    except _NotClassicError:
        return _concatenate_pypdf(datas, target, metadata, page_size)
    return _write_joined(files, target, metadata, page_size)


class _NotClassicError(ValueError):
    """A PDF with a structure the byte-level joiner does not handle."""


_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_REF = re.compile(rb"(?<![\d.])(\d+) 0 R(?![\w])")
_STREAM = re.compile(rb">>\s*stream\r?\n")
_KIDS = re.compile(rb"/Kids\s*\[([^\]]*)\]")
_MEDIABOX = re.compile(rb"/MediaBox\s*\[\s*([-\d.\s]+)\]")
_CONTENTS = re.compile(rb"/Contents\s+(\d+ 0 R|\[[^\]]*\])")


def _classic_objects(data: bytes) -> tuple[dict[int, bytes], list[int], set[int]]:
    """(objects by number, page numbers, numbers not to copy) of a simple PDF."""
    end = _STARTXREF.search(data[-64:])
    if not end:
        raise _NotClassicError("no startxref")
    at = int(end[1])
    if not data.startswith(b"xref", at):
        raise _NotClassicError("cross-reference stream")
    head, _, trailer = data[at:].partition(b"trailer")
    offsets: dict[int, int] = {}
    lines = head.split(b"\n")[1:]
    k = 0
    while k < len(lines) and lines[k].strip():
        first, count = (int(v) for v in lines[k].split())
        for i in range(count):
            entry = lines[k + 1 + i].split()
            if entry[2] == b"n":
                offsets[first + i] = int(entry[0])
        k += 1 + count
    if b"/Prev" in trailer or b"/Encrypt" in trailer:
        raise _NotClassicError("incremental update or encryption")
    root = re.search(rb"/Root\s+(\d+) 0 R", trailer)
    info = re.search(rb"/Info\s+(\d+) 0 R", trailer)
    if not root:
        raise _NotClassicError("no /Root")
    order = sorted(offsets, key=offsets.get)
    objects: dict[int, bytes] = {}
    for i, num in enumerate(order):
        stop = offsets[order[i + 1]] if i + 1 < len(order) else at
        chunk = data[offsets[num]:stop]
        prefix = b"%d 0 obj" % num
        if not chunk.startswith(prefix):
            raise _NotClassicError(f"object {num} not at its offset")
        body = chunk[len(prefix):chunk.rindex(b"endobj")]
        if b"/ObjStm" in body[:200]:
            raise _NotClassicError("object stream")
        objects[num] = body
    catalog = objects[int(root[1])]
    pages_ref = re.search(rb"/Pages\s+(\d+) 0 R", catalog)
    if not pages_ref:
        raise _NotClassicError("no page tree")
    pages_node = int(pages_ref[1])
    kids = _KIDS.search(objects[pages_node])
    pages = [int(n) for n in _REF.findall(kids[1])] if kids else []
    if not pages or any(b"/Type /Pages" in objects.get(n, b"") for n in pages):
        raise _NotClassicError("nested page tree")
    skip = {int(root[1]), pages_node} | ({int(info[1])} if info else set())
    return objects, pages, skip


def _write_joined(files, target, metadata, page_size) -> int:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xac\xdc \xab\xba\n")
    offsets: list[int] = [0]          # object 0 is the free head

    def new(body: bytes) -> int:
        offsets.append(out.tell())
        num = len(offsets) - 1
        out.write(b"%d 0 obj\n" % num + body + b"\nendobj\n")
        return num

    catalog, pages_num = 1, 2
    offsets += [0, 0]                 # reserved: catalog and page tree, written last
    kids: list[int] = []
    for objects, pages, skip in files:
        first, last = min(objects), max(objects)
        base = len(offsets) - first   # old number n becomes n + base
        extra: list[bytes] = []       # new objects of this file, numbered after its own

        def add(body: bytes, extra=extra, after=last + base) -> int:
            extra.append(body)
            return after + len(extra)

        def renumber(text: bytes, base=base) -> bytes:
            return _REF.sub(lambda m: b"%d 0 R" % (int(m[1]) + base), text)

        for num in range(first, last + 1):
            offsets.append(out.tell())
            body = objects.get(num)
            if body is None or num in skip:
                out.write(b"%d 0 obj\nnull\nendobj\n" % (num + base))
                continue
            stream = _STREAM.search(body)
            head, tail = (body[:stream.end()], body[stream.end():]) if stream else (body, b"")
            head = renumber(head)
            if num in pages:
                head = _page_head(head, pages_num, page_size, add)
            out.write(b"%d 0 obj" % (num + base) + head + tail + b"endobj\n")
        for body in extra:
            new(body)
        kids += [n + base for n in pages]
    offsets[catalog] = out.tell()
    out.write(b"%d 0 obj\n<< /Type /Catalog /Pages %d 0 R >>\nendobj\n" % (catalog, pages_num))
    offsets[pages_num] = out.tell()
    out.write(b"%d 0 obj\n<< /Type /Pages /Kids [ %s ] /Count %d >>\nendobj\n" % (
        pages_num, b" ".join(b"%d 0 R" % k for k in kids), len(kids)))
    info = new(b"<< " + b" ".join(b"/%s <%s>" % (k.encode("ascii"), ("\ufeff" + str(v)).encode(
        "utf-16-be").hex().encode("ascii")) for k, v in metadata.items()) + b" >>")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % len(offsets))
    out.write(b"".join(b"%010d 00000 n \n" % off for off in offsets[1:]))
    out.write(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(offsets), catalog, info, xref))
    if isinstance(target, (str, Path)):
        Path(target).write_bytes(out.getvalue())
    else:
        target.write(out.getvalue())
    return len(kids)


def _page_head(head: bytes, parent: int, page_size, new) -> bytes:
    """A page dictionary under the new page tree, scaled to ``page_size`` if given."""
    head = re.sub(rb"/Parent\s+\d+ 0 R", b"/Parent %d 0 R" % parent, head)
    if page_size is None:
        return head
    box = _MEDIABOX.search(head)
    contents = _CONTENTS.search(head)
    if not box or not contents:
        raise _NotClassicError("page without /MediaBox or /Contents")
    x0, y0, x1, y1 = (float(v) for v in box[1].split())
    factor, dx, dy, tw, th = _fit_transform(x0, y0, x1, y1, page_size)
    if abs(factor - 1) < 1e-3:
        return head
    refs = contents[1].strip(b"[] ")
    q = new(_stream(b"q " + _nums(factor, 0, 0, factor, dx, dy) + b" cm\n"))
    end = new(_stream(b"\nQ\n"))
    head = head[:contents.start()] + b"/Contents [ %d 0 R %s %d 0 R ]" % (q, refs, end) + \
        head[contents.end():]
    box = _MEDIABOX.search(head)
    return head[:box.start()] + b"/MediaBox [ 0 0 " + _nums(tw, th) + b" ]" + head[box.end():]


def _stream(data: bytes) -> bytes:
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _fit_transform(x0, y0, x1, y1, page_size):
    """Scale and offsets that centre a (x0, y0, x1, y1) page on ``page_size``, same orientation."""
    w, h = x1 - x0, y1 - y0
    short, long = page_size
    tw, th = (long, short) if w > h else (short, long)
    factor = min(tw / w, th / h)
    return factor, (tw - w * factor) / 2 - x0 * factor, (th - h * factor) / 2 - y0 * factor, tw, th


def _concatenate_pypdf(datas, target, metadata, page_size) -> int:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, DecodedStreamObject, NameObject, RectangleObject

    writer = PdfWriter()
    for data in datas:
        for page in PdfReader(io.BytesIO(data)).pages:
            added = writer.add_page(page)
            if page_size is None:
                continue
            box = added.mediabox
            factor, dx, dy, tw, th = _fit_transform(
                float(box.left), float(box.bottom), float(box.right), float(box.top), page_size)
            if abs(factor - 1) < 1e-3:
                continue
            refs = []
            if "/Contents" in added:
                raw = added.raw_get("/Contents")
                value = raw.get_object()
                refs = list(value) if isinstance(value, ArrayObject) else [raw]
            streams = []
            for chunk in (b"q " + _nums(factor, 0, 0, factor, dx, dy) + b" cm\n", b"\nQ\n"):
                stream = DecodedStreamObject()
                stream.set_data(chunk)
                streams.append(writer._add_object(stream))
            added[NameObject("/Contents")] = ArrayObject([streams[0], *refs, streams[1]])
            added.mediabox = RectangleObject((0, 0, tw, th))
            for name in ("/CropBox", "/TrimBox", "/BleedBox", "/ArtBox"):
                if name in added:
                    del added[name]
    writer.add_metadata({f"/{k}": str(v) for k, v in metadata.items()})
    writer.write(target)
    return len(writer.pages)

"""The fast PDF path: THE only package of battlemap that touches matplotlib's private API.

This file draws pages; :mod:`.cid` makes the poster font's one composite
font per file, :mod:`.type3` the Type 3 subsets of a poster font that is not
CID-keyed CFF (a TrueType one) and the glyph outlines of their halos (a halo
in the composite font is its text stroked). All are behind the version gate
below.

Why it exists (measured on 2 cores, matplotlib 3.11.2, see ``bench/pdf_page.py``
and the module docstring of :mod:`battlemap.render.pdf`): ``savefig`` lays
every string out with FreeType again and converts every used glyph of the
CFF font to a Type 3 procedure again in every file; here advances come from
a per-process table (:mod:`._metrics`), and the poster font is written once
per file as a Type 0 font (Identity-H, 2-byte codes that are glyph ids) whose
CID-keyed CFF subset is put together from glyph pieces made once per process
(issue #16: a grid poster's six Type 3 subsets were 63 % of its bytes).
Text stays text (``pdftotext`` reads it through the ToUnicode CMap).

What it uses of matplotlib's internals, all written for and tested on 3.11:
``PdfFile`` (subclassed: ``embedTTF``, ``writeObject``, ``writeImages``,
``reserveObject``, ``recordXref``, ``fh``, ``fontObject``, ``alphaState``,
``pathOperations``, ``_fill``, ``_get_subset_prefix``; for a TrueType poster
font ``fontName(FontPath, subset)``, ``_character_tracker.track_glyph(font,
chars, glyph)`` returning ``(subset, code)`` and ``subset_to_unicode``),
``RendererPdf`` (subclassed: ``check_gc``, ``file``),
``backend_pdf._get_pdf_charprocs``, ``Name``, ``Verbatim``, ``pdfRepr`` and
``matplotlib._path.convert_to_string`` (paths with :data:`PATH_DECIMALS`).

Guards:

- an exact-version gate, :data:`TESTED`: on any other matplotlib release the
  path is off and :class:`FastPathWarning` is issued once per process;
- the caller (:func:`battlemap.render.pdf.save_pdf`) writes a file again
  through ``savefig`` when this path raises ``TypeError`` or
  ``AttributeError`` (a changed signature), warning once;
- nothing global is replaced: hooks are methods of the subclasses, state
  belongs to the file being written, and the per-process caches hold values
  that depend only on the font file and the glyph (safe on threads).

On a new matplotlib release: add its series to :data:`TESTED` on a branch,
run ``tests/render/test_pdf.py`` (the fast pages against ``savefig``'s, as
rasters); fix what fails here, then lift the bound in ``pyproject.toml``.
"""

from __future__ import annotations

import contextlib
import io
import math
import threading
import warnings
from collections.abc import Mapping, Sequence

import matplotlib as mpl
from matplotlib import _path as _mpl_path
from matplotlib import font_manager
from matplotlib.backends import backend_pdf as _bp
from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.figure import Figure
from matplotlib.font_manager import findfont

from battlemap.render.pdf._metrics import Metrics, metrics
from battlemap.render.pdf._mpl import cid as _cid
from battlemap.render.pdf._mpl.cid import font_objects as _embed_cid
from battlemap.render.pdf._mpl.type3 import Type3Text as _Type3Text
from battlemap.render.pdf._mpl.type3 import embed_type3 as _embed_type3
from battlemap.render.pdf.layer import Layer
from battlemap.render.pdf.objects import nums

__all__ = ["TESTED", "FastPathWarning", "draw_shapes", "draw_texts", "enabled", "fast_renderer", "warn_once",
           "write", "write_pages"]

TESTED = ("3.11",)
"""matplotlib release series the private path was written and tested for."""

VERSION = mpl.__version__
"""The running matplotlib (a module attribute, so that a test can fake another)."""

_FontPath = getattr(font_manager, "FontPath", None)   # new in 3.11

PATH_DECIMALS = 2
"""Decimals of a path's coordinates in points: 0.01 pt is 3.5 µm on paper (matplotlib: 6)."""

LAYER_DECIMALS = 1
"""Decimals of the paths of a layer (:func:`battlemap.render.pdf.make_layer`): frame lines
and the locator's outlines, 0.1 pt (35 µm, under a dot at 600 dpi) is fine enough. Measured
on a grid A4 of the sample: its two layers 14.0 → 11.2 KB compressed."""


class FastPathWarning(UserWarning):
    """Posters are written through matplotlib's public path (slower, same pages)."""


_WARNED: set[str] = set()
_WARN_LOCK = threading.Lock()


def warn_once(key: str, message: str) -> None:
    """Issue :class:`FastPathWarning` ``message`` once per process for ``key``."""
    with _WARN_LOCK:
        if key in _WARNED:
            return
        _WARNED.add(key)
    warnings.warn(message, FastPathWarning, stacklevel=4)   # the caller of the pdf API


def enabled() -> bool:
    """Whether the fast path serves this process and the current rcParams."""
    series = ".".join(VERSION.split(".")[:2])
    if series not in TESTED or _FontPath is None:
        warn_once("version", f"matplotlib {VERSION}: battlemap's fast PDF path is written for "
                  f"matplotlib {', '.join(TESTED)}.x only; posters use the slower public path "
                  "(the same pages, several times slower to write).")
        return False
    return mpl.rcParams["pdf.fonttype"] == 3 and not mpl.rcParams["pdf.use14corefonts"]


def write(fig: Figure, metadata: Mapping[str, object], font_path: str,
          under: Layer | None = None, over: Layer | None = None,
          decimals: int = PATH_DECIMALS) -> bytes:
    """``fig`` as a one-page PDF, text in ``font_path`` on the fast path, layers stamped.

    ``decimals``: of the paths' coordinates in points.
    """
    return write_pages([(fig, under, over)], metadata, font_path, decimals)


def write_pages(pages: Sequence[tuple[Figure, Layer | None, Layer | None]],
                metadata: Mapping[str, object], font_path: str,
                decimals: int = PATH_DECIMALS) -> bytes:
    """(figure, layer under, layer over) as the pages of one PDF, its fonts shared by all."""
    m = metrics(font_path)
    buffer = io.BytesIO()
    file = _File(buffer, metadata=dict(metadata), metrics=m)
    file.decimals = decimals
    try:
        for fig, under, over in pages:
            _draw(file, fig, m, under, over)
        file.finalize()
    except BaseException:
        with contextlib.suppress(Exception):   # keep the first error, not close()'s
            file.close()
        raise
    file.close()
    return buffer.getvalue()


def _draw(file: _File, fig: Figure, m: Metrics, under: Layer | None,
          over: Layer | None) -> None:
    dpi = fig.dpi
    fig.dpi = 72                      # PDF points, as FigureCanvasPdf.print_pdf does
    try:
        width, height = fig.get_size_inches()
        file.newPage(width, height)
        if under is not None:
            file.stamp(under)
        file.write(b"q\n")   # the figure inside q … Q: the layer over it starts from scratch
        renderer = MixedModeRenderer(fig, width, height, dpi,
                                     _Renderer(file, dpi, height, width, m))
        fig.draw(renderer)
        renderer.finalize()
        file.write(b"Q\n")
        if over is not None:
            file.stamp(over)
    finally:
        fig.dpi = dpi


def fast_renderer(renderer) -> _Renderer | None:
    """The fast-path renderer behind ``renderer`` (a MixedModeRenderer), or None."""
    base = getattr(renderer, "_renderer", renderer)
    return base if isinstance(base, _Renderer) and not renderer.flipy() else None


class _Renderer(_bp.RendererPdf):
    """RendererPdf with table-driven measuring and drawing of text in the poster font."""

    def __init__(self, file, dpi, height, width, m: Metrics) -> None:
        super().__init__(file, dpi, height, width)
        self._m = m
        self._ours: dict[tuple, bool] = {}
        self._type3 = (None if file.cid is not None
                       else _Type3Text(file, m.font, m.path))   # a TrueType poster font

    @property
    def metrics(self) -> Metrics:
        """The table of the page's poster font."""
        return self._m

    def _is_ours(self, prop) -> bool:
        # Text metrics come with a copy of the properties: key on their values, not id
        key = (tuple(prop.get_family()), prop.get_style(), prop.get_variant(),
               prop.get_weight(), prop.get_stretch(), prop.get_file())
        hit = self._ours.get(key)
        if hit is None:
            hit = self._ours[key] = findfont(prop) == self._m.path
        return hit

    def get_text_width_height_descent(self, s, prop, ismath):
        glyphs = None if ismath or not self._is_ours(prop) else self._m.advances(s)
        if glyphs is None:
            return super().get_text_width_height_descent(s, prop, ismath)
        size = prop.get_size_in_points()
        m = self._m
        return (sum(a for _, a in glyphs) * size, (m.ascent + m.descent) * size,
                m.descent * size)

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        glyphs = (None if ismath or gc.get_url() is not None or not self._is_ours(prop)
                  else self._m.advances(s))
        if glyphs is None:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        self.check_gc(gc, gc.get_rgb())
        self.file.write(self._text_ops(s, glyphs, prop.get_size_in_points(), x, y, angle))
        return None

    def _halo_ops(self, s, glyphs, size, x, y, angle, width) -> bytes:
        """The glyphs ``_text_ops`` shows, their outlines stroked white ``width`` points wide.

        In the composite font, the text itself in stroke mode (``1 Tr``): the
        viewer strokes the very outlines it fills next, where it puts them,
        and the page need not carry them (measured on the sample's village
        A3, whose labels all have halos: the page stream 13.1 → 8.0 KB). An
        empty ``ActualText`` keeps the stroked copy out of extracted text.
        A Type 3 font's glyphs are procedures that fill: their outlines are
        stroked as paths.
        """
        if self._type3 is not None:
            return self._type3.halo_ops(s, glyphs, size, x, y, angle, width)
        text = self._text_ops(s, glyphs, size, x, y, angle, b" " + nums(width) + _HALO)
        return b"/Span << /ActualText () >> BDC\n" + text + b"EMC\n"

    def _text_ops(self, s, glyphs, size, x, y, angle, state: bytes = b"") -> bytes:
        """``s`` shown at (x, y) turned by ``angle``; ``state``: operators set before (CID only)."""
        if angle:
            a = math.radians(angle)
            out = [b"q ", nums(math.cos(a), math.sin(a), -math.sin(a), math.cos(a), x, y)]
        else:                        # what nums(1.0, 0.0, -0.0, 1.0, x, y) gives
            out = [b"q 1 0 0 1 ", nums(x, y)]
        if self._type3 is not None:
            return self._type3.text_ops(s, glyphs, size, out)
        shown, cids = _RUNS.get((self._m.path, s)) or _run(self._m.path, self.file.cid, s, glyphs)
        chars = self.file.cid_chars
        if not cids.keys() <= chars.keys():
            for cid, char in cids.items():
                chars.setdefault(cid, char)
        out += [b" cm", state, b" BT /BmF ", nums(size), b" Tf ", shown, b" Tj ET Q\n"]
        return b"".join(out)


_PATH_OPS = [b"m", b"l", b"", b"c", b"h"]
"""The path operators of ``convert_to_string``: move, line, (quadratic: none), curve, close."""

_HALO = b" w 1 j 0 J 1 1 1 RG 1 Tr"
"""After the halo's width: round joins, white, glyphs stroked (restored by the ``Q`` after)."""


_RUNS: dict[tuple[str, str], tuple[bytes, dict[int, str]]] = {}
"""(font path, text) → the PDF string showing it and its CIDs → characters, per process.

Most texts recur from poster to poster (headings, legend, names, case
numbers of a town's grids): each is encoded once per process."""

_RUNS_MAX = 100_000
"""Entries kept at most (a few hundred bytes each); then the table starts afresh."""


def _run(path: str, font: _cid.Font, s: str, glyphs) -> tuple[bytes, dict[int, str]]:
    """The PDF string (2-byte codes, Identity-H) of ``s`` and its CIDs, cached in :data:`_RUNS`."""
    cids: dict[int, str] = {}
    codes = []
    for char, (index, _advance) in zip(s, glyphs, strict=True):
        cid = font.code(char, index)
        cids.setdefault(cid, char)
        codes.append(cid.to_bytes(2, "big"))
    if len(_RUNS) >= _RUNS_MAX:
        _RUNS.clear()
    found = _RUNS[path, s] = (_bp.pdfRepr(b"".join(codes)), cids)
    return found


def draw_texts(renderer: _Renderer, gc, runs) -> None:
    """Write ``runs`` (x, y, text, glyphs, size, rgba, angle, halo) of the poster font at once.

    The operators of one :meth:`_Renderer.draw_text` per run, in one write:
    the graphics state is checked only when the colour changes. A run with a
    ``halo`` (a width in points) first strokes its glyph outlines in white,
    as ``withStroke`` would, inside ``q … Q``.
    """
    out, rgba_now = [], None
    for x, y, s, glyphs, size, rgba, angle, halo in runs:
        if rgba != rgba_now:
            gc.set_foreground(rgba, isRGBA=True)
            if rgba_now is not None and rgba[3] == rgba_now[3] and gc._hatch is None:
                out.append(recolour(renderer, gc))
            else:
                if out:
                    renderer.file.write(b"".join(out))
                    out = []
                renderer.check_gc(gc, gc.get_rgb())
            rgba_now = rgba
        if halo is not None:
            out.append(renderer._halo_ops(s, glyphs, size, x, y, angle, halo))
        out.append(renderer._text_ops(s, glyphs, size, x, y, angle))
    if out:
        renderer.file.write(b"".join(out))


def recolour(renderer: _Renderer, gc) -> bytes:
    """What ``renderer.check_gc(gc, gc.get_rgb())`` writes when only the colour changed.

    The case of :func:`draw_texts` after its first colour: ``gc`` (no hatch)
    differs from the renderer's state in its RGB only (same alpha, clip, line
    style), so ``GraphicsContextPdf.delta`` would find the fill colour, then
    the stroke colour changed, and set the fill again (its hatch step after a
    fill change). Here the state is updated the same way and the operators,
    as ``PdfFile.output`` formats them, come from a per-process table by
    colour, for the caller to write with the texts (a grid A4 of the sample:
    17 colour changes; check_gc, formatting and writing them ~1.5 ms of its
    ~27 ms).
    """
    state, rgb = renderer.gc, gc.get_rgb()
    key = (rgb, mpl.rcParams["pdf.inheritcolor"])
    ops = _RECOLOUR.get(key)
    if ops is None:
        cmds = state.fillcolor_cmd(rgb)
        cmds += state.rgb_cmd(rgb)
        cmds += state.fillcolor_cmd(rgb)     # hatch_cmd without a hatch, after a fill change
        ops = _RECOLOUR[key] = (_bp._fill([_bp.pdfRepr(c) for c in cmds]) + b"\n"
                                if cmds else b"")
    state._fillcolor = state._rgb = rgb
    state._hatch, state._hatch_color, state._hatch_linewidth = (
        gc._hatch, gc._hatch_color, gc._hatch_linewidth)
    return ops


_RECOLOUR: dict[tuple, bytes] = {}
"""(RGBA, ``pdf.inheritcolor``) → the operators :func:`recolour` writes, per process."""


def draw_shapes(renderer: _Renderer, items, trans, clipbox=None) -> None:
    """Write ShapeBatch ``items`` (path, fill, edge, width, cap) straight into the page.

    ``clipbox`` (display units), when given, clips them as it clips an artist.
    """
    gc = renderer.new_gc()
    if clipbox is not None:
        gc.set_clip_rectangle(clipbox)
    renderer.check_gc(gc)          # leave the clip of the artist drawn before (or set ours)
    gc.restore()
    file = renderer.file
    trans = trans.get_affine()     # the product once, not once a path (the same matrix)
    out = [b"q\n"]
    fill_now = edge_now = lw_now = cap_now = alpha_now = None
    for path, fill, edge, lw, cap in items:
        alpha = (edge[3] if edge is not None else 1.0, fill[3] if fill is not None else 1.0)
        if alpha != alpha_now and (alpha_now is not None or alpha != (1.0, 1.0)):
            out.append(_bp.pdfRepr(file.alphaState(alpha)) + b" gs\n")
            alpha_now = alpha
        if fill is not None and fill[:3] != fill_now:
            fill_now = fill[:3]
            out.append(nums(*fill_now) + b" rg\n")
        if edge is not None:
            if edge[:3] != edge_now:
                edge_now = edge[:3]
                out.append(nums(*edge_now) + b" RG\n")
            if lw != lw_now:
                lw_now = lw
                out.append(nums(lw) + b" w\n")
            if cap != cap_now:
                cap_now = cap
                out.append(b"%d J\n" % {"butt": 0, "round": 1, "projecting": 2}[cap])
        out.append(_mpl_path.convert_to_string(     # what file.pathOperations writes
            path, trans, None, False, None, file.decimals, _PATH_OPS, True))
        out.append(b" f\n" if edge is None else b" S\n" if fill is None else b" B\n")
    out.append(b"Q\n")
    file.write(b"".join(out))


class _File(_bp.PdfFile):
    """PdfFile that stamps layers and embeds the poster font from per-process caches."""

    def __init__(self, fh, metadata, metrics: Metrics) -> None:
        super().__init__(fh, metadata=metadata)
        self._m = metrics
        self._layers: list[tuple[object, object, Layer]] = []
        self.cid = _cid.font(metrics.path)
        """The poster font's glyphs for its composite font (None: not CID-keyed CFF)."""
        self.cid_chars: dict[int, str] = {}
        """CID → the text it stands for, of every glyph of the poster font in this file."""
        self._cid_ref = None

    decimals = PATH_DECIMALS
    """Decimals of the paths' coordinates in points (see :func:`write_pages`)."""

    def pathOperations(self, path, transform, clip=None, simplify=None, sketch=None):  # noqa: N802
        """``PdfFile.pathOperations`` with :attr:`decimals` decimals, not 6."""
        return [_bp.Verbatim(_mpl_path.convert_to_string(
            path, transform, clip, simplify, sketch, self.decimals, _PATH_OPS, True))]

    def stamp(self, layer: Layer) -> None:
        """Draw ``layer`` here (its objects are written at the end; its text in our font)."""
        for chars in layer.fonts.values():
            for gid, text in chars.items():
                self.cid_chars.setdefault(gid, text)
        name = _bp.Name(f"BmL{len(self._layers)}")
        self._layers.append((name, self.reserveObject("layer form"), layer))
        self.write(_bp.pdfRepr(name) + b" Do\n")

    def writeObject(self, object, contents):  # noqa: N802 - matplotlib's name
        if object is self.XObjectObject and self._layers:
            contents = {**contents, **{name: ref for name, ref, _ in self._layers}}
        if object is self.fontObject and self.cid_chars and self.cid is not None:
            contents = {**contents, _bp.Name("BmF"): self._embed_cid()}
        super().writeObject(object, contents)

    def _embed_cid(self):
        """Write the one composite font of the poster font's glyphs in this file; its reference."""
        self._cid_ref = ref = self.reserveObject("poster font")
        level = mpl.rcParams["pdf.compression"]
        for num, body in _embed_cid(self._m.path, self.cid_chars, ref.id,
                                    lambda: self.reserveObject("poster font part").id, level):
            self.recordXref(num)
            self.fh.write(b"%d 0 obj" % num + body + b"endobj\n")
        return ref

    def writeImages(self):  # noqa: N802 - matplotlib's name
        super().writeImages()
        for _name, ref, layer in self._layers:
            self._write_layer(layer, ref)

    def _write_layer(self, layer: Layer, ref) -> None:
        """The layer's objects, renumbered, its form as object ``ref``."""
        numbers = {num: (ref.id if num == layer.content else self._cid_ref.id
                         if num in layer.fonts else self.reserveObject("layer").id)
                   for num in layer.objects if num not in layer.font_parts}
        for num, (parts, tail) in layer.pieces.items():
            if num in layer.font_parts or num in layer.fonts:   # its text is in our font
                continue
            self.recordXref(numbers[num])
            head = b"".join(b"%d 0 R" % numbers[int(part)] if i % 2 else part
                            for i, part in enumerate(parts))
            self.fh.write(b"%d 0 obj" % numbers[num] + head + tail + b"endobj\n")

    def embedTTF(self, filename, subset_index, charmap):  # noqa: N802 - matplotlib's name
        if mpl.rcParams["pdf.fonttype"] != 3 or str(filename) != self._m.path:
            return super().embedTTF(filename, subset_index, charmap)
        return _embed_type3(self, filename, subset_index, charmap)

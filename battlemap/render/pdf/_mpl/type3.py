"""Type 3 font embedding for the fast path, from per-process caches (matplotlib private API).

Part of the one guarded package :mod:`battlemap.render.pdf._mpl`: its
version gate covers this file too. ``PdfFile.embedTTF`` for ``pdf.fonttype``
3 (matplotlib 3.11) converts every used glyph of the CFF font to a Type 3
procedure again in every file; here glyph names, widths, procedures and their
compressed streams are made once per process.
"""

from __future__ import annotations

import math
import zlib
from typing import TYPE_CHECKING

import matplotlib as mpl
from matplotlib.backends import backend_pdf as _bp
from matplotlib.font_manager import get_font

from battlemap.render.pdf.objects import nums

if TYPE_CHECKING:
    from battlemap.render.pdf._mpl import _File

__all__ = ["Type3Text", "embed_type3", "outline"]

# Per process: what depends only on the font file (and the glyph). Filled without a lock:
# get_font gives each thread its own face, and two threads would store equal values.

_FONTS: dict[str, tuple[str, list[int], dict[str, object]]] = {}
"""Font path → (PostScript name, FontBBox, the descriptor's other entries)."""

_GLYPHS: dict[tuple[str, int], tuple[str, int, bytes]] = {}
"""(font path, glyph index) → (glyph name, width in 1/1000 em, Type 3 procedure)."""

_OUTLINES: dict[tuple[str, int], tuple[int, bytes]] = {}
"""(font path, glyph index) → its width and outline, for halos (see ``_outline``)."""

_BLOBS: dict[tuple[str, int, int], bytes] = {}
"""(font path, glyph, compression level) → the procedure's stream object after ``N 0 obj``."""


def _cvt(length: float, upe: int, nearest: bool = True) -> int:
    """Font units → PDF glyph units, as ``PdfFile.embedTTF`` (3.11) converts them."""
    value = length / upe * 1000
    return round(value) if nearest else math.floor(value) if value < 0 else math.ceil(value)


def _font_info(filename) -> tuple[str, list[int], dict[str, object]]:
    key = str(filename)
    info = _FONTS.get(key)
    if info is None:
        from matplotlib.ft2font import FaceFlags, StyleFlags

        font = get_font(filename)
        upe = font.units_per_EM
        pclt = font.get_sfnt_table("pclt") or {"capHeight": 0, "xHeight": 0}
        post = font.get_sfnt_table("post") or {"italicAngle": (0, 0)}
        flags = ((1 << 0 if FaceFlags.FIXED_WIDTH in font.face_flags else 0) | 1 << 5 |
                 (1 << 6 if StyleFlags.ITALIC in font.style_flags else 0))
        bbox = [_cvt(x, upe, nearest=False) for x in font.bbox]
        rest = {"Flags": flags, "FontBBox": bbox, "Ascent": _cvt(font.ascender, upe, False),
                "Descent": _cvt(font.descender, upe, False),
                "CapHeight": _cvt(pclt["capHeight"], upe, False),
                "XHeight": _cvt(pclt["xHeight"], upe), "ItalicAngle": post["italicAngle"][1],
                "StemV": 0}
        info = _FONTS[key] = (font.postscript_name, bbox, rest)
    return info


def _glyphs(filename, indices) -> dict[int, tuple[str, int, bytes]]:
    key = str(filename)
    missing = [g for g in dict.fromkeys(indices) if (key, g) not in _GLYPHS]
    if missing:
        from matplotlib.ft2font import LoadFlags

        font = get_font(filename)
        flags = LoadFlags.NO_SCALE | LoadFlags.NO_HINTING
        procs = _bp._get_pdf_charprocs(filename, missing)
        for g in missing:
            name = font.get_glyph_name(g)
            width = _cvt(font.load_glyph(g, flags=flags).horiAdvance, font.units_per_EM)
            _GLYPHS[(key, g)] = (name, width, procs[name])
    return {g: _GLYPHS[(key, g)] for g in indices}


def outline(filename: str, glyph: int) -> tuple[int, bytes]:
    """(width in 1/1000 em, the path of its Type 3 procedure without the fill) of a glyph."""
    key = (filename, glyph)
    found = _OUTLINES.get(key)
    if found is None:
        _name, width, proc = _glyphs(filename, [glyph])[glyph]
        body = proc[proc.index(b"d1\n") + 3:]
        found = _OUTLINES[key] = (width, body[:-1] if body.endswith(b"f") else body)
    return found


class _Raw:
    """Operands already in PDF syntax, laid out as ``pdfRepr`` lays out a list or dictionary."""

    __slots__ = ("data",)

    def __init__(self, parts: list[bytes]) -> None:
        self.data = _bp._fill(parts)

    def pdfRepr(self) -> bytes:  # noqa: N802 - matplotlib's name
        return self.data


_HEX: dict[str, str] = {}
"""Characters → their UTF-16BE hex string in a ToUnicode CMap, per process."""

_NAMES: dict[str, bytes] = {}
"""Glyph name → its PDF name (``Name(name).pdfRepr()``), per process."""


def _name(name: str) -> bytes:
    found = _NAMES.get(name)
    if found is None:
        found = _NAMES[name] = _bp.Name(name).pdfRepr()
    return found


def embed_type3(file: _File, filename, subset_index: int, charmap: dict[int, int]):
    """``PdfFile.embedTTF`` for ``pdf.fonttype`` 3 (matplotlib 3.11), from the caches."""
    Name = _bp.Name  # noqa: N806 - matplotlib's name
    ps_base, bbox, rest = _font_info(filename)
    # the tag from the codes with their glyphs (matplotlib's from the glyphs alone): two
    # posters' subsets of one glyph set in another order get two names in a joined atlas
    tag = file._get_subset_prefix(frozenset(charmap.items()))
    ps_name = Name((tag + ps_base).encode("ascii", "replace"))
    descriptor = {"Type": Name("FontDescriptor"), "FontName": ps_name, **rest}
    widths_ref, desc_ref, dict_ref, procs_ref, cmap_ref = (file.reserveObject(n) for n in (
        "font widths", "font descriptor", "font dictionary", "character procs", "ToUnicode map"))
    first, last = min(charmap), max(charmap)
    glyphs = _glyphs(filename, [*charmap.values(), 0])
    widths = [glyphs[charmap.get(code, 0)][1] for code in range(first, last + 1)]
    descriptor["MaxWidth"] = max(widths)
    differences, previous = [b"["], -2        # as pdfRepr writes the list, made faster
    for code, name in sorted((code, glyphs[g][0]) for code, g in charmap.items()):
        if code != previous + 1:
            differences.append(b"%d" % code)
        differences.append(_name(name))
        previous = code
    procs = {glyphs[g][0]: g for g in charmap.values()}
    charprocs, level = [b"<<"], mpl.rcParams["pdf.compression"]
    for name in sorted(procs):
        ref = file.reserveObject("charProc")
        charprocs.append(_name(name) + b" " + ref.pdfRepr())
        _write_proc(file, ref, filename, procs[name], level)
    fontdict = {
        "Type": Name("Font"), "BaseFont": ps_name, "FirstChar": first, "LastChar": last,
        "FontDescriptor": desc_ref, "Subtype": Name("Type3"), "Name": descriptor["FontName"],
        "FontBBox": bbox, "FontMatrix": [.001, 0, 0, .001, 0, 0], "CharProcs": procs_ref,
        "Encoding": {"Type": Name("Encoding"), "Differences": _Raw([*differences, b"]"])},
        "Widths": widths_ref, "ToUnicode": cmap_ref}
    file.writeObject(dict_ref, fontdict)
    file.writeObject(desc_ref, descriptor)
    file.writeObject(widths_ref, _Raw([b"[", *(b"%d" % w for w in widths), b"]"]))
    file.writeObject(procs_ref, _Raw([*charprocs, b">>"]))
    file.outputStream(cmap_ref, _unicode_cmap(file, filename, subset_index, charmap))
    return dict_ref


def _write_proc(file: _File, ref, filename, glyph: int, level: int) -> None:
    """A glyph procedure stream: the same bytes in every file, compressed once per process.

    ``level`` is ``rcParams["pdf.compression"]`` (read once per subset: rcParams are slow).
    """
    key = (str(filename), glyph, level)
    blob = _BLOBS.get(key)
    if blob is None:
        data = _GLYPHS[key[:2]][2]
        packed = zlib.compress(data, level) if level else data
        head = {"Length": len(packed)}
        if level:
            head["Filter"] = _bp.Name("FlateDecode")
        blob = _BLOBS[key] = (_bp.pdfRepr(head) + b"\nstream\n" + packed +
                              b"\nendstream\nendobj\n")
    file.recordXref(ref.id)
    file.fh.write(b"%d 0 obj\n" % ref.id + blob)


def _unicode_cmap(file: _File, filename, subset_index: int, charmap) -> bytes:
    """The ToUnicode CMap of one subset, as ``embedTTF`` writes it for Type 3."""
    groups: list[list[int]] = []
    for code in sorted(charmap):
        if groups and code == groups[-1][1] + 1:
            groups[-1][1] = code
        else:
            groups.append([code, code])

    def hexa(code: int) -> str:
        chars = file._character_tracker.subset_to_unicode(filename, subset_index, code)
        found = _HEX.get(chars)
        if found is None:
            found = _HEX[chars] = f"<{chars.encode('utf-16be').hex()}>"
        return found

    ranges = [f"<{a:02x}> <{b:02x}> [{' '.join(hexa(c) for c in range(a, b + 1))}]"
              for a, b in groups]
    return file._identityToUnicodeCMap % (len(groups), "\n".join(ranges).encode("ascii"))


class Type3Text:
    """Text of a poster font that is not CID-keyed CFF, as codes of matplotlib's Type 3 subsets.

    The renderer's text operators for such a font (a TrueType poster font):
    matplotlib's character tracker gives each character a (subset, code)
    in this file, :func:`embed_type3` writes the subsets.
    """

    def __init__(self, file: _File, font, path: str) -> None:
        from matplotlib.font_manager import FontPath

        self.file, self.font, self.path = file, font, path
        self.codes: dict[str, tuple[int, int]] = {}   # char → (subset, code) in this file
        self.fonts: dict[int, bytes] = {}              # subset → its font's name operand
        self.font_path = FontPath(font.fname, font.face_index)

    def code(self, char: str, index: int) -> tuple[int, int]:
        """(subset, character code) of ``char`` in this file."""
        code = self.codes.get(char)
        if code is None:
            code = self.codes[char] = self.file._character_tracker.track_glyph(
                self.font, char, index)
        return code

    def halo_ops(self, s, glyphs, size, x, y, angle, width) -> bytes:
        """Glyph outlines where the viewer draws them: each subset's piece starts at the pen."""
        k, a = size / 1000, math.radians(angle)
        cos, sin = math.cos(a) * k, math.sin(a) * k
        out = [b"q ", nums(cos, sin, -sin, cos, x, y), b" cm ", nums(width / k),
               b" w 1 j 0 J 1 1 1 RG 1 1 1 rg"]
        subset_now, units, pen = None, 0.0, 0.0
        for char, (index, advance) in zip(s, glyphs, strict=True):
            subset = self.code(char, index)[0]
            if subset != subset_now:
                subset_now, units = subset, pen * 1000
            glyph_width, path = outline(self.path, index)
            if path:
                out += [b"\nq 1 0 0 1 ", nums(units, 0), b" cm ", path, b"S Q"]
            units += glyph_width
            pen += advance
        out.append(b"\nQ\n")
        return b"".join(out)

    def text_ops(self, s, glyphs, size, out: list[bytes]) -> bytes:
        """``out`` (the operators up to ``cm``) followed by the text, subset by subset."""
        out.append(b" cm BT")
        fonts, size_ops = self.fonts, b" " + nums(size) + b" Tf "
        subset_now, start, pen, chunk = None, 0.0, 0.0, bytearray()
        for char, (index, advance) in zip(s, glyphs, strict=True):
            subset, charcode = self.codes.get(char) or self.code(char, index)
            if subset != subset_now:
                if chunk:
                    out += [b" [", _bp.pdfRepr(bytes(chunk)), b"] TJ"]
                    chunk = bytearray()
                name = fonts.get(subset)
                if name is None:
                    name = fonts[subset] = b" " + _bp.pdfRepr(
                        self.file.fontName(self.font_path, subset))
                out += [name, size_ops, nums(pen - start, 0), b" Td"]
                subset_now, start = subset, pen
            chunk.append(charcode)
            pen += advance * size
        if chunk:
            out += [b" [", _bp.pdfRepr(bytes(chunk)), b"] TJ"]
        out.append(b" ET Q\n")
        return b"".join(out)

"""One composite (Type 0, CID-keyed CFF) font per PDF file for the poster font.

Part of the one guarded package :mod:`battlemap.render.pdf._mpl` (it uses no
private API of matplotlib, but the fast path is its only user). Text of the
poster font is written as 2-byte codes, Identity-H: a code is the CID and a
CID is the font's glyph id (a character whose glyph a lower code point shows
too has a CID of its own above them, :attr:`Font.aliases`). The embedded font program (FontFile3,
``CIDFontType0C``) is a CID-keyed CFF subset assembled here from per-glyph
pieces cached per process:

- each glyph's Type 2 charstring, desubroutinized once (fontTools), so the
  subset needs no Subrs;
- each Font DICT's Private DICT, compiled once without its Subrs.

Assembling a file's font is then byte concatenation: the INDEXes, a format 0
charset (subset glyph → CID), a format 0 FDSelect (subset glyph → FD of the
subset) and a Top DICT whose offsets are fixed 5-byte integers, so the
layout is computed in one pass. :func:`font_objects` writes the PDF objects
(Type 0 font, CIDFontType0 with its W array, descriptor, font file, ToUnicode
CMap) as bytes, for a file being written (:class:`._File`) and for the
merged font of a joined atlas (:mod:`battlemap.render.pdf.join`) alike.
"""

from __future__ import annotations

import functools
import hashlib
import io
import string
import threading
import zlib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

__all__ = ["MARK", "Font", "assemble", "font", "font_objects"]

MARK = b"/BmCID true"
"""Private entry of our Type 0 font dictionaries: their codes are CIDs of :class:`Font`."""

_STD_STRINGS = 391
"""Count of the CFF standard strings: the first custom string has SID 391."""


def _int(value: int) -> bytes:
    """A DICT integer operand, shortest form."""
    if -107 <= value <= 107:
        return bytes([value + 139])
    if 108 <= value <= 1131:
        value -= 108
        return bytes([(value >> 8) + 247, value & 0xFF])
    if -1131 <= value <= -108:
        value = -value - 108
        return bytes([(value >> 8) + 251, value & 0xFF])
    if -32768 <= value <= 32767:
        return b"\x1c" + value.to_bytes(2, "big", signed=True)
    return _int5(value)


def _int5(value: int) -> bytes:
    """A DICT integer in the fixed 5-byte form (offsets known only later keep their size)."""
    return b"\x1d" + value.to_bytes(4, "big", signed=True)


def _operand(value) -> bytes:
    from fontTools.misc.psCharStrings import encodeFloat

    if isinstance(value, float) and not value.is_integer():
        return encodeFloat(value)
    return _int(int(value))


def _op(code) -> bytes:
    return bytes(code) if isinstance(code, tuple) else bytes([code])


def _index(items: list[bytes]) -> bytes:
    """A CFF INDEX of ``items``."""
    if not items:
        return b"\x00\x00"
    offsets = [1]
    for item in items:
        offsets.append(offsets[-1] + len(item))
    size = next(n for n in (1, 2, 3, 4) if offsets[-1] < 1 << (8 * n))
    return (len(items).to_bytes(2, "big") + bytes([size]) +
            b"".join(o.to_bytes(size, "big") for o in offsets) + b"".join(items))


def _index_length(count: int, data: int) -> int:
    """The length of an INDEX of ``count`` items holding ``data`` bytes."""
    if not count:
        return 2
    size = next(n for n in (1, 2, 3, 4) if data + 1 < 1 << (8 * n))
    return 3 + (count + 1) * size + data


def _matrix(raw: Mapping[str, object]) -> bytes:
    """The FontMatrix entry of a Top or Font DICT, if ``raw`` has one."""
    matrix = raw.get("FontMatrix")
    return b"" if matrix is None else b"".join(_operand(float(v)) for v in matrix) + b"\x0c\x07"


def _private(raw: Mapping[str, object]) -> bytes:
    """A Private DICT of ``raw`` (fontTools' decompiled values) without Subrs."""
    from fontTools.cffLib import privateDictOperators

    out = []
    for code, name, kind, _default, _conv in privateDictOperators:
        if name not in raw or name == "Subrs" or kind == "blendList":
            continue
        value = raw[name]
        if kind == "delta":
            values = [b - a for a, b in zip([0, *value[:-1]], value, strict=True)]
        else:
            values = value if isinstance(value, list) else [value]
        out.append(b"".join(_operand(v) for v in values) + _op(code))
    return b"".join(out)


class Font:
    """What a font file's subsets are made of, filled per glyph as glyphs are asked for.

    Parameters
    ----------
    path
        A CID-keyed CFF OpenType font (the poster font).
    """

    def __init__(self, path: str) -> None:
        from fontTools.ttLib import TTFont, TTLibError

        self.lock = threading.Lock()
        try:    # a recent fontTools (matplotlib asks only for 4.22): else Type 3 subsets
            from fontTools.cffLib.transforms import desubroutinizeCharString  # noqa: F401
        except ImportError as err:
            raise _NotCIDError(path) from err
        try:    # read into memory: no file left open for the life of the process
            self._tt = TTFont(io.BytesIO(Path(path).read_bytes()), lazy=True)
        except TTLibError as err:         # a collection, or no OpenType font at all
            raise _NotCIDError(path) from err
        if "CFF " not in self._tt:
            raise _NotCIDError(path)
        cff = self._tt["CFF "].cff
        self._top = top = cff.topDictIndex[0]
        if not hasattr(top, "FDArray") or not hasattr(top, "ROS"):
            raise _NotCIDError(path)
        self.name = cff.fontNames[0]
        """The PostScript name."""
        self.units = self._tt["head"].unitsPerEm
        self.count = self._tt["maxp"].numGlyphs
        self._order = self._tt.getGlyphOrder()
        self._hmtx = self._tt["hmtx"]
        self.cmap = self._tt.getBestCmap()
        """Code point → glyph name."""
        self._gid = {name: i for i, name in enumerate(self._order)}
        self.aliases = self._aliases()
        """Character → its CID, for a character whose glyph another character (a lower code
        point) shows too: ``·`` ``•`` ``・`` share one glyph, each reads back as itself."""
        self._alias_gid = {cid: self.gid(char) for char, cid in self.aliases.items()}
        self.privates = [_private(fd.Private.rawDict) for fd in top.FDArray]
        """Each FD's Private DICT, compiled without Subrs."""
        self.fd_heads = [_matrix(fd.rawDict) for fd in top.FDArray]
        """Each Font DICT's entries but its Private: its FontMatrix, if it has one."""
        notice = top.rawDict.get("Notice", "").encode("latin-1", "replace")
        self.strings = _index([b"Adobe", b"Identity", notice])
        self.head = (_int(_STD_STRINGS) + _int(_STD_STRINGS + 1) + _int(0) + b"\x0c\x1e"
                     + _int(_STD_STRINGS + 2) + b"\x01"
                     + b"".join(_int(v) for v in top.FontBBox) + b"\x05"
                     + _int(self.count + len(self.aliases)) + b"\x0c\x22" + _matrix(top.rawDict))
        """The Top DICT's entries that do not depend on the subset (ROS, Notice, …)."""
        self.descriptor = self._descriptor()
        """The FontDescriptor's entries that do not depend on the subset."""
        self.glyphs: dict[int, tuple[bytes, int, int]] = {}
        """CID → (charstring without subroutine calls, FD index, width in 1/1000 em)."""

    def _descriptor(self) -> bytes:
        os2, post, hhea = self._tt["OS/2"], self._tt["post"], self._tt["hhea"]

        def em(v: float) -> int:
            return round(v * 1000 / self.units)

        return b"/Flags 4 /FontBBox [%s] /ItalicAngle %s /Ascent %d /Descent %d /CapHeight %d " \
            b"/StemV %d" % (b" ".join(b"%d" % em(v) for v in self._top.FontBBox),
                             b"%g" % post.italicAngle, em(hhea.ascent),    # as the Type 3 fonts had
                             em(hhea.descent), em(getattr(os2, "sCapHeight", 0)),
                             em(self._top.FDArray[0].Private.rawDict.get("StdVW", 0)))

    def _aliases(self) -> dict[str, int]:
        first: dict[str, int] = {}
        others = []
        for point in sorted(self.cmap):
            if first.setdefault(self.cmap[point], point) != point:
                others.append(chr(point))
        room = 0xFFFF - self.count           # 2-byte codes: an alias beyond keeps the glyph id
        return {char: self.count + k for k, char in enumerate(others[:room])}

    def gid(self, char: str) -> int:
        """The glyph id of ``char`` (0 when the font lacks it)."""
        name = self.cmap.get(ord(char))
        return 0 if name is None else self._gid[name]

    def code(self, char: str, gid: int) -> int:
        """The CID (and 2-byte code) of ``char``, shown by glyph ``gid``: the glyph id but for
        an alias (see :attr:`aliases`)."""
        return self.aliases.get(char, gid)

    def glyph(self, cid: int) -> tuple[bytes, int, int]:
        """(charstring, FD index, width in 1/1000 em) of CID ``cid``, made once."""
        found = self.glyphs.get(cid)
        if found is None:
            with self.lock:
                found = self.glyphs.get(cid)
                if found is None:
                    found = self.glyphs[cid] = self._make(self._alias_gid.get(cid, cid))
        return found

    def _make(self, gid: int) -> tuple[bytes, int, int]:
        from fontTools.cffLib.transforms import desubroutinizeCharString
        from fontTools.misc.psCharStrings import T2CharString

        name = self._order[gid]
        charstring, fd = self._top.CharStrings.getItemAndSelector(name)
        desubroutinizeCharString(charstring)
        compiled = T2CharString(program=charstring.program)
        compiled.compile()
        width = round(self._hmtx[name][0] * 1000 / self.units)
        return compiled.bytecode, fd or 0, width

    def widths(self, cids: Iterable[int]) -> dict[int, int]:
        """Width in 1/1000 em of each CID of ``cids``."""
        return {c: self.glyph(c)[2] for c in cids}


_FONTS: dict[str, Font | None] = {}
_LOCK = threading.Lock()


def font(path: str) -> Font | None:
    """The process's :class:`Font` of the font file at ``path``; None if not CID-keyed CFF."""
    try:
        return _FONTS[path]
    except KeyError:
        pass
    with _LOCK:
        if path not in _FONTS:
            try:
                _FONTS[path] = Font(path)
            except _NotCIDError:
                _FONTS[path] = None
        return _FONTS[path]


class _NotCIDError(Exception):
    """The font file is not a CID-keyed CFF OpenType font (or fontTools cannot subset it)."""


def assemble(f: Font, gids: list[int]) -> bytes:
    """The CID-keyed CFF of CIDs ``gids`` (sorted, starting with 0) of ``f``.

    A CID is the glyph id (or an alias's, see :attr:`Font.aliases`).
    """
    glyphs = [f.glyph(g) for g in gids]
    used = sorted({fd for _, fd, _ in glyphs})
    new_fd = {fd: k for k, fd in enumerate(used)}
    charset = b"\x00" + b"".join(g.to_bytes(2, "big") for g in gids[1:])
    fdselect = b"\x00" + bytes(new_fd[fd] for _, fd, _ in glyphs)
    charstrings = _index([cs for cs, _, _ in glyphs])
    name = _index([f.name.encode("ascii")])
    top_length = len(f.head) + 4 * 5 + 1 + 2 + 1 + 2    # four 5-byte offsets, four operators
    at = 4 + len(name) + _index_length(1, top_length) + len(f.strings) + 2
    charset_at, fdselect_at = at, at + len(charset)
    charstrings_at = fdselect_at + len(fdselect)
    fdarray_at = charstrings_at + len(charstrings)
    private_at = fdarray_at + _index_length(
        len(used), sum(len(f.fd_heads[fd]) + 11 for fd in used))
    fd_dicts = []
    for fd in used:
        size = len(f.privates[fd])
        fd_dicts.append(f.fd_heads[fd] + _int5(size) + _int5(private_at) + b"\x12")
        private_at += size
    top = (f.head + _int5(charset_at) + b"\x0f" + _int5(fdselect_at) + b"\x0c\x25"
           + _int5(charstrings_at) + b"\x11" + _int5(fdarray_at) + b"\x0c\x24")
    out = b"".join([b"\x01\x00\x04\x04", name, _index([top]), f.strings, b"\x00\x00", charset,
                    fdselect, charstrings, _index(fd_dicts), *(f.privates[fd] for fd in used)])
    assert len(top) == top_length and len(out) == private_at, "CFF layout"
    return out


def _tag(gids: list[int]) -> str:
    """Six capital letters naming the subset (PDF 1.7, 9.6.4), the same for the same glyphs."""
    digest = hashlib.sha1(b"".join(g.to_bytes(2, "big") for g in gids)).digest()
    return "".join(string.ascii_uppercase[b % 26] for b in digest[:6])


def _w_array(widths: dict[int, int], default: int) -> bytes:
    """The W array: runs of consecutive CIDs whose width is not ``default``."""
    out, run, last = [], [], -2
    for cid in sorted(widths):
        w = widths[cid]
        if w == default:
            continue
        if cid != last + 1 and run:
            out.append(b"%d [%s]" % (run[0], b" ".join(b"%d" % v for v in run[1:])))
            run = []
        if not run:
            run = [cid]
        run.append(w)
        last = cid
    if run:
        out.append(b"%d [%s]" % (run[0], b" ".join(b"%d" % v for v in run[1:])))
    return b"[" + b" ".join(out) + b"]"


_CMAP = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <ffff>
endcodespacerange
%s
endcmap
CMapName currentdict /CMap defineresource pop
end
end"""


def _to_unicode(chars: Mapping[int, str]) -> bytes:
    """The ToUnicode CMap: each 2-byte code (a glyph id) → its characters."""
    items = [_bfchar(g, chars[g]) for g in sorted(chars)]
    blocks = [b"%d beginbfchar\n%s\nendbfchar" % (len(items[k:k + 100]), b"\n".join(items[k:k + 100]))
              for k in range(0, len(items), 100)]
    return _CMAP % b"\n".join(blocks)


@functools.cache
def _bfchar(code: int, text: str) -> bytes:
    """One ToUnicode entry, made once per process (a poster's few hundred cost 0.5 ms)."""
    return b"<%04x> <%s>" % (code, text.encode("utf-16-be").hex().encode("ascii"))


def _stream(head: bytes, data: bytes, level: int) -> bytes:
    if level:
        data = zlib.compress(data, level)
        head += b" /Filter /FlateDecode"
    return b"<<%s /Length %d >>\nstream\n" % (head, len(data)) + data + b"\nendstream\n"


def font_objects(path: str, chars: Mapping[int, str], top: int, new: Callable[[], int],
                 level: int) -> list[tuple[int, bytes]]:
    """The objects of one Type 0 font holding glyphs ``chars`` (glyph id → its text) as bodies.

    Parameters
    ----------
    path
        The font file.
    chars
        Glyph id → the characters it shows (for ToUnicode); .notdef is added.
    top
        The object number of the Type 0 font dictionary (the one referenced).
    new
        Gives the number of a new object.
    level
        zlib level of the font file and ToUnicode streams (0: uncompressed). Measured on
        a grid poster's font (280 glyphs, 36.6 KB): 9 % smaller, 1.1 ms at any level.

    Returns
    -------
    list of (object number, body)
        The font dictionary first; each body as written after ``N 0 obj``.
    """
    f = font(path)
    gids = sorted({0, *chars})
    base = f"{_tag(gids)}+{f.name}".encode("ascii")
    cidfont, desc, program, cmap = new(), new(), new(), new()
    data = assemble(f, gids)
    widths = f.widths(gids)
    return [
        (top, b"\n<< /Type /Font /Subtype /Type0 /BaseFont /%s-Identity-H /Encoding /Identity-H "
              b"/DescendantFonts [ %d 0 R ] /ToUnicode %d 0 R %s >>\n" % (base, cidfont, cmap, MARK)),
        (cidfont, b"\n<< /Type /Font /Subtype /CIDFontType0 /BaseFont /%s /CIDSystemInfo "
                  b"<< /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor "
                  b"%d 0 R /DW 1000 /W %s >>\n" % (base, desc, _w_array(widths, 1000))),
        (desc, b"\n<< /Type /FontDescriptor /FontName /%s %s /FontFile3 %d 0 R >>\n" % (
            base, f.descriptor, program)),
        (program, b"\n" + _stream(b" /Subtype /CIDFontType0C", data, level)),
        (cmap, b"\n" + _stream(b"", _to_unicode(chars), level)),
    ]

"""PDF objects as bytes: reading our own simple PDFs, writing a file, sharing repeated objects.

The byte-level tools under :mod:`.join` and :mod:`.layer`: content streams
are never parsed, only object dictionaries (where references live).
"""

from __future__ import annotations

import functools
import io
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping, MutableMapping

__all__ = ["NotClassicError", "Split", "SplitObjects", "classic_objects", "nums", "our_fonts",
           "serialise", "share", "split_stream", "stream"]


def nums(*values: float) -> bytes:
    """Numbers as PDF content-stream operands (at most four decimals, no trailing zeros)."""
    return " ".join(f"{v:.4f}".rstrip("0").rstrip(".") if v % 1 else str(int(v))
                    for v in values).encode("ascii")


def split_stream(body: bytes) -> tuple[bytes, bytes]:
    """(dictionary part, stream data part) of an object body; references live only in the first."""
    found = _STREAM.search(body)
    return (body[:found.end()], body[found.end():]) if found else (body, b"")


class NotClassicError(ValueError):
    """A PDF with a structure the byte-level joiner does not handle."""


_STARTXREF = re.compile(rb"startxref\s+(\d+)\s+%%EOF\s*$")
_REF = re.compile(rb"(?<![\d.])(\d+) 0 R(?![\w])")
_STREAM = re.compile(rb">>\s*stream\r?\n")
_KIDS = re.compile(rb"/Kids\s*\[([^\]]*)\]")
_MEDIABOX = re.compile(rb"/MediaBox\s*\[\s*([-\d.\s]+)\]")
_CONTENTS = re.compile(rb"/Contents\s+(\d+ 0 R|\[[^\]]*\])")


def classic_objects(data: bytes) -> tuple[dict[int, bytes], list[int], set[int]]:
    """(objects by number, page numbers, numbers not to copy) of a simple PDF."""
    end = _STARTXREF.search(data[-64:])
    if not end:
        raise NotClassicError("no startxref")
    at = int(end[1])
    if not data.startswith(b"xref", at):
        raise NotClassicError("cross-reference stream")
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
        raise NotClassicError("incremental update or encryption")
    root = re.search(rb"/Root\s+(\d+) 0 R", trailer)
    info = re.search(rb"/Info\s+(\d+) 0 R", trailer)
    if not root:
        raise NotClassicError("no /Root")
    order = sorted(offsets, key=offsets.get)
    objects: dict[int, bytes] = {}
    for i, num in enumerate(order):
        start, stop = offsets[num], offsets[order[i + 1]] if i + 1 < len(order) else at
        prefix = b"%d 0 obj" % num
        if not data.startswith(prefix, start):
            raise NotClassicError(f"object {num} not at its offset")
        start += len(prefix)
        end = data.rindex(b"endobj", start, stop)
        if data.find(b"/ObjStm", start, min(end, start + 200)) >= 0:
            raise NotClassicError("object stream")
        objects[num] = data[start:end]
    catalog = objects[int(root[1])]
    pages_ref = re.search(rb"/Pages\s+(\d+) 0 R", catalog)
    if not pages_ref:
        raise NotClassicError("no page tree")
    pages_node = int(pages_ref[1])
    kids = _KIDS.search(objects[pages_node])
    pages = [int(n) for n in _REF.findall(kids[1])] if kids else []
    if not pages or any(b"/Type /Pages" in objects.get(n, b"") for n in pages):
        raise NotClassicError("nested page tree")
    skip = {int(root[1]), pages_node} | ({int(info[1])} if info else set())
    return objects, pages, skip


class Split:
    """An object's body cut at its references: ``lits[0] refs[0] lits[1] … lits[-1]`` + ``tail``.

    ``refs`` are object numbers (each written ``N 0 R`` in the body); only
    the dictionary part is cut, ``tail`` is the stream data (if any) as is.
    """

    __slots__ = ("lits", "refs", "tail")

    def __init__(self, body: bytes, base: int = 0) -> None:
        head, self.tail = split_stream(body)
        pieces = _REF.split(head)
        self.lits = tuple(pieces[0::2])
        self.refs = tuple(int(n) + base for n in pieces[1::2])

    def join(self, refs: Iterable[bytes]) -> bytes:
        """The body with each reference written as the next of ``refs``."""
        pieces = [b""] * (2 * len(self.lits) - 1)
        pieces[0::2] = self.lits
        pieces[1::2] = refs
        return b"".join(pieces) + self.tail

    def body(self) -> bytes:
        """The body as PDF bytes."""
        return self.join(b"%d 0 R" % n for n in self.refs)


def cut(body: bytes, base: int = 0) -> bytes | Split:
    """``body`` itself when it holds no reference (most objects: glyph procedures), else cut."""
    if b" 0 R" not in body:
        return body
    split = Split(body, base)
    return split if split.refs else body


class SplitObjects(MutableMapping[int, bytes]):
    """Objects by number, each held :func:`cut` at its references; read and written as bytes.

    What :func:`share` works on: each dictionary is searched for references
    once, when it is stored, however often it is renumbered or compared.
    Insertion order is kept, as in a dict.
    """

    def __init__(self) -> None:
        self.split: dict[int, bytes | Split] = {}

    def add(self, num: int, body: bytes, base: int = 0) -> None:
        """Store ``body`` as object ``num``, each of its references ``n`` read as ``n + base``."""
        self.split[num] = cut(body, base)

    def __getitem__(self, num: int) -> bytes:
        entry = self.split[num]
        return entry if isinstance(entry, bytes) else entry.body()

    def __setitem__(self, num: int, body: bytes) -> None:
        self.split[num] = cut(body)

    def __delitem__(self, num: int) -> None:
        del self.split[num]

    def __contains__(self, num: object) -> bool:
        return num in self.split

    def __iter__(self) -> Iterator[int]:
        return iter(self.split)

    def __len__(self) -> int:
        return len(self.split)


def share(objects: Mapping[int, bytes], keep: Iterable[int] = ()) -> tuple[dict[int, bytes],
                                                                          dict[int, int]]:
    """``objects`` with every repeated object written once; (objects renumbered, old → new).

    Two objects are the same when their bytes are equal once each reference
    is replaced by what it points at (so the glyph procedures, fonts, layer
    forms and images that the posters of an atlas have in common are kept
    once). Objects in ``keep`` (pages, the catalog) are never merged. Numbers
    are made consecutive from 1, in the order of ``objects``.

    The comparison is exact: an object without references is its own bytes,
    one with references the tuple (text between them, what each points at,
    stream data), so a dict finds the equal ones (no digest, no parsing again).
    """
    split = (objects.split if isinstance(objects, SplitObjects)
             else {num: cut(body) for num, body in objects.items()})
    keep = set(keep)
    ids: dict[object, int] = {}       # an object's contents → its class of equal objects (≥ 0)
    keys: dict[int, int] = {}
    busy: set[int] = set()

    def key(num: int) -> int:
        found = keys.get(num)
        if found is not None:
            return found
        entry = split.get(num)
        if entry is None or num in keep or num in busy:   # a cycle: the object stays itself
            return -1 - num
        if isinstance(entry, bytes):
            canon: object = entry
        else:
            busy.add(num)
            canon = (entry.lits, tuple([key(n) for n in entry.refs]), entry.tail)
            busy.discard(num)
        found = keys[num] = ids.setdefault(canon, len(ids))
        return found

    first: dict[int, int] = {}
    renum: dict[int, int] = {}
    for num in split:
        renum[num] = first.setdefault(key(num), len(first) + 1)
    out: dict[int, bytes] = {}
    for num, entry in split.items():
        new = renum[num]
        if new not in out:
            out[new] = entry if isinstance(entry, bytes) else entry.join(
                [b"%d 0 R" % renum.get(n, 0) for n in entry.refs])
    return out, renum


def serialise(objects: dict[int, bytes], renum: dict[int, int], info: int) -> bytes:
    """A PDF file of ``objects`` (numbered 1…n), catalog ``renum[1]``, info ``renum[info]``."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xac\xdc \xab\xba\n")
    offsets = []
    for num in range(1, len(objects) + 1):
        offsets.append(out.tell())
        body = objects[num]
        out.write(b"%d 0 obj" % num + body + (b"endobj\n" if body.endswith(b"\n") else
                                               b"\nendobj\n"))
    xref = out.tell()
    size = len(objects) + 1
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    out.write(b"".join(b"%010d 00000 n \n" % off for off in offsets))
    out.write(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        size, renum[1], renum[info], xref))
    return out.getvalue()


_OURS = b"/BmCID true"          # see battlemap.render.pdf._mpl.cid.MARK
_DESCENDANT = re.compile(rb"/DescendantFonts\s*\[\s*(\d+) 0 R\s*\]")
_TO_UNICODE = re.compile(rb"/ToUnicode\s+(\d+) 0 R")
_DESCRIPTOR = re.compile(rb"/FontDescriptor\s+(\d+) 0 R")
_FONT_FILE = re.compile(rb"/FontFile3\s+(\d+) 0 R")
_LENGTH = re.compile(rb"/Length\s+(\d+)(?!\s+0 R)")
_BFCHAR = re.compile(rb"<([0-9a-fA-F]{4})>\s*<([0-9a-fA-F]*)>")


def our_fonts(objects: Mapping[int, bytes]) -> dict[int, tuple[dict[int, str], set[int]]]:
    """Our composite fonts in ``objects``: dictionary number → (glyph id → text, its other objects).

    The fonts the fast path writes (:mod:`._mpl.cid`): their codes are glyph
    ids of the poster font, their ToUnicode CMap lists every glyph they hold.
    """
    found = {}
    for num, body in objects.items():
        if _OURS not in body or b"/Type0" not in body:
            continue
        descendant, to_unicode = _DESCENDANT.search(body), _TO_UNICODE.search(body)
        if not descendant or not to_unicode:
            raise NotClassicError(f"font {num} without its descendant or ToUnicode")
        cidfont, cmap = int(descendant[1]), int(to_unicode[1])
        descriptor = _DESCRIPTOR.search(objects.get(cidfont, b""))
        program = descriptor and _FONT_FILE.search(objects.get(int(descriptor[1]), b""))
        if not program:
            raise NotClassicError(f"font {num} without its descriptor or font file")
        head, data = split_stream(objects[cmap])
        length = _LENGTH.search(head)
        if not length:
            raise NotClassicError(f"font {num}: ToUnicode without a direct /Length")
        data = data[:int(length[1])]
        if b"/FlateDecode" in head:
            data = zlib.decompress(data)
        chars = dict(_bfchar(g, u) for g, u in _BFCHAR.findall(data))
        found[num] = (chars, {cidfont, cmap, int(descriptor[1]), int(program[1])})
    return found


@functools.lru_cache(maxsize=65_536)
def _bfchar(code: bytes, text: bytes) -> tuple[int, str]:
    """One ToUnicode entry read: (glyph id, its text). Once per process: the posters of an
    atlas share most glyphs (石滩镇's 289 pages: ~128,000 entries, a few hundred distinct)."""
    return int(code, 16), bytes.fromhex(text.decode("ascii")).decode("utf-16-be")


def stream(data: bytes) -> bytes:
    """A stream object's body holding ``data`` uncompressed."""
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


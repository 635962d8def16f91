"""PDF objects as bytes: reading our own simple PDFs, writing a file, sharing repeated objects.

The byte-level tools under :mod:`.join` and :mod:`.layer`: content streams
are never parsed, only object dictionaries (where references live).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable, Mapping

__all__ = ["NotClassicError", "classic_objects", "nums", "serialise", "share", "split_stream",
           "stream"]


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
        stop = offsets[order[i + 1]] if i + 1 < len(order) else at
        chunk = data[offsets[num]:stop]
        prefix = b"%d 0 obj" % num
        if not chunk.startswith(prefix):
            raise NotClassicError(f"object {num} not at its offset")
        body = chunk[len(prefix):chunk.rindex(b"endobj")]
        if b"/ObjStm" in body[:200]:
            raise NotClassicError("object stream")
        objects[num] = body
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


def share(objects: Mapping[int, bytes], keep: Iterable[int] = ()) -> tuple[dict[int, bytes],
                                                                          dict[int, int]]:
    """``objects`` with every repeated object written once; (objects renumbered, old → new).

    Two objects are the same when their bytes are equal once each reference
    is replaced by what it points at (so the glyph procedures, fonts, layer
    forms and images that the posters of an atlas have in common are kept
    once). Objects in ``keep`` (pages, the catalog) are never merged. Numbers
    are made consecutive from 1, in the order of ``objects``.
    """
    keep = set(keep)
    keys: dict[int, bytes] = {}
    busy: set[int] = set()

    def key(num: int) -> bytes:
        found = keys.get(num)
        if found is not None:
            return found
        body = objects.get(num)
        if body is None or num in keep or num in busy:   # a cycle: the object stays itself
            return b"#%d" % num
        busy.add(num)
        head, tail = split_stream(body)
        canon = _REF.sub(lambda m: key(int(m[1])) + b" R", head)
        busy.discard(num)
        found = keys[num] = hashlib.blake2b(canon + tail, digest_size=16).hexdigest().encode()
        return found

    first: dict[bytes, int] = {}
    renum: dict[int, int] = {}
    for num in objects:
        k = key(num)
        if k not in first:
            first[k] = len(first) + 1
        renum[num] = first[k]
    out: dict[int, bytes] = {}
    for num, body in objects.items():
        if renum[num] not in out:
            head, tail = split_stream(body)
            out[renum[num]] = _REF.sub(lambda m: b"%d 0 R" % renum.get(int(m[1]), 0), head) + tail
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


def stream(data: bytes) -> bytes:
    """A stream object's body holding ``data`` uncompressed."""
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


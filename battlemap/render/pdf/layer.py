"""Layers: a drawing made once and stamped on many pages (the static frame of a poster sheet).

A layer is a one-page PDF of our own. The fast path (:mod:`._mpl`) copies
its objects into each page as bytes, its page content becoming a Form
XObject; nothing is drawn again. When a page is written through the public
path instead, :func:`stack` lays the layers under and over the page with
pypdf's public API (slower, but the same page).
"""

from __future__ import annotations

import io
import re

from battlemap.render.pdf.objects import (
    _CONTENTS,
    _MEDIABOX,
    _REF,
    _STREAM,
    NotClassicError,
    classic_objects,
    our_fonts,
    split_stream,
)

__all__ = ["Layer", "stack"]


class Layer:
    """A drawing made once and stamped on many pages as a Form XObject.

    Made from a one-page PDF written by the fast path: its page content
    becomes the form, its resources (graphics states, images) come along. Its
    text in our composite font (:mod:`._mpl.cid`) is drawn with the page's own
    font instead, which takes the layer's glyphs in: one font per file.

    Parameters
    ----------
    data
        The one-page PDF.

    Raises
    ------
    NotClassicError
        When ``data`` is not a PDF of the simple structure we write.
    """

    def __init__(self, data: bytes) -> None:
        self.pdf = data
        """The one-page PDF itself (for :func:`stack`)."""
        objects, pages, skip = classic_objects(data)
        [page] = pages
        head = objects[page]
        box = _MEDIABOX.search(head)
        contents = _CONTENTS.search(head)
        resources = re.search(rb"/Resources\s+(\d+) 0 R", head)
        if not box or not contents or not resources or b"[" in contents[1]:
            raise NotClassicError("layer page without one content stream and resources")
        self.content = int(contents[1].split()[0])
        """Number of the object that becomes the form."""
        body = objects[self.content]
        if _STREAM.search(body) is None or not body.lstrip().startswith(b"<<"):
            raise NotClassicError("layer content is not a stream")
        start = body.index(b"<<") + 2
        objects[self.content] = (
            body[:start] + b" /Type /XObject /Subtype /Form /BBox [ " + box[1].strip() +
            b" ] /Resources " + resources[1] + b" 0 R" + body[start:])
        objects = _pruned(objects, self.content)
        found = our_fonts(objects)
        self.fonts = {num: chars for num, (chars, _parts) in found.items()}
        """Our composite font's dictionaries → glyph id → text: the page's own font draws them."""
        self.font_parts = {part for _chars, parts in found.values() for part in parts}
        """The objects of those fonts but their dictionaries: not copied."""
        self.objects = {num: split_stream(body) for num, body in objects.items()
                        if num not in skip and num != page}
        """Object number → (dictionary part, stream part), to be renumbered and copied."""
        self.pieces = {num: (_REF.split(head), tail) for num, (head, tail) in self.objects.items()}
        """Object number → (its dictionary part split at references, stream part).

        The split alternates text and the number of a referenced object (the
        ``0 R`` left out), so that each page renumbers without a regex.
        """


_EMPTY = re.compile(rb"\s*<<\s*>>\s*")
_LENGTH = re.compile(rb"/Length (\d+) 0 R")
_PROCSET = re.compile(rb"\s*/ProcSet\s*\[[^\]]*\]")


def _pruned(objects: dict[int, bytes], form: int) -> dict[int, bytes]:
    """The objects the form ``form`` uses, with less said: stamped on every page, bytes count.

    Lengths are written into the stream dictionaries, resource entries that
    name an empty dictionary and the obsolete ``/ProcSet`` are left out, and
    so is every object the form does not reach (the page's ``/Annots``).
    Measured on a grid A4 of the sample: 36 → 26 objects in the file, 0.6 KB less.
    """
    lengths = {num: body.strip() for num, body in objects.items() if body.strip().isdigit()}
    empty = {num for num, body in objects.items() if _EMPTY.fullmatch(body)}

    def length(found: re.Match) -> bytes:
        value = lengths.get(int(found[1]))
        return found[0] if value is None else b"/Length " + value

    def tidy(body: bytes) -> bytes:
        head, tail = split_stream(body)
        head = _LENGTH.sub(length, head)
        for num in empty:
            head = re.sub(rb"\s*/[^\s/<>\[\]()]+\s+%d 0 R(?![\w])" % num, b"", head)
        return _PROCSET.sub(b"", head) + tail

    tidied = {num: tidy(body) for num, body in objects.items()}
    reached, todo = set(), [form]
    while todo:
        num = todo.pop()
        if num in reached or num not in tidied:
            continue
        reached.add(num)
        todo += (int(n) for n in _REF.findall(split_stream(tidied[num])[0]))
    return {num: body for num, body in tidied.items() if num in reached}


def stack(page: bytes, under: Layer | None, over: Layer | None) -> bytes:
    """The one-page PDF ``page`` with ``under`` below and ``over`` above it (pypdf, public API)."""
    from pypdf import PdfReader, PdfWriter

    top = PdfReader(io.BytesIO(page))
    writer = PdfWriter()
    if under is not None:
        base = writer.add_page(PdfReader(io.BytesIO(under.pdf)).pages[0])
        base.merge_page(top.pages[0])
    else:
        base = writer.add_page(top.pages[0])
    if over is not None:
        base.merge_page(PdfReader(io.BytesIO(over.pdf)).pages[0])
    if top.metadata:
        writer.add_metadata(dict(top.metadata))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()

"""What a reader uses to find a page in a joined PDF: page numbers, an outline, links.

Written as bytes on the byte path of :func:`.join.concatenate`, through
pypdf's public API on its other path; the same navigation either way.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from battlemap.render.pdf.objects import NotClassicError, nums, serialise, stream

__all__ = ["Navigation", "Stamp", "catalog_entries", "link_pages", "navigate_pypdf"]


class Stamp:
    """Page numbers "n / N" at the foot of each page.

    In ``font`` when given: (number of a composite font with 2-byte codes,
    text → (code, width in 1/1000 em) of each character), the joined file's
    one font; else in Helvetica (not embedded).
    """

    SIZE = 7.0

    def __init__(self, new, total: int,
                 font: tuple[int, Callable[[str], list[tuple[int, int]]]] | None = None) -> None:
        self.total = total
        if font is None:
            self.font = new(b"\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
                            b"/Encoding /WinAnsiEncoding >>\n")
            self._glyphs = None
        else:
            self.font, self._glyphs = font

    def ops(self, index: int, width: float) -> bytes:
        text = f"{index + 1} / {self.total}"
        if self._glyphs is None:
            shown = b"(" + text.encode("ascii") + b")"
            units = len(text) * 556          # Helvetica digits and spaces: ~556/1000
        else:
            glyphs = self._glyphs(text)
            shown = b"<" + b"".join(g.to_bytes(2, "big") for g, _ in glyphs).hex().encode() + b">"
            units = sum(w for _, w in glyphs)
        x = width - 28 - units / 1000 * self.SIZE
        return (b"q 0.33 g BT /BmNum " + nums(self.SIZE) + b" Tf " + nums(x, 12) +
                b" Td " + shown + b" Tj ET Q\n")


@dataclass(frozen=True)
class Navigation:
    """What a reader uses to find a page: numbers, an outline, links.

    Parameters
    ----------
    numbers
        Stamp "n / N" at the foot of every page and label the pages 1, 2, … .
    outline
        Bookmarks as (depth, title, page index), in order; depth 0 is the top,
        each entry nests under the nearest entry above it that is one level up.
    links
        Clickable areas as (page index, (x0, y0, x1, y1) in points on that
        page, page index to go to).
    """

    numbers: bool = True
    outline: Sequence[tuple[int, str, int]] = ()
    links: Sequence[tuple[int, tuple[float, float, float, float], int]] = ()


def _text(value: str) -> bytes:
    return b"<" + ("\ufeff" + value).encode("utf-16-be").hex().encode("ascii") + b">"


def link_pages(objects: dict[int, bytes], kids: list[int], nav: Navigation, new) -> None:
    """Write the link annotations of ``nav`` into their pages."""
    by_page: dict[int, list[int]] = {}
    for on, rect, to in nav.links:
        if not (0 <= on < len(kids) and 0 <= to < len(kids)):
            raise ValueError(f"link from page {on} to page {to}: no such page")
        by_page.setdefault(on, []).append(new(
            b"\n<< /Type /Annot /Subtype /Link /Rect [ " + nums(*rect) +
            b" ] /Border [ 0 0 0 ] /Dest [ %d 0 R /Fit ] >>\n" % kids[to]))
    for on, annots in by_page.items():
        head = objects[kids[on]]
        if b"/Annots" in head:
            raise NotClassicError("page with annotations of its own")
        end = head.rindex(b">>")
        objects[kids[on]] = head[:end] + b"/Annots [ %s ] " % b" ".join(
            b"%d 0 R" % a for a in annots) + head[end:]


def catalog_entries(nav: Navigation | None, objects, kids: list[int], new) -> bytes:
    """The catalog's /PageLabels and /Outlines entries for ``nav``."""
    if nav is None:
        return b""
    extra = b" /PageLabels << /Nums [ 0 << /S /D >> ] >>" if nav.numbers else b""
    if nav.outline:
        extra += b" /Outlines %d 0 R /PageMode /UseOutlines" % _outline(objects, kids, nav, new)
    return extra


def _outline(objects, kids: list[int], nav: Navigation, new) -> int:
    """The outline tree of ``nav.outline``; the number of its root."""
    root = new(b"")
    nodes: list[dict] = []
    parents: list[dict] = [{"num": root, "children": [], "depth": -1}]
    for depth, title, page in nav.outline:
        if not 0 <= page < len(kids):
            raise ValueError(f"bookmark {title!r} to page {page}: no such page")
        while parents[-1]["depth"] >= depth:
            parents.pop()
        node = {"num": new(b""), "children": [], "depth": depth, "title": title, "page": page,
                "parent": parents[-1]["num"]}
        parents[-1]["children"].append(node)
        parents.append(node)
        nodes.append(node)

    def links(node: dict) -> bytes:
        kids_ = node["children"]
        if not kids_:
            return b""
        return b" /First %d 0 R /Last %d 0 R /Count %d" % (
            kids_[0]["num"], kids_[-1]["num"], len(kids_) if node["depth"] < 0 else -len(kids_))

    for node in nodes:
        siblings = next(p for p in [parents[0], *nodes] if p["num"] == node["parent"])["children"]
        at = siblings.index(node)
        objects[node["num"]] = (
            b"\n<< /Title " + _text(node["title"]) + b" /Parent %d 0 R" % node["parent"] +
            (b" /Prev %d 0 R" % siblings[at - 1]["num"] if at else b"") +
            (b" /Next %d 0 R" % siblings[at + 1]["num"] if at + 1 < len(siblings) else b"") +
            links(node) + b" /Dest [ %d 0 R /Fit ] >>\n" % kids[node["page"]])
    objects[root] = b"\n<< /Type /Outlines" + links(parents[0]) + b" >>\n"
    return root


def navigate_pypdf(writer, nav: Navigation) -> None:
    """:class:`Navigation` through pypdf's public API."""
    from pypdf import PdfReader
    from pypdf.annotations import Link

    total = len(writer.pages)
    if nav.numbers:
        writer.set_page_label(0, total - 1, style="/D")
        for index, page in enumerate(writer.pages):
            width = float(page.mediabox.width)
            page.merge_page(PdfReader(io.BytesIO(_number_page(index, total, width, float(
                page.mediabox.height)))).pages[0])
    parents: list[tuple[int, object]] = []
    for depth, title, at in nav.outline:
        while parents and parents[-1][0] >= depth:
            parents.pop()
        item = writer.add_outline_item(title=title, page_number=at,
                                       parent=parents[-1][1] if parents else None)
        parents.append((depth, item))
    for on, rect, to in nav.links:
        writer.add_annotation(on, Link(rect=rect, target_page_index=to))


def _number_page(index: int, total: int, width: float, height: float) -> bytes:
    """A one-page PDF with only the page number, to lay over a page (the pypdf path)."""
    objects: dict[int, bytes] = {}

    def new(body: bytes) -> int:
        objects[len(objects) + 1] = body
        return len(objects)

    new(b"\n<< /Type /Catalog /Pages 2 0 R >>\n")
    new(b"\n<< /Type /Pages /Kids [ 3 0 R ] /Count 1 >>\n")
    new(b"")
    stamp = Stamp(new, total)
    content = new(stream(stamp.ops(index, width)))
    objects[3] = (b"\n<< /Type /Page /Parent 2 0 R /MediaBox [ 0 0 " + nums(width, height) +
                  b" ] /Resources << /Font << /BmNum %d 0 R >> >> /Contents %d 0 R >>\n" % (
                      stamp.font, content))
    info = new(b"\n<< >>\n")
    return serialise(objects, {1: 1, info: info}, info)

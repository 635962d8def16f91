"""Word writer: a :class:`~battlemap.render.document.Document` as an editable .docx (A4).

Opens in Word, WPS and LibreOffice. Chinese text needs its font named for
East Asian script (``w:rFonts w:eastAsia``), which python-docx's font API
does not set: every run and every style here names both a Latin and an East
Asian font (仿宋 for text, 黑体 for headings, as Chinese official documents
use; Word and WPS substitute a Chinese font where one is missing, helped by
``w:hint="eastAsia"``). Tables are real tables whose header row repeats on
every page (``w:tblHeader``) and whose rows do not split; charts are PNGs.

Paragraphs and tables are written as WordprocessingML and parsed with
``docx.oxml.parse_xml`` (public API): python-docx's ``add_row`` copies XML
cell by cell and is slow for tables of hundreds of rows.
"""

from __future__ import annotations

import copy
import functools
import io
import re
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor

from battlemap._io import atomic_path
from battlemap.render.document import (
    Colophon,
    Document,
    Figure,
    Heading,
    KeyFigures,
    Letterhead,
    Paragraph,
    Signature,
    Table,
    figure_png,
)

__all__ = ["BODY_FONT", "HEADING_FONT", "TITLE_FONT", "write_docx"]

BODY_FONT = ("Times New Roman", "仿宋")
"""(Latin, East Asian) font of the text and tables."""
HEADING_FONT = ("Arial", "黑体")
"""(Latin, East Asian) font of the title and headings."""
TITLE_FONT = ("Times New Roman", "方正小标宋简体")
"""(Latin, East Asian) font of a letter's red header and title (小标宋; Word and WPS fall back)."""

TEXT_MM = 170.0                     # A4 width less two 20 mm margins
_TWIPS_PER_MM = 1440 / 25.4
_SIZES = {"body": 11.0, "note": 9.0, "list": 9.0, "address": 11.0, "table": 9.0}   # points
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_JC = {"left": "left", "right": "right", "center": "center"}


def write_docx(document: Document, path: Path) -> Path:
    """Write ``document`` as an A4 .docx to ``path`` (atomically)."""
    blank = _blank()
    styles = blank.styles.element          # shared, never changed after _blank: not copied
    word = copy.deepcopy(blank, {id(styles): styles})
    _page_setup(word, document)
    body = word.element.body
    end = body.find(qn("w:sectPr"))
    add = end.addprevious
    if document.mark:
        add(_p(document.mark, 10, document.color("warn"), align="center"))
    if document.letterhead:
        for element in _letterhead(document.letterhead):
            add(element)
    add(_p(document.title, 18, style="Title",
           font=TITLE_FONT if document.letterhead else HEADING_FONT, align="center"))
    if document.meta:
        add(_p(document.meta, _SIZES["note"], "#555555", align="center"))
    blocks, k = document.blocks, 0
    while k < len(blocks):
        block = blocks[k]
        if isinstance(block, Figure):
            pair = blocks[k + 1] if k + 1 < len(blocks) else None
            figures = [block, pair] if (block.width < 1 and isinstance(pair, Figure)
                                        and pair.width < 1) else [block]
            _figures(word, figures)
            k += len(figures)
            continue
        for element in _elements(block, document):
            add(element)
        k += 1
    word.core_properties.title = document.title
    word.core_properties.author = document.creator
    with atomic_path(path) as tmp:
        word.save(str(tmp))
    return path


def _elements(block, document: Document) -> list:
    if isinstance(block, Heading):
        style = "Heading1" if block.level <= 1 else "Heading2"
        size = 14 if block.level <= 1 else 12
        return [_p(block.text, size, document.color(block.tone), style=style, font=HEADING_FONT)]
    if isinstance(block, Paragraph):
        color = document.color(block.tone) if block.tone else (
            "#555555" if block.kind == "note" else document.color(""))
        return [_p(block.text, _SIZES[block.kind], color, indent=block.kind == "body")]
    if isinstance(block, KeyFigures):
        return [_key_figures(block, document)]
    if isinstance(block, Table):
        return [_table(block, document), _p("", 4)]
    if isinstance(block, Signature):
        return [_p("", 11), *(_p(line, 12, align="right", right=2) for line in block.lines)]
    if isinstance(block, Colophon):
        last = len(block.lines) - 1
        return [_p("", 11), *(_p(line, 10.5, border=("top" if k == 0 else "")
                                  + ("bottom" if k == last else ""))
                              for k, line in enumerate(block.lines))]
    raise TypeError(f"not a document block: {block!r}")


# --------------------------------------------------------------------------- XML pieces


def _run(text: str, size: float, color: str = "#222222", font: tuple[str, str] = BODY_FONT
         ) -> str:
    latin, east = (escape(name, {'"': "&quot;"}) for name in font)
    return (f'<w:r><w:rPr><w:rFonts w:ascii="{latin}" w:hAnsi="{latin}" w:cs="{latin}" '
            f'w:eastAsia="{east}" w:hint="eastAsia"/><w:color w:val="{color.lstrip("#")}"/>'
            f'<w:sz w:val="{round(size * 2)}"/><w:szCs w:val="{round(size * 2)}"/></w:rPr>'
            f'<w:t xml:space="preserve">{_x(text)}</w:t></w:r>')


def _letterhead(head: Letterhead) -> list:
    """The issuer in red 小标宋, the number under it, and a red rule (a bottom border)."""
    rule = (f'<w:pBdr><w:bottom w:val="single" w:sz="18" w:space="1" '
            f'w:color="{head.color.lstrip("#")}"/></w:pBdr>')
    return [_p(head.issuer, 26, head.color, font=TITLE_FONT, align="center"),
            _p(head.number, 14, align="center", extra=rule), _p("", 8)]


def _p(text: str, size: float, color: str = "#222222", *, style: str | None = None,
       font: tuple[str, str] = BODY_FONT, align: str | None = None, indent: bool = False,
       xml: bool = True, right: float = 0, border: str = "", extra: str = ""):
    edges = "".join(f'<w:{edge} w:val="single" w:sz="6" w:space="1" w:color="222222"/>'
                    for edge in ("top", "bottom") if edge in border)
    props = f'<w:pStyle w:val="{style}"/>' if style else ""
    props += f"<w:pBdr>{edges}</w:pBdr>" if edges else extra
    props += '<w:spacing w:before="0" w:after="60"/>' if style is None else ""
    props += '<w:ind w:firstLineChars="200" w:firstLine="440"/>' if indent else ""
    props += f'<w:ind w:right="{round(right * size * 20)}"/>' if right else ""
    props += f'<w:jc w:val="{align}"/>' if align else ""
    text_xml = f"<w:p {nsdecls('w')}><w:pPr>{props}</w:pPr>{_run(text, size, color, font)}</w:p>"
    return parse_xml(text_xml) if xml else text_xml


def _cell(text: str, width: float, align: str, size: float, color: str, fill: str = "",
          keep: bool = False) -> str:
    shade = f'<w:shd w:val="clear" w:color="auto" w:fill="{fill}"/>' if fill else ""
    return (f'<w:tc><w:tcPr><w:tcW w:w="{round(width)}" w:type="dxa"/>{shade}</w:tcPr>'
            f'<w:p><w:pPr>{"<w:keepNext/>" if keep else ""}<w:spacing w:before="0" w:after="0"/>'
            f'<w:jc w:val="{_JC[align]}"/></w:pPr>{_run(text, size, color)}</w:p></w:tc>')


def _tbl(widths: Sequence[float], rows_xml: str) -> object:
    line = '<w:{0} w:val="single" w:sz="4" w:space="0" w:color="BFBFBF"/>'
    edges = "".join(line.format(e) for e in ("top", "left", "bottom", "right", "insideH",
                                               "insideV"))
    grid = "".join(f'<w:gridCol w:w="{round(w)}"/>' for w in widths)
    return parse_xml(
        f"<w:tbl {nsdecls('w')}><w:tblPr><w:tblW w:w=\"{round(sum(widths))}\" w:type=\"dxa\"/>"
        f'<w:tblBorders>{edges}</w:tblBorders><w:tblLayout w:type="fixed"/>'
        '<w:tblCellMar><w:left w:w="60" w:type="dxa"/><w:right w:w="60" w:type="dxa"/>'
        f"</w:tblCellMar></w:tblPr><w:tblGrid>{grid}</w:tblGrid>{rows_xml}</w:tbl>")


def _table(table: Table, document: Document):
    keep = [k for k, c in enumerate(table.columns) if not c.screen_only]
    columns = [table.columns[k] for k in keep]
    total = sum(c.width for c in columns)
    widths = [TEXT_MM * _TWIPS_PER_MM * c.width / total for c in columns]
    size = _SIZES["table"]
    together = len(table.rows) <= table.keep_together    # Word: keep with the next row
    head = "".join(_cell(c.header, w, c.align, size, "#333333", "E8EEF5", keep=True)
                   for c, w in zip(columns, widths, strict=True))
    rows = ['<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>' + head + "</w:tr>"]
    for k, row in enumerate(table.rows):
        last = k == len(table.rows) - 1
        rows.append("<w:tr><w:trPr><w:cantSplit/></w:trPr>" + "".join(
            _cell(row[j].text, w, c.align, size, document.color(row[j].tone),
                  keep=together and not last)
            for j, c, w in zip(keep, columns, widths, strict=True)) + "</w:tr>")
    if not table.rows:
        span = len(columns)
        rows.append(f'<w:tr><w:tc><w:tcPr><w:gridSpan w:val="{span}"/></w:tcPr><w:p>'
                    f"{_run(table.empty, size, document.color('muted'))}</w:p></w:tc></w:tr>")
    return _tbl(widths, "".join(rows))


def _key_figures(block: KeyFigures, document: Document):
    width = TEXT_MM * _TWIPS_PER_MM / len(block.items)
    cells = []
    for item in block.items:
        value = _p(item.value, 18, document.color(item.tone), align="center", xml=False)
        label = _p(item.label, 9, "#555555", align="center", xml=False)
        cells.append(f'<w:tc><w:tcPr><w:tcW w:w="{round(width)}" w:type="dxa"/>'
                     '<w:shd w:val="clear" w:color="auto" w:fill="F6F6F6"/></w:tcPr>'
                     f"{_strip_ns(value)}{_strip_ns(label)}</w:tc>")
    return _tbl([width] * len(block.items), "<w:tr>" + "".join(cells) + "</w:tr>")


def _figures(word, figures: list[Figure]) -> None:
    """Charts as PNGs: a single one full width, a pair side by side in a borderless table."""
    if len(figures) == 1:
        _picture(word.add_paragraph(), figures[0], TEXT_MM)
        return
    table = word.add_table(rows=1, cols=len(figures))
    table.autofit = False
    share = TEXT_MM / len(figures)
    for cell, figure in zip(table.rows[0].cells, figures, strict=True):
        cell.width = Mm(share)
        _picture(cell.paragraphs[0], figure, share - 3)


def _picture(paragraph, figure: Figure, width_mm: float) -> None:
    run = paragraph.add_run()
    _fonts(run.element.get_or_add_rPr(), BODY_FONT)
    run.add_picture(io.BytesIO(figure_png(figure)), width=Mm(width_mm))


# --------------------------------------------------------------------------- page and styles


@functools.cache
def _blank():
    """python-docx's blank document with the styles set, made once: each writing copies it.

    Copying the parsed package is about three times cheaper than reading the
    template again and setting the styles (issue 16, 39 letters a build). Its
    styles part (9,000 elements, four fifths of a copy's cost) is shared by
    every copy, not copied: nothing changes a style after this function.
    """
    word = docx.Document()
    _styles(word)
    return word


def _page_setup(word, document: Document) -> None:
    section = word.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin, section.bottom_margin = Mm(20), Mm(18)
    grey = RGBColor(0x77, 0x77, 0x77)
    _add_run(section.header.paragraphs[0], document.title, 8, grey)
    anchor = _add_run(section.footer.paragraphs[0], f"{document.footer}　第 ", 7, grey).element
    for run in _footer_tail():
        anchor.addnext(copy.deepcopy(run))
        anchor = anchor.getnext()


@functools.cache
def _footer_tail() -> tuple:
    """The footer's runs after its text (N 页 / 共 M 页, two fields), made once and copied.

    The same runs in every document: making them with python-docx's run API
    cost about 5 ms a document (issue 16).
    """
    grey = RGBColor(0x77, 0x77, 0x77)
    paragraph = docx.Document().add_paragraph()
    _add_field(paragraph, "PAGE", grey)
    _add_run(paragraph, " 页 / 共 ", 7, grey)
    _add_field(paragraph, "NUMPAGES", grey)
    _add_run(paragraph, " 页", 7, grey)
    return tuple(run.element for run in paragraph.runs)


def _add_run(paragraph, text: str, size: float, color: RGBColor):
    run = paragraph.add_run(_NOT_XML.sub("", text))
    run.font.size, run.font.color.rgb = Pt(size), color
    _fonts(run.element.get_or_add_rPr(), BODY_FONT)
    return run


def _add_field(paragraph, code: str, color: RGBColor) -> None:
    """A field (PAGE, NUMPAGES) that Word, WPS and LibreOffice fill in."""
    for part in (f'<w:fldChar {nsdecls("w")} w:fldCharType="begin"/>',
                 f'<w:instrText {nsdecls("w")} xml:space="preserve"> {code} </w:instrText>',
                 f'<w:fldChar {nsdecls("w")} w:fldCharType="separate"/>', "1",
                 f'<w:fldChar {nsdecls("w")} w:fldCharType="end"/>'):
        run = _add_run(paragraph, part if not part.startswith("<") else "", 7, color)
        if part.startswith("<"):
            run.element.append(parse_xml(part))


def _styles(word) -> None:
    """Latin and East Asian fonts, sizes and black ink on the styles the document uses.

    The document defaults name the fonts too (and Chinese as the East Asian
    language, for line breaking), so styles Word adds later inherit them.
    """
    defaults = word.styles.element.find(qn("w:docDefaults"))
    rpr = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")
    _fonts(rpr, BODY_FONT)
    lang = rpr.find(qn("w:lang"))
    if lang is not None:
        lang.set(qn("w:eastAsia"), "zh-CN")
    for name, font, size in (("Normal", BODY_FONT, 11), ("Title", HEADING_FONT, 18),
                             ("Heading 1", HEADING_FONT, 14), ("Heading 2", HEADING_FONT, 12)):
        style = word.styles[name] if name in word.styles else word.styles.add_style(
            name, WD_STYLE_TYPE.PARAGRAPH)
        style.font.name = font[0]
        style.font.size = Pt(size)
        style.font.bold = False
        style.font.italic = False
        style.font.color.rgb = RGBColor(0x22, 0x22, 0x22)
        _fonts(style.element.get_or_add_rPr(), font)


def _fonts(rpr, font: tuple[str, str]) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = parse_xml(f"<w:rFonts {nsdecls('w')}/>")
        rpr.insert(0, fonts)
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(qn(f"w:{attr}"), None)
    for attr, name in (("ascii", font[0]), ("hAnsi", font[0]), ("cs", font[0]),
                       ("eastAsia", font[1]), ("hint", "eastAsia")):
        fonts.set(qn(f"w:{attr}"), name)


def _strip_ns(xml: str) -> str:
    return xml.replace(f" {nsdecls('w')}", "")


def _x(text: str) -> str:
    return escape(_NOT_XML.sub("", text))

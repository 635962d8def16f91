"""HTML writer: a :class:`~battlemap.render.document.Document` as one self-contained page.

Offline and inert: charts are embedded PNGs, a Content-Security-Policy
forbids scripts and remote loads, and every text is escaped. Each level-1
heading opens a ``<section>`` and gets an entry in the navigation bar.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from battlemap._io import write_text
from battlemap._text import as_text
from battlemap.render.document import (
    Block,
    Colophon,
    Document,
    Figure,
    Heading,
    KeyFigures,
    Paragraph,
    Signature,
    Table,
    figure_png,
)

__all__ = ["to_html", "write_html"]

CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; "
       "form-action 'none'")

_CSS = """
body{font-family:"Noto Sans SC","Microsoft YaHei","PingFang SC","SimHei",sans-serif;color:#222;
 margin:0;background:#fafafa;line-height:1.55}
main{max-width:1000px;margin:0 auto;padding:18px 28px 48px;background:#fff}
.sample{background:#c62828;color:#fff;text-align:center;padding:4px;font-size:14px;
 position:sticky;top:0;z-index:2}
h1{font-size:24px;font-weight:normal;text-align:center;margin:18px 0 4px}
h2{font-size:19px;font-weight:normal;border-bottom:2px solid #1f4e79;padding-bottom:3px;
 margin-top:34px}
h3{font-size:15px;font-weight:normal;margin:20px 0 6px}
p.address{margin:10px 0 4px}
.meta,.note{color:#555;font-size:13px}.meta{text-align:center}p.list{font-size:13px;margin:4px 0}
nav{font-size:13px;text-align:center;margin:8px 0}nav a{margin:0 6px;color:#1f4e79}
.figures{display:flex;gap:8px;flex-wrap:wrap;margin:10px 0}
.figure{flex:1 1 120px;background:#f5f5f5;border:1px solid #e4e4e4;padding:8px;text-align:center}
.figure b{display:block;font-size:24px;font-weight:normal}.figure span{font-size:12px;color:#555}
p.text{text-indent:2em;margin:6px 0}
table{border-collapse:collapse;font-size:13px;margin:8px 0 12px;width:100%}
th{background:#e8eef5;font-weight:normal;text-align:left;padding:3px 6px;position:sticky;top:0}
body.has-sample th{top:26px}
td{padding:2px 6px;border-bottom:1px solid #eee;vertical-align:top}
tr:nth-child(even) td{background:#fafafa}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}td.c,th.c{text-align:center}
.warn{color:var(--warn)}.up{color:var(--up)}.down{color:var(--down)}.muted{color:var(--muted)}
.desc{color:#555;max-width:260px}
img.chart{width:100%;height:auto;margin:6px 0}
.charts2{display:grid;grid-template-columns:1fr 1fr;gap:8px}
.letterhead{text-align:center;border-bottom:3px solid;padding-bottom:10px;margin:10px 0 18px}
.letterhead b{display:block;font-size:34px;font-weight:normal;letter-spacing:2px}
.signature{text-align:right;margin:28px 3em 12px}.signature p{margin:2px 0}
.colophon{border-top:1px solid #222;border-bottom:1px solid #222;margin:24px 0 8px;
 padding:4px 6px;font-size:14px}.colophon p{margin:2px 0}
footer{color:#777;font-size:12px;margin-top:30px;border-top:1px solid #ddd;padding-top:6px}
@media print{.sample,th{position:static}main{max-width:none}}
"""
_ALIGN = {"left": "", "right": "n", "center": "c"}
_CLASS = {"body": "text", "note": "note", "list": "list", "address": "address"}


def write_html(document: Document, path: Path) -> Path:
    """Write ``document`` as a self-contained page to ``path`` (atomically)."""
    return write_text(path, to_html(document))


def to_html(document: Document) -> str:
    """The page's text."""
    sections = [b.text for b in document.blocks if isinstance(b, Heading) and b.level <= 1]
    parts = []
    if document.mark:
        parts.append(f'<div class="sample">{_e(document.mark)}</div>')
    parts.append("<main>")
    if document.letterhead:
        head = document.letterhead
        parts.append(f'<div class="letterhead" style="border-color:{_e(head.color)}">'
                     f'<b style="color:{_e(head.color)}">{_e(head.issuer)}</b>'
                     f"{_e(head.number)}</div>")
    parts.append(f"<h1>{_e(document.title)}</h1>")
    if document.meta:
        parts.append(f'<p class="meta">{_e(document.meta)}</p>')
    if sections:
        parts.append("<nav>" + "".join(f'<a href="#s{k}">{_e(s)}</a>'
                                       for k, s in enumerate(sections, start=1)) + "</nav>")
    parts.extend(_body(document))
    parts.append(f"<footer>{_e(document.footer)}<br>{_e(document.creator)}</footer></main>")
    tones = ";".join(f"--{t}:{_e(document.color(t))}" for t in ("warn", "up", "down", "muted"))
    mark = "has-sample" if document.mark else ""
    return ("<!doctype html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(document.title)}</title><style>:root{{{tones}}}{_CSS}</style></head>"
            f'<body class="{mark}">{"".join(parts)}</body></html>\n')


def _body(document: Document) -> list[str]:
    parts, section, blocks, k = [], 0, document.blocks, 0
    while k < len(blocks):
        block = blocks[k]
        if isinstance(block, Heading) and block.level <= 1:
            if section:
                parts.append("</section>")
            section += 1
            parts.append(f'<section id="s{section}"><h2{_tone(block.tone)}>{_e(block.text)}</h2>')
        elif isinstance(block, Figure):
            pair = blocks[k + 1] if k + 1 < len(blocks) else None
            if block.width < 1 and isinstance(pair, Figure) and pair.width < 1:
                parts.append(f'<div class="charts2">{_img(block)}{_img(pair)}</div>')
                k += 1
            else:
                parts.append(_img(block))
        else:
            parts.append(_block(block))
        k += 1
    if section:
        parts.append("</section>")
    return parts


def _block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h3{_tone(block.tone)}>{_e(block.text)}</h3>"
    if isinstance(block, Paragraph):
        css = " ".join(filter(None, [_CLASS[block.kind], block.tone]))
        return f'<p class="{css}">{_e(block.text)}</p>'
    if isinstance(block, KeyFigures):
        boxes = "".join(
            f'<div class="figure" data-key="{_e(i.key)}" data-value="{_e(i.raw)}">'
            f"<b{_tone(i.tone)}>{_e(i.value)}</b><span>{_e(i.label)}</span></div>"
            for i in block.items)
        return f'<div class="figures">{boxes}</div>'
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Signature | Colophon):
        css = "signature" if isinstance(block, Signature) else "colophon"
        return f'<div class="{css}">' + "".join(f"<p>{_e(t)}</p>" for t in block.lines) + "</div>"
    raise TypeError(f"not a document block: {block!r}")


def _table(table: Table) -> str:
    def css(align: str, *more: str) -> str:
        classes = " ".join(filter(None, [_ALIGN[align], *more]))
        return f' class="{classes}"' if classes else ""

    head = "".join(f"<th{css(c.align)}>{_e(c.header)}</th>" for c in table.columns)
    body = ["<tr>" + "".join(
        f"<td{css(col.align, cell.tone, 'desc' if col.screen_only else '')}>{_e(cell.text)}</td>"
        for cell, col in zip(row, table.columns, strict=True)) + "</tr>" for row in table.rows]
    if not table.rows:
        body.append(f'<tr><td class="muted" colspan="{len(table.columns)}">'
                    f"{_e(table.empty)}</td></tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _img(figure: Figure) -> str:
    """The chart as an embedded PNG."""
    data = base64.b64encode(figure_png(figure)).decode("ascii")
    return f'<img class="chart" alt="{_e(figure.alt)}" src="data:image/png;base64,{data}">'


def _tone(tone: str) -> str:
    return f' class="{tone}"' if tone else ""


def _e(value: object) -> str:
    return html.escape(as_text(value), quote=True)

"""The document writers on a hand-made document: the same blocks in PDF, HTML and .docx.

Page breaks with the header repeated, "（续）" for a continued group, columns
kept off paper, every text escaped in HTML, the East Asian font on every run
of the .docx and a header row that repeats there.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile
from functools import partial
from pathlib import Path

import docx
import matplotlib
import numpy as np
import pytest
from lxml import etree
from matplotlib.figure import Figure as MplFigure
from PIL import Image

from battlemap.render.document import (
    Cell,
    Colophon,
    Column,
    Document,
    Figure,
    Heading,
    KeyFigure,
    KeyFigures,
    Letterhead,
    Paragraph,
    Signature,
    Table,
    cells,
    figure_png,
)
from battlemap.render.document.docx import write_docx
from battlemap.render.document.html import to_html
from battlemap.render.document.pdf import write_pdf
from battlemap.render.fonts import check_chart, font_for, rc_params

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _chart(title: str, ax, size: float) -> None:
    ax.plot([0, 1, 2], [3, 1, 2] if title == "图一" else [1, 2, 3])
    ax.set_title(title, fontsize=size)


def _document(rows: int = 120) -> Document:
    table = Table(
        (Column("镇街", 60), Column("编号", 80), Column("件数", 40, "right"),
         Column("描述", 120, screen_only=True)),
        tuple(cells("甲镇" if k == 0 else ("乙镇" if k == 60 else ""), f"N{k:04d}",
                    (f"{k:,}", "warn" if k % 7 == 0 else ""), f"<b>描述{k}</b> & 更多")
              for k in range(rows)),
        continued="名单", group=0)
    return Document(
        title="测试 通报", meta="截至 2026-11-27", footer="数据来源：测试", creator="battlemap test",
        blocks=(Heading("一、概况"),
                KeyFigures((KeyFigure("total", "案件总数", "1,234", 1234.0),
                            KeyFigure("overdue", "超期", "56", 56.0, "warn"))),
                Paragraph("正文段落 <script>alert(1)</script>。"),
                Figure(partial(_chart, "图一"), "图一", height=150, width=0.5),
                Figure(partial(_chart, "图二"), "图二", height=150, width=0.5),
                Heading("二、名单"), Heading("甲镇 名单", level=2), table,
                Paragraph("附注。", "note"), Table((Column("空表"),), ())))


@pytest.fixture(scope="module")
def font():
    from battlemap.config import Config

    return font_for(Config.model_construct(style=type("S", (), {"font_path": None})()))


def _pdftext(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def test_pdf_breaks_long_tables_and_repeats_the_header(tmp_path, font) -> None:
    path = write_pdf(_document(), tmp_path / "x.pdf", font)
    text = _pdftext(path)
    pages = [p for p in text.split("\f") if p.strip()]
    assert len(pages) >= 3
    for k in range(120):
        assert f"N{k:04d}" in text
    header_pages = [p for p in pages if "编号" in p and "件数" in p]
    assert len(header_pages) == len(pages) - (0 if "编号" in pages[0] else 1)
    assert "名单（续）" in text                  # the table's name above the repeated header
    assert "甲镇（续）" in text                  # the group filled in after the break
    assert "描述" not in text                    # screen-only column: not on paper
    assert f"第1页/共{len(pages)}页" in "".join(text.split()) and "（无）" in text
    assert "1,234" in pages[0] and "案件总数" in pages[0]


def test_pdf_draws_a_placeholder_for_a_text_the_font_cannot_draw(tmp_path, font) -> None:
    doc = Document("测试", (Paragraph("缺字 \U0001F600"),))
    write_pdf(doc, tmp_path / "x.pdf", font)
    text = subprocess.run(["pdftotext", str(tmp_path / "x.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "缺字□" in "".join(text.split()) and "\U0001F600" not in text


def test_html_escapes_every_text_and_has_one_section_per_heading(font) -> None:
    with matplotlib.rc_context(rc_params(font)):
        page = to_html(_document(rows=5))
    assert "<script>" not in page and "<b>描述" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;描述1&lt;/b&gt; &amp; 更多" in page      # screen-only: shown on screen
    assert page.count("<section") == 2 and page.count("<h3") == 1
    assert page.count('<img class="chart"') == 2 and 'class="charts2"' in page
    assert 'data-key="overdue" data-value="56.0"' in page
    assert "default-src 'none'" in page


def test_docx_fonts_on_every_run_header_rows_repeat(tmp_path, font) -> None:
    with matplotlib.rc_context(rc_params(font)):
        path = write_docx(_document(), tmp_path / "x.docx")
    word = docx.Document(str(path))
    runs = [r for p in word.paragraphs for r in p.runs]
    runs += [r for t in word.tables for row in t.rows for c in row.cells for p in c.paragraphs
             for r in p.runs]
    assert runs
    for run in runs:
        fonts = run.element.find(f"{W}rPr/{W}rFonts")
        assert fonts is not None and fonts.get(f"{W}eastAsia") in ("仿宋", "黑体"), run.text
    for name in ("Normal", "Heading 1", "Heading 2", "Title"):
        fonts = word.styles[name].element.find(f"{W}rPr/{W}rFonts")
        assert fonts.get(f"{W}eastAsia") in ("仿宋", "黑体") and fonts.get(f"{W}asciiTheme") is None
    listing = next(t for t in word.tables if t.rows[0].cells[0].text == "镇街")
    assert [c.text for c in listing.rows[0].cells] == ["镇街", "编号", "件数"]   # no 描述
    assert [c.text for c in listing.rows[8].cells] == ["", "N0007", "7"]
    assert len(listing.rows) == 121
    with zipfile.ZipFile(path) as z:
        assert len([n for n in z.namelist() if n.startswith("word/media/")]) == 2
        body = etree.fromstring(z.read("word/document.xml"))
    first_rows = [t.find(f"{W}tr") for t in body.iter(f"{W}tbl")]
    headed = [tr for tr in first_rows if tr.find(f"{W}trPr/{W}tblHeader") is not None]
    assert len(headed) == 2                    # the two data tables, not the boxes or charts
    texts = [p.text for p in word.paragraphs]
    assert "正文段落 <script>alert(1)</script>。" in texts           # text, not markup
    assert "测试 通报" in texts and "二、名单" in texts


def test_a_row_must_fit_its_columns() -> None:
    with pytest.raises(ValueError, match="2 cells in a table of 1 columns"):
        Table((Column("a"),), ((Cell("1"), Cell("2")),))


def _letter() -> Document:
    return Document(
        title="关于交办的函", letterhead=Letterhead("测试河长办<公室>", "测〔2026〕7号"),
        blocks=(Paragraph("甲镇总河长 张三：", "address"), Paragraph("正文。"),
                Signature(("测试河长办", "2026年11月27日")),
                Colophon(("抄送：区级河长 李四。", "测试河长办　　2026年11月27日印发"))))


def test_letter_blocks_in_every_writer(tmp_path, font) -> None:
    texts = ("测试河长办<公室>", "测〔2026〕7号", "关于交办的函", "甲镇总河长 张三：", "2026年11月27日",
             "抄送：区级河长 李四。")
    write_pdf(_letter(), tmp_path / "x.pdf", font)
    pdf = "".join(subprocess.run(["pdftotext", "-raw", str(tmp_path / "x.pdf"), "-"], check=True,
                                 capture_output=True, text=True).stdout.split())
    assert all("".join(t.split()) in pdf for t in texts)
    assert pdf.index("测〔2026〕7号") < pdf.index("关于交办的函") < pdf.index("甲镇总河长")
    page = to_html(_letter())
    assert "测试河长办&lt;公室&gt;" in page and 'class="colophon"' in page
    assert 'class="signature"' in page and "<p class=\"address\">甲镇总河长 张三：</p>" in page
    word = docx.Document(str(write_docx(_letter(), tmp_path / "x.docx")))
    paragraphs = [p.text for p in word.paragraphs]
    assert all(t in paragraphs for t in texts)
    head = word.paragraphs[paragraphs.index("测试河长办<公室>")]
    assert head.runs[0].font.color.rgb == docx.shared.RGBColor(0xD4, 0, 0)
    rule = word.paragraphs[paragraphs.index("测〔2026〕7号")]._p.find(f"{W}pPr/{W}pBdr/{W}bottom")
    assert rule is not None and rule.get(f"{W}color").upper() == "D40000"
    signature = word.paragraphs[paragraphs.index("2026年11月27日")]
    assert signature.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.RIGHT
def _fonts(path: Path) -> list[str]:
    """Font names as pdffonts lists them, one line per font object of the file."""
    if shutil.which("pdffonts") is None:
        pytest.skip("pdffonts (poppler-utils) not installed")
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True,
                         text=True).stdout
    return [line.split()[0] for line in out.splitlines()[2:] if line.strip()]


def test_pdf_writes_each_font_once_for_all_its_pages(tmp_path, font) -> None:
    path = write_pdf(_document(), tmp_path / "x.pdf", font)
    pages = [p for p in _pdftext(path).split("\f") if p.strip()]
    names = _fonts(path)
    assert len(pages) >= 3 and names
    assert len(names) == len(set(names))          # no font subset repeated page by page
    assert len(names) <= 2                        # one poster font, 256 glyphs a subset


def test_docx_written_one_after_another_share_nothing(tmp_path, font) -> None:
    """Each .docx starts from a copy of one blank document: the next one carries nothing over."""
    with matplotlib.rc_context(rc_params(font)):
        first = docx.Document(str(write_docx(_document(), tmp_path / "a.docx")))
        second = docx.Document(str(write_docx(_letter(), tmp_path / "b.docx")))
    again = docx.Document(str(write_docx(_letter(), tmp_path / "c.docx")))
    texts = [p.text for p in second.paragraphs]
    assert "正文段落 <script>alert(1)</script>。" not in texts and "测〔2026〕7号" in texts
    assert not second.tables and len(first.tables) >= 2        # the first one's tables stayed
    assert [p.text for p in again.paragraphs] == texts
    assert second.sections[0].header.paragraphs[0].text == again.sections[0].header.paragraphs[0].text
    assert "测试 通报" not in second.sections[0].header.paragraphs[0].text
    with zipfile.ZipFile(tmp_path / "b.docx") as z:
        assert not [n for n in z.namelist() if n.startswith("word/media/")]  # no chart of a.docx
    # the blank's styles are shared by every copy: no writing may change them
    styles = {zipfile.ZipFile(tmp_path / f"{n}.docx").read("word/styles.xml") for n in "abc"}
    assert len(styles) == 1


def _savefig_pixels(figure: Figure, transparent: bool = False) -> np.ndarray:
    """What ``savefig`` gives for the figure ``figure_png`` draws (its layout pre-draw included)."""
    inches = 4.6 if figure.width < 1 else 9.0
    paper = 247.6 if figure.width < 1 else 511.3
    fig = MplFigure(figsize=(inches, max(2.4, inches * figure.height / paper)), dpi=150,
                    layout="constrained")
    if transparent:
        fig.patch.set_alpha(0)
    ax = fig.add_subplot()
    figure.draw(ax, 8.0)
    check_chart(ax)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=150)
    return np.asarray(Image.open(buffer).convert("RGBA"))


@pytest.mark.parametrize("transparent", [False, True])
def test_figure_png_has_the_pixels_savefig_gives(font, transparent) -> None:
    """One draw instead of savefig's two, RGB when opaque: the same pixels (and alpha kept)."""
    def draw(ax, size):
        if transparent:
            ax.figure.patch.set_alpha(0)
        _chart("图一", ax, size)

    figure = Figure(draw, "图一", height=150, width=0.5)
    with matplotlib.rc_context(rc_params(font)):
        png = Image.open(io.BytesIO(figure_png(figure)))
        expected = _savefig_pixels(figure, transparent)
    assert png.mode == ("RGBA" if transparent else "RGB")
    assert np.array_equal(np.asarray(png.convert("RGBA")), expected)

"""The letters of the escalation district: which letters, to whom, and what a reader finds in the
.docx (python-docx) and the PDF (pdftotext): recipient, number, copy and every case id."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import docx
import openpyxl
import pytest
from conftest import escalation_config

from battlemap.build import prepare
from battlemap.render.letters import REGISTER_XLSX, plan_letters, render_letters


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[object, Path, list[Path]]:
    folder = tmp_path_factory.mktemp("letters")
    atlas = prepare(escalation_config(folder)).atlas
    return atlas, folder / "output", render_letters(atlas, folder / "output")


def _docx_text(path: Path) -> str:
    word = docx.Document(str(path))
    texts = [p.text for p in word.paragraphs]
    texts += [c.text for t in word.tables for row in t.rows for c in row.cells]
    return "\n".join(texts)


def _pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    raw = subprocess.run(["pdftotext", "-raw", str(path), "-"], check=True, capture_output=True,
                         text=True).stdout
    return "".join(raw.split())


def test_one_letter_per_kind_and_town(written) -> None:
    atlas, _, _ = written
    letters = {(x.kind, x.recipient_id): sorted(x.cases["case_id"]) for x in plan_letters(atlas)}
    assert letters == {
        ("assign", "440118001"): ["N1"], ("assign", "440118002"): ["N2"],
        ("reminder", "440118001"): ["R7", "R8", "W29"], ("reminder", "440118002"): ["E2", "P2"],
        ("warning", "440118001"): ["W30", "W31"]}


def test_files_are_written_per_letter_with_the_register(written) -> None:
    _, out, paths = written
    folder = out / "letters" / "2026-11-27"
    names = ("001_JB_440118001", "002_JB_440118002", "003_TX_440118001",
             "004_TX_440118002", "005_YJ_440118001")
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{name}.{ext}" for name in names for ext in ("docx", "pdf"))
    assert out / "letters" / REGISTER_XLSX in paths
    assert not [p for p in (out / "letters").iterdir() if p.name.startswith(".")]
    sheet = openpyxl.load_workbook(out / "letters" / REGISTER_XLSX)["发文登记"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:8] == ("文号", "发文日期", "类别", "主送", "主送单位编码", "抄送", "案件数",
                           "案件编号")
    assert [r[0] for r in rows[1:]] == [f"测河长办〔2026〕{n}号" for n in range(1, 6)]
    warning = next(r for r in rows[1:] if r[2] == "预警函")
    assert warning[3:8] == ("甲镇河长", "440118001", "区级河长甲", 2, "W30、W31")
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref


@pytest.mark.parametrize(("name", "number", "recipient", "cc", "cases"), [
    ("001_JB_440118001", "测河长办〔2026〕1号", "甲镇总河长 甲镇河长", "区级河长甲", ["N1"]),
    ("003_TX_440118001", "测河长办〔2026〕3号", "甲镇总河长 甲镇河长", "区级河长甲",
     ["R7", "R8", "W29"]),
    ("004_TX_440118002", "测河长办〔2026〕4号", "乙镇总河长 乙镇河长", "区河长", ["E2", "P2"]),
    ("005_YJ_440118001", "测河长办〔2026〕5号", "甲镇总河长 甲镇河长", "区级河长甲", ["W30", "W31"]),
])
def test_docx_and_pdf_hold_recipient_number_copy_and_every_case(written, name, number, recipient,
                                                                cc, cases) -> None:
    _, out, _ = written
    folder = out / "letters" / "2026-11-27"
    for text in (_docx_text(folder / f"{name}.docx"), _pdf_text(folder / f"{name}.pdf")):
        flat = "".join(text.split())
        assert number in flat and "测试区河长制办公室" in flat
        assert "".join(recipient.split()) + "：" in flat
        assert f"抄送：{cc}（区级河长）" in flat
        for case_id in cases:
            assert case_id in flat, (name, case_id)
        others = {"N1", "N2", "R7", "R8", "W29", "W30", "W31", "P2", "E2"} - set(cases)
        assert not [c for c in others if f"{c}" in text.split()], name
        assert "13800138000" not in flat


def test_assignment_letter_has_its_map_and_the_rule_deadline(written) -> None:
    _, out, _ = written
    path = out / "letters" / "2026-11-27" / "001_JB_440118001.docx"
    word = docx.Document(str(path))
    assert len(word.inline_shapes) == 1                     # the town map
    text = _docx_text(path)
    assert "2026-12-01*" in text and "按问题类型规定的期限" in text     # 垃圾堆放: 7 days
    assert "请联系" in text and "13800138000" not in text


def test_recurring_case_names_the_earlier_closed_case(written) -> None:
    _, out, _ = written
    text = _docx_text(out / "letters" / "2026-11-27" / "004_TX_440118002.docx")
    word = docx.Document(str(out / "letters" / "2026-11-27" / "004_TX_440118002.docx"))
    table = next(t for t in word.tables if t.rows[0].cells[1].text == "问题编号")
    rows = {r.cells[1].text: [c.text for c in r.cells] for r in table.rows[1:]}
    assert rows["P2"][5:8] == ["—", "P1", "2026-01-10"]       # not overdue; recurring of P1
    assert "反复" in text and "超期未销号 0 件" in text

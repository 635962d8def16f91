"""Every output shows the same figures: read them back from each file of a build and compare.

The tiny district is built once with one invalid tip (是否有效 = 否) and one
case whose status word maps to ``void`` (已撤销), both in 甲镇, so that the
rule "invalid and void cases are in no rectification figure" is checked on
every output too. The figures are read from report.json, statistics.xlsx
(openpyxl), the bulletin (pdftotext, the HTML and, for the towns' states, python-docx),
the web page data
(data/*.js, the JSON payloads) and each town's A1 poster (pdftotext).
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest
from conftest import TOWNS, tiny_cases_frame, write_tiny_inputs

from battlemap import STATES
from battlemap.build import BuildOptions, build
from battlemap.config import load_config
from battlemap.render.web.encode import _unpack_ints

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")

LABELS = {"reported": "待交办", "assigned": "已交办", "rectifying": "整改中", "closed": "已销号"}
KEYS = ("total", *STATES, "overdue", "closed_rate")
"""The figures compared: total, each state, 其中超期 and 销号率 at one decimal (a percent text)."""
DISTRICT = "440118"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("agree")
    cases = tiny_cases_frame()
    extra = cases.iloc[[1, 1]].copy()          # two more cases beside C02 in 甲镇 甲一村
    extra["问题编号"] = ["C11", "C12"]
    extra["是否有效"] = ["否", "是"]
    extra["处理状态"] = ["整改中", "已撤销"]
    config_path = write_tiny_inputs(folder / "in", pd.concat([cases, extra], ignore_index=True))
    config_path.write_text(config_path.read_text(encoding="utf-8") + '"已撤销" = "void"\n',
                           encoding="utf-8")
    config = load_config(config_path, out_dir=folder / "out")
    build(config, BuildOptions(only=("web", "posters"), levels=("district", "town"), workers=1))
    build(config, BuildOptions(only=("bulletin",), workers=1))
    return folder / "out"


def _pct(rate: float | None) -> str:
    return "—" if rate is None or pd.isna(rate) else f"{rate * 100:.1f}%"


def _expected(out: Path) -> dict[str, dict[str, object]]:
    """The figures report.json carries, by unit id, closed_rate as its one-decimal text."""
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    figures = {**report["figures"]["district"], **report["figures"]["town"]}
    return {uid: {**{k: f[k] for k in KEYS if k != "closed_rate"},
                  "closed_rate": _pct(f["closed_rate"]), "uncounted": f["uncounted"],
                  "name": f["name"]} for uid, f in figures.items()}


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def test_report_json_counts_only_counted_cases_and_says_what_it_leaves_out(built: Path) -> None:
    report = json.loads((built / "report.json").read_text(encoding="utf-8"))
    district = report["figures"]["district"][DISTRICT]
    assert report["uncounted"] == district["uncounted"] == 2
    assert report["figures"]["town"]["440118001"]["uncounted"] == 2
    assert report["total"] == sum(report["states"].values()) == district["total"]
    assert "四项合计为案件总数" in report["count_rule"]
    # every accepted case is in the ledger, counted or not
    assert report["cases_mapped"] == district["total"] + district["uncounted"]


def test_statistics_xlsx_agrees(built: Path) -> None:
    expected = _expected(built)
    book = openpyxl.load_workbook(built / "statistics.xlsx", read_only=True)
    headers = {"total": "案件总数", **LABELS, "overdue": "其中超期", "closed_rate": "销号率"}
    seen = set()
    for sheet in ("区", "镇街"):
        rows = list(book[sheet].iter_rows(values_only=True))
        column = {name: k for k, name in enumerate(rows[0])}
        for row in rows[1:]:
            uid = str(row[column["编码"]])
            got = {key: row[column[header]] for key, header in headers.items()}
            got["closed_rate"] = _pct(got["closed_rate"])
            assert got == {k: expected[uid][k] for k in KEYS}, (sheet, uid)
            seen.add(uid)
    assert seen == set(expected)


def _bulletin_district(text: str) -> dict[str, object]:
    """The district's figures from the bulletin's 按状态 line and summary."""
    flat = re.sub(r"\s+", " ", text)
    states = re.search("按状态：" + "".join(f"{LABELS[s]} ([\\d,]+) " for s in STATES)
                       + r"其中超期 ([\d,]+)", flat)
    assert states, "the bulletin's 按状态 line is missing"
    summary = re.search(r"累计受理污染源问题 ([\d,]+) 件.*?销号率 ([\d.]+%|—)", flat)
    got = {s: _number(v) for s, v in zip(STATES, states.groups()[:4], strict=True)}
    return {"total": _number(summary.group(1)), **got, "overdue": _number(states.group(5)),
            "closed_rate": summary.group(2)}


def _town_row(cells: list[str], name: str) -> dict[str, object] | None:
    """total, closed, rate and overdue of a ranking row (名次 镇街 河长 案件 已销号 销号率 超期 …)."""
    if name not in cells:
        return None
    k = cells.index(name)
    if k < 1 or not cells[k - 1].isdigit() or len(cells) < k + 6:
        return None            # not a ranking row (a chart's label, a case list)
    total, closed, rate, overdue = cells[k + 2:k + 6]
    return {"total": _number(total), "closed": _number(closed), "closed_rate": rate,
            "overdue": _number(overdue)}


def test_bulletin_pdf_and_html_agree(built: Path) -> None:
    expected = _expected(built)
    pdf = next((built / "bulletin").glob("*.pdf"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    page = (built / "bulletin" / f"{pdf.stem}.html").read_text(encoding="utf-8")
    page_text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    for source in (text, page_text):
        assert _bulletin_district(source) == {k: expected[DISTRICT][k] for k in KEYS}
        assert "不含无效举报及不计整改案件 2 件" in re.sub(r"\s+", " ", source)
    html_rows = [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in
                  re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
                 for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S)]
    pdf_rows = [line.split() for line in text.splitlines()]
    for uid, (name, _) in TOWNS.items():
        want = {k: expected[uid][k] for k in ("total", "closed", "closed_rate", "overdue")}
        for rows in (pdf_rows, html_rows):
            found = [r for r in (_town_row(cells, name) for cells in rows) if r]
            assert found and found[0] == want, (name, found)


STATE_HEADERS = ["镇街", "案件总数", *LABELS.values(), "其中超期", "其中反复", "不计整改"]
STATE_KEYS = ("total", *STATES, "overdue", "recurring", "uncounted")
"""The bulletin's 各镇街案件状态 table: its header row and the figures of its columns."""
NUMBER = re.compile(r"[\d,]+")


def _state_rows(rows: list[list[str]]) -> dict[str, dict[str, int]]:
    """The state table's rows by town (全区合计 for the district), from rows of cell texts.

    The table starts at its header row; a row belongs to it while it reads
    as a name followed by one number per figure column.
    """
    heads = [k for k, r in enumerate(rows) if r == STATE_HEADERS]
    assert heads, "the bulletin's 各镇街案件状态 table is missing"
    start = heads[0] + 1
    found = {}
    for cells in rows[start:]:
        if cells == STATE_HEADERS:                     # the header repeated on a new page
            continue
        if len(cells) != len(STATE_HEADERS) or not all(NUMBER.fullmatch(c) for c in cells[1:]):
            break
        found[cells[0]] = dict(zip(STATE_KEYS, map(_number, cells[1:]), strict=True))
    return found


def _state_expected(built: Path) -> dict[str, dict[str, int]]:
    report = json.loads((built / "report.json").read_text(encoding="utf-8"))
    figures = report["figures"]
    want = {f["name"]: {k: f[k] for k in STATE_KEYS} for f in figures["town"].values()}
    return {**want, "全区合计": {k: figures["district"][DISTRICT][k] for k in STATE_KEYS}}


def _bulletin_state_tables(built: Path) -> dict[str, list[list[str]]]:
    """Rows of cell texts of the bulletin's PDF (pdftotext), HTML and .docx (python-docx)."""
    pdf = next((built / "bulletin").glob("*.pdf"))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    page = (built / "bulletin" / f"{pdf.stem}.html").read_text(encoding="utf-8")
    word = docx.Document(str(built / "bulletin" / f"{pdf.stem}.docx"))
    return {
        "pdf": [line.split() for line in text.splitlines()],
        "html": [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in
                  re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
                 for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S)],
        "docx": [[cell.text.strip() for cell in row.cells] for t in word.tables for row in t.rows],
    }


def test_bulletin_town_states_agree_in_pdf_html_and_docx(built: Path) -> None:
    expected = _state_expected(built)
    assert len(expected) == len(TOWNS) + 1
    for name, want in expected.items():                # the rule: states add up, subsets within
        assert want["total"] == sum(want[s] for s in STATES), name
        assert want["overdue"] <= want["total"] - want["closed"], name
    assert expected["甲镇"]["uncounted"] == 2
    for source, rows in _bulletin_state_tables(built).items():
        assert _state_rows(rows) == expected, source


def test_the_state_table_check_fails_on_one_wrong_figure(built: Path) -> None:
    """The reader above is no tautology: one figure changed in a row is caught."""
    rows = _bulletin_state_tables(built)["html"]
    start = rows.index(STATE_HEADERS)
    assert _state_rows(rows) == _state_expected(built)
    wrong = [list(r) for r in rows]
    wrong[start + 1][3] = str(_number(wrong[start + 1][3]) + 1)
    assert _state_rows(wrong) != _state_expected(built)


def _payloads(path: Path) -> list:
    """The JSON arguments of the one call a data/*.js file makes."""
    text = path.read_text(encoding="utf-8")
    body = text[text.index("(") + 1:text.rindex(")")]
    decoder, values, pos = json.JSONDecoder(), [], 0
    while pos < len(body):
        value, end = decoder.raw_decode(body, pos)
        values.append(value)
        pos = end
        while pos < len(body) and body[pos] in ", \n":
            pos += 1
    return values


def _web_figures(stats: list, keys: list[str]) -> dict[str, object]:
    got = dict(zip(keys, stats, strict=True))
    return {**{k: got[k] for k in KEYS if k != "closed_rate"}, "closed_rate": _pct(got["closed_rate"])}


def test_web_page_data_agrees_on_every_page_and_in_the_parent(built: Path) -> None:
    expected = _expected(built)
    shared = _payloads(built / "data" / "shared.js")[0]
    keys = shared["statKeys"]
    district = _payloads(built / "data" / "district" / f"{DISTRICT}.js")[-1]
    assert _web_figures(district["stats"], keys) == {k: expected[DISTRICT][k] for k in KEYS}
    assert district["uncountedNote"] == "不含无效举报及不计整改案件 2 件"
    assert "四项合计为案件总数" in shared["countRule"]
    children = {child["name"]: child for child in district["children"]}
    for uid, (name, _) in TOWNS.items():
        want = {k: expected[uid][k] for k in KEYS}
        own = _payloads(built / "data" / "town" / f"{uid}.js")[-1]
        assert _web_figures(own["stats"], keys) == want, name
        assert _web_figures(children[name]["stats"], keys) == want, name
        # the cases drawn are the counted ones only
        assert len(_unpack_ints(own["cases"]["s"])) == expected[uid]["total"], name


def _poster_figures(text: str) -> dict[str, object]:
    flat = re.sub(r"\s+", " ", text)
    got = {s: _number(re.search(f"{LABELS[s]} ([\\d,]+)", flat).group(1)) for s in STATES}
    return {"total": _number(re.search(r"案件总数 ([\d,]+)", flat).group(1)), **got,
            "overdue": _number(re.search(r"其中超期（未销号且过期） ?([\d,]+)", flat).group(1)),
            "closed_rate": re.search(r"(\d+\.\d%|—)", flat[flat.index("销号率 "):]).group(1)}


def test_town_posters_agree(built: Path) -> None:
    expected = _expected(built)
    for uid, (name, _) in TOWNS.items():
        pdf = built / "posters" / "town" / f"{uid}_A1.pdf"
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                              text=True, check=True).stdout
        assert _poster_figures(text) == {k: expected[uid][k] for k in KEYS}, name
        uncounted = expected[uid]["uncounted"]
        assert ("不计整改案件" in re.sub(r"\s+", "", text)) == bool(uncounted), name

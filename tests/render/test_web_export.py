"""Taking the lists out of the atlas: the visible cases as CSV, a printed sheet, a phone."""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import subprocess
from pathlib import Path

import pytest
from browser import CHROMIUM, PageLog, browser, open_offline

from battlemap._sheets import formula_like, inert_csv_text
from battlemap.render.web import render_web

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")]
SHOTS = Path(os.environ.get("BATTLEMAP_SHOTS", "/tmp/battlemap-shots"))
FORMULA = '=HYPERLINK("http://x.invalid","点我")'


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The tiny district, one description a formula, marked as sample data: (atlas, out)."""
    from conftest import tiny_cases_frame, write_tiny_inputs

    from battlemap.build import prepare
    from battlemap.config import load_config

    folder = tmp_path_factory.mktemp("export")
    cases = tiny_cases_frame()
    cases.loc[cases["问题编号"] == "C02", "问题描述"] = FORMULA
    atlas = prepare(load_config(write_tiny_inputs(folder / "in", cases))).atlas
    project = atlas.config.project.model_copy(update={"sample": True})
    atlas = dataclasses.replace(atlas, config=atlas.config.model_copy(update={"project": project}))
    render_web(atlas, folder / "out")
    return atlas, folder / "out"


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


@pytest.fixture
def context(chromium):
    ctx = chromium.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    yield ctx
    ctx.close()


def _download(page: object) -> tuple[bytes, str]:
    with page.expect_download() as info:
        page.locator(".bm-download").click()
    download = info.value
    return Path(download.path()).read_bytes(), download.suggested_filename


def _rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")                     # BOM: Excel reads UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_download_holds_the_visible_cases_after_a_filter_change(site, context):
    atlas, out = site
    log = PageLog()
    page = open_offline(context, out / "index.html", log)
    cases = atlas.cases[atlas.cases["district_id"] == "440118"]
    data, name = _download(page)
    rows = _rows(data)
    assert name == "测试区_案件清单_2026-11-27.csv"
    assert {r["案件编号"] for r in rows} == set(cases.index) and len(rows) == 7
    assert list(rows[0])[:5] == ["案件编号", "状态", "是否超期", "超期天数", "是否反复"]
    assert rows[0]["是否超期"] == "是"                           # overdue first
    # hide 已销号 and keep the cases reported since March: the file follows the map
    page.locator('input[data-state="closed"]').uncheck()
    page.locator("#bm-from").fill("2026-03-01")
    rows = _rows(_download(page)[0])
    expected = cases[(cases["state"] != "closed") & (cases["reported_at"] >= "2026-03-01")]
    assert 0 < len(expected) < 7
    assert sorted(r["案件编号"] for r in rows) == sorted(expected.index)
    assert len(rows) == page.evaluate("battlemap.drawn()")
    labels = atlas.config.style.status_labels
    for r in rows:
        case = cases.loc[r["案件编号"]]
        assert r["状态"] == labels[case["state"]]
        assert r["所在镇街"] == atlas.units["town"].at[case["town_id"], "name"]
        assert r["上报日期"] == case["reported_at"].strftime("%Y-%m-%d")
    assert log.problems() == []


def test_download_on_a_grid_page_keeps_formulas_inert(site, context):
    atlas, out = site
    log = PageLog()
    grid = atlas.cases.at["C02", "grid_id"]
    page = open_offline(context, out / f"grid/{grid}.html", log)
    rows = {r["案件编号"]: r for r in _rows(_download(page)[0])}
    assert set(rows) == set(atlas.cases.index[atlas.cases["grid_id"] == grid])
    assert rows["C02"]["问题描述"] == "'" + FORMULA == inert_csv_text(FORMULA)
    assert rows["C01"]["问题描述"] == "<img src=x onerror=alert(1)>"
    assert rows["C02"]["整改期限"] == "2026-12-30"
    assert log.problems() == []


def test_the_pages_formula_rule_is_the_spreadsheets(site, context):
    _, out = site
    page = open_offline(context, out / "index.html", PageLog())
    texts = ["=1+1", "+86 139", "-2+3", "@SUM(A1)", "\tx", "\rx", "-113.5", "-", "---", "-３",
             "12", "", "'=x", "a=b", " =x", "-1.", "-.5", "+5", "=", "—"]
    js = page.evaluate("texts => texts.map(t => battlemap.formulaLike(t))", texts)
    assert js == [formula_like(t) for t in texts]
    assert any(js) and not all(js)


def test_print_puts_map_legend_and_figures_on_one_landscape_page(site, context, tmp_path):
    _, out = site
    log = PageLog()
    page = open_offline(context, out / "index.html", log)
    page.emulate_media(media="print")
    page.wait_for_function("document.body.classList.contains('bm-printing')")
    assert not page.locator(".bm-search").is_visible()
    assert not page.locator(".bm-export").is_visible()
    assert not page.locator(".leaflet-control-zoom").is_visible()
    for shown in (".bm-legend", ".bm-summary", ".bm-rank", "#map", "h1"):
        assert page.locator(shown).first.is_visible(), shown
    # the whole district is in the printed map's view
    assert page.evaluate("battlemap.map.getBounds().contains(battlemap.D.bounds)")
    # legend swatches keep their colours in print
    assert page.evaluate("getComputedStyle(document.querySelector('.bm-sym')).printColorAdjust") == "exact"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "tiny-print.png"))
    pdf = tmp_path / "print.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    assert fields["Pages"].strip() == "1"
    width, _, height = fields["Page size"].split()[:3]
    assert float(width) > float(height)                       # landscape
    assert log.problems() == []


def test_phone_width_shows_title_stamp_and_whole_district(site, chromium):
    _, out = site
    ctx = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    log = PageLog()
    page = open_offline(ctx, out / "index.html", log)
    title = page.locator("h1").bounding_box()
    stamp = page.locator(".bm-sample").bounding_box()
    overlap = not (stamp["x"] >= title["x"] + title["width"] or stamp["x"] + stamp["width"] <= title["x"]
                   or stamp["y"] >= title["y"] + title["height"] or stamp["y"] + stamp["height"] <= title["y"])
    assert not overlap, (title, stamp)
    for node in ("h1", ".bm-sample", "#map"):
        box = page.locator(node).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, node
    assert page.evaluate("battlemap.map.getBounds().contains(battlemap.D.bounds)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "tiny-phone.png"))
    assert log.problems() == []
    ctx.close()

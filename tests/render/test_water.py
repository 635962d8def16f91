"""Water quality in the outputs: section pages, the index data, the bulletin, the exports, the report.

The tiny district gets two sections (on the main stem and on 一涌) and a
monitoring table; the whole build runs once for the module.
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from pathlib import Path

import geopandas as gpd
import openpyxl
import pytest
from browser import CHROMIUM, PageLog, browser, open_offline
from conftest import CRS, X0, Y0, tiny_rivers, write_tiny_inputs
from shapely.geometry import Point

from battlemap.build import BuildOptions, build, prepare
from battlemap.config import load_config
from battlemap.render.poster import render_posters

MONITORING_TOML = """
[context]
path = "context.gpkg"
river_field = "river"
target_field = "target"
section_kind_field = "section_kind"

[monitoring]
path = "monitoring.csv"
[monitoring.columns]
section = "断面名称"
sampled_at = "采样时间"
[monitoring.parameters]
pH = "pH"
DO = "溶解氧"
CODMn = "高锰酸盐指数"
COD = "化学需氧量"
BOD5 = "五日生化需氧量"
"NH3-N" = "氨氮"
TP = "总磷"
"""
ROWS = """断面名称,采样时间,pH,溶解氧,高锰酸盐指数,化学需氧量,五日生化需氧量,氨氮,总磷
,,无量纲,mg/L,mg/L,mg/L,mg/L,mg/L,mg/L
测试断面,2026-09-10,7.1,6.5,3,12,2,1.2,0.12
测试断面,2026-10-10,7.1,6.5,3,12,2,0.85,0.12
测试断面,2026-11-10,7.1,6.5,3,12,2,0.9,<0.01
<b>一涌断面</b>,2026-11-10,7.1,6.5,3,12,2,0.9,0.1
一涌口,2026-11-10,7.1,6.5,3,12,2,0.2,0.05
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("water") / "tiny"
    path = write_tiny_inputs(folder)
    rivers = tiny_rivers().assign(flows_into=["", "M", "M"])
    rivers.to_file(folder / "rivers.gpkg", engine="pyogrio")
    gpd.GeoDataFrame({
        "code": ["GK1", "SJ1"], "name": ["测试断面（国考）", "一涌口断面"],
        "kind": ["monitoring_section"] * 2, "river": ["M", "T1"], "target": ["III类", "IV类"],
        "section_kind": ["国考", "市考"]},
        geometry=[Point(X0 + 4000, Y0 + 50), Point(X0 + 1500, Y0 + 300)], crs=CRS,
    ).to_file(folder / "context.gpkg", engine="pyogrio")
    (folder / "monitoring.csv").write_text(ROWS, encoding="utf-8")
    text = path.read_text(encoding="utf-8").replace(
        '[rivers]\npath = "rivers.gpkg"\n', '[rivers]\npath = "rivers.gpkg"\nflows_into_field = "flows_into"\n')
    path.write_text(text + MONITORING_TOML, encoding="utf-8")
    out = folder / "output"
    report = build(load_config(path, out_dir=out),
                   BuildOptions(only=("web", "bulletin"), workers=1, executor="process"))
    return out, report, path


def test_report_counts_samples_in_used_and_rejected(built) -> None:
    out, report, _ = built
    ledger = report["monitoring"]
    assert (ledger["samples_in"], ledger["samples_used"], ledger["samples_rejected"]) == (5, 4, 1)
    assert ledger["rejected"][0]["source_row"] == 6
    saved = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert saved["monitoring"]["samples_used"] == 4
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "监测样本" in page and "&lt;b&gt;一涌断面&lt;/b&gt;" in page and "<b>一涌断面" not in page


def test_section_page_draws_the_figures(built) -> None:
    out, _, _ = built
    page = (out / "section" / "GK1.html").read_text(encoding="utf-8")
    assert "测试断面（国考） 水质监测" in page
    assert page.count("<rect") >= 3 and "目标限值 1" in page  # strip, and the NH3-N limit line
    assert "IV类 未达标" in page and "2026-10 起连续达标" in page
    assert re.search(r"2/3 个月", page)  # this year: Oct and Nov met, Sep not
    assert "href='../river/M.html'" in page and "href='../river/T1.html'" in page
    assert "href='../town/" in page
    shared = (out / "data" / "shared.js").read_text(encoding="utf-8")
    water = json.loads(shared[shared.index("(") + 1: shared.rindex(")")])["water"]
    first = water["sections"][0]
    assert first["id"] == "GK1" and first["href"] == "section/GK1.html"
    assert first["ytd"] == [2, 3] and len(first["strip"]) == 12
    assert [d for d, _ in first["warnings"]] == ["2026-10-10", "2026-09"]
    assert "/* ---- atlas-water.js ---- */" in (out / "assets" / "atlas.js").read_text(encoding="utf-8")


def test_bulletin_has_the_water_section(built) -> None:
    out, _, _ = built
    page = next((out / "bulletin").glob("*.html")).read_text(encoding="utf-8")
    assert "八、断面水质" in page and "测试断面（国考）" in page and "上游未销号案件排名" in page
    assert "氨氮连续2次超过目标限值的80%" in page


def test_exports_carry_the_samples(built) -> None:
    out, _, _ = built
    book = openpyxl.load_workbook(out / "statistics.xlsx", read_only=True)
    rows = list(book["断面水质"].iter_rows(values_only=True))
    assert rows[0][:5] == ("断面编码", "断面名称", "采样日期", "原始行号", "水质类别")
    assert [r[4] for r in rows[1:]] == ["IV类", "III类", "III类", "II类"]
    assert "<0.01" in rows[3]
    with sqlite3.connect(out / "battlemap.gpkg") as db:
        count = db.execute("select count(*) from monitoring_samples").fetchone()[0]
    assert count == 4


def test_district_poster_has_the_water_panel(built) -> None:
    _, _, path = built
    config = load_config(path, out_dir=path.parent / "posters-out")
    atlas = prepare(config).atlas
    district = str(atlas.units["district"].index[0])
    pdf = render_posters(atlas, config.output.dir, [("district", district)])[0]
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "水质 测试断面（国考）" in text and "今年 2/3 个月达标" in text
    assert "2026-10 起连续达标" in text


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium at /usr/bin/chromium")
def test_index_panel_and_popup_link_in_a_browser(built) -> None:
    out, _, _ = built
    log = PageLog()
    with browser() as chromium:
        context = chromium.new_context(viewport={"width": 1280, "height": 800})
        page = open_offline(context, out / "index.html", log)
        panel = page.inner_text(".bm-water")
        assert "水质 测试断面（国考）" in panel and "2/3 个月达标" in panel
        assert "2026-10 起连续达标" in panel and "近12个月预警 2 条" in panel
        assert page.locator(".bm-water-strip .bm-water-cell").count() == 12
        point = page.evaluate("() => battlemap.map.latLngToContainerPoint("
                              "battlemap.S.water.sections[0].at)")
        box = page.locator("#map").bounding_box()
        page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
        page.wait_for_selector(".bm-water-popup a")
        page.click(".bm-water-popup a")
        page.wait_for_load_state()
        assert page.url.endswith("/section/GK1.html")
        assert "上游河涌" in page.inner_text("body")
        context.close()
    assert log.problems() == []


def test_section_pages_leave_other_files_alone(built, tmp_path) -> None:
    """The renderer writes its pages and deletes nothing: clean-up is the manifest's (below)."""
    from dataclasses import replace

    from battlemap.render.water import write_section_pages

    _, _, path = built
    atlas = prepare(load_config(path, out_dir=tmp_path)).atlas
    other = tmp_path / "section" / "OLD.html"
    other.parent.mkdir(parents=True)
    other.write_text("old", encoding="utf-8")
    written = write_section_pages(atlas, tmp_path, lambda level, unit_id: unit_id)
    assert sorted(p.name for p in written) == ["GK1.html", "SJ1.html"] and other.exists()
    assert write_section_pages(replace(atlas, extra={}), tmp_path, lambda level, unit_id: unit_id) == []


def test_pages_of_sections_no_longer_monitored_go_through_the_manifest(built, tmp_path) -> None:
    import shutil

    out, _, path = built
    folder = tmp_path / "tiny"
    shutil.copytree(path.parent, folder, ignore=shutil.ignore_patterns("output"))
    shutil.copytree(out, folder / "output", symlinks=True)
    manifest = json.loads((folder / "output" / ".battlemap-manifest.json").read_text("utf-8"))
    listed = [f for f in manifest["jobs"]["web:district:440118"]["files"] if f.startswith("section/")]
    assert sorted(listed) == sorted(p.relative_to(out).as_posix() for p in (out / "section").glob("*"))
    assert "section/SJ1.html" in listed
    rows = [row for row in ROWS.splitlines() if not row.startswith("一涌口")]
    (folder / "monitoring.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    build(load_config(folder / path.name, out_dir=folder / "output"),
          BuildOptions(only=("web",), workers=1, executor="process"))
    assert not (folder / "output" / "section" / "SJ1.html").exists()
    assert (folder / "output" / "section" / "GK1.html").exists()

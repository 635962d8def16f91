"""The interactive HTML atlas: files written, escaping, and what a person sees in Chromium."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
from browser import CHROMIUM, PageLog, browser, click_latlng, open_offline, wait_until_ready
from conftest import leftover_temp_files

from battlemap import LEVELS
from battlemap.coords import wgs84_to_gcj02
from battlemap.errors import RenderError
from battlemap.render.web import ATLAS_BUNDLE, ATLAS_SCRIPTS, page_name, render_web
from battlemap.render.web.encode import _encode_ids, _unpack_ints

XSS = "<img src=x onerror=alert(1)>"
SHOTS = Path(os.environ.get("BATTLEMAP_SHOTS", "/tmp/battlemap-shots"))


def _pages(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


# ---------------------------------------------------------------------------
# Files


def test_one_page_per_unit_and_river(tiny_atlas, tmp_path):
    written = render_web(tiny_atlas, tmp_path)
    expected = 1 + sum(len(tiny_atlas.units[lv]) for lv in LEVELS[1:]) + len(tiny_atlas.rivers)
    assert len(_pages(tmp_path)) == expected == 1 + 2 + 4 + 8 + 3
    assert (tmp_path / "index.html").exists()
    for level in ("town", "village", "grid"):
        for unit_id in tiny_atlas.units[level].index:
            assert (tmp_path / level / f"{unit_id}.html").exists()
            assert (tmp_path / "data" / level / f"{unit_id}.js").exists()
    for river_id in tiny_atlas.rivers.index:
        assert (tmp_path / "river" / f"{river_id}.html").exists()
    assert {p.name for p in (tmp_path / "assets").iterdir()} >= {
        ATLAS_BUNDLE, "atlas.css", "images"}
    assert all(p.exists() for p in written)
    assert not leftover_temp_files(tmp_path)


def test_links_are_relative_and_offline(tiny_atlas, tmp_path):
    render_web(tiny_atlas, tmp_path)
    ours = [*_pages(tmp_path), tmp_path / "assets" / ATLAS_BUNDLE, tmp_path / "assets" / "atlas.css",
            *(tmp_path / "data").rglob("*.js")]
    for path in ours:
        text = path.read_text(encoding="utf-8")
        if path.name == ATLAS_BUNDLE:                  # ours, after Leaflet's own source
            text = text[text.index("/* ---- "):]
        assert not re.search(r"(?:src|href)=\"(?:https?:)?//", text), path
        assert "cdn" not in text.lower(), path
    town = (tmp_path / "town" / "440118001.html").read_text(encoding="utf-8")
    assert f'src="../assets/{ATLAS_BUNDLE}"' in town and 'href="../index.html"' in town
    scripts = re.findall(r'<script src="\.\./assets/([^"]+)"', town)
    assert scripts == [ATLAS_BUNDLE]                          # one file: Leaflet and the atlas
    bundle = (tmp_path / "assets" / ATLAS_BUNDLE).read_text(encoding="utf-8")
    starts = [bundle.index(f"/* ---- {name} ---- */\n") for name in ATLAS_SCRIPTS]
    assert bundle.index("window.L") < starts[0] and starts == sorted(starts)  # in load order
    assert "sourceMappingURL" not in bundle
    sheets = re.findall(r'<link rel="stylesheet" href="\.\./assets/([^"]+)"', town)
    assert sheets == ["atlas.css"]                            # one file: Leaflet's CSS, then ours
    css = (tmp_path / "assets" / "atlas.css").read_text(encoding="utf-8")
    assert css.index(".leaflet-pane") < css.index("/* ---- atlas.css ---- */\n") < css.index(".bm-header")


def test_free_text_never_reaches_html(tiny_atlas, tmp_path):
    render_web(tiny_atlas, tmp_path)
    for page in _pages(tmp_path):
        assert "<img" not in page.read_text(encoding="utf-8")
    # the description is shipped as a JSON string, for the atlas scripts to show with textContent
    grid = (tmp_path / "data" / "grid" / "440118002002001.js").read_text(encoding="utf-8")
    assert '"<img src=x onerror=alert(1)>"' in grid


def test_names_are_escaped_in_html(tiny_atlas, tmp_path):
    towns = tiny_atlas.units["town"].copy()
    towns.loc["440118001", "name"] = "<script>alert(1)</script>镇"
    atlas = dataclasses.replace(tiny_atlas, units={**tiny_atlas.units, "town": towns})
    render_web(atlas, tmp_path)
    page = (tmp_path / "town" / "440118001.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;镇" in page


@pytest.mark.parametrize(("unit_id", "safe"), [
    ("440118001", True), ("T1", True), ("A_B-C.D", True), ("a_b-c.d", False),
    ("../etc", False), ("甲/乙", False), ("a b", False), ("..", False), ("", False)])
def test_file_names_come_from_ids_only(unit_id, safe):
    name = page_name(unit_id)
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name)
    assert (name == unit_id) is safe
    assert page_name(unit_id) == name


def test_unsafe_ids_get_safe_files(tiny_atlas, tmp_path):
    rivers = tiny_atlas.rivers.rename(index={"T1": "河/1"})
    atlas = dataclasses.replace(tiny_atlas, rivers=rivers)
    render_web(atlas, tmp_path, units=[("river", "河/1")])
    stem = page_name("河/1")
    assert (tmp_path / "river" / f"{stem}.html").exists()
    assert all(p.resolve().is_relative_to(tmp_path.resolve()) for p in tmp_path.rglob("*"))


def test_only_requested_units(tiny_atlas, tmp_path):
    written = render_web(tiny_atlas, tmp_path, units=[("town", "440118002"), ("river", "T2")])
    pages = {p.relative_to(tmp_path).as_posix() for p in _pages(tmp_path)}
    assert pages == {"town/440118002.html", "river/T2.html"}
    assert tmp_path / "data" / "shared.js" in written
    with pytest.raises(RenderError, match="no such unit"):
        render_web(tiny_atlas, tmp_path, units=[("town", "nope")])


def test_sample_mark(tiny_atlas, tmp_path):
    plain = tmp_path / "plain"
    render_web(tiny_atlas, plain)
    assert "示例数据" not in (plain / "index.html").read_text(encoding="utf-8")
    project = tiny_atlas.config.project.model_copy(update={"sample": True})
    atlas = dataclasses.replace(tiny_atlas,
                                config=tiny_atlas.config.model_copy(update={"project": project}))
    sample = tmp_path / "sample"
    render_web(atlas, sample)
    assert all("示例数据 sample data" in p.read_text(encoding="utf-8") for p in _pages(sample))


def test_district_data_is_compact(tiny_atlas, tmp_path):
    render_web(tiny_atlas, tmp_path)
    district = (tmp_path / "data" / "district" / "440118.js").read_text(encoding="utf-8")
    assert "onerror" not in district        # details stay in the grid files
    assert '"ids":{"p":["C"],"w":[2],"c":7,"n":"1,1,2,1,1,3,1"}' in district


def _payload(path: Path) -> dict:
    """The JSON argument of a data file's battlemapData(...) / battlemapShared(...) call."""
    text = path.read_text(encoding="utf-8")
    return json.loads(text[text.index("{"):text.rindex("}") + 1])


def _with_basemap(atlas, **fields):
    from battlemap.config import BasemapConfig

    config = atlas.config.model_copy(update={"basemap": BasemapConfig(**fields)})
    return dataclasses.replace(atlas, config=config)


def _vertices(latlngs) -> np.ndarray:
    """Every [lat, lon] pair of nested Leaflet latlngs, as an (n, 2) array."""
    if isinstance(latlngs, np.ndarray):
        return latlngs.reshape(-1, 2)
    flat: list = []

    def walk(item):
        if item and isinstance(item[0], (int, float)):
            flat.append(item)
        else:
            for sub in item:
                walk(sub)

    walk(latlngs)
    return np.array(flat, dtype=float).reshape(-1, 2)


def test_no_basemap_by_default(tiny_atlas, tmp_path):
    render_web(tiny_atlas, tmp_path)
    assert tiny_atlas.config.basemap is None
    assert _payload(tmp_path / "data" / "shared.js")["basemap"] is None


def test_gcj02_basemap_shifts_everything_drawn(tiny_atlas, tmp_path):
    url = "http://tiles.intranet/amap/{z}/{x}/{y}.png"
    gcj_atlas = _with_basemap(tiny_atlas, url=url, attribution="© 高德", coordinates="GCJ-02",
                              max_zoom=17, subdomains="1234")
    render_web(tiny_atlas, tmp_path / "wgs")
    render_web(gcj_atlas, tmp_path / "gcj")
    wgs_shared = _payload(tmp_path / "wgs" / "data" / "shared.js")
    gcj_shared = _payload(tmp_path / "gcj" / "data" / "shared.js")
    assert gcj_shared["basemap"] == {"url": url, "attribution": "© 高德", "maxZoom": 17,
                                     "subdomains": "1234", "coordinates": "GCJ-02"}

    def shifted(latlngs) -> np.ndarray:
        lat_lon = _vertices(latlngs)
        lon, lat = wgs84_to_gcj02(lat_lon[:, 1], lat_lon[:, 0])
        return np.column_stack([lat, lon])

    def same(gcj_latlngs, wgs_latlngs, tol=2e-5):       # vertices are rounded to 1e-5
        got = _vertices(gcj_latlngs)
        assert got.shape == _vertices(wgs_latlngs).shape and len(got)
        np.testing.assert_allclose(got, shifted(wgs_latlngs), rtol=0, atol=tol)
        # and the shift is real: GCJ-02 is hundreds of metres off WGS84 here
        assert np.abs(got - _vertices(wgs_latlngs)).max() > 1e-3

    same(gcj_shared["district"]["g"], wgs_shared["district"]["g"])
    same(gcj_shared["towns"]["g"], wgs_shared["towns"]["g"])
    same(gcj_shared["towns"]["label"], wgs_shared["towns"]["label"])
    same([r[3] for r in gcj_shared["rivers"]], [r[3] for r in wgs_shared["rivers"]])

    def case_points(shared, data) -> np.ndarray:
        (ox, oy), scale, cases = shared["origin"], shared["scale"], data["cases"]
        return np.column_stack([(np.array(_unpack_ints(cases["y"])) + oy) / scale,
                                (np.array(_unpack_ints(cases["x"])) + ox) / scale])

    for level, stem in (("district", "440118"), ("town", "440118002"),
                        ("grid", "440118002001001"), ("river", "T2")):
        wgs = _payload(tmp_path / "wgs" / "data" / level / f"{stem}.js")
        gcj = _payload(tmp_path / "gcj" / "data" / level / f"{stem}.js")
        same(case_points(gcj_shared, gcj), case_points(wgs_shared, wgs))
        if level != "river":      # a river's bounds also hold its cases, each rounded
            same(gcj["bounds"], wgs["bounds"], tol=1e-4)
        if gcj["g"]:
            same(gcj["g"], wgs["g"])
        for g_child, w_child in zip(gcj["children"], wgs["children"], strict=True):
            same(g_child["label"], w_child["label"])
            if w_child["g"]:
                same(g_child["g"], w_child["g"])
        if level == "river":
            same(gcj["corridor"], wgs["corridor"])
    # the case numbers, and everything but coordinates, are the same
    wgs = _payload(tmp_path / "wgs" / "data" / "district" / "440118.js")
    gcj = _payload(tmp_path / "gcj" / "data" / "district" / "440118.js")
    assert gcj["cases"]["ids"] == wgs["cases"]["ids"] and gcj["stats"] == wgs["stats"]


def test_wgs84_basemap_keeps_coordinates(tiny_atlas, tmp_path):
    atlas = _with_basemap(tiny_atlas, url="http://t{s}.tianditu.gov.cn/{z}/{x}/{y}?tk=KEY",
                          subdomains="01234567")
    render_web(tiny_atlas, tmp_path / "plain")
    render_web(atlas, tmp_path / "tdt")
    for name in ("district/440118.js", "grid/440118002001001.js"):
        plain = _payload(tmp_path / "plain" / "data" / name)
        tdt = _payload(tmp_path / "tdt" / "data" / name)
        assert plain == tdt
    shared = _payload(tmp_path / "tdt" / "data" / "shared.js")
    assert shared["basemap"]["url"].startswith("http://t{s}.tianditu.gov.cn/")
    assert shared["basemap"]["coordinates"] == "WGS84"


@pytest.mark.parametrize("ids", [
    ["ZC2019000001", "ZC2019000002", "ZC2019000010"], ["C04", "C4", "X", "A-9", "A-10", "007"],
    ["甲1", "乙", ""], []])
def test_case_numbers_round_trip(ids):
    encoded = _encode_ids(ids)
    assert encoded["c"] == len(ids) and all(isinstance(encoded[key], str) for key in ("n", "k")
                                            if key in encoded)
    deltas = [int(d) for d in encoded["n"].split(",")] if ids else []
    prefixes = [int(k) for k in encoded["k"].split(",")] if "k" in encoded else [0] * len(ids)
    decoded, number = [], 0
    for i, delta in enumerate(deltas):
        number += delta
        k = prefixes[i]
        width = encoded["w"][k]
        decoded.append(encoded["p"][k] + (str(number).zfill(width) if width else ""))
    assert decoded == ids


# ---------------------------------------------------------------------------
# In a real headless Chromium

browser_only = pytest.mark.skipif(not CHROMIUM.exists(),
                                  reason="needs Debian chromium at /usr/bin/chromium")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The tiny atlas rendered once for the browser tests: (atlas, out folder)."""
    from conftest import write_tiny_inputs

    from battlemap.build import prepare
    from battlemap.config import load_config

    folder = tmp_path_factory.mktemp("tiny")
    atlas = prepare(load_config(write_tiny_inputs(folder / "in"))).atlas
    out = folder / "out"
    render_web(atlas, out)
    return atlas, out


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


@pytest.fixture
def context(chromium):
    ctx = chromium.new_context(viewport={"width": 1280, "height": 800})
    yield ctx
    ctx.close()


PAGES = [("district", "440118", "index.html"),
         ("town", "440118002", "town/440118002.html"),
         ("village", "440118002001", "village/440118002001.html"),
         ("grid", "440118002001002", "grid/440118002001002.html"),
         ("river", "T2", "river/T2.html")]


@browser_only
@pytest.mark.browser
@pytest.mark.parametrize(("level", "unit_id", "path"), PAGES)
def test_page_draws_its_cases_offline(site, context, level, unit_id, path):
    atlas, out = site
    log = PageLog()
    page = open_offline(context, out / path, log)
    column = "river_id" if level == "river" else f"{level}_id"
    expected = int((atlas.cases[column] == unit_id).sum())
    assert expected > 0
    assert page.evaluate("battlemap.drawn()") == expected
    assert page.locator(".bm-legend input[data-state]").count() == 5
    assert "数据截至" in page.locator("header").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"tiny-{level}.png"))
    assert log.problems() == []


@browser_only
@pytest.mark.browser
@pytest.mark.parametrize(("level", "unit_id", "path"), PAGES[1:4])
def test_page_unpacks_the_case_arrays_python_encoded(site, context, level, unit_id, path):
    from battlemap.render.web.data import web_atlas

    atlas, out = site
    page = open_offline(context, out / path, PageLog())
    web = web_atlas(atlas)
    positions = web.cases_of[level][unit_id]
    got = page.evaluate("keys => { const c = battlemap.D.cases, o = {id: c.id};"
                        " for (const k of keys) o[k] = c[k]; return o; }",
                        list(web.case_arrays))
    assert got["id"] == web.case_ids[positions].tolist()
    for key, values in web.case_arrays.items():
        assert got[key] == values[positions].tolist(), key


@browser_only
@pytest.mark.browser
def test_drill_down_and_breadcrumb_back(site, context):
    atlas, out = site
    log = PageLog()
    page = open_offline(context, out / "index.html", log)
    town = atlas.units["town"].loc["440118001"]
    label = town.geometry.representative_point()
    lon, lat = _to_wgs84(atlas, label.x, label.y)
    with page.expect_navigation():
        click_latlng(page, lat, lon)
    wait_until_ready(page)
    assert page.url.endswith("/town/440118001.html")
    assert page.evaluate("battlemap.drawn()") == 3
    with page.expect_navigation():
        page.locator(".bm-crumbs a", has_text="测试区").click()
    wait_until_ready(page)
    assert page.url.endswith("/index.html")
    assert log.problems() == []


def _to_wgs84(atlas, x: float, y: float) -> tuple[float, float]:
    from pyproj import Transformer

    to_wgs = Transformer.from_crs(atlas.config.project.analysis_crs, "EPSG:4326", always_xy=True)
    return to_wgs.transform(x, y)


def _legend_counts(page) -> dict[str, int]:
    return {key: int(page.locator(f'input[data-state="{key}"] ~ .bm-count').inner_text())
            for key in ("reported", "assigned", "rectifying", "closed", "overdue")}


@browser_only
@pytest.mark.browser
def test_legend_counts_states_with_overdue_as_a_subset(site, context):
    atlas, out = site
    log = PageLog()
    page = open_offline(context, out / "index.html", log)
    district = atlas.units["district"].loc["440118"]
    cases = atlas.cases[atlas.cases["district_id"] == "440118"]
    counts = _legend_counts(page)
    # the stats stage's figures: every case under its state, 超期 among them
    for key in ("reported", "assigned", "rectifying", "closed", "overdue"):
        assert counts[key] == int(district[key]), key
    for state in ("reported", "assigned", "rectifying", "closed"):
        assert counts[state] == int((cases["state"] == state).sum()), state
    assert counts["overdue"] == int(cases["overdue"].sum()) > 0
    assert sum(counts[s] for s in ("reported", "assigned", "rectifying", "closed")) == len(cases) == 7
    assert "合计为案件总数" in page.locator(".bm-rule").inner_text()
    # with a filter on, the same rule over the cases that pass it
    since = "2026-03-01"
    page.locator("#bm-from").fill(since)
    kept = cases[cases["reported_at"] >= since]
    counts = _legend_counts(page)
    assert sum(counts[s] for s in ("reported", "assigned", "rectifying", "closed")) == len(kept) < 7
    assert counts["overdue"] == int(kept["overdue"].sum())
    assert log.problems() == []


@browser_only
@pytest.mark.browser
def test_state_toggle_hides_that_state(site, context):
    atlas, out = site
    log = PageLog()
    page = open_offline(context, out / "index.html", log)
    cases = atlas.cases[atlas.cases["district_id"] == "440118"]
    overdue = cases["overdue"].astype(bool)
    closed = int((cases["state"] == "closed").sum())
    assigned = int((cases["state"] == "assigned").sum())
    assert 0 < int((overdue & (cases["state"] == "assigned")).sum()) < assigned
    assert page.evaluate("battlemap.drawn()") == 7
    page.locator('input[data-state="closed"]').uncheck()
    assert page.evaluate("battlemap.drawn()") == 7 - closed
    page.locator('input[data-state="overdue"]').uncheck()
    assert page.evaluate("battlemap.drawn()") == 7 - closed - int(overdue.sum())
    page.locator('input[data-state="closed"]').check()
    page.locator('input[data-state="overdue"]').check()
    assert page.evaluate("battlemap.drawn()") == 7
    # 已交办 hides every assigned case, the overdue one too (超期 is a subset of the states)
    page.locator('input[data-state="assigned"]').uncheck()
    assert page.evaluate("battlemap.drawn()") == 7 - assigned
    page.locator('input[data-state="assigned"]').check()
    assert page.evaluate("battlemap.drawn()") == 7
    assert log.problems() == []


@browser_only
@pytest.mark.browser
def test_reported_since_filter(site, context):
    atlas, out = site
    log = PageLog()
    page = open_offline(context, out / "index.html", log)
    since = "2026-03-01"
    expected = int((atlas.cases["reported_at"] >= since).sum())
    page.locator("#bm-from").fill(since)
    assert page.evaluate("battlemap.drawn()") == expected < 7
    page.locator(".bm-quick button", has_text="全部").click()
    assert page.evaluate("battlemap.drawn()") == 7
    assert log.problems() == []


@browser_only
@pytest.mark.browser
def test_search_opens_case_and_description_stays_text(site, context):
    _, out = site
    log = PageLog()
    page = open_offline(context, out / "index.html", log)
    page.evaluate("() => { window.__xss = 0; window.alert = () => { window.__xss += 1; }; }")
    page.locator("#bm-search").fill("C04")
    page.locator("#bm-search").press("Enter")
    popup = page.locator(".leaflet-popup-content .bm-case-pop")
    popup.wait_for()
    page.wait_for_function("battlemap.popupLoaded === 'C04'")
    text = popup.inner_text()
    assert "C04" in text and "超期" in text and "乙镇" in text
    assert XSS in page.locator(".bm-pop-desc").inner_text()
    assert "与定位不符" in text                    # declared 乙一村, located 乙二村
    assert page.locator(".leaflet-popup img").count() == 0
    assert page.evaluate("window.__xss") == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "tiny-popup.png"))
    assert log.problems() == []


@browser_only
@pytest.mark.browser
def test_click_on_a_case_opens_its_popup(site, context):
    _, out = site
    log = PageLog()
    page = open_offline(context, out / "grid/440118001001001.html", log)
    point = page.evaluate("battlemap.caseAt('C02')")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    popup = page.locator(".leaflet-popup-content .bm-case-pop")
    popup.wait_for()
    assert "C02" in popup.inner_text()
    assert XSS in popup.inner_text()
    assert page.locator(".bm-cases").inner_text().count("C0") == 2
    assert log.problems() == []


@browser_only
@pytest.mark.browser
def test_river_page_links_the_towns_it_crosses(site, context):
    _, out = site
    log = PageLog()
    page = open_offline(context, out / "river/T1.html", log)
    links = page.locator(".bm-links a")
    assert "甲镇" in links.all_inner_texts()
    with page.expect_navigation():
        links.filter(has_text="甲镇").first.click()
    wait_until_ready(page)
    assert page.url.endswith("/town/440118001.html")
    assert "一涌" in page.locator(".bm-links").inner_text()
    assert log.problems() == []


@browser_only
@pytest.mark.browser
def test_search_finds_a_case_in_another_town(site, context):
    atlas, out = site
    log = PageLog()
    page = open_offline(context, out / "town/440118002.html", log)       # 乙镇
    case = atlas.cases.loc["C01"]
    assert case["town_id"] == "440118001" and page.evaluate("battlemap.caseAt('C01')") is None
    page.locator("#bm-search").fill("C0")
    results = page.locator(".bm-results")
    results.locator("li", has_text="C01").wait_for()
    assert "甲镇" in results.locator("li", has_text="C01").inner_text()
    page.locator("#bm-search").fill("C01")
    with page.expect_navigation():
        page.locator("#bm-search").press("Enter")
    wait_until_ready(page)
    assert page.url.endswith(f"/grid/{case['grid_id']}.html#case=C01")
    popup = page.locator(".leaflet-popup-content .bm-case-pop")
    popup.wait_for()
    page.wait_for_function("battlemap.popupLoaded === 'C01'")
    assert "C01" in popup.inner_text() and XSS in popup.inner_text()
    assert page.evaluate("battlemap.highlighted") == "C01"
    assert page.locator(".bm-hl").count() == 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "tiny-search-landing.png"))
    # a case on this page opens in place; an unknown number finds nothing
    page.locator("#bm-search").fill("C02")
    page.locator("#bm-search").press("Enter")
    page.wait_for_function("battlemap.highlighted === 'C02'")
    assert page.url.endswith("#case=C01")
    page.locator("#bm-search").fill("ZZ99")
    page.locator(".bm-results li.bm-none").wait_for()
    assert log.problems() == []


def _png(size: int = 256) -> bytes:
    """A plain light tile with a dark border, as PNG bytes (no imaging library needed)."""
    import struct
    import zlib

    edge, fill = b"\x60\x70\x80", b"\xd8\xe8\xd0"
    rows = []
    for y in range(size):
        line = edge * size if y in (0, size - 1) else edge + fill * (size - 2) + edge
        rows.append(b"\x00" + line)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


@browser_only
@pytest.mark.browser
def test_basemap_tiles_come_from_the_template_only(site, chromium, tmp_path):
    atlas, _ = site
    tiles = tmp_path / "tiles"
    tiles.mkdir()
    template = tiles.as_uri() + "/{z}/{x}/{y}.png"
    out = tmp_path / "out"
    render_web(_with_basemap(atlas, url=template, attribution="<b>内网</b>瓦片 © 测试",
                             max_zoom=18), out, units=[("district", "440118")])
    tile_re = re.compile(re.escape(tiles.as_uri()) + r"/(\d+)/(\d+)/(\d+)\.png$")

    def visit() -> tuple[object, list[str], PageLog, object]:
        ctx = chromium.new_context(viewport={"width": 1280, "height": 800})
        log = PageLog()
        requested: list[str] = []
        ctx.on("request", lambda r: requested.append(r.url))
        page = open_offline(ctx, out / "index.html", log)
        page.wait_for_function("battlemap.basemap && !battlemap.basemap.isLoading()")
        return page, requested, log, ctx

    # first visit: learn which tiles this view asks for, then write exactly those
    page, requested, _, ctx = visit()
    wanted = [m.groups() for m in map(tile_re.match, requested) if m]
    ctx.close()
    assert wanted, requested
    for z, x, y in wanted:
        path = tiles / z / x / f"{y}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_png())
    # second visit: every tile loads, nothing else is fetched, nothing goes wrong
    page, requested, log, ctx = visit()
    try:
        out_uri = out.resolve().as_uri()
        for url in requested:
            assert url.startswith(out_uri + "/") or tile_re.match(url), url
        assert {m.groups() for m in map(tile_re.match, requested) if m} == set(wanted)
        assert page.locator("img.leaflet-tile-loaded").count() == len(set(wanted))
        zoom = round(page.evaluate("battlemap.map.getZoom()"))
        assert {int(z) for z, _, _ in wanted} == {zoom}
        # the tiles lie under the data, and the attribution is shown as text
        assert page.evaluate("battlemap.drawn()") == 7
        attribution = page.locator(".leaflet-control-attribution")
        assert attribution.inner_text() == "<b>内网</b>瓦片 © 测试"
        assert attribution.locator("b").count() == 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "tiny-basemap.png"))
        assert log.problems() == []
    finally:
        ctx.close()


@browser_only
@pytest.mark.browser
def test_network_basemap_asks_only_for_its_tiles(site, context, tmp_path):
    atlas, _ = site
    out = tmp_path / "out"
    render_web(_with_basemap(atlas, url="http://t{s}.tiles.invalid/amap/{z}/{x}/{y}.png",
                             subdomains="12", coordinates="GCJ-02"), out,
               units=[("district", "440118")])
    log = PageLog()
    page = open_offline(context, out / "index.html", log)
    page.wait_for_function("battlemap.basemap && !battlemap.basemap.isLoading()")
    tile = re.compile(r"^http://t[12]\.tiles\.invalid/amap/\d+/\d+/\d+\.png$")
    assert log.blocked
    assert all(tile.match(b.removeprefix("network request: ")) for b in log.blocked), log.blocked
    assert page.evaluate("battlemap.drawn()") == 7
    assert log.page_errors == [] and log.failed == []


@browser_only
@pytest.mark.browser
def test_names_on_the_map_are_text(tiny_atlas, tmp_path, context):
    """A town's name on the district map (its label) and on a town page (a neighbour's
    faint label) is shown as the text it is, never parsed as HTML."""
    hostile = "<img src=x onerror=\"window.pwned=1\">镇"
    towns = tiny_atlas.units["town"].copy()
    towns.loc["440118001", "name"] = hostile
    atlas = dataclasses.replace(tiny_atlas, units={**tiny_atlas.units, "town": towns})
    render_web(atlas, tmp_path)
    for path in ("index.html", "town/440118002.html"):
        log = PageLog()
        page = open_offline(context, tmp_path / path, log)
        labels = page.evaluate("Array.from(document.querySelectorAll('.bm-label')).map(n => n.textContent)")
        assert any(text.startswith(hostile) for text in labels), (path, labels)
        assert page.evaluate("document.querySelectorAll('#map img').length") == 0, path
        assert page.evaluate("window.pwned") is None, path
        assert log.problems() == []
        page.close()

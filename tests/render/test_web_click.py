"""A click on the map opens the unit under it; a case only when its dot stands apart.

The district here is the tiny one (tests/conftest.py) with crowds of cases added:
CLUSTER cases within a few metres of the point the test clicks in every unit (its
shapely ``representative_point``; some lie on a river line), and BACKGROUND cases spread
at random. Dots in a cluster cannot be told apart at any page's zoom, as on the
shipped sample's district view of 32,000 dots; a click there must open the unit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from browser import (
    CHROMIUM,
    PageLog,
    browser,
    click_latlng,
    open_offline,
    representative_lonlat,
    wait_until_ready,
)
from conftest import CRS, tiny_cases_frame, tiny_units
from pyproj import Transformer

from battlemap import LEVELS
from battlemap.render.web import render_web

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")]
CLUSTER, BACKGROUND = 25, 3_000


def _crowded_cases() -> pd.DataFrame:
    """The tiny cases, a cluster at every unit's click point, and a random background."""
    rng = np.random.default_rng(12)
    points = [g.representative_point() for frame in tiny_units().values() for g in frame.geometry]
    x = np.concatenate([np.repeat([p.x for p in points], CLUSTER) + rng.normal(0, 3, len(points) * CLUSTER),
                        rng.uniform(5, 3995, BACKGROUND) + tiny_units()["district"].total_bounds[0]])
    y = np.concatenate([np.repeat([p.y for p in points], CLUSTER) + rng.normal(0, 3, len(points) * CLUSTER),
                        rng.uniform(5, 1995, BACKGROUND) + tiny_units()["district"].total_bounds[1]])
    lon, lat = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True).transform(x, y)
    n = len(x)
    extra = pd.DataFrame({
        "问题编号": [f"Z{k:05d}" for k in range(n)],
        "上报时间": "2026-02-01", "上报渠道": "巡河", "问题类型": "垃圾堆放",
        "所属镇街": "", "所属村居": "", "河涌名称": "",
        "经度": [f"{v:.7f}" for v in lon], "纬度": [f"{v:.7f}" for v in lat],
        "处理状态": rng.choice(["已销号", "已交办", "整改中"], n, p=[0.8, 0.1, 0.1]),
        "整改期限": "2026-03-01", "办结时间": "", "问题描述": "", "上报人电话": "", "是否有效": "是"})
    extra.loc[extra["处理状态"] == "已销号", "办结时间"] = "2026-02-20"
    return pd.concat([tiny_cases_frame(), extra], ignore_index=True)


@pytest.fixture(scope="module")
def crowded(tmp_path_factory):
    """(atlas, out folder) of the crowded tiny district, rendered once."""
    from conftest import write_tiny_inputs

    from battlemap.build import prepare
    from battlemap.config import load_config

    folder = tmp_path_factory.mktemp("crowded")
    atlas = prepare(load_config(write_tiny_inputs(folder / "in", _crowded_cases()))).atlas
    render_web(atlas, folder / "out")
    return atlas, folder / "out"


@pytest.fixture(scope="module")
def chromium():
    with browser() as b:
        yield b


def _wait_for_page(page: object, path: str) -> None:
    """Wait until ``path`` has opened; fail saying what the click did instead."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_url(f"**/{path}", timeout=5_000)
    except PlaywrightTimeout:
        popup = page.locator(".bm-case-pop")
        what = f"a case popup ({popup.inner_text()[:14]})" if popup.count() else "nothing"
        pytest.fail(f"the click meant to open {path} opened {what}; page {page.url}")
    wait_until_ready(page)


def _page_path(level: str, unit_id: str) -> str:
    return "index.html" if level == "district" else f"{level}/{unit_id}.html"


@pytest.mark.parametrize("level", LEVELS[:-1])
def test_click_inside_every_child_opens_its_page(crowded, chromium, level):
    atlas, out = crowded
    below = LEVELS[LEVELS.index(level) + 1]
    ctx = chromium.new_context(viewport={"width": 1280, "height": 800})
    opened, log = [], PageLog()
    try:
        for unit_id in atlas.units[level].index:
            children = atlas.units[below][atlas.units[below]["parent_id"] == unit_id]
            assert len(children) > 0
            for child_id, geometry in children.geometry.items():
                page = open_offline(ctx, out / _page_path(level, unit_id), log)
                lon, lat = representative_lonlat(geometry, atlas.units[below].crs)
                click_latlng(page, lat, lon)
                _wait_for_page(page, f"{below}/{child_id}.html")
                opened.append(child_id)
                page.close()
    finally:
        ctx.close()
    assert sorted(opened) == sorted(atlas.units[below].index[
        atlas.units[below]["parent_id"].isin(atlas.units[level].index)])
    assert log.problems() == []


def test_a_dot_that_stands_apart_opens_its_case_on_the_district_map(chromium, tmp_path):
    # the plain tiny district: 7 cases, each far from the others at this zoom
    from conftest import write_tiny_inputs

    from battlemap.build import prepare
    from battlemap.config import load_config

    atlas = prepare(load_config(write_tiny_inputs(tmp_path / "in"))).atlas
    render_web(atlas, tmp_path / "out")
    ctx = chromium.new_context(viewport={"width": 1280, "height": 800})
    log = PageLog()
    page = open_offline(ctx, tmp_path / "out" / "index.html", log)
    point = page.evaluate("battlemap.caseAt('C04')")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + point["x"] + 2, box["y"] + point["y"] + 1)
    page.locator(".leaflet-popup-content .bm-case-pop").wait_for()
    assert "C04" in page.locator(".bm-case-pop").inner_text()
    assert page.url.endswith("/index.html")
    assert log.problems() == []
    ctx.close()


def test_hover_shows_the_figures_of_the_units_own_page(crowded, chromium):
    atlas, out = crowded
    town_id = "440118002"
    town = atlas.units["town"].loc[town_id]
    ctx = chromium.new_context(viewport={"width": 1280, "height": 800})
    log = PageLog()
    page = open_offline(ctx, out / "index.html", log)
    lon, lat = representative_lonlat(town.geometry, atlas.units["town"].crs)
    point = page.evaluate("([lat, lon]) => battlemap.map.latLngToContainerPoint([lat, lon])", [lat, lon])
    box = page.locator("#map").bounding_box()
    page.mouse.move(box["x"] + point["x"], box["y"] + point["y"])
    tip = page.locator(".bm-unit-tip")
    tip.wait_for()
    rows = dict(r.split("\t", 1) for r in tip.locator("tr").all_inner_texts())
    own = open_offline(ctx, out / f"town/{town_id}.html", log)
    labels = atlas.config.style.status_labels
    for state in ("reported", "assigned", "rectifying", "closed", "overdue"):
        legend = own.locator(f'input[data-state="{state}"] ~ .bm-count').inner_text()
        hover = rows["其中超期" if state == "overdue" else labels[state]].split("（")[0]
        # the stats stage's figure, on the hover and on the unit's own legend alike
        assert hover == legend == str(int(town[state])), state
    # state counts add up to the total; 超期 is a subset of them
    assert sum(int(town[s]) for s in ("reported", "assigned", "rectifying", "closed")) == int(town["total"])
    assert 0 < int(town["overdue"]) < int(town["assigned"]) + int(town["rectifying"]) + int(town["reported"])
    assert log.problems() == []
    ctx.close()


def test_first_tap_shows_the_unit_second_tap_opens_it(crowded, chromium):
    atlas, out = crowded
    ctx = chromium.new_context(viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    log = PageLog()
    page = open_offline(ctx, out / "index.html", log)
    town = atlas.units["town"].loc["440118001"]
    lon, lat = representative_lonlat(town.geometry, atlas.units["town"].crs)
    click_latlng(page, lat, lon, tap=True)
    tip = page.locator(".bm-unit-tip")
    tip.wait_for()
    assert town["name"] in tip.inner_text()
    assert page.url.endswith("/index.html")
    with page.expect_navigation():
        click_latlng(page, lat, lon, tap=True)
    wait_until_ready(page)
    assert page.url.endswith("/town/440118001.html")
    assert log.problems() == []
    ctx.close()

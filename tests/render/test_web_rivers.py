"""Rivers on the web maps: labelled, and on a river's own page drawn above its cases."""

from __future__ import annotations

import pytest
from browser import CHROMIUM, PageLog, browser, open_offline

from battlemap.render.web import render_web

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from conftest import write_tiny_inputs

    from battlemap.build import prepare
    from battlemap.config import load_config

    folder = tmp_path_factory.mktemp("rivers")
    atlas = prepare(load_config(write_tiny_inputs(folder / "in"))).atlas
    render_web(atlas, folder / "out")
    return atlas, folder / "out"


@pytest.fixture(scope="module")
def page_of(site):
    with browser() as b:
        ctx = b.new_context(viewport={"width": 1280, "height": 800})
        log = PageLog()
        yield lambda path: open_offline(ctx, site[1] / path, log)
        assert log.problems() == []
        ctx.close()


def _shown_labels(page) -> list[str]:
    return page.evaluate("""Array.from(document.querySelectorAll('.bm-label-river'))
        .filter(n => n.style.visibility !== 'hidden').map(n => n.textContent)""")


def test_rivers_are_labelled_on_the_map_without_overlaps(page_of):
    page = page_of("index.html")
    assert sorted(_shown_labels(page)) == ["一涌", "二涌", "测试干流（干流）"]
    boxes = page.evaluate("""Array.from(document.querySelectorAll('.bm-label'))
        .filter(n => n.style.visibility !== 'hidden').map(n => n.getBoundingClientRect().toJSON())""")
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            apart = (a["right"] <= b["left"] or b["right"] <= a["left"]
                     or a["bottom"] <= b["top"] or b["bottom"] <= a["top"])
            assert apart, (a, b)
    # zoomed out below the tributaries' zoom, only the main stem keeps its label
    page.evaluate("battlemap.map.setZoom(10.5, {animate: false})")
    page.wait_for_function("document.querySelectorAll('.bm-label-river').length === 1")
    assert page.locator(".bm-label-river").text_content() == "测试干流（干流）"


def test_a_river_page_draws_its_river_above_its_cases(site, page_of):
    atlas, _ = site
    page = page_of("river/T1.html")
    z = page.evaluate("""[getComputedStyle(battlemap.map.getPane('bmRiverTop')).zIndex,
                          getComputedStyle(battlemap.map.getPane('bmCases')).zIndex]""")
    assert int(z[0]) > int(z[1])
    # the river's line is drawn in that pane: a dark-blue pixel where the river runs
    x0, y0 = atlas.rivers.geometry["T1"].interpolate(0.5, normalized=True).coords[0]
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(atlas.rivers.crs, 4326, always_xy=True).transform(x0, y0)
    colour = page.evaluate("""([lat, lon]) => {
        const m = battlemap.map, canvas = m.getPane('bmRiverTop').querySelector('canvas');
        const p = m.latLngToContainerPoint([lat, lon]), r = canvas.getBoundingClientRect();
        const box = m.getContainer().getBoundingClientRect(), k = canvas.width / r.width;
        const x = Math.round((p.x + box.left - r.left) * k), y = Math.round((p.y + box.top - r.top) * k);
        return Array.from(canvas.getContext('2d').getImageData(x, y, 1, 1).data);
    }""", [lat, lon])
    assert colour == [8, 48, 107, 255]                    # #08306b, the page's own river
    assert "一涌" in _shown_labels(page)

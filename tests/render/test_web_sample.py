"""On the shipped sample (32,000 cases): a click inside every town opens the town.

Slow (prepares the whole sample); run with ``-m slow``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import CHROMIUM, PageLog, browser, click_latlng, open_offline, representative_lonlat

from battlemap.render.web import render_web

pytestmark = [pytest.mark.slow, pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")]
CONFIG = Path(__file__).resolve().parents[2] / "battlemap.toml"
TOWN = "440118102"      # 石滩镇, 51 villages


def test_every_town_and_every_village_of_a_town_opens_on_click(tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    from battlemap.build import prepare
    from battlemap.config import load_config

    atlas = prepare(load_config(CONFIG)).atlas
    towns, villages = atlas.units["town"], atlas.units["village"]
    mine = villages[villages["parent_id"] == TOWN]
    wanted = [("district", str(atlas.units["district"].index[0]))]
    wanted += [("town", t) for t in towns.index] + [("village", v) for v in mine.index]
    out = tmp_path / "out"
    render_web(atlas, out, units=wanted)
    clicks = [("index.html", "town", towns), (f"town/{TOWN}.html", "village", mine)]
    log = PageLog()
    with browser() as b:
        ctx = b.new_context(viewport={"width": 1280, "height": 800})
        for page_path, level, units in clicks:
            missed = []
            for unit_id, geometry in units.geometry.items():
                page = open_offline(ctx, out / page_path, log)
                lon, lat = representative_lonlat(geometry, units.crs)
                click_latlng(page, lat, lon)
                try:
                    page.wait_for_url(f"**/{level}/{unit_id}.html", timeout=5_000)
                except PlaywrightTimeout:
                    missed.append((units.at[unit_id, "name"], page.url.rsplit("/", 2)[-2:]))
                page.close()
            assert missed == [], f"{len(missed)} of {len(units)} {level} clicks missed"
        ctx.close()
    assert log.problems() == []

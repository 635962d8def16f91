"""The filter menus (筛选) of a page show the stats stage's counts, in the browser."""

from __future__ import annotations

import dataclasses

import pytest
from browser import CHROMIUM, PageLog, browser, open_offline

from battlemap.render.web import render_web

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")]


def test_the_menus_count_what_the_stats_stage_counted(tiny_atlas, tmp_path):
    # doctored counts: a menu that recounted the page's cases would show the true ones
    by_type = tiny_atlas.by_type.assign(count=tiny_atlas.by_type["count"] * 10)
    by_channel = tiny_atlas.by_channel.assign(counted=tiny_atlas.by_channel["counted"] + 1)
    atlas = dataclasses.replace(tiny_atlas, by_type=by_type, by_channel=by_channel)
    render_web(atlas, tmp_path)
    town = str(atlas.units["town"].index[0])

    def expected(long, column, count):
        rows = long[(long["level"] == "town") & (long["unit_id"] == town)]
        return sorted(f"{value or '（未填）'}（{n}）" for value, n
                      in zip(rows[column], rows[count], strict=True) if n)

    log = PageLog()
    with browser() as chromium:
        page = open_offline(chromium.new_context(), tmp_path / "town" / f"{town}.html", log)
        menus = page.eval_on_selector_all(
            ".bm-select", "ls => ls.map(l => [l.querySelector('span').textContent, "
            "Array.from(l.querySelectorAll('option')).slice(1).map(o => o.textContent)])")
    menus = {label: sorted(options) for label, options in menus}
    assert menus["问题类型"] == expected(by_type, "problem_type", "count")
    assert menus["上报渠道"] == expected(by_channel, "channel", "counted")
    assert log.problems() == []

"""The case layer's pixels (atlas-dots.js): each dot in its state's colour, nothing elsewhere."""

from __future__ import annotations

import pytest
from browser import CHROMIUM, PageLog, browser, open_offline

from battlemap.render.web import render_web

# each case's centre pixel on the case canvas, its colour as the page's data say, and
# how far the nearest other case is (a neighbour may cover part of a dot)
_DOTS = """() => {
  const layer = battlemap.caseLayer, c = battlemap.D.cases, S = battlemap.S;
  const canvas = layer._canvas, ctx = canvas.getContext('2d'), k = canvas.width / canvas.clientWidth;
  const probe = document.createElement('canvas').getContext('2d');
  function rgb(css) { probe.fillStyle = css; probe.fillRect(0, 0, 1, 1);
    return Array.from(probe.getImageData(0, 0, 1, 1).data).slice(0, 3); }
  const out = [];
  for (let i = 0; i < c.id.length; i++) {
    const p = battlemap.map.latLngToContainerPoint(layer.latLng(i)), x = p.x, y = p.y;
    let near = Infinity;
    for (let j = 0; j < c.id.length; j++) {
      const q = battlemap.map.latLngToContainerPoint(layer.latLng(j));
      if (j !== i) near = Math.min(near, Math.hypot(q.x - x, q.y - y));
    }
    const key = (c.f[i] & battlemap.F_OVERDUE) ? 'overdue' : S.states[c.s[i]];
    out.push({ id: c.id[i], key: key, near: near, visible: layer.visible[i] === 1,
      pixel: Array.from(ctx.getImageData(Math.round(x * k), Math.round(y * k), 1, 1).data),
      expected: rgb(S.colors[key]) });
  }
  const corner = Array.from(ctx.getImageData(0, 0, 1, 1).data);
  return { dots: out, corner: corner };
}"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from conftest import write_tiny_inputs

    from battlemap.build import prepare
    from battlemap.config import load_config

    folder = tmp_path_factory.mktemp("tiny-dots")
    atlas = prepare(load_config(write_tiny_inputs(folder / "in"))).atlas
    render_web(atlas, folder / "out")
    return folder / "out"


@pytest.mark.parametrize("path", ["index.html", "town/440118002.html"])
@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian chromium")
def test_each_dot_is_drawn_in_its_states_colour(site, path):
    log = PageLog()
    with browser() as chromium:
        context = chromium.new_context(viewport={"width": 1280, "height": 800})
        page = open_offline(context, site / path, log)
        found = page.evaluate(_DOTS)
        # a hidden state leaves no dot behind
        page.locator('input[data-state="overdue"]').uncheck()
        hidden = page.evaluate(_DOTS)
        context.close()
    assert all(d["visible"] for d in found["dots"])
    alone = [d for d in found["dots"] if d["near"] > 20]
    assert alone, "no dot stands apart on the tiny map"
    for dot in alone:
        # open states and overdue are opaque; closed dots are drawn at 75 % over nothing
        alpha = 191 if dot["key"] == "closed" else 255
        assert dot["pixel"][3] == pytest.approx(alpha, abs=2), dot
        assert dot["pixel"][:3] == pytest.approx(dot["expected"], abs=3), dot
    assert found["corner"] == [0, 0, 0, 0]
    late = [d for d in hidden["dots"] if d["key"] == "overdue"]
    assert late and not any(d["visible"] for d in late)
    assert [d["pixel"][3] for d in late if d["near"] > 20] == [0] * len([d for d in late if d["near"] > 20])
    assert log.problems() == []

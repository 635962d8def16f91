"""Each page: its data file, its HTML (breadcrumb, sample mark, scripts), and the shared assets."""


from __future__ import annotations

import html
import importlib.resources
from pathlib import Path

import numpy as np

from battlemap import LEVELS
from battlemap._io import write_bytes, write_text
from battlemap._model import Atlas
from battlemap._paths import inside, page_data_file, page_file
from battlemap.errors import RenderError
from battlemap.render.web.data import _WebAtlas
from battlemap.render.web.encode import (
    COORD_SCALE,
    CORRIDOR_SIMPLIFY_M,
    _js_call,
    _latlngs,
    _to_wgs84,
)
from battlemap.stats import uncounted_note

_STATIC = "static"
# the atlas's classic scripts (file:// pages cannot load ES modules), in load order; each
# adds to the one namespace window.battlemap that atlas-core.js creates. A page loads them
# with Leaflet as ONE file, ATLAS_BUNDLE: each file:// request costs the page its own
# round trip through the browser (14 requests before DOMContentLoaded took ~0.2 s more
# than 5 on the district page)
ATLAS_BUNDLE = "atlas.js"
ATLAS_SCRIPTS = ("atlas-core.js", "atlas-dots.js", "atlas-cases.js", "atlas-map.js", "atlas-panel.js",
                 "atlas-search.js", "atlas-export.js", "atlas-start.js", "atlas-water.js")


# ---------------------------------------------------------------------------
# Pages


def _href(web: _WebAtlas, level: str, unit_id: str) -> str:
    if level == "district":
        return "index.html"
    return f"{level}/{web.stems[level][unit_id]}.html"


def _page_data(web: _WebAtlas, level: str, unit_id: str) -> dict:
    atlas = web.atlas
    frame = atlas.rivers if level == "river" else atlas.units[level]
    positions = web.cases_of[level].get(unit_id, np.array([], dtype=np.int64))
    data: dict[str, object] = {
        "level": level, "id": unit_id, "stem": web.stems[level][unit_id],
        "name": web.names[level][unit_id],
        "chief": web.chiefs[level][unit_id],
        "stats": web.stats[level][unit_id],
        "bounds": web.bounds[level][unit_id],
        "g": web.geoms[level][unit_id] if level not in ("district", "river") else None,
        "cases": web.case_slice(positions, with_details=level == "grid"),
        "filterCounts": {key: counts.get((level, unit_id), []) for key, counts
                         in web.filter_counts.items()},
        "rivers": web.rivers_in(level, unit_id) if level != "river" else [],
        "children": [], "crosses": [],
        "uncountedNote": uncounted_note(int(frame.at[unit_id, "uncounted"])
                                        if "uncounted" in frame else 0),
        "town": next((web.stems["town"][u] for lv, u in web.chain(level, unit_id)
                      if lv == "town"), None),
    }
    if level in LEVELS[:-1]:
        below = LEVELS[LEVELS.index(level) + 1]
        ids_below = atlas.units[below].index
        rows = web.children_of[below].get(unit_id, np.array([], dtype=np.int64))
        children = []
        for pos in rows.tolist():
            cid = str(ids_below[pos])
            children.append({
                "stem": web.stems[below][cid], "name": web.names[below][cid],
                "chief": web.chiefs[below][cid],
                "stats": web.stats[below][cid],
                "g": web.overview["towns"][cid] if below == "town" else web.geoms[below][cid],
                "i": pos, "label": web.labels[below][cid]})
        data["children"] = children
        data["childLevel"] = below
    if level == "district":
        data["overview"] = {"outline": web.overview["outline"], "rivers": web.overview["rivers"]}
    if level == "river":
        data["bounds"] = _extend_bounds(data["bounds"], web, positions)
        data["kind"] = str(frame.at[unit_id, "kind"])
        data["corridor"] = _corridor(atlas, unit_id, web.gcj)
        links = web.stretches[web.stretches["river_id"] == unit_id]
        data["crosses"] = [
            [lv, web.stems[lv][u], web.names[lv][u], int(m)]
            for lv, u, m in zip(links["level"], links["unit_id"], links["length_m"], strict=True)
            if lv in ("town", "village") and u in web.stems[lv]]
    return data


def _extend_bounds(bounds: list, web: _WebAtlas, positions: np.ndarray) -> list:
    """Bounds grown to hold the page's case points too (a river's cases lie beside it)."""
    if not len(positions):
        return bounds
    x = web.case_arrays["x"][positions] + web.origin[0]
    y = web.case_arrays["y"][positions] + web.origin[1]
    scale = COORD_SCALE
    (south, west), (north, east) = bounds
    return [[min(south, int(y.min()) / scale), min(west, int(x.min()) / scale)],
            [max(north, int(y.max()) / scale), max(east, int(x.max()) / scale)]]


def _corridor(atlas: Atlas, river_id: str, gcj: bool = False) -> list:
    """The river's corridor: the band within which cases are assigned to it."""
    distance = atlas.config.join.river_distance_m
    line = atlas.rivers.geometry.loc[[river_id]].simplify(CORRIDOR_SIMPLIFY_M)
    band = line.buffer(distance, quad_segs=3).simplify(CORRIDOR_SIMPLIFY_M,
                                                       preserve_topology=True)
    return _latlngs(_to_wgs84(band, gcj)[0])


# Leaflet and the atlas scripts (one file), then the data files that call into them
_SCRIPT_TAGS = f'<script src="{{root}}assets/{ATLAS_BUNDLE}"></script>\n'
_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{root}assets/atlas.css">
</head>
<body data-root="{root}" data-level="{level}" data-stem="{stem}">
<header class="bm-header">
  <div class="bm-titles">
    <nav class="bm-crumbs" aria-label="breadcrumb">{crumbs}</nav>
    <h1>{heading}</h1>
  </div>
  <div class="bm-meta"><span class="bm-asof">数据截至 {as_of}</span>{chief}</div>
  {sample}
</header>
<main class="bm-main">
  <div id="map" class="bm-map" role="application" aria-label="{title}"></div>
  <aside id="panel" class="bm-panel"></aside>
</main>
<footer class="bm-footer">{note}</footer>
""" + _SCRIPT_TAGS + """<script src="{root}data/shared.js"></script>
<script src="{root}data/{level}/{stem}.js"></script>
</body>
</html>
"""

_SAMPLE = '<div class="bm-sample" title="示例数据，非真实案件">示例数据 sample data</div>'


def _page_html(web: _WebAtlas, level: str, unit_id: str) -> str:
    atlas, esc = web.atlas, html.escape
    root = "" if level == "district" else "../"
    levels = atlas.config.style.level_labels
    chain = web.chain(level, unit_id)
    crumbs = []
    for lv, uid in chain:
        label = levels.get("tributary" if lv == "river" else lv, lv)
        name = esc(f"{label} {web.names[lv][uid]}") if lv != "district" \
            else esc(web.names[lv][uid])
        if (lv, uid) == (level, unit_id):
            crumbs.append(f'<span class="bm-crumb bm-here" aria-current="page">{name}</span>')
        else:
            crumbs.append(f'<a class="bm-crumb" href="{root}{_href(web, lv, uid)}">{name}</a>')
    name = web.names[level][unit_id]
    label = levels.get("tributary" if level == "river" else level, level)
    project = atlas.config.project.name
    heading = f"{name} 河长制 挂图作战图" if level == "district" else f"{name}（{label}）挂图作战图"
    chief = web.chiefs[level][unit_id]
    chief_html = f'<span class="bm-chief">河长：{esc(chief)}</span>' if chief else ""
    note = " · ".join(x for x in (atlas.config.project.note, atlas.config.project.data_source) if x)
    return _PAGE.format(
        title=esc(f"{heading} · {project}" if level != "district" else heading),
        root=root, level=level, stem=web.stems[level][unit_id],
        crumbs='<span class="bm-sep">›</span>'.join(crumbs), heading=esc(heading),
        as_of=atlas.as_of.isoformat(), chief=chief_html,
        sample=_SAMPLE if atlas.config.project.sample else "", note=esc(note))


def _write_page(web: _WebAtlas, out_dir: Path, level: str, unit_id: str) -> list[Path]:
    stem = web.stems[level][unit_id]
    page = inside(out_dir, out_dir / page_file(level, unit_id))
    data = inside(out_dir, out_dir / page_data_file(level, unit_id))
    payload = _js_call("battlemapData", [level, stem], _page_data(web, level, unit_id))
    return [write_text(data, payload), write_text(page, _page_html(web, level, unit_id))]


# ---------------------------------------------------------------------------
# Assets


def _write_assets(out_dir: Path) -> list[Path]:
    """Leaflet (js_lib_leaflet package) and our scripts as one file, its CSS and ours as another.

    One stylesheet, not two: every file a page loads before its first frame is one more
    request (leaflet.css first, so that our rules win as they did in two files).
    """
    assets = out_dir / "assets"
    try:
        leaflet = importlib.resources.files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    except ModuleNotFoundError as exc:
        raise RenderError("Leaflet is missing: install django-js-lib-leaflet") from exc
    ours = importlib.resources.files("battlemap.render") / _STATIC
    written = [_copy(_bundle(leaflet / "leaflet.js", [ours / n for n in ATLAS_SCRIPTS]),
                     assets / ATLAS_BUNDLE),
               _copy(_bundle(leaflet / "leaflet.css", [ours / "atlas.css"]), assets / "atlas.css")]
    images = leaflet / "images"
    for item in sorted(images.iterdir(), key=lambda p: p.name):
        if item.name.endswith(".png"):
            written.append(_copy(item.read_bytes(), assets / "images" / item.name))
    return written


def _bundle(leaflet: importlib.resources.abc.Traversable,
            scripts: list[importlib.resources.abc.Traversable]) -> bytes:
    """Leaflet's file, then each of ours under a comment naming it; each file ends on a
    newline (Leaflet's last line is a ``//`` comment), Leaflet's source-map line left out
    (the map is not shipped)."""
    parts = [b"\n".join(line for line in leaflet.read_bytes().splitlines()
                        if not line.startswith((b"//# sourceMappingURL=", b"/*# sourceMappingURL=")))]
    parts += [b"/* ---- " + s.name.encode() + b" ---- */\n" + s.read_bytes() for s in scripts]
    return b"".join(part.rstrip(b"\n") + b"\n" for part in parts)


def _copy(data: bytes, target: Path) -> Path:
    if target.exists() and target.read_bytes() == data:
        return target
    return write_bytes(target, data)

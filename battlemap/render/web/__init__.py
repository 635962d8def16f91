"""Interactive HTML atlas (交互式挂图): one offline Leaflet page per unit and river.

Layout under ``out_dir``::

    index.html                  the district (区) map
    town/<id>.html              one page per town (镇街), village (村居), grid (网格)
    village/<id>.html           and river (流域); file names come from unit ids only
    grid/<id>.html
    river/<id>.html
    data/shared.js              labels, colours, town outlines, rivers, context, unit index
    data/<level>/<id>.js        one page's data, loaded by a <script> tag (file:// safe)
    assets/                     atlas.js (Leaflet from the js_lib_leaflet package and the
                                atlas-*.js scripts, one file), atlas.css (Leaflet's CSS and ours)

Cases travel as compact parallel arrays (integer coordinates, small-integer
codes; each array one string of fixed-width base-64 digits, ``encode._pack_ints``,
unpacked by ``atlas-core.js``; case numbers as prefix and delta-coded numbers) and
are drawn by one canvas layer in ``atlas-cases.js`` (its pixels stamped by ``atlas-dots.js``). A case's details
(description, dates, declared units) live in its grid's data file, which a
page loads on demand when the case is clicked. Free text is never written
into HTML: page data is JSON, and the atlas scripts build popups with
``textContent``.

A basemap is optional (``config.basemap``; none by default, so the atlas makes
no network request at all). When the basemap's tiles are in GCJ-02
(Amap-style), every coordinate written into the page data (units, rivers,
context, cases, bounds) is shifted from WGS84 to GCJ-02 here, vectorised, so
the browser draws the data as they are.

The package: ``encode`` (geometry and figures as compact arrays, file
stems), ``data`` (the atlas as JSON-ready pieces, once for all pages),
``pages`` (each page's data and HTML, the shared assets); this module is
the API.

Searching a case number works from any page: the district data file already
holds every case number and its grid, and a page loads it on demand when the
search box is used, then jumps to ``grid/<id>.html#case=<case id>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from battlemap._io import write_text
from battlemap._model import Atlas
from battlemap.errors import RenderError
from battlemap.render.water import write_section_pages
from battlemap.render.web.data import web_atlas
from battlemap.render.web.encode import PAGE_LEVELS, page_name
from battlemap.render.web.pages import ATLAS_BUNDLE, ATLAS_SCRIPTS, _write_assets, _write_page

__all__ = ["ATLAS_BUNDLE", "ATLAS_SCRIPTS", "page_name", "render_web"]


def render_web(atlas: Atlas, out_dir: Path,
               units: Iterable[tuple[str, str]] | None = None) -> list[Path]:
    """Write the offline atlas under ``out_dir``; return the files written.

    Parameters
    ----------
    atlas
        The prepared atlas (units with statistics, rivers, cases).
    out_dir
        The output folder; ``index.html`` is the district map.
    units
        ``None`` writes every page; otherwise only these ``(level, unit_id)``
        pages (level in district/town/village/grid/river), plus the shared
        assets and data.

    Raises
    ------
    RenderError
        When a requested unit does not exist.
    """
    out_dir = Path(out_dir)
    wanted = _check_units(atlas, units)
    web = web_atlas(atlas)  # built by the first call, kept for the build's next batches
    written = _write_assets(out_dir)
    written.append(write_text(out_dir / "data" / "shared.js", web.shared_js()))
    pages = list(_pages(atlas, wanted))
    for level, unit_id in pages:
        written.extend(_write_page(web, out_dir, level, unit_id))
    if any(level == "district" for level, _ in pages):  # section pages go with index.html
        written.extend(write_section_pages(atlas, out_dir,
                                           lambda lv, i: web.stems[lv].get(i, page_name(i))))
    return written



# ---------------------------------------------------------------------------
# Inputs


def _check_units(atlas: Atlas, units: Iterable[tuple[str, str]] | None
                 ) -> set[tuple[str, str]] | None:
    if units is None:
        return None
    wanted = {(str(level), str(unit_id)) for level, unit_id in units}
    unknown = []
    for level, unit_id in sorted(wanted):
        frame = atlas.rivers if level == "river" else atlas.units.get(level)
        if frame is None or unit_id not in frame.index:
            unknown.append(f"{level} {unit_id!r}: no such unit")
    if unknown:
        raise RenderError("render_web: unknown page(s) requested", unknown)
    return wanted


def _pages(atlas: Atlas, wanted: set[tuple[str, str]] | None) -> Iterator[tuple[str, str]]:
    for level in PAGE_LEVELS:
        frame = atlas.rivers if level == "river" else atlas.units[level]
        for unit_id in frame.index:
            if wanted is None or (level, str(unit_id)) in wanted:
                yield level, str(unit_id)

"""Poster: printable PDF battle maps (挂图作战 作战图) per unit, and per-town meeting atlases.

Every poster carries the title, the as-of date and the data's date range,
the map (child units shaded by closure (销号) rate, rivers, cases by state,
context points, neighbouring districts), a legend with counts, scale bar,
north arrow, locator inset, statistics, the ranking of child units with
their river chiefs (河长), the data source, the configured note and, for
the shipped sample, a "示例数据 sample data" band and watermark.

The package, in reading order:

- ``__init__`` (here): the public API; it groups posters by paper and
  orientation so that one figure serves a whole series.
- :mod:`.files`: the file names of posters and atlases.
- :mod:`.view`: what one poster shows (:class:`~.view.View`) and what all
  share (:class:`~.view.Context`); figures come from the atlas, never counted here.
- :mod:`.layout`: paper sizes, the boxes of a page, orientation.
- :mod:`.sheet`: the reusable figure, its static frame and drawing primitives.
- :mod:`.layers`: the map layers, scale bar and locator inset.
- :mod:`.panels`: legend, statistics, ranking and case tables.
- :mod:`.labels`: greedy, non-overlapping label placement.
- :mod:`.atlas`: the meeting atlas (会议图册).
- :mod:`.style` and :mod:`.paths`: fixed colours and symbols; geometries as paths.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib

from battlemap import LEVELS
from battlemap._model import Atlas
from battlemap.errors import RenderError
from battlemap.render.fonts import rc_params
from battlemap.render.poster.atlas import ATLAS_SOURCE, write_meeting_atlas
from battlemap.render.poster.files import atlas_path, poster_path
from battlemap.render.poster.layout import PAPER_MM, orientation
from battlemap.render.poster.sheet import Sheet
from battlemap.render.poster.view import POSTER_LEVELS, Context

__all__ = ["PAPER_MM", "POSTER_LEVELS", "atlas_path", "poster_path", "render_meeting_atlas",
           "render_meeting_atlases", "render_poster", "render_posters", "series"]

_SERIES: dict[int, tuple[Atlas, Context, dict[tuple[str, str], Sheet]]] | None = None
"""Inside :func:`series`: per atlas, the context and sheets kept from one call to the next."""


@contextmanager
def series() -> Iterator[None]:
    """Within it, :func:`render_posters` and :func:`render_meeting_atlases` keep their work.

    One :class:`~.view.Context` and one sheet per paper and orientation are
    made per atlas and kept from one call (one batch of a build) to the
    next, instead of being made again by every call: a build renders its
    posters in many batches. Entered before a process pool forks, each
    worker keeps its own. Not for calls from several threads at once.
    """
    global _SERIES
    outer, _SERIES = _SERIES, {}
    try:
        yield
    finally:
        _SERIES = outer


def _shared(atlas: Atlas) -> tuple[Context, dict[tuple[str, str], Sheet]]:
    """The context and sheets of ``atlas``: kept ones inside :func:`series`, else new ones."""
    if _SERIES is None:
        return Context(atlas), {}
    kept = _SERIES.get(id(atlas))
    if kept is None or kept[0] is not atlas:
        kept = _SERIES[id(atlas)] = (atlas, Context(atlas), {})
    return kept[1], kept[2]


def render_posters(atlas: Atlas, out_dir: Path,
                   units: Iterable[tuple[str, str]] | None = None) -> list[Path]:
    """Write every poster, or those of the given ``(level, unit_id)`` pairs, under ``out_dir/posters/``.

    Levels are district, town, village, grid and river (tributary, 流域). The
    paper sizes come from ``config.posters.papers``. When ``units`` is None
    (everything), the meeting atlas of every town follows, assembled from the
    posters just written (see :func:`render_meeting_atlases`); a caller that
    renders in batches calls that function itself once all batches are done.

    Returns
    -------
    list of Path
        The files written.
    """
    ctx, sheets = _shared(atlas)
    keyed = []
    for level, unit_id in _select(atlas, units):
        papers = atlas.config.posters.papers.get(level, ())
        view = ctx.view(level, unit_id) if papers else None
        for paper in papers:
            keyed.append(((paper, orientation(view.bounds, paper)), level, unit_id, view))
    keyed.sort(key=lambda item: item[0])   # by (paper, orientation): one figure per series
    written: list[Path] = []
    with matplotlib.rc_context(rc_params(ctx.font)):
        for (paper, orient), level, unit_id, view in keyed:
            sheet = sheets.get((paper, orient))
            if sheet is None:
                sheet = sheets[(paper, orient)] = Sheet(ctx, paper, orient)
            written.append(sheet.save(view, poster_path(out_dir, level, unit_id, paper)))
        if units is None:
            written += _meeting_atlases(ctx, [str(t) for t in atlas.units["town"].index],
                                        out_dir, sheets)
    return written


def render_meeting_atlases(atlas: Atlas, out_dir: Path,
                           town_ids: Iterable[str] | None = None) -> list[Path]:
    """Assemble the meeting atlas (会议图册) of each town from the posters under ``out_dir``.

    Call it after the town, village and grid posters are written: each atlas
    is ``posters/atlas/<town_id>.pdf``, joined from the cover, the town's A3
    poster, each village's A3 poster, each grid's A4 poster (all scaled to
    A4) and the statistics pages. A poster that is missing is rendered for
    the atlas alone. ``town_ids`` None means every town.

    Returns
    -------
    list of Path
        The atlases written.
    """
    ctx, sheets = _shared(atlas)
    towns = atlas.units["town"].index
    ids = [str(t) for t in (towns if town_ids is None else town_ids)]
    for town_id in ids:
        if town_id not in towns:
            raise RenderError(f"no town with id {town_id!r}")
    with matplotlib.rc_context(rc_params(ctx.font)):
        return _meeting_atlases(ctx, ids, out_dir, sheets)


def render_poster(atlas: Atlas, level: str, unit_id: str, paper: str, path: Path) -> Path:
    """Render one unit's poster on ``paper`` (A0–A4) to ``path``; return the path.

    Raises
    ------
    RenderError
        Unknown level, unit or paper, or a label the font cannot draw.
    """
    if paper not in PAPER_MM:
        raise RenderError(f"unknown paper {paper!r}; use one of {sorted(PAPER_MM)}")
    ctx = Context(atlas)
    view = ctx.view(level, unit_id)
    with matplotlib.rc_context(rc_params(ctx.font)):
        return Sheet(ctx, paper, orientation(view.bounds, paper)).save(view, Path(path))


def render_meeting_atlas(atlas: Atlas, town_id: str, path: Path) -> Path:
    """The meeting atlas (会议图册) of one town: cover, the town, each village, each grid, statistics.

    One multi-page A4 PDF, written atomically to ``path``; every page is
    rendered here. :func:`render_meeting_atlases` reuses written posters.
    """
    ctx = Context(atlas)
    if town_id not in atlas.units["town"].index:
        raise RenderError(f"no town with id {town_id!r}")
    with matplotlib.rc_context(rc_params(ctx.font)):
        return write_meeting_atlas(ctx, town_id, Path(path), lambda level, unit_id: None, {})


def _meeting_atlases(ctx: Context, town_ids: list[str], out_dir: Path,
                     sheets: dict[tuple[str, str], Sheet]) -> list[Path]:
    """The atlases of ``town_ids``, reusing the posters written under ``out_dir``."""
    def written(level: str, unit_id: str) -> Path:
        return poster_path(out_dir, level, unit_id, ATLAS_SOURCE[level])

    return [write_meeting_atlas(ctx, t, atlas_path(out_dir, t), written, sheets) for t in town_ids]


def _select(atlas: Atlas, units: Iterable[tuple[str, str]] | None) -> list[tuple[str, str]]:
    """The ``(level, unit_id)`` pairs to render: the given ones checked, or every unit and river."""
    if units is None:
        wanted = [(level, str(i)) for level in LEVELS for i in atlas.units[level].index]
        return wanted + [("river", str(i)) for i in atlas.rivers.index]
    wanted = []
    for level, unit_id in units:
        if level not in POSTER_LEVELS:
            raise RenderError(f"unknown level {level!r}; use one of {list(POSTER_LEVELS)}")
        wanted.append((level, str(unit_id)))
    return wanted

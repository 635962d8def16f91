"""The town map's layers: drawn from paths made once, as ``GeoSeries.plot`` would draw them."""

from __future__ import annotations

import geopandas as gpd
import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import ScaledTranslation
from shapely.geometry import GeometryCollection, LineString, MultiLineString, Point, Polygon

from battlemap.render.fonts import font_for, rc_params
from battlemap.render.letters.townmap import _Numbers, _Shapes, rivers_in

SQUARE = Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1, 1), (2, 1), (2, 2), (1, 2)]])
LAYERS = {
    "polygons, one with a hole": gpd.GeoSeries([SQUARE, Polygon([(5, 0), (6, 0), (6, 1)])]),
    "lines and multilines": gpd.GeoSeries([LineString([(0, 0), (3, 1)]),
                                           MultiLineString([[(1, 3), (2, 2)], [(4, 4), (5, 3)]])]),
    # what clipping rivers to a town gives where a river only touches its border
    "a collection of lines and points, and an empty line": gpd.GeoSeries([
        GeometryCollection([LineString([(0, 0), (2, 2)]), Point(3, 3), Point(1, 0)]),
        LineString([(2, 0), (0, 3)]), LineString()]),
}


@pytest.fixture(scope="module")
def font():
    from battlemap.config import Config

    return font_for(Config.model_construct(style=type("S", (), {"font_path": None})()))


def _artists(ax) -> list[tuple]:
    """What each collection draws: its kind, paths, colours, widths, offsets, zorder."""
    out = []
    for c in ax.collections:
        kind = next(k for k in type(c).__mro__ if k.__module__.startswith("matplotlib"))
        out.append((kind.__name__,
                    [(p.vertices.tolist(), None if p.codes is None else p.codes.tolist())
                     for p in c.get_paths()],
                    c.get_facecolor().tolist(), c.get_edgecolor().tolist(),
                    list(c.get_linewidth()), c.get_offsets().tolist(), c.get_zorder(),
                    list(getattr(c, "get_sizes", list)())))
    return out


@pytest.mark.parametrize("name", list(LAYERS))
@pytest.mark.parametrize("style", [dict(facecolor="#f7f7f2", edgecolor="#444444", linewidth=1.0),
                                   dict(color="#4a90c8", linewidth=0.9)])
def test_layer_draws_what_geoseries_plot_draws(name, style) -> None:
    series = LAYERS[name]
    theirs, ours = Figure().add_subplot(), Figure().add_subplot()
    series.plot(ax=theirs, **style)
    ours.set_aspect("equal")
    _Shapes.of(series).draw(ours, **style)
    assert _artists(ours) == _artists(theirs)
    assert len(ours.collections) >= 1
    assert np.allclose(ours.get_xlim(), theirs.get_xlim())
    assert np.allclose(ours.get_ylim(), theirs.get_ylim())


def _numbered(with_artist: bool, xs, ys) -> np.ndarray:
    """A constrained-layout PNG of dots numbered by texts or by ``_Numbers``."""
    fig = Figure(figsize=(3, 2), dpi=150, layout="constrained")
    ax = fig.add_subplot()
    ax.scatter(xs, ys, s=14, zorder=3)
    shifted = ax.transData + ScaledTranslation(3 / 72, 3 / 72, fig.dpi_scale_trans)
    if with_artist:
        ax.add_artist(_Numbers(ax, xs, ys, shifted, size=6.4, color="#333333"))
    else:
        for k, (x, y) in enumerate(zip(xs, ys, strict=True), 1):
            ax.text(x, y, str(k), transform=shifted, fontsize=6.4, color="#333333")
    ax.set_title("标题", fontsize=8)
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)                 # the dot at (10, 10): its number beyond the axes
    ax.set_axis_off()
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()


def test_numbers_draw_and_lay_out_as_texts(font) -> None:
    """The same pixels as one text per dot, also where a number beyond the axes moves the layout."""
    xs, ys = np.array([0.0, 1.0, 2.0, 10.0]), np.array([0.0, 2.0, 1.0, 10.0])
    with matplotlib.rc_context(rc_params(font)):
        texts = _numbered(False, xs, ys)
        ours = _numbered(True, xs, ys)
        moved = _numbered(True, xs, ys + np.array([0, 0, 0, 0.5]))
    assert np.array_equal(ours, texts)
    assert not np.array_equal(moved, texts)     # the comparison sees a moved number


def test_a_river_touching_the_town_is_no_dot_on_its_border() -> None:
    town = gpd.GeoSeries([Polygon([(0, 0), (4, 0), (4, 4), (0, 4)])])
    rivers = gpd.GeoSeries([LineString([(-1, 2), (5, 2)]),            # crosses the town
                            LineString([(4, -1), (4, 0), (6, -2)]),    # touches a corner
                            LineString([(-3, -3), (-2, -2)])])         # far away
    shapes = _Shapes.of(rivers_in(rivers, town))
    assert len(shapes.points) == 0
    assert [line.tolist() for line in shapes.lines] == [[[0.0, 2.0], [4.0, 2.0]]]

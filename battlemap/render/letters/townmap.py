"""The small map of a 交办函: the town, its villages and rivers, and the letter's cases numbered."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.artist import Artist, allow_rasterization
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.patches import PathPatch
from matplotlib.path import Path
from matplotlib.text import Text
from matplotlib.transforms import Bbox, IdentityTransform, ScaledTranslation

from battlemap._model import Atlas
from battlemap.render.document import Figure
from battlemap.render.letters.plan import Letter

__all__ = ["town_map"]

LABELLED = 60
"""At most this many cases get their table row number beside the dot."""

_POLYGONS = ("Polygon", "MultiPolygon")
_LINES = ("LineString", "MultiLineString", "LinearRing")
_POINTS = ("Point", "MultiPoint")


def rivers_in(rivers: gpd.GeoSeries, town: gpd.GeoSeries) -> gpd.GeoSeries:
    """The rivers' stretches inside the town, as lines only.

    Clipping a line to the polygon gives points where the line only touches
    its border; they are not rivers, and drawn they were dots on the border.
    """
    rivers = rivers[rivers.intersects(town.iloc[0])]
    return gpd.clip(rivers, town, keep_geom_type=True) if len(rivers) else rivers


@dataclass(frozen=True)
class _Shapes:
    """One layer as matplotlib takes it, in the parts and order ``GeoSeries.plot`` draws.

    ``polygons``: one compound path per (multi)polygon; ``lines``: the
    coordinates of each single line; ``points``: the coordinates of each point.
    """

    polygons: list[Path]
    lines: list[np.ndarray]
    points: np.ndarray

    @classmethod
    def of(cls, geoms: gpd.GeoSeries) -> _Shapes:
        """The layer's shapes, split as geopandas' ``plot_series`` splits them.

        Normalised, collections taken apart one level, empties dropped; then
        polygons whole, lines and points taken apart into single parts.
        """
        parts = []
        for geom in shapely.normalize(np.asarray(geoms.values)):
            if geom is None or geom.is_empty:
                continue
            parts.extend(geom.geoms if geom.geom_type.startswith("Geom") else [geom])
        kinds = [part.geom_type for part in parts]
        polygons = [_compound(p) for p, kind in zip(parts, kinds, strict=True) if kind in _POLYGONS]
        lines = shapely.get_parts([p for p, kind in zip(parts, kinds, strict=True)
                                   if kind in _LINES])
        points = shapely.get_parts([p for p, kind in zip(parts, kinds, strict=True)
                                    if kind in _POINTS])
        return cls(polygons, [np.array(line.coords)[:, :2] for line in lines],
                   shapely.get_coordinates(points))

    def draw(self, ax, color: str | None = None, **style) -> None:
        """Add the layer to ``ax`` as ``GeoSeries.plot(ax=ax, color=color, **style)`` does.

        The same artists with the same styles: ``color`` is a polygon's face
        and a line's or point's colour; a face colour goes to polygons only
        when there are polygons.
        """
        style = dict(style)
        if self.polygons:
            facecolor = style.pop("facecolor", None)
            ax.add_collection(PatchCollection([PathPatch(p) for p in self.polygons],
                                              facecolor=facecolor if color is None else color,
                                              **style), autolim=True)
        if color is not None:
            style["color"] = color
        if self.lines:
            ax.add_collection(LineCollection(self.lines, **style), autolim=True)
        if len(self.points):
            ax.scatter(self.points[:, 0], self.points[:, 1], **style, marker="o")
        ax.autoscale_view()


def town_map(atlas: Atlas, letter: Letter) -> Figure:
    """A figure block drawing the letter's town with its cases (numbered as in the table).

    What both drawings (the PDF page's and the .docx's PNG) need is taken
    from the frames once here: the paths of the town, its village boundaries
    and its rivers (made once, not by ``GeoSeries.plot`` at each drawing), the dots.
    """
    towns = atlas.units["town"]
    town = towns.geometry.loc[[letter.recipient_id]]
    villages = atlas.units["village"]
    villages = villages.geometry[villages["parent_id"] == letter.recipient_id]
    points = atlas.cases.geometry.loc[list(letter.cases["case_id"])]   # geometry only: cheap
    rivers = rivers_in(atlas.rivers.geometry, town)
    color = atlas.config.style.status_colors.get("reported", "#f0a30a")
    title = f"{towns.at[letter.recipient_id, 'name']}　新增问题 {len(points)} 件（编号同附件序号）"
    layers = (_Shapes.of(town), _Shapes.of(villages.boundary), _Shapes.of(rivers))
    dots = (points.x.to_numpy(), points.y.to_numpy())

    def draw(ax, font_size: float) -> None:
        _draw(layers, dots, color, title, ax, font_size)

    return Figure(draw, f"{letter.town}新增污染源问题分布图（{len(points)} 件）", height=300,
                  room=0)


def _draw(layers: tuple[_Shapes, _Shapes, _Shapes], points: tuple[np.ndarray, np.ndarray],
          color: str, title: str, ax, font_size: float) -> None:
    town, village_lines, rivers = layers
    ax.set_aspect("equal")          # as GeoSeries.plot sets it for a projected CRS
    town.draw(ax, facecolor="#f7f7f2", edgecolor="#444444", linewidth=1.0)
    village_lines.draw(ax, color="#bbbbbb", linewidth=0.4)
    rivers.draw(ax, color="#4a90c8", linewidth=0.9)
    xs, ys = points
    ax.scatter(xs, ys, s=14, color=color, edgecolor="#7a4b00", linewidth=0.5, zorder=3)
    if 0 < len(xs) <= LABELLED:
        # 3 points up and right of each dot (as annotations offset by 3 points would be,
        # without their costly clip test at every layout pass)
        shifted = ax.transData + ScaledTranslation(3 / 72, 3 / 72, ax.figure.dpi_scale_trans)
        ax.add_artist(_Numbers(ax, xs, ys, shifted, size=font_size * 0.8, color="#333333"))
    ax.set_title(title, fontsize=font_size)
    ax.set_aspect("equal")
    ax.set_axis_off()
    # no axis is drawn: hidden axes also spare laying out ticks for the title and the layout
    ax.xaxis.set_visible(False)
    ax.yaxis.set_visible(False)


class _Numbers(Artist):
    """The numbers 1, 2, … beside the dots: what ``ax.text(x, y, str(k), ...)`` draws for each.

    One artist instead of one text each (issue 16): a text's layout is worked
    out once per number and drawing, not three times (two layout passes and
    the drawing), and the axes sort and draw one artist, not sixty. Each
    number is still drawn by a :class:`~matplotlib.text.Text`, moved from dot
    to dot, so the pixels are a text's; the extent it reports for the layout
    is the union of the texts' extents, each the text's own measure moved to
    its dot as ``Text.get_window_extent`` moves it.
    """

    def __init__(self, ax, xs: np.ndarray, ys: np.ndarray, transform, size: float,
                 color: str) -> None:
        super().__init__()
        self._xy = np.column_stack([xs, ys]).astype(float)
        self._labels = [str(k) for k in range(1, len(xs) + 1)]
        self._pen = Text(0, 0, "", fontsize=size, color=color, transform=transform,
                         clip_on=False)
        self._ruler = Text(0, 0, "", fontsize=size, color=color,
                           transform=IdentityTransform(), clip_on=False)
        for text in (self._pen, self._ruler):
            text.set_figure(ax.figure)
        self._measured: tuple[object, list[Bbox]] | None = None
        self.set_transform(transform)
        self.set_clip_on(False)          # drawn beyond the axes and counted in the layout
        self.set_zorder(self._pen.get_zorder())

    def _sizes(self, renderer) -> list[Bbox]:
        """Each number's extent with its anchor at (0, 0), measured once per renderer."""
        if renderer is not None and self._measured is not None and self._measured[0] is renderer:
            return self._measured[1]
        sizes = []
        for label in self._labels:
            self._ruler.set_text(label)
            sizes.append(self._ruler.get_window_extent(renderer))
        self._measured = (renderer, sizes)
        return sizes

    def get_window_extent(self, renderer=None) -> Bbox:
        anchors = self.get_transform().transform(self._xy)
        return Bbox.union([size.translated(x, y) for size, (x, y)
                           in zip(self._sizes(renderer), anchors, strict=True)])

    @allow_rasterization
    def draw(self, renderer) -> None:
        if not self.get_visible():
            return
        for label, xy in zip(self._labels, self._xy, strict=True):
            self._pen.set_position(xy)
            self._pen.set_text(label)
            self._pen.draw(renderer)
        self.stale = False


def _compound(polygon) -> Path:
    """A (multi)polygon as one path, exterior and holes (geopandas' ``_PolygonPatch``)."""
    rings = [ring for part in shapely.get_parts(polygon)
             for ring in (part.exterior, *part.interiors)]
    return Path.make_compound_path(*(Path(np.asarray(r.coords)[:, :2], closed=True)
                                     for r in rings))

"""The small map of a 交办函: the town, its villages and rivers, and the letter's cases numbered."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.collections import LineCollection, PatchCollection
from matplotlib.patches import PathPatch
from matplotlib.path import Path
from matplotlib.transforms import ScaledTranslation

from battlemap._model import Atlas
from battlemap.render.document import Figure
from battlemap.render.letters.plan import Letter

__all__ = ["town_map"]

LABELLED = 60
"""At most this many cases get their table row number beside the dot."""

_POLYGONS = ("Polygon", "MultiPolygon")
_LINES = ("LineString", "MultiLineString", "LinearRing")
_POINTS = ("Point", "MultiPoint")


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
            facecolor = style.pop("facecolor", None) if color is None else color
            style.pop("facecolor", None)
            ax.add_collection(PatchCollection([PathPatch(p) for p in self.polygons],
                                              facecolor=facecolor, **style), autolim=True)
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
    town = atlas.units["town"].loc[[letter.recipient_id]]
    villages = atlas.units["village"]
    villages = villages[villages["parent_id"] == letter.recipient_id]
    points = atlas.cases.loc[list(letter.cases["case_id"])]
    rivers = atlas.rivers[atlas.rivers.intersects(town.geometry.iloc[0])]
    rivers = gpd.clip(rivers, town) if len(rivers) else rivers
    color = atlas.config.style.status_colors.get("reported", "#f0a30a")
    title = f"{town['name'].iloc[0]}　新增问题 {len(points)} 件（编号同附件序号）"
    layers = (_Shapes.of(town.geometry), _Shapes.of(villages.geometry.boundary),
              _Shapes.of(rivers.geometry))
    dots = (points.geometry.x.to_numpy(), points.geometry.y.to_numpy())

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
    if len(xs) <= LABELLED:
        # plain texts 3 points up and right of each dot (as annotations offset by 3 points
        # would be, without their costly clip test at every layout pass)
        shifted = ax.transData + ScaledTranslation(3 / 72, 3 / 72, ax.figure.dpi_scale_trans)
        for k, (x, y) in enumerate(zip(xs, ys, strict=True), 1):
            ax.text(x, y, str(k), transform=shifted, fontsize=font_size * 0.8, color="#333333")
    ax.set_title(title, fontsize=font_size)
    ax.set_aspect("equal")
    ax.set_axis_off()
    # no axis is drawn: hidden axes also spare laying out ticks for the title and the layout
    ax.xaxis.set_visible(False)
    ax.yaxis.set_visible(False)


def _compound(polygon) -> Path:
    """A (multi)polygon as one path, exterior and holes (geopandas' ``_PolygonPatch``)."""
    rings = [ring for part in shapely.get_parts(polygon)
             for ring in (part.exterior, *part.interiors)]
    return Path.make_compound_path(*(Path(np.asarray(r.coords)[:, :2], closed=True)
                                     for r in rings))

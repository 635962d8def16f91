"""The small map of a 交办函: the town, its villages and rivers, and the letter's cases numbered."""

from __future__ import annotations

from functools import partial

import geopandas as gpd
import numpy as np
from matplotlib.transforms import ScaledTranslation

from battlemap._model import Atlas
from battlemap.render.document import Figure
from battlemap.render.letters.plan import Letter

__all__ = ["town_map"]

LABELLED = 60
"""At most this many cases get their table row number beside the dot."""


def town_map(atlas: Atlas, letter: Letter) -> Figure:
    """A figure block drawing the letter's town with its cases (numbered as in the table).

    What both drawings (the PDF page's and the .docx's PNG) need is taken
    from the frames once here: the geometries, the village boundaries, the dots.
    """
    town = atlas.units["town"].loc[[letter.recipient_id]]
    villages = atlas.units["village"]
    villages = villages[villages["parent_id"] == letter.recipient_id]
    points = atlas.cases.loc[list(letter.cases["case_id"])]
    rivers = atlas.rivers[atlas.rivers.intersects(town.geometry.iloc[0])]
    rivers = gpd.clip(rivers, town) if len(rivers) else rivers
    color = atlas.config.style.status_colors.get("reported", "#f0a30a")
    title = f"{town['name'].iloc[0]}　新增问题 {len(points)} 件（编号同附件序号）"
    draw = partial(_draw, town.geometry, villages.geometry.boundary, rivers.geometry,
                   (points.geometry.x.to_numpy(), points.geometry.y.to_numpy()), color, title)
    return Figure(draw, f"{letter.town}新增污染源问题分布图（{len(points)} 件）", height=300,
                  room=0)


def _draw(town: gpd.GeoSeries, village_lines: gpd.GeoSeries, rivers: gpd.GeoSeries,
          points: tuple[np.ndarray, np.ndarray], color: str, title: str, ax,
          font_size: float) -> None:
    town.plot(ax=ax, facecolor="#f7f7f2", edgecolor="#444444", linewidth=1.0)
    if len(village_lines):
        village_lines.plot(ax=ax, color="#bbbbbb", linewidth=0.4)
    if len(rivers):
        rivers.plot(ax=ax, color="#4a90c8", linewidth=0.9)
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

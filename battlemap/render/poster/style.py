"""The poster's fixed look: colours and symbols that do not come from the data.

The case colours and labels come from ``config.style``, the closure-rate
classes from the stats stage (:mod:`battlemap.render.closure` paints them); everything else a
poster paints (ink, greys, river blues, the sample mark,
the context-point symbols) is named here once.
"""

from __future__ import annotations

import geopandas as gpd

from battlemap._text import as_text
from battlemap.render.closure import NO_CASES_COLOR, closure_color

INK, GREY, LIGHT = "#222222", "#777777", "#d9d9d9"
RIVER_MAIN, RIVER_TRIB, RIVER_TEXT = "#1f6fc0", "#3f8fd8", "#16508c"
RIVER_FOCUS = "#0b4f9c"
"""The river a tributary (流域) poster is about."""
SAMPLE_RED = "#c62828"
NO_CASES = NO_CASES_COLOR
"""A child unit without cases, as on the web page."""
GRID_TINT = "#eef4e4"
"""A grid poster's own area: a plain light tint (its closure rate is in the statistics)."""
RECURRING = (0.33, 0.33, 0.33, 0.6)
"""The recurring (反复) ring: thin and mid-grey, under the overdue dots, never louder than them."""
Z_CASES = {"closed": 7, "open": 8, "recurring": 8.6, "focus_river": 8.8, "overdue": 9}
"""Drawing order of the case marks (and of the river a river poster is about), bottom to top."""
CONTEXT_MARKERS = ("^", "s", "D", "p", "h", "*", "v", "P")
CONTEXT_COLORS = ("#00606b", "#5b3a8e", "#8a5a00", "#2b2b2b", "#b03060", "#3d6b00")


def is_none(color) -> bool:
    """Whether ``color`` means "do not paint" (None or ``"none"``)."""
    return color is None or (isinstance(color, str) and color.lower() == "none")


def closure_classes_of(atlas, view) -> tuple[str, dict]:
    """The classification the map's shaded units use: the children's level (a river's
    towns: ``river_town``; a grid: itself) and its entry of ``closure_classes``."""
    key = "river_town" if view.level == "river" else (view.child_level or view.level)
    classes = atlas.extra.get("closure_classes", {}).get(key, {"classes": 0})
    return key, classes


def class_colors(frame, classes: dict) -> list[str]:
    """Each row's colour from its ``closed_class`` (stats stage); no cases: :data:`NO_CASES`."""
    return [closure_color(int(k), int(classes.get("classes", 0)))
            for k in frame["closed_class"].fillna(-1)]


def context_kinds(context: gpd.GeoDataFrame | None) -> list[str]:
    """The context layer's legend labels in first-seen order: the k-th gets the k-th symbol."""
    if context is None or not len(context):
        return []
    return list(dict.fromkeys(context["legend"].astype(str)))


def context_symbol(k: int) -> tuple[str, str]:
    """Marker and colour of the k-th context kind."""
    return CONTEXT_MARKERS[k % len(CONTEXT_MARKERS)], CONTEXT_COLORS[k % len(CONTEXT_COLORS)]


def context_label(row) -> str:
    """A context point's map label: its name, then its value (e.g. 大墩断面 III类)."""
    name, label = as_text(row.get("name")), as_text(row.get("label"))
    return f"{name} {label}" if name and label and label not in name else name or label

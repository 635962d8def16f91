"""The closure-rate (销号率) classes as every renderer paints them: one palette, one legend.

The classes themselves are made once, in the stats stage
(:func:`battlemap.stats.closure_classes`, ``atlas.extra["closure_classes"]``,
each unit's ``closed_class``); the web page and the posters only look them up here.
"""

from __future__ import annotations

CLOSURE_COLORS = ("#f29e86", "#f8c99a", "#f6e9ad", "#cde5ab", "#97cd8c")
"""Lowest class (warm) to highest (green); fewer classes spread over the whole palette."""
NO_CASES_COLOR = "#e3e3e3"
"""A unit without cases (no closure rate)."""

__all__ = ["CLOSURE_COLORS", "NO_CASES_COLOR", "closure_color", "closure_legend"]


def closure_color(index: int, classes: int) -> str:
    """The colour of class ``index`` of ``classes`` (``index < 0``: no cases).

    >>> closure_color(0, 3), closure_color(2, 3), closure_color(-1, 3)
    ('#f29e86', '#97cd8c', '#e3e3e3')
    """
    if index < 0 or classes <= 0:
        return NO_CASES_COLOR
    if classes == 1:
        return CLOSURE_COLORS[-1]
    return CLOSURE_COLORS[round(min(index, classes - 1) * (len(CLOSURE_COLORS) - 1)
                                / (classes - 1))]


def closure_legend(classes: dict) -> list[tuple[str, str]]:
    """(colour, label) per class, lowest first, e.g. ``("#f29e86", "94.6–95.0%")``.

    ``classes`` is one level's entry of ``atlas.extra["closure_classes"]``.
    A class spans its break up to 0.1 % below the next one (rates are
    classed at one decimal); the last ends at the level's highest rate.

    >>> closure_legend({"breaks": [0.95], "lo": 0.946, "hi": 0.958, "classes": 2})
    [('#f29e86', '94.6–94.9%'), ('#97cd8c', '95.0–95.8%')]
    """
    n = int(classes.get("classes", 0))
    if not n:
        return []
    edges = [classes["lo"], *classes["breaks"]]
    out = []
    for k in range(n):
        lo = edges[k]
        hi = classes["hi"] if k == n - 1 else classes["breaks"][k] - 0.001
        text = f"{lo * 100:.1f}%" if round(hi - lo, 6) <= 0 else f"{lo * 100:.1f}–{hi * 100:.1f}%"
        out.append((closure_color(k, n), text))
    return out

"""Upstream attribution: the rivers, towns and villages whose open cases threaten a section.

A section lies on its river R at a position. Upstream of it are:

- R's own stretch above the section, and the cases assigned to R whose
  nearest point on R lies above it;
- every river flowing into R with its mouth above the section, and every
  river flowing into those, recursively (the rivers layer's ``flows_into``).

Which end of R is its mouth: for a river that flows into another, the end
nearer to that river; for the outlet (no ``flows_into``), the line's last
vertex, as rivers are digitised from source to mouth. Without point
geometries (or for a river drawn in several pieces) the position is not
used and all of R and every river reaching it count.

The towns and villages upstream are those the upstream tributaries cross
(``Atlas.extra["river_stretches"]``) and those holding R's cases counted
above the section, each ranked by the open (not 销号) and overdue (超期)
cases counted upstream and located in it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

__all__ = ["rivers_reaching", "upstream_rivers", "upstream_units"]

RANK_BY = ["open", "overdue"]
AT_SECTION_M = 1.0
"""A tributary whose mouth is within this of the section's position counts as upstream."""


def rivers_reaching(river_id: str, flows_into: pd.Series) -> list[str]:
    """``river_id`` and every river flowing into it, recursively, in breadth-first order.

    >>> rivers_reaching("A", pd.Series({"A": "", "B": "A", "C": "B", "D": ""}))
    ['A', 'B', 'C']
    """
    if river_id not in flows_into.index:
        return []
    into = _into(flows_into)
    found, queue = [river_id], [river_id]
    while queue:
        for child in into.get(queue.pop(0), []):
            if child not in found:  # a loop in flows_into is followed once
                found.append(child)
                queue.append(child)
    return found


def _into(flows_into: pd.Series) -> dict[str, list[str]]:
    into: dict[str, list[str]] = {}
    for child, parent in flows_into.items():
        into.setdefault(str(parent), []).append(str(child))
    return into


def _from_source(line, mouth_last: bool, points) -> np.ndarray:
    """Distance along ``line`` from its source to each point's nearest place on it."""
    along = shapely.line_locate_point(line, points)
    return along if mouth_last else line.length - along


def _mouth_last(river_id: str, rivers: pd.DataFrame, flows: pd.Series) -> bool:
    line, parent = rivers.geometry[river_id], str(flows.get(river_id, ""))
    if parent not in rivers.index:
        return True
    into = rivers.geometry[parent]
    return Point(line.coords[-1]).distance(into) <= Point(line.coords[0]).distance(into)


def _upstream_of(point, river_id: str, rivers: pd.DataFrame, flows: pd.Series, cases: pd.DataFrame,
                 counted: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The rivers upstream of a section (its own first) and which cases count.

    ``counted``: each case's river id as text.
    """
    geometry = getattr(rivers, "geometry", None)
    line = None if geometry is None or river_id not in rivers.index else geometry[river_id]
    if line is None or point is None or line.geom_type != "LineString" or \
            not hasattr(cases, "geometry"):
        reach = rivers_reaching(river_id, flows)
        return reach, np.isin(counted, reach)
    mouth_last = _mouth_last(river_id, rivers, flows)
    here = float(_from_source(line, mouth_last, [point])[0])
    joining = []
    for child in _into(flows).get(river_id, []):
        child_line = geometry[child]
        ends = [Point(child_line.coords[0]), Point(child_line.coords[-1])]
        mouth = min(ends, key=line.distance)
        if _from_source(line, mouth_last, [mouth])[0] <= here + AT_SECTION_M:
            joining.append(child)
    reach = [river_id] + [r for child in joining for r in rivers_reaching(child, flows)]
    mask = np.isin(counted, reach[1:])
    own = counted == river_id
    if own.any():
        above = _from_source(line, mouth_last, cases.geometry.to_numpy()[own]) <= here
        mask[np.flatnonzero(own)[above]] = True
    return list(dict.fromkeys(reach)), mask


def _slim(cases: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Only ``columns`` (and the geometry) of the cases: each section copies what it selects."""
    geometry = getattr(cases, "geometry", None)
    keep = [c for c in columns if c in cases.columns]
    return cases[keep + ([geometry.name] if geometry is not None else [])]


def _counts(cases: pd.DataFrame, key: str) -> pd.DataFrame:
    open_ = cases[cases["state"] != "closed"]
    return pd.DataFrame({"open": open_.groupby(key).size(),
                         "overdue": open_[open_["overdue"].astype(bool)].groupby(key).size()})


def _ranked(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    frame[RANK_BY] = frame[RANK_BY].fillna(0).astype(int)
    frame = frame.sort_values([*by, *RANK_BY, "name"],
                              ascending=[True] * len(by) + [False, False, True], ignore_index=True)
    frame["rank"] = frame.groupby(by).cumcount() + 1
    return frame


def upstream_rivers(sections: pd.DataFrame, rivers: pd.DataFrame, cases: pd.DataFrame
                    ) -> pd.DataFrame:
    """Per section, the rivers upstream with their open and overdue cases counted upstream, ranked.

    Columns: section_id, river_id, name, kind, open, overdue, rank (1 = most
    open cases), ``own`` (the section's own river) and ``counted``: the case
    positions (into ``cases``) counted upstream of the section, the same
    array on each of its rows.
    """
    flows = rivers["flows_into"] if "flows_into" in rivers else pd.Series("", index=rivers.index)
    flows = flows.astype(str)
    points = getattr(sections, "geometry", None)
    cases = _slim(cases, ["river_id", "state", "overdue"])
    counted = cases["river_id"].astype(str).to_numpy()
    frames = []
    for section_id, river in sections["river_id"].items():
        point = None if points is None else points[section_id]
        reach, mask = _upstream_of(point, str(river), rivers, flows, cases, counted)
        counts = _counts(cases[mask], "river_id")
        part = pd.DataFrame({"section_id": section_id, "river_id": reach,
                             "own": [r == str(river) for r in reach]})
        part = part.join(counts, on="river_id")
        part["counted"] = [np.flatnonzero(mask)] * len(part)
        frames.append(part)
    columns = ["section_id", "river_id", "own", "open", "overdue", "counted"]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)
    frame["name"] = frame["river_id"].map(rivers["name"]).astype(object)
    frame["kind"] = frame["river_id"].map(rivers["kind"]).astype(object)
    return _ranked(frame, ["section_id"])[["section_id", "river_id", "name", "kind", *RANK_BY,
                                           "rank", "own", "counted"]]


def upstream_units(up_rivers: pd.DataFrame, cases: pd.DataFrame,
                   stretches: pd.DataFrame | None, levels: tuple[str, ...] = ("town", "village"),
                   names: dict[str, pd.Series] | None = None) -> pd.DataFrame:
    """Per section, the towns and villages the upstream rivers cross, ranked by the cases counted.

    The cases are those :func:`upstream_rivers` counted for the section,
    located in the unit; a unit with such cases is listed even where
    ``stretches`` miss it. Columns: section_id, level, unit_id, name, open,
    overdue, rank (within the section and level). ``names`` (level -> unit
    names) fills ``name``; without it the unit id stands in.
    """
    columns = ["section_id", "level", "unit_id", "name", "open", "overdue", "rank"]
    if up_rivers.empty:
        return pd.DataFrame(columns=columns)
    crossing = stretches if stretches is not None else pd.DataFrame(
        columns=["level", "unit_id", "river_id"])
    frames = []
    for level in levels:
        crossed = crossing[crossing["level"] == level][["unit_id", "river_id"]].astype(str)
        located = pd.DataFrame(cases[[f"{level}_id", "state", "overdue"]]).rename(
            columns={f"{level}_id": "unit_id"})
        for section_id, group in up_rivers.groupby("section_id", sort=False):
            counts = _counts(located.iloc[group["counted"].iloc[0]], "unit_id")
            tributaries = group.loc[~group["own"].astype(bool), "river_id"]
            units = crossed[crossed["river_id"].isin(tributaries)]["unit_id"]
            ids = pd.Index(pd.unique(pd.concat([units, pd.Series(counts.index, dtype=object)])))
            part = pd.DataFrame({"section_id": section_id, "level": level, "unit_id": ids})
            frames.append(part.join(counts, on="unit_id"))
    frame = pd.concat(frames, ignore_index=True)
    frame = frame[frame["unit_id"].astype(str) != ""]
    lookup = names or {}
    frame["name"] = [str(lookup[lv].get(u, u)) if lv in lookup else u
                     for lv, u in zip(frame["level"], frame["unit_id"], strict=True)]
    frame = _ranked(frame.assign(section_id=frame["section_id"].astype(str)),
                    ["section_id", "level"])
    return frame[columns]

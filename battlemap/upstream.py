"""Upstream attribution: the rivers, towns and villages whose open cases threaten a section.

First version, by the river network only: a section on river R is reached
by R and by every river that flows into R, recursively (the rivers layer's
``flows_into``). The position of the section on R is not used yet: a
tributary that joins R below the section is counted too, which for 大墩 on
the 东江北干流 near the district's outlet changes nothing, and for a section
higher up over-counts. The towns and villages are those the upstream rivers
cross (``Atlas.extra["river_stretches"]``); each is ranked by the open
(not 销号) and overdue (超期) cases assigned to those rivers and located in it.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["rivers_reaching", "upstream_rivers", "upstream_units"]

RANK_BY = ["open", "overdue"]


def rivers_reaching(river_id: str, flows_into: pd.Series) -> list[str]:
    """``river_id`` and every river flowing into it, recursively, in breadth-first order.

    >>> rivers_reaching("A", pd.Series({"A": "", "B": "A", "C": "B", "D": ""}))
    ['A', 'B', 'C']
    """
    if river_id not in flows_into.index:
        return []
    into: dict[str, list[str]] = {}
    for child, parent in flows_into.items():
        into.setdefault(str(parent), []).append(str(child))
    found, queue = [river_id], [river_id]
    while queue:
        for child in into.get(queue.pop(0), []):
            if child not in found:  # a loop in flows_into is followed once
                found.append(child)
                queue.append(child)
    return found


def _counts(cases: pd.DataFrame, key: str) -> pd.DataFrame:
    open_ = cases[cases["state"] != "closed"]
    return pd.DataFrame({"open": open_.groupby(key).size(),
                         "overdue": open_[open_["overdue"].astype(bool)].groupby(key).size()})


def _ranked(frame: pd.DataFrame) -> pd.DataFrame:
    frame[RANK_BY] = frame[RANK_BY].fillna(0).astype(int)
    frame = frame.sort_values(["section_id", *RANK_BY, "name"],
                              ascending=[True, False, False, True], ignore_index=True)
    frame["rank"] = frame.groupby("section_id").cumcount() + 1
    return frame


def upstream_rivers(sections: pd.DataFrame, rivers: pd.DataFrame, cases: pd.DataFrame
                    ) -> pd.DataFrame:
    """Per section, the rivers reaching it with their open and overdue cases, ranked.

    Columns: section_id, river_id, name, kind, open, overdue, rank (1 = most open cases).
    """
    flows = rivers["flows_into"] if "flows_into" in rivers else pd.Series("", index=rivers.index)
    counts = _counts(cases, "river_id")
    rows = [(section_id, river_id) for section_id, river in sections["river_id"].items()
            for river_id in rivers_reaching(str(river), flows.astype(str))]
    frame = pd.DataFrame(rows, columns=["section_id", "river_id"])
    frame["name"] = frame["river_id"].map(rivers["name"]).astype(object)
    frame["kind"] = frame["river_id"].map(rivers["kind"]).astype(object)
    frame = frame.join(counts, on="river_id")
    return _ranked(frame)


def upstream_units(up_rivers: pd.DataFrame, cases: pd.DataFrame,
                   stretches: pd.DataFrame | None, levels: tuple[str, ...] = ("town", "village"),
                   names: dict[str, pd.Series] | None = None) -> pd.DataFrame:
    """Per section, the towns and villages the upstream rivers cross, ranked by their cases.

    The cases counted are those assigned to an upstream river and located in
    the unit. Columns: section_id, level, unit_id, name, open, overdue, rank
    (within the section and level). ``names`` (level -> unit names) fills
    ``name``; without it the unit id stands in.
    """
    columns = ["section_id", "level", "unit_id", "name", "open", "overdue", "rank"]
    if stretches is None or stretches.empty or up_rivers.empty:
        return pd.DataFrame(columns=columns)
    frames = []
    for level in levels:
        crossed = stretches[stretches["level"] == level][["unit_id", "river_id"]].astype(str)
        pairs = up_rivers[["section_id", "river_id"]].merge(crossed, on="river_id")
        units = pairs[["section_id", "unit_id"]].drop_duplicates()
        on_rivers = cases[["river_id", f"{level}_id", "state", "overdue"]].rename(
            columns={f"{level}_id": "unit_id"})
        for section_id, group in up_rivers.groupby("section_id"):
            mine = on_rivers[on_rivers["river_id"].isin(group["river_id"])]
            counts = _counts(mine, "unit_id")
            part = units[units["section_id"] == section_id].join(counts, on="unit_id")
            frames.append(part.assign(level=level))
    frame = pd.concat(frames, ignore_index=True)
    lookup = names or {}
    frame["name"] = [str(lookup[lv].get(u, u)) if lv in lookup else u
                     for lv, u in zip(frame["level"], frame["unit_id"], strict=True)]
    frame = _ranked(frame.assign(section_id=frame["section_id"].astype(str)))
    frame["rank"] = frame.groupby(["section_id", "level"]).cumcount() + 1
    return frame.sort_values(["section_id", "level", "rank"], ignore_index=True)[columns]

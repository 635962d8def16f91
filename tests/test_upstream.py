"""Upstream attribution on a hand-drawn river network.

    S (stem, outlet)
    ├── A ── A1 ── A1a
    │    └── A2
    └── B
    Z flows nowhere (another basin); L1 ↔ L2 flow into each other (a loop in the data).
"""

from __future__ import annotations

import pandas as pd

from battlemap.upstream import rivers_reaching, upstream_rivers, upstream_units

FLOWS = pd.Series({"S": "", "A": "S", "A1": "A", "A1a": "A1", "A2": "A", "B": "S", "Z": "",
                   "L1": "L2", "L2": "L1"})
RIVERS = pd.DataFrame({"name": [f"河{r}" for r in FLOWS.index], "kind": "tributary",
                       "flows_into": FLOWS.to_numpy()}, index=FLOWS.index)


def test_rivers_reaching_is_recursive_and_stops_at_loops() -> None:
    assert sorted(rivers_reaching("S", FLOWS)) == ["A", "A1", "A1a", "A2", "B", "S"]
    assert sorted(rivers_reaching("A", FLOWS)) == ["A", "A1", "A1a", "A2"]
    assert rivers_reaching("A1a", FLOWS) == ["A1a"]
    assert rivers_reaching("Z", FLOWS) == ["Z"]
    assert sorted(rivers_reaching("L1", FLOWS)) == ["L1", "L2"]
    assert rivers_reaching("nowhere", FLOWS) == []


def _cases() -> pd.DataFrame:
    rows = [("A1a", "assigned", True, "t1", "v1"), ("A1a", "rectifying", False, "t1", "v1"),
            ("A2", "closed", False, "t2", "v2"), ("A2", "reported", True, "t2", "v2"),
            ("B", "assigned", False, "t3", "v3"), ("Z", "assigned", True, "t1", "v1"),
            ("S", "closed", False, "t3", "v3")]
    return pd.DataFrame(rows, columns=["river_id", "state", "overdue", "town_id", "village_id"])


def test_upstream_rivers_ranked_by_open_then_overdue() -> None:
    sections = pd.DataFrame({"river_id": ["S", "A"]}, index=["s_stem", "s_a"])
    ranked = upstream_rivers(sections, RIVERS, _cases())
    stem = ranked[ranked["section_id"] == "s_stem"]
    assert stem["river_id"].tolist()[:3] == ["A1a", "A2", "B"]   # 2 open; 1 open+1 overdue; 1 open
    assert stem[["open", "overdue"]].values.tolist()[:3] == [[2, 1], [1, 1], [1, 0]]
    assert "Z" not in set(stem["river_id"]) and stem["rank"].tolist() == list(range(1, 7))
    assert set(ranked[ranked["section_id"] == "s_a"]["river_id"]) == {"A", "A1", "A1a", "A2"}


def test_upstream_units_count_only_cases_on_upstream_rivers() -> None:
    sections = pd.DataFrame({"river_id": ["A"]}, index=["s_a"])
    up = upstream_rivers(sections, RIVERS, _cases())
    stretches = pd.DataFrame({"level": ["town"] * 4, "unit_id": ["t1", "t2", "t3", "t1"],
                              "river_id": ["A1a", "A2", "B", "Z"], "length_m": 100.0})
    units = upstream_units(up, _cases(), stretches, levels=("town",),
                           names={"town": pd.Series({"t1": "一镇", "t2": "二镇"})})
    # t1: two open cases on A1a (the Z case is in another basin); t2: one open on A2; t3 not crossed
    assert units[["unit_id", "name", "open", "overdue", "rank"]].values.tolist() == [
        ["t1", "一镇", 2, 1, 1], ["t2", "二镇", 1, 1, 2]]

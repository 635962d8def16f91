"""Upstream attribution on a hand-drawn river network.

    S (stem, outlet, drawn west → east, mouth at x = 100)
    ├── A (joins S at x = 20) ── A1 ── A1a
    │                        └── A2
    └── B (joins S at x = 80)
    Z flows nowhere (another basin); L1 ↔ L2 flow into each other (a loop in the data).

A section on S at x = 50 has A (and its tributaries) above it, B below it.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from shapely.geometry import LineString, Point

from battlemap.upstream import rivers_reaching, upstream_rivers, upstream_units

FLOWS = pd.Series({"S": "", "A": "S", "A1": "A", "A1a": "A1", "A2": "A", "B": "S", "Z": "",
                   "L1": "L2", "L2": "L1"})
LINES = {"S": [(0, 0), (100, 0)], "A": [(20, 30), (20, 0)], "A1": [(10, 50), (20, 30)],
         "A1a": [(0, 60), (10, 50)], "A2": [(30, 50), (20, 30)], "B": [(80, 30), (80, 0)],
         "Z": [(0, 200), (50, 200)], "L1": [(0, 300), (10, 300)], "L2": [(10, 300), (20, 300)]}
RIVERS = gpd.GeoDataFrame({"name": [f"河{r}" for r in FLOWS.index], "kind": "tributary",
                           "flows_into": FLOWS.to_numpy()}, index=FLOWS.index,
                          geometry=[LineString(LINES[r]) for r in FLOWS.index])


def test_rivers_reaching_is_recursive_and_stops_at_loops() -> None:
    assert sorted(rivers_reaching("S", FLOWS)) == ["A", "A1", "A1a", "A2", "B", "S"]
    assert sorted(rivers_reaching("A", FLOWS)) == ["A", "A1", "A1a", "A2"]
    assert rivers_reaching("A1a", FLOWS) == ["A1a"]
    assert rivers_reaching("Z", FLOWS) == ["Z"]
    assert sorted(rivers_reaching("L1", FLOWS)) == ["L1", "L2"]
    assert rivers_reaching("nowhere", FLOWS) == []


def _cases() -> gpd.GeoDataFrame:
    rows = [("A1a", "assigned", True, "t1", "v1", (1, 58)),
            ("A1a", "rectifying", False, "t1", "v1", (5, 55)),
            ("A2", "closed", False, "t2", "v2", (25, 40)), ("A2", "reported", True, "t2", "v2", (25, 45)),
            ("B", "assigned", False, "t3", "v3", (80, 10)), ("Z", "assigned", True, "t1", "v1", (10, 200)),
            ("S", "assigned", False, "t3", "v3", (30, 5)),    # on S above the section
            ("S", "assigned", True, "t4", "v4", (90, 5))]     # on S below it
    frame = pd.DataFrame([r[:5] for r in rows],
                         columns=["river_id", "state", "overdue", "town_id", "village_id"])
    return gpd.GeoDataFrame(frame, geometry=[Point(r[5]) for r in rows])


def _sections() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"river_id": ["S", "A", "S"]}, index=["s_mid", "s_a", "s_mouth"],
                            geometry=[Point(50, 0), Point(20, 10), Point(100, 0)])


def test_a_section_counts_only_what_lies_above_it() -> None:
    ranked = upstream_rivers(_sections(), RIVERS, _cases())
    mid = ranked[ranked["section_id"] == "s_mid"].set_index("river_id")
    assert sorted(mid.index) == ["A", "A1", "A1a", "A2", "S"]          # B joins below
    assert mid.loc["S", ["open", "overdue"]].tolist() == [1, 0]        # the case at x = 90 is below
    assert mid.loc["A1a", ["open", "overdue", "rank"]].tolist() == [2, 1, 1]
    assert mid.loc["A2", ["open", "overdue", "rank"]].tolist() == [1, 1, 2]
    mouth = ranked[ranked["section_id"] == "s_mouth"].set_index("river_id")
    assert sorted(mouth.index) == ["A", "A1", "A1a", "A2", "B", "S"]
    assert mouth.loc["S", ["open", "overdue"]].tolist() == [2, 1]
    assert set(ranked[ranked["section_id"] == "s_a"]["river_id"]) == {"A", "A1", "A1a", "A2"}


def test_without_geometry_the_whole_network_counts() -> None:
    sections = pd.DataFrame({"river_id": ["S"]}, index=["s"])
    ranked = upstream_rivers(sections, pd.DataFrame(RIVERS.drop(columns="geometry")),
                             pd.DataFrame(_cases().drop(columns="geometry")))
    assert sorted(ranked["river_id"]) == ["A", "A1", "A1a", "A2", "B", "S"]
    assert ranked.set_index("river_id").loc["S", "open"] == 2


def test_upstream_units_count_only_cases_upstream() -> None:
    up = upstream_rivers(_sections(), RIVERS, _cases())
    stretches = pd.DataFrame({"level": ["town"] * 5, "unit_id": ["t1", "t2", "t3", "t1", "t4"],
                              "river_id": ["A1a", "A2", "B", "Z", "S"], "length_m": 100.0})
    units = upstream_units(up, _cases(), stretches, levels=("town",),
                           names={"town": pd.Series({"t1": "一镇", "t2": "二镇"})})
    mid = units[units["section_id"] == "s_mid"]
    # t1: two open on A1a (the Z case is another basin); t2: one on A2; t3: the S case above;
    # t4 holds only S's case below the section, and B (in t3) joins below
    assert mid[["unit_id", "name", "open", "overdue", "rank"]].values.tolist() == [
        ["t1", "一镇", 2, 1, 1], ["t2", "二镇", 1, 1, 2], ["t3", "t3", 1, 0, 3]]

"""Statistics: every unit present, counts add up, rankings match a recount."""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest

from battlemap import LEVELS, STATES
from battlemap.join import counted
from battlemap.render.closure import closure_color, closure_legend
from battlemap.stats import (
    by_category,
    closure_classes,
    previous_ranks,
    rank_siblings,
    unit_statistics,
)


def test_every_unit_present_with_zero_cases(tiny_atlas) -> None:
    for level in LEVELS:
        stats = tiny_atlas.units[level]
        assert len(stats) == {"district": 1, "town": 2, "village": 4, "grid": 8}[level]
        assert stats["total"].ge(0).all()
    empty = tiny_atlas.units["grid"].query("total == 0")
    assert len(empty) > 0 and empty["closed_rate"].isna().all()


def test_counts_add_up(tiny_atlas) -> None:
    for level in LEVELS:
        stats = tiny_atlas.units[level]
        assert (stats[list(STATES)].sum(axis=1) == stats["total"]).all()
        assert stats["total"].sum() == len(tiny_atlas.cases)
    for parent, child in itertools.pairwise(LEVELS):
        children = tiny_atlas.units[child].groupby("parent_id")[["total", *STATES, "overdue"]].sum()
        parents = tiny_atlas.units[parent][["total", *STATES, "overdue"]]
        pd.testing.assert_frame_equal(children.reindex(parents.index, fill_value=0), parents,
                                      check_names=False)


def test_independent_recount(tiny_atlas) -> None:
    cases = tiny_atlas.cases
    towns = tiny_atlas.units["town"]
    for town_id, row in towns.iterrows():
        mine = cases[cases["town_id"] == town_id]
        assert row["total"] == len(mine)
        assert row["closed"] == (mine["state"] == "closed").sum()
        assert row["overdue"] == mine["overdue"].sum()
        assert row["recurring"] == mine["recurring"].sum()
        assert row["closed_rate"] == pytest.approx((mine["state"] == "closed").mean())
        assert row["max_days_overdue"] == mine["days_overdue"].max()
    assert towns.loc["440118001", "closed_rate"] == pytest.approx(2 / 3)
    assert towns.loc["440118002", "overdue"] == 1


def test_town_ranking(tiny_atlas) -> None:
    ranks = tiny_atlas.units["town"]["rank"].to_dict()
    assert ranks == {"440118001": 1, "440118002": 2}  # 67 % closed beats 25 %


def test_rank_rule_ties_and_empty_units() -> None:
    units = pd.DataFrame({
        "parent_id": ["p"] * 5,
        "total": [4, 4, 4, 0, 2],
        "closed_rate": [0.5, 0.5, 0.75, np.nan, 0.5],
        "overdue": [1, 0, 3, 0, 0],
    }, index=pd.Index(["b", "c", "a", "e", "d"], name="unit_id"))
    ranks = rank_siblings(units).to_dict()
    # best share first; same share → fewer overdue; same again → id; no cases → last
    assert ranks == {"a": 1, "c": 2, "d": 3, "b": 4, "e": 5}


def test_rivers_have_statistics(tiny_atlas) -> None:
    rivers = tiny_atlas.rivers
    assert set(rivers.index) == {"M", "T1", "T2"}
    assigned = tiny_atlas.cases["river_id"].value_counts()
    for river_id, row in rivers.iterrows():
        assert row["total"] == assigned.get(river_id, 0)


def test_categories(tiny_atlas) -> None:
    """Types count what the figures count (the maps' cases); channels every tip, valid or not."""
    cases = tiny_atlas.cases
    keep = counted(cases)  # the sample's 930 uncounted cases: tests/test_pipeline_sample.py
    by_type, channels = tiny_atlas.by_type, tiny_atlas.by_channel
    district = by_type[by_type["level"] == "district"]
    assert district["count"].sum() == keep.sum() == tiny_atlas.units["district"]["total"].sum()
    towns = by_type[by_type["level"] == "town"].groupby("unit_id")["count"].sum()
    assert towns.to_dict() == tiny_atlas.units["town"]["total"][lambda t: t > 0].to_dict()
    assert set(channels.columns) >= {"level", "unit_id", "channel", "count", "closed", "valid",
                                     "counted"}
    district = channels[channels["level"] == "district"]
    assert district["count"].sum() == len(cases) and district["counted"].sum() == keep.sum()


def test_a_blank_category_is_counted_not_lost() -> None:
    cases = pd.DataFrame({"state": ["closed", "assigned", "assigned"], "valid": [True] * 3,
                          "counted": [True] * 3, "problem_type": ["排水口", None, " "],
                          **{f"{level}_id": "u" for level in (*LEVELS, "river")}})
    long = by_category(cases, "problem_type")
    district = long[long["level"] == "district"].set_index("problem_type")
    assert district["count"].to_dict() == {"排水口": 1, "": 1, " ": 1}


def test_previous_ranks_recounted_from_the_snapshot() -> None:
    """Three towns a build ago: B closed most, A fewer; C had no cases (last); D is new."""
    towns = pd.DataFrame({"parent_id": "d"}, index=pd.Index(["A", "B", "C", "D"]))
    snapshot = pd.DataFrame({
        "town_id": ["A", "A", "A", "B", "B", "E"],
        "state": ["closed", "assigned", "rectifying", "closed", "closed", "closed"],
        "overdue": ["False", "True", "False", "False", "False", "False"]})
    ranks = previous_ranks(towns, snapshot)
    assert ranks.to_dict() == {"B": 1, "A": 2, "C": 3, "D": 4}
    assert str(ranks.dtype) == "Int64" and ranks.name == "previous_rank"

    none = previous_ranks(towns, None)
    assert none.isna().all() and list(none.index) == list(towns.index)

    # B's two closed cases did not count then (invalid tips): B had no counted case
    uncounted = [True, True, True, False, False, True]
    assert previous_ranks(towns, snapshot.assign(counted=uncounted)).to_dict() == {
        "A": 1, "B": 2, "C": 3, "D": 4}
    # a snapshot from before "counted" was kept: this round's 是否有效 decides
    valid = pd.DataFrame({"valid": uncounted}, index=snapshot.index)
    assert previous_ranks(towns, snapshot, valid).to_dict() == {"A": 1, "B": 2, "C": 3, "D": 4}


def test_the_build_keeps_previous_ranks_in_the_atlas(tiny_atlas) -> None:
    ranks = tiny_atlas.extra["previous_rank"]       # no earlier build: all missing
    assert list(ranks.index) == list(tiny_atlas.units["town"].index) and ranks.isna().all()


# --- the towns along each river ---------------------------------------------

def _river_frames():
    """Towns A, B, C side by side; M crosses A and B, T1 crosses A only; C touches no river."""
    import geopandas as gpd
    from shapely.geometry import LineString, box

    towns = gpd.GeoDataFrame({"name": ["A", "B", "C"]}, geometry=[
        box(0, 0, 10, 10), box(10, 0, 20, 10), box(20, 0, 30, 10)],
        index=pd.Index(["ta", "tb", "tc"]), crs="EPSG:4526")
    rivers = gpd.GeoDataFrame({"name": ["M", "T1"], "kind": ["main", "tributary"]}, geometry=[
        LineString([(0, 1), (19, 1)]), LineString([(5, 10), (5, 1)])],
        index=pd.Index(["M", "T1"]), crs="EPSG:4526")
    nat = pd.NaT
    cases = pd.DataFrame({
        "river_id": ["T1", "T1", "T1", "", "M"],
        "town_id": ["ta", "tb", "tb", "ta", "ta"],     # T1's cases in B: B is along T1 too
        "state": ["closed", "reported", "closed", "closed", "assigned"],
        "overdue": [False, True, False, False, False],
        "days_overdue": [0, 5, 0, 0, 0],
        "recurring": [False, False, False, False, True],
        "reported_at": pd.to_datetime(["2026-11-24"] * 5),
        "closed_at": [pd.Timestamp("2026-11-25"), nat, pd.Timestamp("2026-01-02"),
                      pd.Timestamp("2026-11-25"), nat],
    }, index=pd.Index(["c1", "c2", "c3", "c4", "c5"]))
    return towns, rivers, cases


def test_river_towns_are_crossed_or_reached_and_count_only_the_rivers_cases() -> None:
    from battlemap.stats import river_town_statistics

    towns, rivers, cases = _river_frames()
    period = (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    table = river_town_statistics(towns, rivers, cases, period)
    pairs = list(zip(table["river_id"], table["town_id"], strict=True))
    assert pairs == [("M", "ta"), ("M", "tb"), ("T1", "ta"), ("T1", "tb")]   # no C
    rows = table.set_index(["river_id", "town_id"])
    assert rows.loc[("T1", "ta"), ["total", "closed", "closed_rate", "rank"]].tolist() == [1, 1, 1.0, 1]
    tb = rows.loc[("T1", "tb")]
    assert (tb["total"], tb["closed"], tb["overdue"], tb["max_days_overdue"]) == (2, 1, 1, 5)
    assert (tb["closed_rate"], tb["rank"], tb["closed_in_period"]) == (0.5, 2, 0)
    # the case without a river (c4) counts nowhere; B along M has no case and ranks last
    ma, mb = rows.loc[("M", "ta")], rows.loc[("M", "tb")]
    assert (ma["total"], ma["assigned"], ma["recurring"], ma["rank"]) == (1, 1, 1, 1)
    assert mb["total"] == 0 and np.isnan(mb["closed_rate"]) and mb["rank"] == 2
    assert set(table.columns) == {"river_id", "town_id", "rank", *(
        c for c in ("total", *STATES, "closed_rate", "overdue", "max_days_overdue", "recurring",
                    "new_in_period", "closed_in_period", "uncounted"))}


def test_river_towns_of_the_tiny_district_match_a_recount(tiny_atlas) -> None:
    table = tiny_atlas.extra["river_towns"]
    cases, towns = tiny_atlas.cases, tiny_atlas.units["town"]
    for river_id, river in tiny_atlas.rivers.iterrows():
        mine = cases[cases["river_id"] == river_id]
        along = set(towns.index[towns.intersects(river.geometry)]) | set(mine["town_id"])
        rows = table[table["river_id"] == river_id].set_index("town_id")
        assert set(rows.index) == along
        for town_id, row in rows.iterrows():
            assert row["total"] == (mine["town_id"] == town_id).sum()
        assert sorted(rows["rank"]) == list(range(1, len(rows) + 1))


def test_build_atlas_counts_changes_against_a_snapshot_and_leaves_its_inputs_alone(tiny_atlas) -> None:
    from battlemap.history import CHANGE_COLUMNS
    from battlemap.stats import build_atlas

    bare = {level: frame[["name", "parent_id", "chief", "level", "geometry"]]
            for level, frame in tiny_atlas.units.items()}
    rivers = tiny_atlas.rivers[["name", "kind", "geometry"]]
    cases = tiny_atlas.cases.drop(columns=list(CHANGE_COLUMNS))
    closed = cases.index[cases["state"] == "closed"][0]
    snapshot = cases[["state", "overdue", "town_id"]].copy()
    snapshot.loc[closed, "state"] = "rectifying"          # open last round, closed since
    snapshot = snapshot.drop(index=cases.index[0] if cases.index[0] != closed else cases.index[1])
    before = cases.copy()
    atlas = build_atlas(tiny_atlas.config, bare, rivers, cases,
                        previous=(dt.date(2026, 11, 20), snapshot))
    assert cases.equals(before) and list(cases.columns) == list(before.columns)
    district = atlas.units["district"].iloc[0]
    assert district["closed_since"] == 1 and district["new_since"] == 1
    assert atlas.extra["changes_since"] == "2026-11-20"
    assert atlas.extra["previous_rank"].notna().all()
    assert set(atlas.extra["river_stretches"]["level"]) >= {"town", "grid"}   # the web needs grids too
    for level, frame in atlas.units.items():
        assert frame["total"].sum() == len(cases), level


def test_changes_count_only_counted_cases_like_every_other_figure(tiny_atlas) -> None:
    """Invalid tips and void states are in no round-to-round change, as in no other figure.

    Against the previous round: A was open and is closed now but found an
    invalid tip (no 新销号); E was closed and is 已撤销 now (no 重新打开); D was
    void and counts now (新增, as the rule says); B is new and invalid (no 新增).
    """
    from battlemap.history import CHANGE_COLUMNS, CHANGES_RULE
    from battlemap.stats import build_atlas

    bare = {level: frame[["name", "parent_id", "chief", "level", "geometry"]]
            for level, frame in tiny_atlas.units.items()}
    rivers = tiny_atlas.rivers[["name", "kind", "geometry"]]
    cases = tiny_atlas.cases.drop(columns=list(CHANGE_COLUMNS))
    assert cases["counted"].all()
    snapshot = cases[["state", "overdue", "town_id", "counted"]].copy()
    open_ = cases.index[(cases["state"] != "closed") & ~cases["overdue"]]
    a, b, d = open_[:3]
    e = cases.index[cases["state"] == "closed"][0]
    uncounted = {"counted": False, "overdue": False}
    cases.loc[a, ["state", "valid", *uncounted]] = ["closed", False, *uncounted.values()]
    cases.loc[b, ["valid", *uncounted]] = [False, *uncounted.values()]
    cases.loc[e, ["state", *uncounted]] = ["void", *uncounted.values()]
    snapshot.loc[d, ["state", "counted"]] = ["void", False]
    snapshot = snapshot.drop(index=b)
    atlas = build_atlas(tiny_atlas.config, bare, rivers, cases,
                        previous=(dt.date(2026, 11, 20), snapshot))
    changed = atlas.cases[list(CHANGE_COLUMNS)]
    assert changed[changed.any(axis=1)].index.tolist() == [d]
    assert changed.loc[d, "new_since"]
    district = atlas.units["district"].iloc[0]
    assert {c: int(district[c]) for c in CHANGE_COLUMNS} == {
        "new_since": 1, "closed_since": 0, "overdue_since": 0, "reopened_since": 0}
    for level, frame in atlas.units.items():        # every level adds up to the same changes
        assert frame["new_since"].sum() == 1, level
    assert atlas.extra["changes_recounted"] == {"joined": 1, "left": 2}   # A and E
    assert atlas.extra["changes_rule"] == CHANGES_RULE and "不计整改" in CHANGES_RULE
    # the uncounted cases are in no total either, so the changes and the totals agree
    assert district["uncounted"] == 3


def test_invalid_and_void_cases_leave_every_figure_and_are_counted_apart(tiny_atlas) -> None:
    cases = tiny_atlas.cases.copy()
    town = cases["town_id"].iloc[0]
    mine = cases.index[cases["town_id"] == town]
    left = cases.loc[[mine[0], mine[-1]]].copy()
    cases.loc[mine[0], "valid"] = False
    cases.loc[mine[-1], "state"] = "void"
    cases = cases.drop(columns="counted")
    towns = tiny_atlas.units["town"][["name", "parent_id", "geometry"]]
    table = unit_statistics(towns, cases, "town_id", tiny_atlas.period)
    before = tiny_atlas.units["town"].loc[town]
    row = table.loc[town]
    assert row["uncounted"] == 2 and row["total"] == before["total"] - 2
    for state in STATES:
        assert row[state] == before[state] - int((left["state"] == state).sum()), state
    assert row[list(STATES)].sum() == row["total"]
    other = table.drop(index=town)
    assert (other["uncounted"] == 0).all()


@pytest.mark.parametrize(("rates", "breaks", "classes"), [
    ([0.946, 0.9504, 0.951, 0.955, 0.958, np.nan], [0.95, 0.951, 0.955, 0.958],
     [0, 1, 2, 3, 4, -1]),
    ([0.9504, 0.9496, 0.95, 0.96], [0.96], [0, 0, 0, 1]),     # 95.0 % is 95.0 %, one class
    ([0.5, 0.5, 0.5], [], [0, 0, 0]),
    ([np.nan, np.nan], [], [-1, -1]),
    ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], [0.3, 0.5, 0.7, 0.9],
     [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]),
])
def test_closure_classes_are_quintiles_at_one_decimal(rates, breaks, classes) -> None:
    from battlemap.stats import _class_of

    series = pd.Series(rates, dtype=float)
    made = closure_classes(series)
    assert made["breaks"] == pytest.approx(breaks)
    assert made["classes"] == (len(breaks) + 1 if series.notna().any() else 0)
    assert _class_of(series, made["breaks"]).tolist() == classes


def test_every_level_carries_its_classes_and_the_legend_names_their_breaks(tiny_atlas) -> None:
    classes = tiny_atlas.extra["closure_classes"]
    assert set(classes) == {*LEVELS, "river", "river_town"}
    for level in LEVELS:
        units = tiny_atlas.units[level]
        made = classes[level]
        assert units["closed_class"].between(-1, made["classes"] - 1).all()
        assert (units["closed_class"] == -1).tolist() == units["closed_rate"].isna().tolist()
        # a higher rate never has a lower class
        ranked = units.dropna(subset=["closed_rate"]).sort_values("closed_rate")
        assert ranked["closed_class"].is_monotonic_increasing
        legend = closure_legend(made)
        assert len(legend) == made["classes"]
        assert [c for c, _ in legend] == [closure_color(k, made["classes"])
                                          for k in range(made["classes"])]
    towns = tiny_atlas.extra["river_towns"]
    assert (towns["closed_class"] == -1).tolist() == towns["closed_rate"].isna().tolist()

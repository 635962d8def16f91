"""Stats: the figures every map, poster and bulletin shows, for every unit.

Every unit of every level and every river appears, also with zero cases.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd

from battlemap import LEVELS, STATES
from battlemap._model import Atlas
from battlemap._text import text_series
from battlemap.config import Config
from battlemap.history import (
    CHANGE_COLUMNS,
    CHANGES_RULE,
    case_changes,
    counted_before,
    counting_changes,
    unit_changes,
)
from battlemap.join import counted, current_period, river_stretches

__all__ = [
    "CLOSURE_CLASS_RULE",
    "RANKING_RULE",
    "build_atlas",
    "by_category",
    "closure_classes",
    "count_rule",
    "previous_ranks",
    "rank_siblings",
    "river_town_statistics",
    "uncounted_note",
    "unit_statistics",
]

RANKING_RULE = "按销号率从高到低排名；销号率相同者超期案件少者在前；再相同按编码排序（无案件者排在最后）"
"""How rankings are made, shown wherever a ranking is shown."""


def count_rule(labels: dict[str, str]) -> str:
    """What the figures count, in the words every legend and headline uses (计数口径).

    >>> count_rule({"reported": "待交办", "assigned": "已交办", "rectifying": "整改中",
    ...             "closed": "已销号", "overdue": "超期", "recurring": "反复"})[:30]
    '计数口径：待交办、已交办、整改中、已销号四项合计为案件总数；超期、'
    """
    states = "、".join(labels.get(state, state) for state in STATES)
    return (f"计数口径：{states}四项合计为案件总数；{labels.get('overdue', '超期')}、"
            f"{labels.get('recurring', '反复')}为其中的案件，已含在各状态内")


def uncounted_note(count: int) -> str:
    """The note beside every total: the cases it leaves out, or "" when none."""
    return f"不含无效举报及不计整改案件 {int(count):,} 件" if count else ""


CLOSURE_CLASSES = 5
CLOSURE_CLASS_RULE = "按本级全部单位五分位分档，断点取一位小数"
"""How the closure-rate (销号率) colour classes are made, shown beside every such legend."""


def build_atlas(config: Config, units: dict[str, gpd.GeoDataFrame], rivers: gpd.GeoDataFrame,
                cases: gpd.GeoDataFrame, *, context: gpd.GeoDataFrame | None = None,
                neighbours: gpd.GeoDataFrame | None = None,
                previous: tuple[dt.date, pd.DataFrame] | None = None,
                letter_history: pd.DataFrame | None = None) -> Atlas:
    """The atlas the renderers draw: every figure counted once, here, and never changed after.

    Parameters
    ----------
    config
        The typed config (as-of date, period, ranking).
    units, rivers, cases
        The validated units of every level, the rivers, and the joined cases
        with their lifecycle columns.
    context, neighbours
        Optional context points and neighbouring districts, passed through.
    previous
        The latest earlier snapshot (its date and frame, from
        :func:`battlemap.history.previous_snapshot`), or None: the
        round-to-round changes and the previous ranks are counted against it.
    letter_history
        The letters sent before the as-of date (from
        :func:`battlemap.register.read_history`), kept as
        ``extra["letter_history"]`` for :mod:`battlemap.escalate`.
    """
    period = current_period(config.as_of, config.lifecycle.period)
    snapshot = None if previous is None else previous[1]
    changes = (pd.DataFrame(False, index=cases.index, columns=list(CHANGE_COLUMNS))
               if snapshot is None else case_changes(cases, snapshot))
    cases = cases.assign(**{column: changes[column] for column in CHANGE_COLUMNS})
    figures = {level: _figures(units[level], cases, changes, f"{level}_id", period,
                               None if level == "district" else "parent_id") for level in LEVELS}
    river_figures = _figures(rivers, cases, changes, "river_id", period, "kind")
    classes = {}
    for level, table in (*figures.items(), ("river", river_figures)):
        classes[level] = closure_classes(table["closed_rate"])
        table["closed_class"] = _class_of(table["closed_rate"], classes[level]["breaks"])
    river_towns = river_town_statistics(units["town"], rivers, cases, period)
    classes["river_town"] = closure_classes(river_towns["closed_rate"])
    river_towns["closed_class"] = _class_of(river_towns["closed_rate"],
                                            classes["river_town"]["breaks"])
    extra = {
        "closure_classes": classes,
        "ranking_rule": RANKING_RULE,
        "river_stretches": river_stretches(units, rivers, levels=LEVELS),
        "river_towns": river_towns,
        "changes_since": None if previous is None else previous[0].isoformat(),
        "changes_rule": CHANGES_RULE,
        "changes_recounted": None if snapshot is None else counting_changes(cases, snapshot),
        "previous_snapshot": snapshot,
        "previous_rank": previous_ranks(figures["town"], snapshot, cases),
        "letter_history": letter_history,
    }
    return Atlas(
        config=config, units=figures,
        rivers=river_figures,
        cases=cases, context=context, by_type=by_category(cases[counted(cases)], "problem_type"),
        by_channel=by_category(cases, "channel"), period=period, extra=extra,
        neighbours=neighbours,
    )


def _figures(units: gpd.GeoDataFrame, cases: gpd.GeoDataFrame, changes: pd.DataFrame, key: str,
             period: tuple[dt.date, dt.date], group: str | None) -> gpd.GeoDataFrame:
    """One level's statistics, rank among siblings (0 without a group) and changes."""
    table = unit_statistics(units, cases, key, period)
    table["rank"] = 0 if group is None else rank_siblings(table, group=group)
    counts = unit_changes(cases, changes, key, table.index)
    return table.assign(**{column: counts[column] for column in CHANGE_COLUMNS})


def unit_statistics(units: gpd.GeoDataFrame, cases: pd.DataFrame, key: str,
                    period: tuple[dt.date, dt.date]) -> gpd.GeoDataFrame:
    """Statistics of ``cases`` grouped by ``cases[key]``, joined to every unit.

    Parameters
    ----------
    units
        The units (indexed by id) that must all appear, also with zero cases.
    cases
        Joined cases with derived lifecycle columns.
    key
        The case column naming the unit, e.g. ``"town_id"`` or ``"river_id"``.
    period
        The current period's first and last day, for new and closed counts.

    Every figure counts only the cases that count in rectification
    (:func:`battlemap.join.counted`); ``uncounted`` is the number of the
    unit's other cases (invalid tips and status words mapped to ``void``).
    """
    start = pd.Timestamp(period[0])
    end = pd.Timestamp(period[1]) + pd.Timedelta(days=1)
    keep = counted(cases)
    frame = pd.DataFrame({
        "unit": cases[key].to_numpy(),
        "uncounted": (~keep).to_numpy(),
        **{state: (cases["state"] == state).to_numpy() for state in STATES},
        "overdue": cases["overdue"].to_numpy(),
        "days_overdue": cases["days_overdue"].to_numpy(),
        "recurring": cases["recurring"].to_numpy(),
        "new_in_period": cases["reported_at"].between(start, end, inclusive="left").to_numpy(),
        "closed_in_period": cases["closed_at"].between(start, end, inclusive="left").to_numpy(),
    })
    columns = [*STATES, "overdue", "recurring", "new_in_period", "closed_in_period"]
    frame[columns] = frame[columns].to_numpy() & keep.to_numpy()[:, None]
    frame["days_overdue"] = frame["days_overdue"].where(keep.to_numpy(), 0)
    grouped = frame.groupby("unit")
    table = grouped[[*columns, "uncounted"]].sum()
    table["max_days_overdue"] = grouped["days_overdue"].max()
    table = table.reindex(units.index, fill_value=0).astype(int)
    table.insert(0, "total", table[list(STATES)].sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        table["closed_rate"] = (table["closed"] / table["total"]).where(table["total"] > 0)
    stat_columns = [c for c in table.columns if c not in units.columns]
    return units.join(table[stat_columns])


def closure_classes(rates: pd.Series, classes: int = CLOSURE_CLASSES) -> dict:
    """The closure-rate (销号率) colour classes of one level (:data:`CLOSURE_CLASS_RULE`).

    The breaks are the level's quintiles, each rounded to one decimal of a
    percent (0.1 %), without repeats and above the lowest rate: a unit is in
    class ``k`` when its rate, rounded the same way, is at least the k-th
    break. Fewer distinct rates give fewer classes.

    Parameters
    ----------
    rates
        The level's closure rates (NaN for units without cases).
    classes
        The most classes to make.

    Returns
    -------
    dict
        ``breaks`` (ascending fractions), ``lo`` and ``hi`` (the lowest and
        highest rate, rounded; None without rates) and ``classes`` (the
        number of classes, ``len(breaks) + 1``; 0 without rates) and
        ``rule`` (:data:`CLOSURE_CLASS_RULE`, for the legend).
    """
    values = np.sort(_one_decimal(rates.dropna().to_numpy(float)))
    if not len(values):
        return {"breaks": [], "lo": None, "hi": None, "classes": 0, "rule": CLOSURE_CLASS_RULE}
    breaks: list[float] = []
    for k in range(1, classes):
        value = float(values[k * len(values) // classes])
        if value > values[0] and value not in breaks:
            breaks.append(value)
    return {"breaks": breaks, "lo": float(values[0]), "hi": float(values[-1]),
            "classes": len(breaks) + 1, "rule": CLOSURE_CLASS_RULE}


def _one_decimal(rates: np.ndarray) -> np.ndarray:
    """Rates rounded to one decimal of a percent, as every output prints them."""
    return np.round(rates * 1000) / 1000


def _class_of(rates: pd.Series, breaks: list[float]) -> pd.Series:
    """Each unit's class index (0 = lowest rates), -1 without cases."""
    index = np.searchsorted(np.asarray(breaks, dtype=float),
                            _one_decimal(rates.to_numpy(float)), side="right")
    return pd.Series(np.where(rates.isna(), -1, index), index=rates.index, dtype=int)


def rank_siblings(units: gpd.GeoDataFrame, group: str | None = "parent_id") -> pd.Series:
    """Rank within each parent: closed share desc, then overdue asc, then id.

    Units without cases rank last. Returns 1-based ranks.
    """
    order = units.assign(
        _has=units["total"] > 0, _rate=units["closed_rate"].fillna(-1.0), _id=units.index)
    order = order.sort_values(["_has", "_rate", "overdue", "_id"],
                              ascending=[False, False, True, True])
    keys = order[group] if group else pd.Series(0, index=order.index)
    return keys.groupby(keys).cumcount().add(1).reindex(units.index)


def by_category(cases: pd.DataFrame, column: str) -> pd.DataFrame:
    """Long counts per unit and category: level, unit_id, <column>, count, closed, valid, counted.

    ``counted``: the cases counted in the rectification figures, the ones the maps draw
    (:func:`battlemap.join.counted`). A blank category is ``""``: its cases are counted too.
    """
    flags = pd.DataFrame({"count": 1, "closed": (cases["state"] == "closed").astype(int),
                          "valid": cases["valid"].astype(int),
                          "counted": counted(cases).astype(int)}, index=cases.index)
    category = text_series(cases[column]).rename(column)
    rows = []
    for level in (*LEVELS, "river"):
        key = f"{level}_id"
        counts = flags.groupby([cases[key].rename("unit_id"), category]).sum().reset_index()
        counts.insert(0, "level", level)
        rows.append(counts)
    return pd.concat(rows, ignore_index=True)


def previous_ranks(towns: pd.DataFrame, snapshot: pd.DataFrame | None,
                   cases: pd.DataFrame | None = None) -> pd.Series:
    """Each town's rank at the previous build, recounted from that build's snapshot.

    Parameters
    ----------
    towns
        The town statistics (index town id, column ``parent_id``).
    snapshot
        The previous build's cases (columns ``town_id``, ``state``, ``overdue``
        as written by :mod:`battlemap.history`), or None without one. Only
        the cases that counted then (:func:`battlemap.history.counted_before`)
        are ranked.
    cases
        This round's cases, for a snapshot without its ``counted`` column.

    Returns
    -------
    Series
        Nullable integer ranks on the towns' index, ranked like
        :func:`rank_siblings`; all missing without a snapshot.
    """
    if snapshot is None:
        return pd.Series(pd.NA, index=towns.index, dtype="Int64", name="previous_rank")
    snapshot = snapshot[counted_before(snapshot, cases)]   # invalid and void cases never count
    town_id = snapshot["town_id"].astype(str)
    closed = (snapshot["state"] == "closed").groupby(town_id).sum()
    overdue = snapshot["overdue"].astype(str).eq("True").groupby(town_id).sum()
    frame = pd.DataFrame({"total": town_id.value_counts(), "closed": closed, "overdue": overdue})
    frame = frame.reindex(towns.index, fill_value=0).astype(int)
    frame["closed_rate"] = (frame["closed"] / frame["total"]).where(frame["total"] > 0)
    frame["parent_id"] = towns["parent_id"]
    return rank_siblings(frame).astype("Int64").rename("previous_rank")


_PAIR = "\x1f"
"""Joins a river id and a town id into one key (a control character no id holds)."""


def river_town_statistics(towns: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame,
                          cases: pd.DataFrame, period: tuple[dt.date, dt.date]) -> pd.DataFrame:
    """Statistics of each river's cases by the towns along it (沿河镇街), ranked within the river.

    A town is along a river when the river's line crosses it or when one of
    the cases assigned to the river lies in it. The figures count only the
    river's cases (a tributary poster ranks its towns by them).

    Parameters
    ----------
    towns, rivers
        The towns and the rivers, indexed by id, in one CRS.
    cases
        Joined cases with ``river_id``, ``town_id`` and the lifecycle columns.
    period
        The current period's first and last day, as for :func:`unit_statistics`.

    Returns
    -------
    DataFrame
        Long, one row per (river, town) pair: ``river_id``, ``town_id``,
        the statistics of :func:`unit_statistics` and ``rank`` (1 = best
        among the river's towns, by :func:`rank_siblings`), sorted by river
        and rank.
    """
    town_pos, river_pos = rivers.sindex.query(towns.geometry.values, predicate="intersects")
    on_river = cases["river_id"].isin(rivers.index) & cases["town_id"].isin(towns.index)
    pairs = pd.concat([
        pd.DataFrame({"river_id": rivers.index[river_pos], "town_id": towns.index[town_pos]}),
        pd.DataFrame({"river_id": cases.loc[on_river, "river_id"].to_numpy(),
                      "town_id": cases.loc[on_river, "town_id"].to_numpy()}),
    ]).drop_duplicates()
    # one key per pair; within a river the keys sort as the town ids, as rank_siblings needs
    pairs.index = pd.Index(pairs["river_id"] + _PAIR + pairs["town_id"])
    keyed = pd.DataFrame({
        "pair": cases["river_id"] + _PAIR + cases["town_id"],
        **{column: cases[column] for column in
           ("state", "overdue", "days_overdue", "recurring", "reported_at", "closed_at")},
        "counted": counted(cases)})
    table = unit_statistics(pairs, keyed, "pair", period)
    table["rank"] = rank_siblings(table, group="river_id")
    return table.sort_values(["river_id", "rank"]).reset_index(drop=True)

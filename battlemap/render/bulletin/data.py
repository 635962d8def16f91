"""The bulletin's (通报) data: every figure and table as plain frames, drawn by nothing.

:func:`bulletin_data` gathers them from the atlas (the statistics stage's
``atlas.units``, ``by_channel`` and ``extra["previous_rank"]``) into a
:class:`Bulletin`; :mod:`battlemap.render.bulletin.document` writes its
sections as blocks. Testable without fonts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from battlemap import STATES
from battlemap._model import Atlas
from battlemap._text import as_text
from battlemap.escalate import (
    BELOW,
    REMINDER,
    WARNING,
    accountability,
    escalations,
    follow_up,
    rewards,
)
from battlemap.join import age_band_labels, counted
from battlemap.stats import by_category

__all__ = ["BELOW", "REMINDER", "WARNING", "Bulletin", "bulletin_data", "escalations"]

@dataclass(frozen=True)
class Bulletin:
    """Every figure and table of one bulletin, ready to be written as blocks."""

    district: str
    district_chief: str
    as_of: dt.date
    period: tuple[dt.date, dt.date]
    period_kind: str                 # "周" | "月"
    sample: bool
    reminder_days: int
    warning_days: int
    note: str
    data_source: str
    headline: dict[str, float]       # the district's statistics and counts of this bulletin
    changes_since: str | None        # ISO date of the snapshot the changes are counted from
    changes_rule: str                # how the changes count (battlemap.history.CHANGES_RULE)
    changes_recounted: dict[str, int] | None  # joined / left counting since then, or None
    ranking: pd.DataFrame            # towns by rank, with previous_rank and rank_change
    ranking_rule: str
    town_states: pd.DataFrame        # towns in ranking order, then the district: see _town_states
    escalations: pd.DataFrame        # see battlemap.escalate.escalations()
    follow_up: pd.DataFrame          # earlier letters and their cases closed since (整改情况)
    accountability: pd.DataFrame     # village chiefs the accountability rule lists (责任追究)
    accountability_warnings: int     # the rule's threshold: open 预警 cases per village
    rewards: pd.DataFrame | None     # reward tips (有奖举报), see battlemap.escalate.rewards()
    overdue: pd.DataFrame            # overdue cases, town by town, longest first
    recurring: pd.DataFrame          # recurring cases not yet closed
    recurring_by_town: pd.DataFrame  # town, recurring, open
    mismatches: pd.DataFrame         # open cases whose declared town/village differs
    channels: pd.DataFrame           # channel, count, valid, valid_share, closed, closed_share
    channels_by_town: pd.DataFrame   # the same per town (town_id, town, channel, ...)
    weekly: pd.DataFrame             # week (Monday), reported, closed, cumulative sums
    age_bands: pd.DataFrame          # overdue cases: age band × escalation level
    labels: dict[str, str]           # state -> Chinese label
    colors: dict[str, str]           # state / overdue -> colour
    water: object = None             # battlemap.monitoring.Monitoring, or None

    @property
    def title(self) -> str:
        return f"{self.district} 河长制 挂图作战 工作通报（截至 {self.as_of.isoformat()}）"


def bulletin_data(atlas: Atlas) -> Bulletin:
    """Gather the bulletin's figures from the atlas (statistics stage), without drawing."""
    config = atlas.config
    district = atlas.units["district"].iloc[0]
    due = escalations(atlas)
    period = atlas.period or (config.as_of, config.as_of)
    headline = {key: _number(district[key]) for key in (
        "total", *STATES, "closed_rate", "overdue", "max_days_overdue", "recurring",
        "new_in_period", "closed_in_period", "uncounted")}
    for key in ("new_since", "closed_since", "overdue_since", "reopened_since"):
        if key in district.index:
            headline[key] = _number(district[key])
    headline["reminders"] = int((due["level"] == REMINDER).sum())
    headline["warnings"] = int((due["level"] == WARNING).sum())
    headline["mismatches"] = int((atlas.cases["declared_mismatch"].astype(bool)
                                  & counted(atlas.cases)).sum())
    headline["recurring_open"] = int((atlas.cases["recurring"].astype(bool)
                                      & (atlas.cases["state"] != "closed")).sum())
    channels, channels_by_town = _channels(atlas)
    return Bulletin(
        district=str(district["name"]), district_chief=as_text(district.get("chief")),
        as_of=atlas.as_of, period=period,
        period_kind="月" if config.lifecycle.period == "month" else "周",
        sample=bool(config.project.sample), reminder_days=config.escalation.reminder_days,
        warning_days=config.escalation.warning_days, note=config.project.note,
        data_source=config.project.data_source, headline=headline,
        changes_since=as_text(atlas.extra.get("changes_since")) or None,
        changes_rule=str(atlas.extra.get("changes_rule", "")),
        changes_recounted=atlas.extra.get("changes_recounted"),
        ranking=_ranking(atlas), ranking_rule=str(atlas.extra.get("ranking_rule", "")),
        town_states=_town_states(atlas),
        escalations=due, follow_up=follow_up(atlas), accountability=accountability(atlas, due),
        accountability_warnings=config.letters.accountability_warnings, rewards=rewards(atlas),
        overdue=_overdue(atlas, due), recurring=_recurring(atlas),
        recurring_by_town=_recurring_by_town(atlas), mismatches=_mismatches(atlas),
        channels=channels, channels_by_town=channels_by_town, weekly=_weekly(atlas),
        age_bands=_age_bands(atlas, due), labels=dict(config.style.status_labels),
        colors=dict(config.style.status_colors), water=atlas.extra.get("monitoring"),
    )


def _number(value: object) -> float:
    if pd.isna(value):
        return float("nan")
    return float(value) if isinstance(value, float) else int(value)


def _names(ids: pd.Series, units: pd.DataFrame, column: str) -> np.ndarray:
    return ids.astype(str).map(units[column]).fillna("").astype(str).to_numpy()


def _ranking(atlas: Atlas) -> pd.DataFrame:
    towns = atlas.units["town"]
    columns = ["rank", "name", "chief", "total", "closed", "closed_rate", "overdue",
               "max_days_overdue", "recurring", "new_in_period", "closed_in_period"]
    frame = pd.DataFrame(towns[columns]).copy()
    frame["chief"] = frame["chief"].map(as_text)
    previous = atlas.extra.get("previous_rank")
    frame["previous_rank"] = (pd.Series(pd.NA, index=frame.index, dtype="Int64")
                              if previous is None else previous.reindex(frame.index).astype("Int64"))
    frame["rank_change"] = frame["previous_rank"] - frame["rank"].astype("Int64")
    return frame.sort_values(["rank", "name"])


STATE_COLUMNS = ("total", *STATES, "overdue", "recurring", "uncounted")
"""The figures of the town state table, in its order (as the statistics stage counted them)."""


def _town_states(atlas: Atlas) -> pd.DataFrame:
    """Each town's counted cases by state, 其中超期, 其中反复 and uncounted, then the district's.

    Rows follow the ranking (rank, then name); the last row is the district
    (``is_district`` True). Every figure is the statistics stage's
    (:func:`battlemap.stats.unit_statistics`), none is counted here.
    """
    towns = atlas.units["town"].sort_values(["rank", "name"])
    district = atlas.units["district"]
    frame = pd.concat([towns[["name", *STATE_COLUMNS]], district[["name", *STATE_COLUMNS]]])
    frame[list(STATE_COLUMNS)] = frame[list(STATE_COLUMNS)].astype(int)
    frame["is_district"] = [False] * len(towns) + [True] * len(district)
    return pd.DataFrame(frame)


def _town_order(atlas: Atlas, town_ids: pd.Series) -> pd.Series:
    """Towns with the most cases of the table first (then by code)."""
    counts = town_ids.value_counts()
    order = sorted(counts.index, key=lambda t: (-counts[t], t))
    return town_ids.map({t: k for k, t in enumerate(order)})


def _case_rows(atlas: Atlas, cases: pd.DataFrame, **extra: object) -> pd.DataFrame:
    """The columns every case list of the bulletin shows, plus ``extra`` ones."""
    towns, villages = atlas.units["town"], atlas.units["village"]
    labels = atlas.config.style.status_labels
    return pd.DataFrame({
        "case_id": cases.index.astype(str),
        "town_id": cases["town_id"].astype(str).to_numpy(),
        "town": _names(cases["town_id"], towns, "name"),
        "village": _names(cases["village_id"], villages, "name"),
        "chief": _names(cases["village_id"], villages, "chief"),
        "problem_type": cases["problem_type"].astype(str).to_numpy(),
        "state": cases["state"].map(lambda s: labels.get(s, s)).to_numpy(),
        "description": cases["description"].map(as_text).to_numpy(),
        **extra,
    })


def _overdue(atlas: Atlas, due: pd.DataFrame) -> pd.DataFrame:
    cases = atlas.cases[atlas.cases["overdue"].astype(bool)]
    frame = _case_rows(
        atlas, cases, town_chief=_names(cases["town_id"], atlas.units["town"], "chief"),
        deadline=cases["deadline"].to_numpy(),
        days_overdue=cases["days_overdue"].astype(int).to_numpy())
    levels = dict(zip(due["case_id"], due["level"], strict=True))
    frame["level"] = [levels.get(c, "") for c in frame["case_id"]]
    frame["_order"] = _town_order(atlas, frame["town_id"])
    frame = frame.sort_values(["_order", "days_overdue", "case_id"],
                              ascending=[True, False, True], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def _recurring(atlas: Atlas) -> pd.DataFrame:
    cases = atlas.cases
    cases = cases[cases["recurring"].astype(bool) & (cases["state"] != "closed")]
    frame = _case_rows(atlas, cases, reported_at=cases["reported_at"].to_numpy(),
                       overdue=cases["overdue"].astype(bool).to_numpy())
    frame["_order"] = _town_order(atlas, frame["town_id"])
    frame = frame.sort_values(["_order", "reported_at", "case_id"], kind="stable")
    return frame.drop(columns="_order").reset_index(drop=True)


def _recurring_by_town(atlas: Atlas) -> pd.DataFrame:
    towns = atlas.units["town"]
    cases = atlas.cases
    open_recurring = cases[cases["recurring"].astype(bool) & (cases["state"] != "closed")]
    frame = pd.DataFrame({
        "town": towns["name"].astype(str),
        "recurring": towns["recurring"].astype(int),
        "open": open_recurring["town_id"].value_counts().reindex(towns.index, fill_value=0),
    })
    return frame.sort_values(["recurring", "open"], ascending=False, kind="stable")


def _mismatches(atlas: Atlas) -> pd.DataFrame:
    """Open counted cases whose declared place differs (invalid and void ones need no action)."""
    cases = atlas.cases
    cases = cases[cases["declared_mismatch"].astype(bool) & (cases["state"] != "closed")
                  & counted(cases)]
    towns, villages = atlas.units["town"], atlas.units["village"]
    labels = atlas.config.style.status_labels
    frame = pd.DataFrame({
        "case_id": cases.index.astype(str),
        "declared_town": cases["declared_town"].map(as_text).to_numpy(),
        "declared_village": cases["declared_village"].map(as_text).to_numpy(),
        "town_id": cases["town_id"].astype(str).to_numpy(),
        "town": _names(cases["town_id"], towns, "name"),
        "village": _names(cases["village_id"], villages, "name"),
        "problem_type": cases["problem_type"].astype(str).to_numpy(),
        "state": cases["state"].map(lambda s: labels.get(s, s)).to_numpy(),
    })
    return frame.sort_values(["town_id", "village", "case_id"]).reset_index(drop=True)


def _channels(atlas: Atlas) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per channel (上报渠道): cases, valid (有效), closed, and their shares; district and towns."""
    long = atlas.by_channel if atlas.by_channel is not None else by_category(atlas.cases,
                                                                            "channel")
    if "closed" not in long.columns:     # an older by_channel: count closed cases here
        long = by_category(atlas.cases, "channel")

    def shares(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.assign(channel=frame["channel"].map(as_text).replace("", "（未填）"))
        frame = frame[["channel", "count", "valid", "closed"]].astype(
            {"count": int, "valid": int, "closed": int})
        frame["valid_share"] = frame["valid"] / frame["count"]
        frame["closed_share"] = frame["closed"] / frame["count"]
        return frame

    district = shares(long[long["level"] == "district"])
    district = district.groupby("channel", as_index=False)[["count", "valid", "closed"]].sum()
    district = shares(district).sort_values(["count", "channel"], ascending=[False, True])
    towns = atlas.units["town"]
    per_town = long[(long["level"] == "town") & long["unit_id"].isin(towns.index)]
    per_town = shares(per_town).assign(town_id=per_town["unit_id"].to_numpy())
    per_town["town"] = per_town["town_id"].map(towns["name"]).astype(str)
    rank = {c: k for k, c in enumerate(district["channel"])}
    per_town["_c"] = per_town["channel"].map(rank)
    per_town = per_town.sort_values(["town_id", "_c"]).drop(columns="_c")
    columns = ["town_id", "town", "channel", "count", "valid", "valid_share", "closed",
               "closed_share"]
    return district.reset_index(drop=True), per_town[columns].reset_index(drop=True)


def _weekly(atlas: Atlas) -> pd.DataFrame:
    """Cases reported and closed per week (Monday to Sunday), and running totals."""
    cases = atlas.cases
    end = pd.Timestamp(atlas.as_of)
    reported = cases["reported_at"].dropna()
    closed = cases["closed_at"].dropna()
    closed = closed[closed < end + pd.Timedelta(days=1)]

    def monday(times: pd.Series) -> pd.Series:
        days = times.dt.normalize()
        return days - pd.to_timedelta(days.dt.day_of_week, unit="D")

    first = min(reported.min(), closed.min()) if len(closed) else reported.min()
    if pd.isna(first):
        first = end
    weeks = pd.date_range(monday(pd.Series([first])).iloc[0],
                          monday(pd.Series([end])).iloc[0], freq="7D")
    frame = pd.DataFrame({
        "week": weeks,
        "reported": monday(reported).value_counts().reindex(weeks, fill_value=0).to_numpy(),
        "closed": monday(closed).value_counts().reindex(weeks, fill_value=0).to_numpy(),
    })
    frame["reported_total"] = frame["reported"].cumsum()
    frame["closed_total"] = frame["closed"].cumsum()
    return frame


def _age_bands(atlas: Atlas, due: pd.DataFrame) -> pd.DataFrame:
    """Overdue cases per age band (案龄, days since reported) and escalation level."""
    cases = atlas.cases[atlas.cases["overdue"].astype(bool)]
    levels = dict(zip(due["case_id"], due["level"], strict=True))
    level = pd.Series([levels.get(c, BELOW) for c in cases.index.astype(str)], index=cases.index,
                      dtype=object)
    table = pd.crosstab(cases["age_band"].astype(str), level)
    bands = age_band_labels(atlas.config.lifecycle.age_bands_days)  # every band, also when empty
    bands += sorted(set(table.index) - set(bands))
    table = table.reindex(index=bands, columns=[BELOW, REMINDER, WARNING], fill_value=0)
    return table.astype(int)

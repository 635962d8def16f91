"""Escalation (督办), the statistics stage's selection of what the office sends and to whom.

The office's rule: new cases are assigned (交办) to the town; cases overdue
(超期) or recurring (反复) are reminded (提醒) and then warned (预警) to the
town's chief (责任镇街总河长), copied to the district-level chief (区级河长)
for that town. Recipients are keyed by unit id and level; a name is only
printed, so two towns whose chiefs share a name stay two recipients.

The letters already sent (``atlas.extra["letter_history"]``, read from the
register by :func:`battlemap.register.read_history`) decide what moves up:
a case reminded in an earlier period and still open is warned now, never
reminded again; a case already sent a kind of letter in this period is not
sent it again (``sent_in_period`` names that letter).

Every frame here is drawn by the bulletin and written by the letters; no
renderer selects or counts on its own.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from battlemap._model import Atlas
from battlemap._text import as_text
from battlemap.errors import InputError
from battlemap.join import counted

__all__ = ["ASSIGN", "BELOW", "HISTORY_COLUMNS", "KIND_OF_LEVEL", "REMINDER", "WARNING",
           "accountability", "assignments", "check_recipients", "escalations", "follow_up",
           "recipients", "rewards"]

ASSIGN, REMINDER, WARNING = "交办", "提醒", "预警"
"""Letter levels: assignment of new cases, then a reminder, then a warning."""
BELOW = "未达提醒"
"""Overdue, but not yet long enough for a reminder."""
KIND_OF_LEVEL = {ASSIGN: "assign", REMINDER: "reminder", WARNING: "warning"}
"""Level -> the letter kind of :data:`battlemap.config.LETTER_KINDS`."""
OVERDUE, RECURRING = "超期", "反复"
HISTORY_COLUMNS = ("number", "kind", "as_of", "period_start", "recipient_level", "recipient_id",
                   "recipient", "case_id", "level")
"""One row per earlier letter and case (:func:`battlemap.register.read_history`)."""


def recipients(atlas: Atlas) -> pd.DataFrame:
    """Each town's recipient (its chief) and copy (its district-level chief), by town id.

    Returns
    -------
    DataFrame
        Indexed by town id: town, recipient_level ("town"), recipient (the
        chief's name, "" when the boundary file has none), cc (from
        ``[letters] cc``, else the district's chief).
    """
    towns = atlas.units["town"]
    district_chief = atlas.units["district"]["chief"].map(as_text)
    cc = pd.Series(towns["parent_id"].map(district_chief).fillna(""), index=towns.index)
    mapped = atlas.config.letters.cc
    cc = pd.Series([mapped.get(t, c) for t, c in cc.items()], index=towns.index, dtype=object)
    return pd.DataFrame({"town": towns["name"].map(as_text), "recipient_level": "town",
                         "recipient": towns["chief"].map(as_text), "cc": cc})


def escalations(atlas: Atlas) -> pd.DataFrame:
    """The reminders (提醒) and warnings (预警) due, one row per open overdue or recurring case.

    A case overdue by at least ``[escalation] reminder_days`` gets a reminder,
    by at least ``warning_days`` a warning; an open recurring case gets at
    least a reminder. A case reminded in an earlier period and still open
    moves up to a warning. Each goes to the chief of the case's town (keyed
    by ``recipient_id``, the town id), copied to the district-level chief.

    Returns
    -------
    DataFrame
        case_id, town_id, town, village, problem_type, deadline, days_overdue,
        level, recipient, cc, then recipient_level, recipient_id, reason
        ("超期" | "反复" | "超期、反复"), recurring_of, recurring_of_closed,
        previous_number (the last earlier 提醒/预警 of the case, "" if none),
        sent_in_period (the letter of this level already sent in this period,
        "" if none); sorted by recipient id, days overdue (longest first), case id.

    Examples
    --------
    >>> due = escalations(atlas)
    >>> due.groupby(["recipient_id", "level"]).size()
    """
    rule = atlas.config.escalation
    cases = atlas.cases
    open_ = cases["state"] != "closed"
    late = open_ & cases["overdue"].astype(bool) & (cases["days_overdue"] >= rule.reminder_days)
    again = open_ & cases["recurring"].astype(bool)
    due = cases[late | again]
    late, again = late[due.index], again[due.index]
    level = np.where(late & (due["days_overdue"] >= rule.warning_days), WARNING, REMINDER)
    reason = np.select([late & again, late], [f"{OVERDUE}、{RECURRING}", OVERDUE], RECURRING)
    frame = _case_frame(atlas, due).assign(level=level, reason=reason)
    frame = _apply_history(atlas, frame)
    frame = frame.sort_values(["recipient_id", "days_overdue", "case_id"],
                              ascending=[True, False, True], kind="stable")
    first = ["case_id", "town_id", "town", "village", "problem_type", "deadline", "days_overdue",
             "level", "recipient", "cc"]
    return frame[first + [c for c in frame.columns if c not in first]].reset_index(drop=True)


def assignments(atlas: Atlas) -> pd.DataFrame:
    """The cases to assign (交办): counted, reported in the current period, still open, not assigned before.

    The deadline is the export's (整改期限) or, when it has none, the report
    date plus ``[letters] deadline_days`` for the problem type (else
    ``default_deadline_days``); ``deadline_rule`` says which.
    """
    cases = atlas.cases
    start, end = atlas.period or (atlas.as_of, atlas.as_of)
    reported = cases["reported_at"]
    new = ((reported >= pd.Timestamp(start)) & (reported < pd.Timestamp(end) + pd.Timedelta(days=1))
           & (cases["state"] != "closed") & counted(cases))
    history = _history(atlas)
    done = set(history.loc[history["level"] == ASSIGN, "case_id"])
    picked = cases[new & ~cases.index.isin(done)]
    frame = _case_frame(atlas, picked)
    rules = atlas.config.letters
    days = picked["problem_type"].map(lambda t: rules.deadline_days.get(t, rules.default_deadline_days))
    by_rule = picked["reported_at"].dt.normalize() + pd.to_timedelta(days, unit="D")
    frame["deadline"] = picked["deadline"].fillna(by_rule).to_numpy()
    frame["deadline_rule"] = np.where(picked["deadline"].isna().to_numpy(), "按规则", "")
    frame["level"] = ASSIGN
    return frame.sort_values(["recipient_id", "village", "case_id"], kind="stable").reset_index(
        drop=True)


def follow_up(atlas: Atlas) -> pd.DataFrame:
    """整改情况: per earlier letter, how many of its cases have since been closed.

    Returns
    -------
    DataFrame
        number, kind, as_of, recipient_id, town, recipient, cases, closed, open; the
        latest date first, then in the register's order (kind, number). Cases
        no longer in the export count as open.
    """
    history = _history(atlas)
    columns = ["number", "kind", "as_of", "recipient_id", "town", "recipient", "cases", "closed",
               "open"]
    if history.empty:
        return pd.DataFrame(columns=columns)
    state = history["case_id"].map(atlas.cases["state"])
    history = history.assign(closed=(state == "closed").astype(int))
    grouped = history.groupby(["number", "kind", "as_of", "recipient_id", "recipient"],
                              sort=False).agg(cases=("case_id", "size"), closed=("closed", "sum"))
    frame = grouped.reset_index()
    frame["open"] = frame["cases"] - frame["closed"]
    frame["town"] = frame["recipient_id"].map(recipients(atlas)["town"]).fillna("")
    # the register's order (date, kind, number) within a date; the latest date first
    return frame.sort_values("as_of", ascending=False, kind="stable")[columns].reset_index(
        drop=True)


def accountability(atlas: Atlas, due: pd.DataFrame) -> pd.DataFrame:
    """Village chiefs (村居河长) with at least ``[letters] accountability_warnings`` open 预警 cases.

    Candidates for 责任追究, with the figures that triggered the rule:
    village_id, village, chief, town, warnings (open 预警 cases), longest
    (the longest overdue among them).
    """
    threshold = atlas.config.letters.accountability_warnings
    warned = due[due["level"] == WARNING]
    counts = warned.groupby("village_id").agg(warnings=("case_id", "size"),
                                              longest=("days_overdue", "max"))
    counts = counts[counts["warnings"] >= threshold]
    villages = atlas.units["village"]
    towns = atlas.units["town"]
    frame = pd.DataFrame({
        "village_id": counts.index.astype(str),
        "village": counts.index.map(villages["name"]).fillna("").astype(str),
        "chief": counts.index.map(villages["chief"]).map(as_text),
        "town": counts.index.map(villages["parent_id"]).map(towns["name"]).fillna("").astype(str),
        "warnings": counts["warnings"].astype(int).to_numpy(),
        "longest": counts["longest"].astype(int).to_numpy()})
    return frame.sort_values(["warnings", "longest", "village_id"],
                             ascending=[False, False, True]).reset_index(drop=True)


def rewards(atlas: Atlas) -> pd.DataFrame | None:
    """Reward tips (有奖举报): tips, valid tips, valid share and rewards paid, this period and in all.

    Counted over the cases of ``[letters] reward_channel`` (all cases when it
    is not set); the amount is the export's ``reward`` column in yuan (a
    blank or unreadable amount counts as nothing paid). None when the export
    has no reward column.

    Returns
    -------
    DataFrame or None
        Rows "period" and "total": tips, valid, valid_share, rewards, unreadable.
    """
    cases = atlas.cases
    if "reward" not in cases:
        return None
    channel = atlas.config.letters.reward_channel
    tips = cases if channel is None else cases[cases["channel"].map(as_text) == channel]
    text = tips["reward"].map(as_text).str.replace(r"[,，\s元]", "", regex=True)
    amount = pd.to_numeric(text, errors="coerce")
    start, end = atlas.period or (atlas.as_of, atlas.as_of)
    now = ((tips["reported_at"] >= pd.Timestamp(start))
           & (tips["reported_at"] < pd.Timestamp(end) + pd.Timedelta(days=1)))
    rows = {}
    for name, picked in (("period", now), ("total", pd.Series(True, index=tips.index))):
        valid = int(tips.loc[picked, "valid"].astype(bool).sum())
        count = int(picked.sum())
        rows[name] = {"tips": count, "valid": valid,
                      "valid_share": valid / count if count else float("nan"),
                      "rewards": float(amount[picked].fillna(0).sum()),
                      "unreadable": int((amount[picked].isna() & (text[picked] != "")).sum())}
    return pd.DataFrame.from_dict(rows, orient="index")


def check_recipients(atlas: Atlas, town_ids: pd.Series) -> None:
    """Refuse letters to a town without a chief, naming the town and the field to fill in."""
    who = recipients(atlas)
    missing = sorted(t for t in set(town_ids.astype(str)) if not who["recipient"].get(t, ""))
    if missing:
        config = atlas.config.boundaries["town"]
        raise InputError(
            f"{config.path}: letters need the chief (河长) of every town they go to; fill in "
            f"the field '{config.chief_field or '(set [boundaries.town] chief_field)'}'",
            [f"town {t} ({who['town'].get(t, '')}): no chief" for t in missing])


# --------------------------------------------------------------------------- helpers


def _case_frame(atlas: Atlas, cases: pd.DataFrame) -> pd.DataFrame:
    """The columns every letter table shows, with the recipient keyed by town id."""
    units = atlas.units
    who = recipients(atlas)
    town = cases["town_id"].astype(str)
    river = cases["river_id"].astype(str).map(atlas.rivers["name"]).fillna("")
    river = river.where(river != "", cases["river_name"].map(as_text))
    recurring_of = (cases["recurring_of"].map(as_text) if "recurring_of" in cases
                    else pd.Series("", index=cases.index))
    return pd.DataFrame({
        "case_id": cases.index.astype(str),
        "town_id": town.to_numpy(),
        "town": town.map(who["town"]).fillna("").to_numpy(),
        "village": cases["village_id"].astype(str).map(units["village"]["name"]).fillna("").to_numpy(),
        "problem_type": cases["problem_type"].map(as_text).to_numpy(),
        "deadline": cases["deadline"].to_numpy(),
        "days_overdue": cases["days_overdue"].astype(int).to_numpy(),
        "recipient": town.map(who["recipient"]).fillna("").to_numpy(),
        "cc": town.map(who["cc"]).fillna("").to_numpy(),
        "recipient_level": "town",
        "recipient_id": town.to_numpy(),
        "village_id": cases["village_id"].astype(str).to_numpy(),
        "grid": cases["grid_id"].astype(str).map(units["grid"]["name"]).fillna("").to_numpy(),
        "river": river.to_numpy(),
        "description": cases["description"].map(as_text).to_numpy(),
        "reported_at": cases["reported_at"].to_numpy(),
        "recurring_of": recurring_of.to_numpy(),
        "recurring_of_closed": recurring_of.map(atlas.cases["closed_at"]).to_numpy(),
    })


def _history(atlas: Atlas) -> pd.DataFrame:
    history = atlas.extra.get("letter_history")
    if history is None:
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    return history


def _apply_history(atlas: Atlas, frame: pd.DataFrame) -> pd.DataFrame:
    """Move up what was reminded in an earlier period; name what this period already sent."""
    history = _history(atlas)
    history = history[history["level"].isin([REMINDER, WARNING])]
    start = (atlas.period or (atlas.as_of, atlas.as_of))[0].isoformat()
    earlier = history[history["period_start"] < start]
    last = earlier.sort_values(["as_of", "number"]).groupby("case_id")["number"].last()
    frame["previous_number"] = [last.get(c, "") for c in frame["case_id"]]
    frame.loc[frame["previous_number"] != "", "level"] = WARNING
    now = history[history["period_start"] >= start]
    sent = now.groupby(["case_id", "level"])["number"].first()
    keys = list(zip(frame["case_id"], frame["level"], strict=True))
    frame["sent_in_period"] = [sent.get(key, "") for key in keys]
    return frame

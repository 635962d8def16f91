"""Round-to-round changes: a compact snapshot of case states per build.

Each build keeps ``history/<as-of date>.csv.gz`` (case id, state, overdue,
whether it counted in rectification and the units it lies in). The next
build compares itself with the latest earlier snapshot (or the one on or
before ``--since``) and counts, per unit: new cases, newly closed, newly
overdue and reopened.

The changes follow the rule of every other figure (:func:`battlemap.join.counted`,
:data:`CHANGES_RULE`): a case counts in them only when it counts now, and a
case that did not count in the previous round is treated as not there then.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd

from battlemap import CHANGE_COLUMNS, LEVELS, STATES
from battlemap._io import atomic_path
from battlemap._paths import safe_stem
from battlemap.join import counted

__all__ = ["CHANGES_RULE", "CHANGE_COLUMNS", "case_changes", "counted_before", "counting_changes",
           "previous_snapshot", "unit_changes", "write_snapshot"]

SNAPSHOT_COLUMNS = ("case_id", "state", "overdue", *(f"{lv}_id" for lv in LEVELS), "river_id")
CHANGES_RULE = ("较上次的变化只计计入整改的案件：上次不计整改、本次计入的算作新增；"
                "上次计入、本次转为无效举报或不计整改的，不计入各项变化")
"""How the round-to-round changes count, shown wherever they are shown."""


def write_snapshot(cases: gpd.GeoDataFrame, as_of: dt.date, folder: Path) -> Path:
    """Write this build's snapshot; a rebuild on the same as-of date replaces it."""
    frame = pd.DataFrame(cases.reset_index()[list(SNAPSHOT_COLUMNS)])
    frame["counted"] = counted(cases).to_numpy()
    path = folder / f"{safe_stem(as_of.isoformat())}.csv.gz"
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, compression="gzip")
    return path


def previous_snapshot(folder: Path, as_of: dt.date, since: dt.date | None = None
                      ) -> tuple[dt.date, pd.DataFrame] | None:
    """The latest snapshot before ``as_of`` (or on or before ``since``), if any."""
    limit = since if since is not None else as_of - dt.timedelta(days=1)
    dates = []
    for path in folder.glob("*.csv.gz"):
        try:
            dates.append(dt.date.fromisoformat(path.name.removesuffix(".csv.gz")))
        except ValueError:
            continue
    earlier = [d for d in dates if d <= limit]
    if not earlier:
        return None
    date = max(earlier)
    frame = pd.read_csv(folder / f"{date.isoformat()}.csv.gz", dtype=str, keep_default_na=False)
    for column in ("overdue", "counted"):
        if column in frame:                      # snapshots before 计入整改 have no "counted"
            frame[column] = frame[column] == "True"
    return date, frame.set_index("case_id")


def counted_before(previous: pd.DataFrame, cases: pd.DataFrame | None = None) -> pd.Series:
    """Whether each case of the previous snapshot counted in rectification (计入整改) then.

    Parameters
    ----------
    previous
        The previous snapshot (case id index), as :func:`previous_snapshot` reads it.
    cases
        This round's cases, for snapshots written before the snapshot kept
        ``counted``: a case counted then when its state was a lifecycle state
        and its tip is valid now (是否有效 is not known for that round).

    Returns
    -------
    Series
        Booleans on the snapshot's index.
    """
    if "counted" in previous:
        return previous["counted"].astype(bool)
    valid = True
    if cases is not None and "valid" in cases:
        valid = cases["valid"].astype(bool).reindex(previous.index, fill_value=True)
    return previous["state"].isin(STATES) & valid


def case_changes(cases: gpd.GeoDataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Per case, what changed since the previous snapshot (booleans of CHANGE_COLUMNS).

    Only cases that count now (:func:`battlemap.join.counted`) change; a case
    that did not count in the previous round (:func:`counted_before`) is new
    when it counts now (:data:`CHANGES_RULE`).
    """
    now = counted(cases)
    before = counted_before(previous, cases).reindex(cases.index, fill_value=False)
    before_state = previous["state"].reindex(cases.index).where(before)
    before_overdue = previous["overdue"].reindex(cases.index).fillna(False).astype(bool) & before
    closed_now = cases["state"] == "closed"
    closed_before = before_state == "closed"
    return pd.DataFrame({
        "new_since": now & ~before,
        "closed_since": now & closed_now & before & ~closed_before,
        "overdue_since": now & cases["overdue"].astype(bool) & ~before_overdue,
        "reopened_since": now & closed_before & ~closed_now,
    }, index=cases.index)


def counting_changes(cases: pd.DataFrame, previous: pd.DataFrame) -> dict[str, int]:
    """Cases whose counting changed: ``joined`` (in the previous round, uncounted then and
    counted now: in ``new_since``) and ``left`` (counted then, uncounted now: in no change)."""
    now = counted(cases)
    known = cases.index.isin(previous.index)
    before = counted_before(previous, cases).reindex(cases.index, fill_value=False)
    return {"joined": int((now & known & ~before).sum()), "left": int((~now & before).sum())}


def unit_changes(cases: gpd.GeoDataFrame, changes: pd.DataFrame, key: str,
                 units: pd.Index) -> pd.DataFrame:
    """Counts of each change per unit (every unit, zero included)."""
    counts = changes.groupby(cases[key].to_numpy()).sum().astype(int)
    return counts.reindex(units, fill_value=0)

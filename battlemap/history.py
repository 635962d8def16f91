"""Round-to-round changes: a compact snapshot of case states per build.

Each build keeps ``history/<as-of date>.csv.gz`` (case id, state, overdue and
the units it lies in). The next build compares itself with the latest earlier
snapshot (or the one on or before ``--since``) and counts, per unit: new
cases, newly closed, newly overdue and reopened.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd

from battlemap import LEVELS
from battlemap._io import atomic_path
from battlemap._paths import safe_stem

__all__ = ["CHANGE_COLUMNS", "case_changes", "previous_snapshot", "unit_changes", "write_snapshot"]

CHANGE_COLUMNS = ("new_since", "closed_since", "overdue_since", "reopened_since")
SNAPSHOT_COLUMNS = ("case_id", "state", "overdue", *(f"{lv}_id" for lv in LEVELS), "river_id")


def write_snapshot(cases: gpd.GeoDataFrame, as_of: dt.date, folder: Path) -> Path:
    """Write this build's snapshot; a rebuild on the same as-of date replaces it."""
    frame = pd.DataFrame(cases.reset_index()[list(SNAPSHOT_COLUMNS)])
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
    frame["overdue"] = frame["overdue"] == "True"
    return date, frame.set_index("case_id")


def case_changes(cases: gpd.GeoDataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """Per case, what changed since the previous snapshot (booleans of CHANGE_COLUMNS)."""
    before_state = previous["state"].reindex(cases.index)
    before_overdue = previous["overdue"].reindex(cases.index).fillna(False).astype(bool)
    known = before_state.notna()
    closed_now = cases["state"] == "closed"
    closed_before = before_state == "closed"
    return pd.DataFrame({
        "new_since": ~known,
        "closed_since": closed_now & known & ~closed_before,
        "overdue_since": cases["overdue"].astype(bool) & ~before_overdue,
        "reopened_since": known & closed_before & ~closed_now,
    }, index=cases.index)


def unit_changes(cases: gpd.GeoDataFrame, changes: pd.DataFrame, key: str,
                 units: pd.Index) -> pd.DataFrame:
    """Counts of each change per unit (every unit, zero included)."""
    counts = changes.groupby(cases[key].to_numpy()).sum().astype(int)
    return counts.reindex(units, fill_value=0)

"""Round-to-round changes on two hand-made snapshots, and across two builds."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import geopandas as gpd
import pandas as pd
from conftest import tiny_cases_frame, write_tiny_inputs

from battlemap.build import BuildOptions, build
from battlemap.config import load_config
from battlemap.history import case_changes, previous_snapshot, unit_changes, write_snapshot


def _snapshot(rows: dict[str, tuple[str, bool, str]]) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(
        [(cid, state, overdue, "d", town, "v", "g", "r") for cid, (state, overdue, town)
         in rows.items()],
        columns=["case_id", "state", "overdue", "district_id", "town_id", "village_id",
                 "grid_id", "river_id"]).set_index("case_id")
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy([0] * len(frame), [0] * len(frame)))


def test_changes_between_two_snapshots(tmp_path: Path) -> None:
    before = _snapshot({"a": ("assigned", False, "t1"), "b": ("closed", False, "t1"),
                        "c": ("assigned", False, "t2"), "d": ("rectifying", True, "t2")})
    write_snapshot(before, dt.date(2026, 11, 20), tmp_path)
    after = _snapshot({"a": ("closed", False, "t1"), "b": ("assigned", False, "t1"),
                       "c": ("assigned", True, "t2"), "d": ("rectifying", True, "t2"),
                       "e": ("reported", False, "t2")})
    date, previous = previous_snapshot(tmp_path, dt.date(2026, 11, 27))
    assert date == dt.date(2026, 11, 20)
    changes = case_changes(after, previous)
    assert changes[changes.any(axis=1)].to_dict(orient="index") == {
        "a": {"new_since": False, "closed_since": True, "overdue_since": False,
              "reopened_since": False},
        "b": {"new_since": False, "closed_since": False, "overdue_since": False,
              "reopened_since": True},
        "c": {"new_since": False, "closed_since": False, "overdue_since": True,
              "reopened_since": False},
        "e": {"new_since": True, "closed_since": False, "overdue_since": False,
              "reopened_since": False},
    }
    per_town = unit_changes(after, changes, "town_id", pd.Index(["t1", "t2", "t3"]))
    assert per_town.loc["t1"].tolist() == [0, 1, 0, 1]
    assert per_town.loc["t2"].tolist() == [1, 0, 1, 0]
    assert per_town.loc["t3"].tolist() == [0, 0, 0, 0]


def test_a_snapshot_keeps_whether_each_case_counted(tmp_path: Path) -> None:
    """计入整改 round-trips as booleans (a text "False" would read as True)."""
    now = _snapshot({"a": ("assigned", False, "t1"), "b": ("void", False, "t1"),
                     "c": ("closed", False, "t2")}).assign(valid=[True, True, False])
    write_snapshot(now, dt.date(2026, 11, 20), tmp_path)
    _, previous = previous_snapshot(tmp_path, dt.date(2026, 11, 27))
    assert previous["counted"].tolist() == [True, False, False]
    assert previous["counted"].dtype == bool


def test_no_snapshot_before_as_of(tmp_path: Path) -> None:
    write_snapshot(_snapshot({"a": ("assigned", False, "t1")}), dt.date(2026, 11, 27), tmp_path)
    assert previous_snapshot(tmp_path, dt.date(2026, 11, 27)) is None
    assert previous_snapshot(tmp_path, dt.date(2026, 12, 4)) is not None
    assert previous_snapshot(tmp_path, dt.date(2026, 12, 4), since=dt.date(2026, 11, 1)) is None


def test_two_builds_report_exactly_the_changes_made(tmp_path: Path) -> None:
    config_path = write_tiny_inputs(tmp_path / "in")
    first = build(load_config(config_path, out_dir=tmp_path / "out"), BuildOptions(only=()))
    assert first["changes_since"] is None

    cases = tiny_cases_frame()
    cases.loc[cases["问题编号"] == "C04", ["处理状态", "办结时间"]] = ["已销号", "2026-12-02"]
    new = cases[cases["问题编号"] == "C10"].assign(问题编号="C11", 上报时间="2026-12-01 10:00")
    cases = pd.concat([cases, new], ignore_index=True)
    write_tiny_inputs(tmp_path / "in", cases=cases)
    text = config_path.read_text(encoding="utf-8").replace("as_of = 2026-11-27", "as_of = 2026-12-04")
    config_path.write_text(text, encoding="utf-8")
    second = build(load_config(config_path, out_dir=tmp_path / "out"), BuildOptions(only=()))
    assert second["changes_since"] == "2026-11-27"
    assert second["changes"] == {"new_since": 1, "closed_since": 1, "overdue_since": 0,
                                 "reopened_since": 0}

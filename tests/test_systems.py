"""Coordinate systems per channel and per row, and the warning when a channel's is wrong."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import X0, Y0, tiny_cases_frame, write_tiny_inputs
from pyproj import Transformer

from battlemap._systems import MIN_CASES, check_channel_systems
from battlemap.build import Prepared, prepare
from battlemap.config import load_config
from battlemap.coords import from_wgs84
from battlemap.errors import ConfigError

TO_WGS = Transformer.from_crs("EPSG:4526", "EPSG:4326", always_xy=True)
APP, MINI = "广州河长APP", "河涌众采小程序"


def grid_of(x: float, y: float) -> str:
    """The tiny district's grid id at (x, y) metres from its origin."""
    town = "440118001" if x < 2000 else "440118002"
    village = f"{town}00{1 if y < 1000 else 2}"
    return f"{village}00{1 if x % 2000 < 1000 else 2}"


def place(x: float, y: float) -> tuple[str, str]:
    return ("甲镇" if x < 2000 else "乙镇", f"{'甲乙'[x >= 2000]}{'一二'[y >= 1000]}村")


def row(case_id: str, x: float, y: float, channel: str, system: str,
        **columns: str) -> dict[str, str]:
    """One export row whose true place is (x, y), its coordinates written in ``system``."""
    lon, lat = from_wgs84(*TO_WGS.transform(X0 + x, Y0 + y), system)
    town, village = place(x, y)
    record = tiny_cases_frame().iloc[0].to_dict()
    record.update({"问题编号": case_id, "处理状态": "已交办", "办结时间": "", "上报渠道": channel,
                   "经度": f"{lon:.7f}", "纬度": f"{lat:.7f}", "所属镇街": town,
                   "所属村居": village})
    record.update(columns)
    return record


def mixed_export(n: int = 40) -> tuple[pd.DataFrame, dict[str, str]]:
    """``n`` app cases in GCJ-02 and ``n`` mini-program cases in BD-09, and their true grids.

    The mini-program's points sit in the lower villages, 400–900 m up: read as
    GCJ-02 they land about 650 m north-east, in the upper village of the same town.
    """
    rows, truth = [], {}
    for k in range(n):
        x, y = 100 + (k * 97) % 3800, 100 + (k * 53) % 1800
        rows.append(row(f"A{k}", x, y, APP, "GCJ-02"))
        truth[f"A{k}"] = grid_of(x, y)
        x = (100 + (k * 61) % 1200) + (2000 if k % 2 else 0)
        y = 400 + (k * 37) % 500
        rows.append(row(f"M{k}", x, y, MINI, "BD-09"))
        truth[f"M{k}"] = grid_of(x, y)
    return pd.DataFrame(rows), truth


def run(tmp_path: Path, frame: pd.DataFrame, extra: str = "",
        system: str = "GCJ-02") -> Prepared:
    config = write_tiny_inputs(tmp_path / "tiny", cases=frame)
    text = config.read_text(encoding="utf-8").replace('coordinates = "WGS84"',
                                                      f'coordinates = "{system}"')
    config.write_text(text + extra, encoding="utf-8")
    return prepare(load_config(config, out_dir=config.parent / "output"))


def warnings_of(prepared: Prepared, kind: str) -> list:
    return [w for w in prepared.findings.warnings if w.kind == kind]


def test_a_channel_in_bd09_read_as_gcj02_is_named_with_its_figures(tmp_path):
    frame, truth = mixed_export()
    prepared = run(tmp_path, frame)
    [suspect] = warnings_of(prepared, "coordinate_system_suspect")
    assert suspect.feature == MINI and suspect.column == "上报渠道"
    assert suspect.message.startswith(
        f"上报渠道 {MINI}: 0 % in the declared town/village as GCJ-02, 100 % as BD-09")
    assert "40 cases with a declared town or village" in suspect.message
    assert f'set [cases.coordinates_by_channel] "{MINI}" = "BD-09"' in suspect.message
    cases = prepared.atlas.cases
    wrong = [c for c in truth if c.startswith("M") and cases.loc[c, "grid_id"] != truth[c]]
    assert len(wrong) == 40  # all misplaced, yet every one is still mapped


def test_the_per_channel_setting_places_them_right_and_silences_the_warning(tmp_path):
    frame, truth = mixed_export()
    extra = f'\n[cases.coordinates_by_channel]\n"{MINI}" = "BD-09"\n'
    prepared = run(tmp_path, frame, extra)
    assert not warnings_of(prepared, "coordinate_system_suspect")
    cases = prepared.atlas.cases
    assert cases["grid_id"].to_dict() == truth
    assert set(cases.loc[cases["channel"] == MINI, "coord_system"]) == {"BD-09"}
    assert set(cases.loc[cases["channel"] == APP, "coord_system"]) == {"GCJ-02"}
    assert not cases["declared_mismatch"].any()


def test_a_channel_with_too_few_declared_cases_is_not_judged(tmp_path):
    frame, _ = mixed_export(MIN_CASES - 1)
    assert not warnings_of(run(tmp_path, frame), "coordinate_system_suspect")


def test_shares_per_channel(tmp_path):
    frame, _ = mixed_export()
    prepared = run(tmp_path, frame)
    shares = check_channel_systems(prepared.atlas.cases, prepared.atlas.units,
                                   prepared.atlas.config, prepared.findings)
    by_channel = shares.set_index("channel")
    assert by_channel.loc[APP, "GCJ-02"] == 1.0 and by_channel.loc[MINI, "BD-09"] == 1.0
    assert by_channel.loc[MINI, "GCJ-02"] == 0.0
    assert by_channel["cases"].tolist() == [40, 40]


def test_a_channel_named_in_the_table_that_never_occurs_is_a_warning(tmp_path):
    frame, _ = mixed_export(5)
    extra = '\n[cases.coordinates_by_channel]\n"河涌众采 小程序" = "BD-09"\n'
    [unused] = warnings_of(run(tmp_path, frame, extra), "unused_channel_system")
    assert "'河涌众采 小程序', which no case has" in unused.message


def test_a_coordinate_system_column_with_its_words(tmp_path):
    words = {"W1": "bd09", "W2": "百度坐标", "W3": "GCJ-02", "W4": "高德", "W5": "", "W6": "BD 09",
             "W7": "wgs84", "W8": "北斗", "W9": "自定义"}
    systems = {"W1": "BD-09", "W2": "BD-09", "W3": "GCJ-02", "W4": "GCJ-02", "W5": "GCJ-02",
               "W6": "BD-09", "W7": "WGS84", "W8": "GCJ-02", "W9": "BD-09"}
    frame = pd.DataFrame([row(c, 500 + 330 * k, 300 + 150 * k, APP, systems[c], 坐标系=words[c])
                          for k, c in enumerate(words)])
    extra = '\n[cases.coordinate_words]\n"自定义" = "BD-09"\n'
    config = write_tiny_inputs(tmp_path / "tiny", cases=frame)
    text = config.read_text(encoding="utf-8").replace(
        'coordinates = "WGS84"', 'coordinates = "GCJ-02"').replace(
        'valid = "是否有效"', 'valid = "是否有效"\ncoordinate_system = "坐标系"')
    config.write_text(text + extra, encoding="utf-8")
    prepared = prepare(load_config(config, out_dir=tmp_path / "out"))
    cases = prepared.atlas.cases
    placed = {c: grid_of(500 + 330 * k, 300 + 150 * k) for k, c in enumerate(words) if c != "W8"}
    assert cases["grid_id"].to_dict() == placed
    rejected = prepared.findings.rejected_frame().set_index("case_id")
    assert rejected.loc["W8", "reason_code"] == "unknown_coordinate_system"
    assert rejected.loc["W8", "detail"].startswith("坐标系: '北斗' names no coordinate system")
    [unknown] = warnings_of(prepared, "unknown_coordinate_system")
    assert "'北斗' is not known (1 case(s), rows 9)" in unknown.message


@pytest.mark.parametrize("extra, message", [
    ('\n[cases.coordinates_by_channel]\n"A" = "BD09"\n', "cases.coordinates_by_channel.A"),
    ('\n[cases.coordinate_words]\n"A" = "Baidu"\n', "cases.coordinate_words.A"),
])
def test_per_channel_systems_are_checked_like_every_key(tmp_path, extra, message):
    config = write_tiny_inputs(tmp_path / "tiny")
    config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(config)
    assert message in str(error.value) and "GCJ-02" in str(error.value)


def test_per_channel_systems_need_the_channel_column(tmp_path):
    config = write_tiny_inputs(tmp_path / "tiny")
    text = config.read_text(encoding="utf-8").replace('channel = "上报渠道"\n', "")
    config.write_text(text + '\n[cases.coordinates_by_channel]\n"A" = "BD-09"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="map channel in"):
        load_config(config)

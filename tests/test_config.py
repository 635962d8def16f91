"""Config refusals: unknown keys, wrong types, missing files, each named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from battlemap.config import load_config
from battlemap.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


def _edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_tiny_config_loads_frozen(tiny_config_path: Path) -> None:
    config = load_config(tiny_config_path)
    assert config.as_of == dt.date(2026, 11, 27)
    assert config.boundaries["grid"].path == tiny_config_path.parent / "boundaries.gpkg"
    assert config.output.dir == tiny_config_path.parent / "output"
    with pytest.raises(Exception, match="frozen"):
        config.project.name = "x"  # type: ignore[misc]


def test_shipped_config_loads() -> None:
    config = load_config(REPO / "battlemap.toml")
    assert config.project.sample
    assert config.cases.coordinates == "GCJ-02"
    assert "上报人电话" in config.cases.private_columns
    # invalid tips and the words that are no state leave the rectification figures
    assert config.cases.valid_values == ("是",)
    voids = {word for word, state in config.cases.status_map.items() if state == "void"}
    assert {"已撤销", "已退回", "挂起", "待核实"} <= voids


def test_unknown_key_is_named(tiny_config_path: Path) -> None:
    _edit(tiny_config_path, "sample = false", "sample = false\ncolour = 'red'")
    with pytest.raises(ConfigError, match=r"project\.colour: unknown key"):
        load_config(tiny_config_path)


def test_wrong_type_is_named(tiny_config_path: Path) -> None:
    _edit(tiny_config_path, "sample = false", "sample = false\n[join]\ngap_tolerance_m = 'far'")
    with pytest.raises(ConfigError, match=r"join\.gap_tolerance_m"):
        load_config(tiny_config_path)


def test_unknown_state_is_refused(tiny_config_path: Path) -> None:
    _edit(tiny_config_path, '"已销号" = "closed"', '"已销号" = "done"')
    with pytest.raises(ConfigError, match=r"cases\.status_map\.已销号.*'reported'"):
        load_config(tiny_config_path)


def test_void_is_an_outcome_and_the_message_names_it(tiny_config_path: Path) -> None:
    _edit(tiny_config_path, '"已销号" = "closed"', '"已销号" = "closed"\n"挂起" = "void"')
    assert load_config(tiny_config_path).cases.status_map["挂起"] == "void"
    _edit(tiny_config_path, '"挂起" = "void"', '"挂起" = "voided"')
    with pytest.raises(ConfigError, match=r"cases\.status_map\.挂起.*'void'"):
        load_config(tiny_config_path)


def test_missing_file_is_named(tiny_config_path: Path) -> None:
    _edit(tiny_config_path, 'path = "cases.csv"', 'path = "nowhere.csv"')
    with pytest.raises(ConfigError, match=r"nowhere\.csv: file not found"):
        load_config(tiny_config_path)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.toml")


def test_bad_toml(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[project\nname=", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_missing_level_and_parent_field(tiny_config_path: Path) -> None:
    _edit(tiny_config_path, 'parent_field = "village_code"\n', "")
    with pytest.raises(ConfigError, match=r"boundaries\.grid\.parent_field is required"):
        load_config(tiny_config_path)


def test_unmapped_required_case_field(tiny_config_path: Path) -> None:
    _edit(tiny_config_path, 'lat = "纬度"\n', "")
    with pytest.raises(ConfigError, match=r"required field\(s\) \['lat'\]"):
        load_config(tiny_config_path)


def test_out_dir_override(tiny_config_path: Path, tmp_path: Path) -> None:
    config = load_config(tiny_config_path, out_dir=tmp_path / "elsewhere")
    assert config.output.dir == tmp_path / "elsewhere"


def test_as_of_defaults_to_today(tiny_config_path: Path) -> None:
    _edit(tiny_config_path, "as_of = 2026-11-27\n", "")
    assert load_config(tiny_config_path).as_of == dt.date.today()

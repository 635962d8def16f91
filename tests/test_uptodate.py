"""The no-change fingerprint: what changes it, what does not, and what the check looks at."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import tiny_rivers, write_tiny_inputs

import battlemap.config as config_module
from battlemap._manifest import save_manifest
from battlemap._options import BuildOptions
from battlemap._uptodate import _REGISTER, REPORT_FILES, check, forget, input_fingerprint, remember
from battlemap.config import load_config
from battlemap.register import register_path

OPTIONS = BuildOptions(workers=1)


@pytest.fixture
def config(tmp_path: Path):
    return load_config(write_tiny_inputs(tmp_path / "in"), out_dir=tmp_path / "out")


def test_every_sidecar_of_a_shapefile_counts_and_nothing_else(tmp_path: Path, config) -> None:
    folder = tmp_path / "in"
    tiny_rivers().to_file(folder / "rivers.shp", engine="pyogrio")
    (folder / "rivers.cpg").write_text("UTF-8", encoding="ascii")
    shp = config.model_copy(update={"rivers": config.rivers.model_copy(
        update={"path": folder / "rivers.shp"})})
    first = input_fingerprint(shp, OPTIONS)
    (folder / "unrelated.txt").write_text("notes", encoding="utf-8")
    (folder / "rivers_old.dbf").write_bytes(b"old")
    assert input_fingerprint(shp, OPTIONS) == first
    for part in ("rivers.cpg", "rivers.prj", "rivers.dbf", "rivers.shx"):
        path = folder / part
        data = path.read_bytes()
        path.write_bytes(data + b" ")
        assert input_fingerprint(shp, OPTIONS) != first, part
        path.write_bytes(data)
        assert input_fingerprint(shp, OPTIONS) == first


def test_the_inputs_the_config_and_the_selection_count(tmp_path: Path, config) -> None:
    first = input_fingerprint(config, OPTIONS)
    assert input_fingerprint(config, BuildOptions(workers=2, quiet=False, force=True)) == first
    for other in (BuildOptions(only=("web",)), BuildOptions(levels=("town",)),
                  BuildOptions(units=("440118001",)), BuildOptions(since=dt.date(2026, 11, 1))):
        assert input_fingerprint(config, other) != first, other
    boundaries = tmp_path / "in" / "boundaries.gpkg"
    boundaries.write_bytes(boundaries.read_bytes() + b"\0")
    assert input_fingerprint(config, OPTIONS) != first
    font = tmp_path / "in" / "font.ttf"
    font.write_bytes(b"font")
    fonted = config.model_copy(update={"style": config.style.model_copy(
        update={"font_path": font})})
    with_font = input_fingerprint(fonted, OPTIONS)
    font.write_bytes(b"another font")
    assert input_fingerprint(fonted, OPTIONS) != with_font
    font.unlink()
    assert input_fingerprint(fonted, OPTIONS) is None          # unsure: build as usual


def test_without_an_as_of_date_a_new_day_builds_again(config, monkeypatch) -> None:
    undated = config.model_copy(update={"project": config.project.model_copy(
        update={"as_of": None})})
    days = iter([dt.date(2026, 12, 1), dt.date(2026, 12, 1), dt.date(2026, 12, 2)])

    class Day(dt.date):
        @classmethod
        def today(cls) -> dt.date:
            return next(days)

    monkeypatch.setattr(config_module.dt, "date", Day)
    first, same_day, next_day = (input_fingerprint(undated, OPTIONS) for _ in range(3))
    assert first == same_day != next_day


def _finished_build(out: Path) -> None:
    """What a complete build leaves, as far as the check looks."""
    (out / "grid").mkdir(parents=True)
    (out / "grid" / "g.html").write_text("page", encoding="utf-8")
    save_manifest(out, {"web:grid:g": {"print": "p", "files": ["grid/g.html"]},
                        "web:*:*": {"print": "", "files": []}})
    for name in REPORT_FILES:
        (out / name).write_text(name, encoding="utf-8")
    (out / "history").mkdir()
    (out / "history" / "2026-11-27.csv.gz").write_bytes(b"snapshot")


@pytest.mark.parametrize("change", [
    "new snapshot", "changed snapshot", "register", "manifest", "report", "missing output",
    "forgotten", "forced", "other inputs"])
def test_the_check_needs_the_same_state_and_every_output(tmp_path: Path, change: str) -> None:
    out = tmp_path / "out"
    _finished_build(out)
    remember(out, "abc")
    assert check(out, "abc", OPTIONS) is not None
    assert check(out, "abc", OPTIONS).outputs == 1
    inputs, options = "abc", OPTIONS
    if change == "new snapshot":
        (out / "history" / "2026-11-20.csv.gz").write_bytes(b"older")
    elif change == "changed snapshot":
        (out / "history" / "2026-11-27.csv.gz").write_bytes(b"other")
    elif change == "register":
        (out / _REGISTER).parent.mkdir()
        (out / _REGISTER).write_bytes(b"sqlite")
    elif change == "manifest":
        save_manifest(out, {"web:grid:g": {"print": "q", "files": ["grid/g.html"]}})
    elif change == "report":
        (out / "report.json").write_text("{}", encoding="utf-8")
    elif change == "missing output":
        (out / "grid" / "g.html").unlink()
    elif change == "forgotten":
        forget(out)
    elif change == "forced":
        options = BuildOptions(force=True)
    else:
        inputs = "abd"
    assert check(out, inputs, options) is None


def test_the_register_is_where_the_register_module_keeps_it(tmp_path: Path) -> None:
    assert register_path(tmp_path) == tmp_path / _REGISTER

"""File names from ids: safe on every file system, never colliding, never leaving the folder."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from conftest import tiny_units, write_tiny_inputs

from battlemap._paths import MAX_KEPT, inside, safe_stem
from battlemap._uptodate import STAMP
from battlemap.build import BuildOptions, build
from battlemap.config import load_config
from battlemap.errors import RenderError

HOSTILE = ["../../../ESCAPED", "a/b", "a\\b", "x" * 201, "😀", "CON", "con", "NUL.txt", ".", "..",
           "a b", "", " ", "-rf", "甲一村", "A" * 64, "A" * 65, "ID_0123456789ABCDEF", "trailing.",
           "C:", "a:b", "a*b?c", "line\nbreak", "\x00", "é", "e\u0301", "\u202eRTL"]
SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


@pytest.mark.parametrize("unit_id", ["440118001", "T1", "M", "ZC2020001334", "A_B-C.D", "2026-11-27"])
def test_a_safe_short_id_stays_itself(unit_id: str) -> None:
    assert safe_stem(unit_id) == unit_id


@pytest.mark.parametrize("unit_id", HOSTILE)
def test_an_unsafe_id_becomes_a_short_ascii_name(unit_id: str) -> None:
    stem = safe_stem(unit_id)
    assert SAFE_NAME.fullmatch(stem), stem
    assert stem not in {".", ".."} and not stem.endswith(".")
    assert len(stem) <= MAX_KEPT
    assert stem.split(".")[0].upper() not in {"CON", "NUL", "PRN", "AUX", "COM1", "LPT1"}
    assert safe_stem(unit_id) == stem  # pure


def test_readable_part_is_kept_in_front_of_the_hash() -> None:
    assert safe_stem("../../../ESCAPED").startswith("ESCAPED_")
    assert safe_stem("a/b").startswith("a_b_")


def test_no_two_ids_share_a_stem_even_ignoring_case() -> None:
    ids = [*HOSTILE, "a_b", "a-b", "a.b", "A/B", "a?b", "ab", "AB", "Ab", "x" * 200, "x" * 202,
           "ESCAPED", safe_stem("../../../ESCAPED"), safe_stem("a/b"), safe_stem("a/b").upper(),
           "T1", "t1", "440118001", "440118001 ", " 440118001"]
    stems = [safe_stem(i) for i in ids]
    assert len(set(ids)) == len(ids)
    assert len({s.casefold() for s in stems}) == len(ids)


def test_a_changed_stem_never_equals_a_kept_one() -> None:
    for unit_id in HOSTILE:
        stem = safe_stem(unit_id)
        assert safe_stem(stem) == stem or stem == unit_id or safe_stem(stem) != stem
        if stem != unit_id:
            assert safe_stem(stem) != stem  # a changed stem, given as an id, is changed again


def test_inside_refuses_paths_that_leave_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert inside(out, out / "grid" / "x.html") == out / "grid" / "x.html"
    for bad in (out / ".." / "x", out / "a" / ".." / ".." / "x", tmp_path / "x", out):
        with pytest.raises(RenderError, match="outside the output folder"):
            inside(out, bad)
    (tmp_path / "elsewhere").mkdir()
    out.mkdir()
    (out / "link").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RenderError):
        inside(out, out / "link" / "x.html")


NASTY_IDS = ["../../../ESCAPED", "a/b", "a\\b", "y" * 201, "😀", "CON", ".."]


def _nasty_inputs(folder: Path) -> Path:
    """The tiny district with hostile grid ids."""
    config = write_tiny_inputs(folder)
    units = tiny_units()
    grid_ids = {old: f"{new}{k}" if k >= len(NASTY_IDS) else new
                for k, (old, new) in enumerate(zip(units["grid"]["code"],
                                                   itertools.cycle(NASTY_IDS), strict=False))}
    units["grid"]["code"] = units["grid"]["code"].map(grid_ids)
    (folder / "boundaries.gpkg").unlink()
    for level, frame in units.items():
        frame.to_file(folder / "boundaries.gpkg", layer=level, engine="pyogrio")
    return config


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_hostile_ids_stay_inside_and_are_not_rendered_twice(tmp_path: Path) -> None:
    parent = tmp_path / "parent"
    config_path = _nasty_inputs(parent / "in")
    (parent / ".canary.tmp-keepme").write_text("mine", encoding="utf-8")
    before = _tree(parent)
    config = load_config(config_path, out_dir=parent / "out")
    out = config.output.dir
    options = BuildOptions(only=("web", "posters"), workers=1, levels=("grid", "village"))
    first = build(config, options)
    assert first["outputs"]["posters"]["rendered"] == 12
    assert {k: v for k, v in _tree(parent).items() if not k.startswith("out/")} == before
    assert not (tmp_path / "ESCAPED").exists()
    grids = {p.name for p in (out / "posters" / "grid").iterdir()}
    assert len(grids) == 8 and all(SAFE_NAME.fullmatch(n) for n in grids)
    (out / STAMP).unlink()  # the normal path, not the no-change one: stale_jobs decides
    again = build(config, options)
    assert again["outputs"]["posters"] == {"rendered": 0, "skipped": 12, "removed": 0}
    assert "up_to_date" not in again
    assert again["outputs"]["web"]["rendered"] == 0
    village = (out / "village" / "440118001001.html").read_text(encoding="utf-8")
    for link in re.findall(r'(?:href|src)="\.\./((?:assets|data)/[^"#?]+)"', village):
        assert (out / link).is_file(), link
    shared = (out / "data" / "shared.js").read_text(encoding="utf-8")
    for grid_id in _grid_ids(config):
        stem = safe_stem(grid_id)
        assert (out / "grid" / f"{stem}.html").is_file(), grid_id
        assert (out / "data" / "grid" / f"{stem}.js").is_file(), grid_id
        assert f'"{stem}"' in shared, grid_id


def _grid_ids(config) -> list[str]:
    import geopandas as gpd

    return gpd.read_file(config.boundaries["grid"].path, layer="grid")["code"].tolist()

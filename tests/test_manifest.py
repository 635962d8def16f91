"""The manifest: fingerprints and the files each job wrote; clean-up only of those files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from battlemap._manifest import (
    MANIFEST,
    fingerprints,
    load_manifest,
    present,
    remove_files,
    save_manifest,
)


def test_round_trip_and_formats(tmp_path: Path) -> None:
    jobs = {"web:grid:g1": {"print": "abc", "files": ["data/grid/g1.js", "grid/g1.html"]}}
    save_manifest(tmp_path, jobs)
    assert load_manifest(tmp_path) == jobs
    (tmp_path / MANIFEST).write_text(json.dumps({"web:grid:g1": "abc"}), encoding="utf-8")
    assert load_manifest(tmp_path) == {"web:grid:g1": {"print": "abc", "files": None}}
    (tmp_path / MANIFEST).write_text("{broken", encoding="utf-8")
    assert load_manifest(tmp_path) == {}
    (tmp_path / MANIFEST).write_text(json.dumps(
        {"format": 2, "jobs": {"k": {"print": "p", "files": "grid/*.html"}}}), encoding="utf-8")
    assert load_manifest(tmp_path) == {"k": {"print": "p", "files": None}}  # never a pattern


def test_present_needs_every_listed_file(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text("x", encoding="utf-8")
    assert present(tmp_path, {"print": "p", "files": ["a.html"]})
    assert present(tmp_path, {"print": "p", "files": []})
    assert not present(tmp_path, {"print": "p", "files": ["a.html", "b.html"]})
    assert not present(tmp_path, {"print": "p", "files": None})
    assert not present(tmp_path, None)


def test_remove_files_deletes_only_listed_files_inside(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "grid").mkdir(parents=True)
    for name in ("grid/a.html", "grid/a.mine.html", "grid/.a.html.tmp-1"):
        (out / name).write_text("x", encoding="utf-8")
    (tmp_path / "sibling.txt").write_text("keep", encoding="utf-8")
    (out / "grid" / "link.html").symlink_to(tmp_path / "sibling.txt")
    removed = remove_files(out, ["grid/a.html", "../sibling.txt", "grid/link.html", "grid/gone"])
    assert removed == [out / "grid" / "a.html"]
    assert sorted(p.name for p in (out / "grid").iterdir()) == [".a.html.tmp-1", "a.mine.html",
                                                                "link.html"]
    assert (tmp_path / "sibling.txt").read_text(encoding="utf-8") == "keep"


# fingerprints: what a unit's outputs show, nothing else ------------------------------------

def _with_units(atlas, level: str, change) -> object:
    frame = atlas.units[level].copy()
    change(frame)
    return dataclasses.replace(atlas, units={**atlas.units, level: frame})


def _changed(before: dict, after: dict) -> set:
    return {key for key in before if before[key] != after[key]}


def _bump_first_grid(atlas, column: str, by: int) -> tuple[set, str, str]:
    """The prints changed when the first grid's ``column`` grows by ``by``; the grid, its village."""
    grid = atlas.units["grid"].index[0]
    parent = atlas.units["grid"].at[grid, "parent_id"]

    def bump(frame):
        frame.loc[grid, column] = frame.loc[grid, column] + by

    changed = _changed(fingerprints(atlas), fingerprints(_with_units(atlas, "grid", bump)))
    return changed, str(grid), str(parent)


def test_closed_class_is_in_the_parents_print_only(tiny_atlas) -> None:
    changed, _, parent = _bump_first_grid(tiny_atlas, "closed_class", 1)
    assert changed == {("village", parent)}


def test_a_rank_is_shown_so_it_makes_the_unit_stale(tiny_atlas) -> None:
    changed, grid, parent = _bump_first_grid(tiny_atlas, "rank", 7)
    assert changed == {("grid", grid), ("village", parent)}


def test_the_class_breaks_a_legend_shows_make_its_posters_stale(tiny_atlas) -> None:
    classes = {**tiny_atlas.extra["closure_classes"]}
    classes["grid"] = {**classes["grid"], "lo": classes["grid"]["lo"] - 0.05}
    moved = dataclasses.replace(tiny_atlas, extra={**tiny_atlas.extra, "closure_classes": classes})
    changed = _changed(fingerprints(tiny_atlas), fingerprints(moved))
    assert changed == {("village", str(v)) for v in tiny_atlas.units["village"].index}


def test_a_renamed_unit_changes_every_map(tiny_atlas) -> None:
    village = tiny_atlas.units["village"].index[0]

    def rename(frame):
        frame.loc[village, "name"] = "新名村"

    before = fingerprints(tiny_atlas)
    changed = _changed(before, fingerprints(_with_units(tiny_atlas, "village", rename)))
    assert changed == set(before)       # its name is on its grids' crumbs and on peers' maps


def test_case_change_flags_reach_the_district_only(tiny_atlas) -> None:
    cases = tiny_atlas.cases.copy()
    cases.iloc[0, cases.columns.get_loc("new_since")] = not cases["new_since"].iloc[0]
    before = fingerprints(tiny_atlas)
    changed = _changed(before, fingerprints(dataclasses.replace(tiny_atlas, cases=cases)))
    district = str(tiny_atlas.units["district"].index[0])
    assert changed == {("district", district)}


def test_a_case_shown_changes_its_units(tiny_atlas) -> None:
    cases = tiny_atlas.cases.copy()
    case = cases.index[0]
    cases.loc[case, "problem_type"] = "另一类型"
    changed = _changed(fingerprints(tiny_atlas),
                       fingerprints(dataclasses.replace(tiny_atlas, cases=cases)))
    row = tiny_atlas.cases.loc[case]
    expected = {(lv, str(row[f"{lv}_id"])) for lv in ("district", "town", "village", "grid")}
    if isinstance(row["river_id"], str) and row["river_id"]:
        expected.add(("river", row["river_id"]))
    assert changed == expected


def test_changed_code_changes_every_print(tiny_atlas, monkeypatch) -> None:
    from battlemap import _manifest

    before = fingerprints(tiny_atlas)
    assert fingerprints(tiny_atlas) == before
    monkeypatch.setattr(_manifest, "code_digest", lambda: "a module of battlemap changed")
    after = fingerprints(tiny_atlas)    # the page looks as the new code draws it, not the old
    assert _changed(before, after) == set(before)


def test_code_digest_covers_the_package_files() -> None:
    from battlemap._manifest import _PACKAGE, code_digest

    assert code_digest() == code_digest.__wrapped__()
    assert (_PACKAGE / "render" / "static").is_dir()   # scripts and styles count as code

"""The manifest: fingerprints and the files each job wrote; clean-up only of those files."""

from __future__ import annotations

import json
from pathlib import Path

from battlemap._manifest import MANIFEST, load_manifest, present, remove_files, save_manifest


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

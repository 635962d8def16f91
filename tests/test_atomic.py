"""A build killed at any moment leaves only whole files, and the next build completes."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import write_tiny_inputs


def _build(config: Path, out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "battlemap.cli", "build", "--config",
                             str(config), "--out", str(out), "--quiet", "--workers", "2", *extra],
                            start_new_session=True)


SQLITE_JOURNALS = ("-wal", "-shm", "-journal")
"""Files SQLite keeps beside a database (the register) while it writes: part of the database,
replayed or discarded when it is next opened, and gone once it is closed."""


def _visible_files(out: Path) -> dict[str, Path]:
    return {p.relative_to(out).as_posix(): p for p in out.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(out).parts)
            and not p.name.endswith(SQLITE_JOURNALS)}


def _whole(path: Path) -> bool:
    if path.suffix == ".sqlite":     # whole with its journal: SQLite finds no damage
        with contextlib.closing(sqlite3.connect(path)) as db:
            return db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    data = path.read_bytes()
    if path.suffix == ".pdf":
        return data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    if path.suffix == ".html":
        return data.rstrip().endswith(b"</html>")
    if path.suffix == ".json":
        json.loads(data)
        return True
    return len(data) > 0


@pytest.mark.parametrize("kill_after", [1.5, 4.0, 7.0])
def test_killed_build_leaves_whole_files_and_next_build_completes(tmp_path: Path,
                                                                   kill_after: float) -> None:
    config = write_tiny_inputs(tmp_path / "in")
    clean, out = tmp_path / "clean", tmp_path / "out"
    assert _build(config, clean).wait() == 0
    assert _build(config, out).wait() == 0           # a complete old build
    victim = _build(config, out, "--force")          # a new one, killed part-way
    time.sleep(kill_after)
    if victim.poll() is None:
        os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    broken = [name for name, path in _visible_files(out).items() if not _whole(path)]
    assert broken == []
    assert _build(config, out).wait() == 0
    assert set(_visible_files(out)) == set(_visible_files(clean))
    assert not list(out.rglob(".*.tmp-*"))                 # no temporary file beside an output
    assert list((out / ".battlemap-tmp").iterdir()) == []  # and none left in battlemap's own


def test_temporary_files_live_in_the_private_folder(tmp_path: Path) -> None:
    from battlemap._io import atomic_path
    from battlemap._paths import MARKER

    out = tmp_path / "out"
    (out / "grid").mkdir(parents=True)
    (out / MARKER).write_text("", encoding="utf-8")
    with atomic_path(out / "grid" / "x.html") as tmp:
        assert tmp.parent == out / ".battlemap-tmp" and tmp.suffix == ".html"
        tmp.write_text("new", encoding="utf-8")
        assert not (out / "grid" / "x.html").exists()
    assert (out / "grid" / "x.html").read_text(encoding="utf-8") == "new"
    assert list((out / ".battlemap-tmp").iterdir()) == []
    with pytest.raises(RuntimeError), atomic_path(out / "grid" / "y.html") as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("killed")
    assert not (out / "grid" / "y.html").exists() and list((out / ".battlemap-tmp").iterdir()) == []


def test_a_write_outside_the_build_folder_is_refused(tmp_path: Path) -> None:
    from battlemap._io import write_text, writing_into
    from battlemap.errors import RenderError

    out = tmp_path / "out"
    out.mkdir()
    with writing_into(out):
        write_text(out / "a" / "ok.txt", "fine")
        for bad in (tmp_path / "escaped.txt", out / "a" / ".." / ".." / "escaped.txt"):
            with pytest.raises(RenderError):
                write_text(bad, "no")
    assert not (tmp_path / "escaped.txt").exists() and (out / "a" / "ok.txt").is_file()


def test_a_linked_folder_leading_out_is_refused_in_every_build(tmp_path: Path) -> None:
    from battlemap._io import write_text, writing_into
    from battlemap.errors import RenderError

    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    (out / "a").mkdir(parents=True)
    elsewhere.mkdir()
    with writing_into(out):
        write_text(out / "a" / "ok.txt", "fine")  # out/a is checked (and remembered) here
    shutil.rmtree(out / "a")
    (out / "a").symlink_to(elsewhere, target_is_directory=True)
    with writing_into(out), pytest.raises(RenderError, match="outside the output folder"):
        write_text(out / "a" / "escaped.txt", "no")  # a new build checks it again
    assert list(elsewhere.iterdir()) == []


def test_a_link_in_place_of_a_file_is_replaced_not_written_through(tmp_path: Path) -> None:
    from battlemap._io import write_text, writing_into

    out, victim = tmp_path / "out", tmp_path / "victim.txt"
    (out / "a").mkdir(parents=True)
    victim.write_text("keep", encoding="utf-8")
    (out / "a" / "x.txt").symlink_to(victim)
    with writing_into(out):
        write_text(out / "a" / "x.txt", "new")
    assert victim.read_text(encoding="utf-8") == "keep"
    assert not (out / "a" / "x.txt").is_symlink()
    assert (out / "a" / "x.txt").read_text(encoding="utf-8") == "new"


def test_a_folder_removed_during_a_build_is_made_again(tmp_path: Path) -> None:
    from battlemap._io import write_text, writing_into

    out = tmp_path / "out"
    out.mkdir()
    with writing_into(out):
        write_text(out / "a" / "one.txt", "1")
        shutil.rmtree(out / "a")
        write_text(out / "a" / "two.txt", "2")
    assert (out / "a" / "two.txt").read_text(encoding="utf-8") == "2"

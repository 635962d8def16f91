"""Where posters and meeting atlases are written: the one place their file names are made."""

from __future__ import annotations

from pathlib import Path

from battlemap._paths import atlas_file, inside, poster_file


def poster_path(out_dir: Path, level: str, unit_id: str, paper: str) -> Path:
    """``out_dir/posters/<level>/<unit_id>_<paper>.pdf``, the id made safe as a file name."""
    return inside(out_dir, Path(out_dir) / poster_file(level, unit_id, paper))


def atlas_path(out_dir: Path, town_id: str) -> Path:
    """``out_dir/posters/atlas/<town_id>.pdf``, the id made safe as a file name."""
    return inside(out_dir, Path(out_dir) / atlas_file(town_id))

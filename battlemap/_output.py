"""The output folder: which folders may be one, its marker, its lock, its temporary folder.

battlemap replaces and deletes files in its output folder, so it refuses a
folder where that could hurt: the filesystem root, the home folder (or
above), the config's folder (or above), a folder holding the input data (or
above), and a non-empty folder it did not make. A folder it made carries the
marker file ``.battlemap-output``; one written by an earlier version (it holds
``.battlemap-manifest.json``) is taken over by writing the marker.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from battlemap._io import writing_into
from battlemap._manifest import MANIFEST
from battlemap._paths import MARKER, TEMP_DIR
from battlemap.config import Config
from battlemap.errors import BattlemapError, ConfigError

__all__ = ["LOCK", "check_output_dir", "claim_output"]

LOCK = ".battlemap.lock"
_EARLIER_VERSIONS = (MANIFEST, LOCK)
"""Files that only battlemap writes: a folder holding one was made by an earlier version."""
_MARKER_TEXT = ("This folder is written by battlemap. It replaces and deletes the files it "
                f"lists in {MANIFEST}; keep your own files elsewhere.\n")
_FIX = "set output.dir in the config (or pass --out) to a folder of its own, e.g. output"


def check_output_dir(config: Config) -> Path:
    """Return the resolved output folder, or refuse it.

    Raises
    ------
    ConfigError
        Naming the folder, why it is refused and what to do.
    """
    out = config.output.dir.resolve()
    problem = _refusal(out, config)
    if problem:
        raise ConfigError(f"output folder {out} (output.dir or --out) {problem}; {_FIX}")
    return out


@contextmanager
def claim_output(config: Config) -> Iterator[Path]:
    """Check the output folder, mark it as battlemap's, lock it and empty its temporary folder.

    Every atomic write inside the block must stay inside the folder. A second
    build or validate on the same folder is refused at once.

    Raises
    ------
    ConfigError
        When the folder is refused (see :func:`check_output_dir`).
    BattlemapError
        When another battlemap process holds the folder.
    """
    out = check_output_dir(config)
    out.mkdir(parents=True, exist_ok=True)
    marker = out / MARKER
    if not marker.is_file():
        marker.write_text(_MARKER_TEXT, encoding="utf-8")
    with (out / LOCK).open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BattlemapError(f"{out}: another battlemap build or validate is writing to this "
                                 "folder; wait for it to finish, or use --out for another "
                                 "folder") from None
        try:
            _empty_temp(out)
            with writing_into(out):
                yield out
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _refusal(out: Path, config: Config) -> str:
    """Why ``out`` may not be the output folder ("" when it may)."""
    if out.parent == out:
        return "is the root of the file system"
    home = _home()
    if home is not None and (out == home or out in home.parents):
        return "is the home folder or above it"
    if config.source is not None:
        folder = config.source.resolve().parent
        if out == folder or out in folder.parents:
            return f"is the folder of the config file {config.source.name} or above it"
    for data in _data_paths(config):
        if out == data or out in data.parents:
            return f"holds the input data {data}"
    if out.exists() and not out.is_dir():
        return "is a file"
    if (out.is_dir() and not (out / MARKER).is_file() and any(out.iterdir())
            and not any((out / n).is_file() for n in _EARLIER_VERSIONS)):
        return ("is not empty and was not made by battlemap (it has no "
                    f"{MARKER} file); battlemap would replace and delete files in it")
    return ""


def _home() -> Path | None:
    try:
        return Path.home().resolve()
    except (RuntimeError, KeyError):  # no HOME and no passwd entry
        return None


def _data_paths(config: Config) -> list[Path]:
    layers = [*config.boundaries.values(), config.rivers, config.cases, config.context,
              config.catchments]
    return [layer.path.resolve() for layer in layers if layer is not None]


def _empty_temp(out: Path) -> None:
    """Delete what a killed build left in battlemap's own temporary folder (and nothing else)."""
    temp = out / TEMP_DIR
    if temp.is_symlink() or not temp.is_dir():
        return
    for leftover in temp.iterdir():
        if leftover.is_file() and not leftover.is_symlink():
            leftover.unlink(missing_ok=True)

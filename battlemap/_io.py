"""Atomic file writes: every output is written to a temporary name, then renamed.

A build killed at any moment leaves each visible file either old or new.
Inside a battlemap output folder (one holding the marker file, see
:mod:`battlemap._paths`) the temporary files live in the folder's private
``.battlemap-tmp/``, which each build empties at its start; so clean-up
never needs a file-name pattern. While :func:`writing_into` is active (a
build), a path outside its folder is refused.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from battlemap._paths import MARKER, TEMP_DIR, inside
from battlemap.errors import RenderError

__all__ = ["atomic_path", "write_bytes", "write_text", "writing_into"]

_ROOT: Path | None = None
"""The output folder of the build running in this process (inherited by forked workers)."""


@contextlib.contextmanager
def writing_into(out: Path) -> Iterator[Path]:
    """Refuse every atomic write outside ``out`` until the block ends."""
    global _ROOT
    previous, _ROOT = _ROOT, Path(out).resolve()
    _READY.clear()
    try:
        yield _ROOT
    finally:
        _ROOT = previous
        _READY.clear()


_READY: set[tuple[Path, Path]] = set()
"""(output folder, folder) pairs this build has checked and made: a folder is resolved and
made once, not at every file (a build writes thousands of files into a dozen folders)."""


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path; rename it to ``path`` on success, delete it on failure.

    Raises
    ------
    RenderError
        When ``path`` has a ``..`` part or, during a build, lies outside its output folder.
    """
    path = Path(path)
    if ".." in path.parts:
        raise RenderError(f"{path}: a written path may not contain '..'; this is a bug in "
                          "battlemap, please report it")
    root = _ROOT if _ROOT is not None else _output_root(path)
    if root is None:  # outside an output folder (a direct API call): beside the file
        path.parent.mkdir(parents=True, exist_ok=True)
        folder, prefix = path.parent, f".{path.name}.tmp-"
    else:
        _ready(root, path.parent)
        folder, prefix = root / TEMP_DIR, "tmp-"
    # ending in the real suffix so drivers (GPKG) are content
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=path.suffix, dir=folder)
    os.fchmod(fd, 0o644)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        try:
            tmp_path.replace(path)
        except FileNotFoundError:  # the folder went away since this build made it
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp_path.replace(path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def _ready(root: Path, folder: Path) -> None:
    """Refuse ``folder`` unless, resolved, it is ``root`` or below; make it and the temporary
    folder (once per build).

    The file's own name is not resolved: it is a made-safe id, and a rename replaces
    a link of that name instead of writing through it.
    """
    if (root, folder) in _READY:
        return
    resolved = folder.resolve()
    if resolved != root and not resolved.is_relative_to(root):
        inside(root, folder / "x")  # raises, with the message every refusal gives
    folder.mkdir(parents=True, exist_ok=True)
    (root / TEMP_DIR).mkdir(exist_ok=True)
    if _ROOT is not None:  # only a build's folders are remembered, and only for it
        _READY.add((root, folder))


def _output_root(path: Path) -> Path | None:
    """The nearest folder above ``path`` that holds battlemap's marker, if any."""
    parent = path.parent.resolve()
    for folder in (parent, *parent.parents):
        if (folder / MARKER).is_file():
            return folder
    return None


def write_bytes(path: Path, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    return write_bytes(path, text.encode(encoding))

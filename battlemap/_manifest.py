"""Incremental builds: what each output was made from, which files it wrote, what is stale.

Every unit page and poster depends on the unit's own row (statistics,
geometry, chief), its children's rows, the cases located in it (or assigned
to it, for a river), the closure-class breaks its legend explains, the base
map every page shares, the config and battlemap's version. Those are hashed
into one fingerprint per (level, unit id) (see :func:`fingerprints` for what
is left out because no output shows it); a rebuild renders only the units
whose fingerprint changed or whose files are missing.

The manifest (``.battlemap-manifest.json``) records, per job key
(``renderer:level:unit_id``), the fingerprint and the files the job wrote,
relative to the output folder. Clean-up deletes only files listed there,
never by a file-name pattern. A manifest of an earlier version (key →
fingerprint) is read with its files unknown: those jobs render again.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from battlemap import CHANGE_COLUMNS, LEVELS, __version__
from battlemap._io import write_text
from battlemap._paths import inside
from battlemap.errors import RenderError

if TYPE_CHECKING:  # numpy, pandas and the model load only when fingerprints are computed, so
    import pandas as pd  # that the lock and the no-change check start fast (issue 16)

    from battlemap._model import Atlas

__all__ = ["MANIFEST", "Entry", "code_digest", "fingerprints", "load_manifest", "present",
           "remove_files",
           "save_manifest"]

MANIFEST = ".battlemap-manifest.json"
FORMAT = 2
Key = tuple[str, str]
Entry = dict[str, object]
"""One job's record: ``{"print": str, "files": list[str] | None}`` (None: unknown)."""


UNSHOWN = ("closed_class", "feature", *CHANGE_COLUMNS)
"""Columns of a unit's own row that none of its outputs shows.

``closed_class`` colours a unit on its parent's map only (the parent's
children part covers it); ``feature`` is the row number in the source file;
the change counts (``*_since``) are in no unit page or poster, and the cases'
change flags behind them are covered whole in the district's print (the
exports and the bulletin, one job per atlas, hash every unit's print).
"""

_PACKAGE = Path(__file__).resolve().parent

_BASE_COLUMNS = ["name", "parent_id", "geometry"]
"""What every map shows of every unit: peers behind a unit's map, the locator, crumbs."""

_RAMP = {"district": "town", "town": "village", "village": "grid", "river": "river_town"}
"""The closure-rate classes (``extra["closure_classes"]``) whose legend a level's poster shows."""


def fingerprints(atlas: Atlas) -> dict[Key, str]:
    """A hash per (level, unit id) of everything that unit's outputs show.

    A unit's print covers: what all outputs share (config, version, as-of
    date, every unit's name, parent and boundary (peers behind a map, the
    locator, the breadcrumb), rivers, context points, neighbouring
    districts); its own row without :data:`UNSHOWN`; its children's rows (a river: the
    towns along it, with their statistics on that river); the cases located
    in it (or assigned to it) without their change flags; and the
    closure-rate classes its legend explains. Ranks are figures shown on a
    unit's own poster and page, so a sibling's change that moves a unit's
    rank makes it stale.
    """
    import numpy as np

    wkb = {level: frame.geometry.to_wkb(hex=True) for level, frame in atlas.units.items()}
    shared = _shared_hash(atlas, wkb)
    case_hash = _row_hashes(atlas.cases.drop(columns=list(CHANGE_COLUMNS), errors="ignore"))
    classes = atlas.extra.get("closure_classes", {})
    result: dict[Key, str] = {}
    frames = {**atlas.units, "river": atlas.rivers}
    for level, frame in frames.items():
        own = _row_hashes(frame.drop(columns=[c for c in UNSHOWN if c in frame.columns]),
                          wkb.get(level))
        key = "river_id" if level == "river" else f"{level}_id"
        cases = _sum_by(case_hash, atlas.cases[key])
        children = (_river_children_hash(atlas) if level == "river"
                    else _children_hash(atlas, level, wkb))
        ramp = repr(sorted(classes.get(_RAMP.get(level, ""), {}).items()))
        for unit_id in frame.index:
            parts = (shared, own[unit_id], cases.get(unit_id, 0), children.get(unit_id, 0),
                     ramp)
            result[(level, str(unit_id))] = hashlib.sha1(
                repr(parts).encode(), usedforsecurity=False).hexdigest()[:16]
    district = next(iter(atlas.units["district"].index), None)
    if district is not None and (set(CHANGE_COLUMNS) & set(atlas.cases.columns)):
        flags = _row_hashes(atlas.cases[[c for c in CHANGE_COLUMNS if c in atlas.cases.columns]])
        key = ("district", str(district))
        result[key] = hashlib.sha1(f"{result[key]}|{int(np.sum(flags.to_numpy(np.uint64)))}"
                                   .encode(), usedforsecurity=False).hexdigest()[:16]
    return result


def load_manifest(out: Path) -> dict[str, Entry]:
    """The jobs of the previous build; empty when there is none or it is damaged."""
    path = out / MANIFEST
    if not path.exists():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}  # a damaged manifest only costs a full rebuild
    if not isinstance(raw, dict):
        return {}
    if raw.get("format") == FORMAT and isinstance(raw.get("jobs"), dict):
        return {str(k): _entry(v) for k, v in raw["jobs"].items()}
    return {str(k): {"print": str(v), "files": None} for k, v in raw.items()}  # format 1


def save_manifest(out: Path, manifest: dict[str, Entry]) -> None:
    write_text(out / MANIFEST, json.dumps({"format": FORMAT, "jobs": manifest},
                                          sort_keys=True, indent=0, ensure_ascii=False))


def present(out: Path, entry: Entry | None) -> bool:
    """Whether every file a job wrote is still on disk (False when they are unknown)."""
    files = None if entry is None else entry.get("files")
    return files is not None and all((out / name).is_file() for name in files)


def remove_files(out: Path, names: Iterable[str]) -> list[Path]:
    """Delete these files (relative to ``out``) that battlemap wrote; return those deleted.

    A name that would lead outside ``out`` (a tampered manifest) is skipped.
    """
    removed = []
    for name in names:
        path = out / name
        try:
            inside(out, path)
        except RenderError:
            continue
        if path.is_file() and not path.is_symlink():
            path.unlink()
            removed.append(path)
    return removed


def _entry(value: object) -> Entry:
    if not isinstance(value, dict):
        return {"print": "", "files": None}
    files = value.get("files")
    ok = isinstance(files, list) and all(isinstance(f, str) for f in files)
    return {"print": str(value.get("print", "")), "files": files if ok else None}


@functools.cache
def code_digest() -> str:
    """battlemap's own files (once per process): changed code without a new version renders
    every output again, and a no-change build is not skipped."""
    digest = hashlib.blake2b(digest_size=20)
    for path in sorted(_PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            name = path.relative_to(_PACKAGE).as_posix().encode("utf-8", "surrogateescape")
            digest.update(len(name).to_bytes(8, "little") + name)
            digest.update(hashlib.blake2b(path.read_bytes(), digest_size=20).digest())
    return digest.hexdigest()


def _shared_hash(atlas: Atlas, wkb: dict[str, pd.Series]) -> str:
    config = atlas.config.model_dump_json(exclude={"output"})
    context = "" if atlas.context is None else str(_row_hashes(atlas.context).sum())
    rivers = str(_row_hashes(atlas.rivers[["name", "kind", "geometry"]]).sum())
    base = [str(_row_hashes(atlas.units[lv][[c for c in _BASE_COLUMNS if c in atlas.units[lv]]],
                            wkb.get(lv)).sum()) for lv in LEVELS if lv in atlas.units]
    neighbours = ("" if atlas.neighbours is None
                  else str(_row_hashes(atlas.neighbours.drop(columns="feature", errors="ignore"))
                           .sum()))
    return hashlib.sha1(f"{__version__}|{code_digest()}|{atlas.as_of}|{config}|{context}|"
                        f"{rivers}|{base}|"
                        f"{neighbours}".encode(), usedforsecurity=False).hexdigest()


def _row_hashes(frame: pd.DataFrame, wkb: pd.Series | None = None) -> pd.Series:
    """One uint64 per row over every column, geometry as WKB (``wkb``: made already)."""
    import pandas as pd

    plain = pd.DataFrame(frame).copy()
    geometry = getattr(frame, "geometry", None)
    if geometry is not None:
        plain[geometry.name] = geometry.to_wkb(hex=True) if wkb is None else wkb
    for column in plain.columns:
        if plain[column].dtype == object:
            plain[column] = plain[column].astype(str)
    return pd.util.hash_pandas_object(plain, index=True)


def _sum_by(hashes: pd.Series, keys: pd.Series) -> dict[str, int]:
    """Order-independent combination of row hashes per key (sum wrapping at 2**64, in uint64)."""
    return hashes.astype("uint64").groupby(keys.to_numpy()).sum().to_dict()


def _children_hash(atlas: Atlas, level: str, wkb: dict[str, pd.Series]) -> dict[str, int]:
    if level not in LEVELS or level == LEVELS[-1]:
        return {}
    child = LEVELS[LEVELS.index(level) + 1]
    below = atlas.units[child]
    return _sum_by(_row_hashes(below, wkb.get(child)), below["parent_id"])


def _river_children_hash(atlas: Atlas) -> dict[str, int]:
    """Per river: the towns along it (name, chief) with their statistics on that river."""
    table = atlas.extra.get("river_towns")
    if table is None or not len(table):
        return {}
    import pandas as pd

    towns = atlas.units["town"]
    rows = pd.DataFrame(table).join(towns[[c for c in ("name", "chief") if c in towns]],
                                    on="town_id")
    return _sum_by(_row_hashes(rows), rows["river_id"])


"""Incremental builds: what each output was made from, and what is stale.

Every unit page and poster depends on the unit's own row (statistics,
geometry, chief), its children's rows, the cases located in it (or assigned
to it, for a river), the config and battlemap's version. Those are hashed
into one fingerprint per (level, unit id); a rebuild renders only the units
whose fingerprint changed and removes the outputs of units that are gone.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from battlemap import LEVELS, __version__
from battlemap._io import write_text
from battlemap._model import Atlas

__all__ = ["MANIFEST", "fingerprints", "load_manifest", "remove_outputs", "save_manifest"]

MANIFEST = ".battlemap-manifest.json"
Key = tuple[str, str]


def fingerprints(atlas: Atlas) -> dict[Key, str]:
    """A hash per (level, unit id) of everything that unit's outputs show."""
    shared = _shared_hash(atlas)
    case_hash = _row_hashes(atlas.cases)
    result: dict[Key, str] = {}
    frames = {**atlas.units, "river": atlas.rivers}
    for level, frame in frames.items():
        own = _row_hashes(frame)
        key = "river_id" if level == "river" else f"{level}_id"
        cases = _sum_by(case_hash, atlas.cases[key])
        children = _children_hash(atlas, level, frame.index)
        for unit_id in frame.index:
            parts = (shared, own[unit_id], cases.get(unit_id, 0), children.get(unit_id, 0))
            result[(level, str(unit_id))] = hashlib.sha1(
                repr(parts).encode(), usedforsecurity=False).hexdigest()[:16]
    return result


def load_manifest(out: Path) -> dict[str, str]:
    path = out / MANIFEST
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}  # a damaged manifest only costs a full rebuild


def save_manifest(out: Path, manifest: dict[str, str]) -> None:
    write_text(out / MANIFEST, json.dumps(manifest, sort_keys=True, indent=0))


def remove_outputs(out: Path, renderer: str, level: str, unit_id: str) -> list[Path]:
    """Delete the files a renderer made for a unit that no longer exists.

    Bulletins and letters of earlier dates are kept: they are the office's archive.
    """
    patterns = {
        "bulletin": [],
        "letters": [],
        "exports": [],
        "web": [f"{level}/{unit_id}.html", f"data/{level}/{unit_id}.js",
                f"data/{level}/{unit_id}.*.js"],
        "posters": [f"posters/{level}/{unit_id}_*.pdf"]
        + ([f"posters/atlas/{unit_id}.pdf"] if level == "town" else []),
    }[renderer]
    removed = [p for pattern in patterns for p in out.glob(pattern) if p.is_file()]
    for path in removed:
        path.unlink()
    return removed


def _shared_hash(atlas: Atlas) -> str:
    config = atlas.config.model_dump_json(exclude={"output"})
    context = "" if atlas.context is None else str(_row_hashes(atlas.context).sum())
    rivers = str(_row_hashes(atlas.rivers[["name", "kind", "geometry"]]).sum())
    return hashlib.sha1(f"{__version__}|{atlas.as_of}|{config}|{context}|{rivers}".encode(),
                        usedforsecurity=False).hexdigest()


def _row_hashes(frame: pd.DataFrame) -> pd.Series:
    """One uint64 per row over every column, geometry as WKB."""
    plain = pd.DataFrame(frame).copy()
    geometry = getattr(frame, "geometry", None)
    if geometry is not None:
        plain[geometry.name] = geometry.to_wkb(hex=True)
    for column in plain.columns:
        if plain[column].dtype == object:
            plain[column] = plain[column].astype(str)
    return pd.util.hash_pandas_object(plain, index=True)


def _sum_by(hashes: pd.Series, keys: pd.Series) -> dict[str, int]:
    """Order-independent combination of row hashes per key (wrapping sum)."""
    sums = hashes.groupby(keys.to_numpy()).agg(lambda v: int(np.sum(v.to_numpy(np.uint64))))
    return sums.to_dict()


def _children_hash(atlas: Atlas, level: str, index: pd.Index) -> dict[str, int]:
    if level not in LEVELS or level == LEVELS[-1]:
        return {}
    below = atlas.units[LEVELS[LEVELS.index(level) + 1]]
    return _sum_by(_row_hashes(below), below["parent_id"])

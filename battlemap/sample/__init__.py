"""Deterministic synthetic SAMPLE dataset for 增城区 (Zengcheng, Guangzhou).

Builds, from the real district outline and the official town/village codes
packaged in ``battlemap/sample/reference/``, a plausible four-level partition
(district → 13 towns → 370 villages → ~2,000 grid cells), the 东江北干流 and
增江 with 33 synthetic first-level tributaries, two context points, the real
outlines of the neighbouring districts (``context/neighbours.geojson``) and a
messy case export (``cases.csv``) of 32,197 pollution-source reports in GCJ-02,
and five monitoring sections with a synthetic monthly water-quality series
(``monitoring/monitoring.csv``, :mod:`.monitoring`).

Everything except the outlines and the names/codes is synthetic. The same seed
gives byte-identical files; ``scale`` multiplies grid cells and cases.

Topology: every boundary level is derived from one set of faces, noded with
snap rounding on the 1e-6 degree grid the files are written in, so neighbours
share identical vertices and each level is exactly the union of its children.

Modules: :mod:`.reference` (the packaged real data), :mod:`.geometry`
(projections, partitions, clean coverage), :mod:`.boundaries` (the four
levels), :mod:`.rivers` (rivers and context points), :mod:`.cases` and
:mod:`.fields` (the case export and its dirt), :mod:`.writer` (the files).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from battlemap.sample.boundaries import boundary_records, build_boundaries
from battlemap.sample.cases import CaseGeometry, case_rows
from battlemap.sample.geometry import random_stream, to_ll, to_xy
from battlemap.sample.monitoring import (
    monitoring_rows,
    section_points,
    with_section_fields,
    write_monitoring,
)
from battlemap.sample.reference import load_reference, neighbours, packaged_reference
from battlemap.sample.rivers import build_rivers, context_points, river_chiefs
from battlemap.sample.writer import write_cases, write_features, write_geojson

__all__ = ["write_sample"]

LEVELS = ("district", "towns", "villages", "grids")


def write_sample(out_dir: Path, *, seed: int = 20261127, scale: float = 1.0,
                 end_date: dt.date = dt.date(2026, 11, 27),
                 reference_dir: Path | None = None) -> dict:
    """Write the synthetic sample dataset under ``out_dir`` and summarise it.

    Parameters
    ----------
    out_dir
        Target folder; ``boundaries/``, ``rivers/``, ``context/``,
        ``cases/`` and ``monitoring/`` are created in it.
    seed
        Random seed; the same seed gives byte-identical files.
    scale
        Multiplies the number of grid cells and cases (3 ≈ Guangzhou).
    end_date
        Last possible report date; statuses are as of this day.
    reference_dir
        Folder holding the reference files (default: the package's ``reference/``).

    Returns
    -------
    dict
        Counts of every layer, the case channels and states, and the dirt injected.

    Examples
    --------
    >>> write_sample(Path("data"), scale=0.1)["towns"]  # doctest: +SKIP
    13
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    out_dir = Path(out_dir)
    ref = Path(reference_dir) if reference_dir else packaged_reference()
    district, dongguan, towns, villages = load_reference(ref)
    b = build_boundaries(district, towns, villages, scale, seed)
    recs = boundary_records(b, towns, villages, seed)
    for level in LEVELS:
        write_geojson(out_dir / "boundaries" / f"{level}.geojson", level, recs[level])
    town_xy = list(to_xy(np.asarray(b["towns"])))
    rivers = build_rivers(district, dongguan, town_xy, towns["name"].tolist(), random_stream(seed, 5))
    chiefs = river_chiefs(rivers, random_stream(seed, 6))
    write_geojson(out_dir / "rivers" / "rivers.geojson", "rivers",
                  [{"code": r.code, "name": r.name, "kind": r.kind, "flows_into": r.flows_into,
                    "chief": chiefs[r.code], "geometry": to_ll(r.line)} for r in rivers])
    xintang = town_xy[towns["name"].tolist().index("新塘镇")]
    context = with_section_fields(context_points(rivers[0].line, xintang))
    context += section_points(rivers, town_xy, towns["name"].tolist())
    write_geojson(out_dir / "context" / "context.geojson", "context",
                  [{**c, "geometry": to_ll(c["geometry"])} for c in context])
    n_neighbours = write_features(out_dir / "context" / "neighbours.geojson", *neighbours(ref))
    geo = CaseGeometry(district, dongguan, b["seats"], list(to_xy(np.asarray(b["villages"]))),
                       b["urban"], rivers)
    town_names = dict(zip(towns["code"], towns["name"], strict=True))
    rows, case_summary = case_rows(geo, b["villages"], villages, town_names, scale, end_date, seed)
    write_cases(out_dir / "cases" / "cases.csv", rows)
    samples = write_monitoring(out_dir / "monitoring" / "monitoring.csv",
                               monitoring_rows(end_date, random_stream(seed, 15)))
    return {"seed": seed, "scale": scale, "end_date": end_date.isoformat(),
            "district": 1, "towns": len(recs["towns"]), "villages": len(recs["villages"]),
            "grids": len(recs["grids"]), "rivers": len(rivers),
            "tributaries": sum(r.kind == "tributary" for r in rivers),
            "context_points": len(context), "neighbours": n_neighbours,
            "monitoring_rows": samples, **case_summary}

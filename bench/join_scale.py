"""The join at province scale (issue 16): battlemap's own path against dask-geopandas.

    python bench/join_scale.py --scales 3 10          # medians of 3 runs
    python bench/join_scale.py --scales 30 --runs 1   # about 1M cases, 60k grids

For each scale it writes the sample once under ``--workdir`` (``scaleK/``,
reused by later runs; how long the writing took is kept in
``sample.json``), then measures, each run in a subprocess of its own, with
the peak memory (``ru_maxrss``) of that process:

* battlemap: :func:`battlemap.build.prepare` (load → validate → join →
  stats, no rendering), its stage timings, and inside them the time and
  the peak so far after each step (reading the cases, validating them,
  joining them to the grids, to the rivers, the lifecycle, the atlas), and
  the point-in-polygon part alone (``battlemap.join._locate``);
* plain geopandas: ``geopandas.sjoin`` of the same points (the cases that
  battlemap validated, in the analysis CRS) to the grid, village and town
  polygons, ``predicate="intersects"``;
* dask-geopandas on a local cluster of 2 processes (1 thread each): the same
  three joins with both sides spatially partitioned
  (``from_geopandas(..., npartitions=...)``, ``.spatial_shuffle()``, the
  shuffled points persisted once), ``dask_geopandas.sjoin``; its peak is the
  sum of the client's and the workers' peaks.

Both baselines read their inputs from GeoParquet files the first battlemap
run writes; reading them is timed apart from the join. Where a point lies
in two polygons (a shared edge) every method keeps the smallest id, as
battlemap does; the table says how many cases got the same grid, village
and town as battlemap, and how many a plain sjoin leaves without a grid
(battlemap puts a point in a gap within ``join.gap_tolerance_m`` in the
nearest grid). The load average is noted with every figure: the machine
is shared. The table goes to ``bench/results/join-scale-<scales>.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LEVELS = ("grid", "village", "town")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[3, 10])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/joinscale"))
    parser.add_argument("--workers", type=int, default=2, help="dask worker processes")
    parser.add_argument("--role", choices=["sample", "battlemap", "geopandas", "dask"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--dump", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        result = ROLES[args.role](args)
        (args.work / f"{args.role}.json").write_text(json.dumps(result), encoding="utf-8")
        return
    sections = [_bench_scale(scale, args) for scale in args.scales]
    text = (f"battlemap join at scale, {dt.date.today()}, {os.cpu_count()} cores (shared), "
            f"medians of {args.runs} run(s)\n\n" + "\n\n".join(sections) + "\n")
    print(text)
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    name = "-".join(f"x{scale:g}" for scale in args.scales)
    (results / f"join-scale-{name}.md").write_text(text, encoding="utf-8")


# ---------------------------------------------------------------- the parent: runs and table

def _bench_scale(scale: float, args: argparse.Namespace) -> str:
    work = args.workdir / f"scale{scale:g}"
    sample = _sample(work, scale)
    runs: dict[str, list[dict]] = {"battlemap": [], "geopandas": [], "dask": []}
    for run in range(args.runs):
        for role in runs:
            runs[role].append(_child(role, work, args, dump=(run == 0 and role == "battlemap")))
    agree = {role: _agreement(work, role) for role in ("geopandas", "dask")}
    return _section(scale, sample, runs, agree, args)


def _sample(work: Path, scale: float) -> dict:
    """Write the sample once (in a subprocess, timed, with its peak); reuse it afterwards."""
    done = work / "sample.json"
    if not done.exists():
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        load = os.getloadavg()[0]
        result = _child("sample", work, argparse.Namespace(scale=scale, workers=0))
        done.write_text(json.dumps({**result, "load": load}), encoding="utf-8")
    shutil.copy(REPO / "battlemap.toml", work / "battlemap.toml")
    return json.loads(done.read_text(encoding="utf-8"))


def _child(role: str, work: Path, args: argparse.Namespace, dump: bool = False) -> dict:
    """Run one role in a fresh interpreter: its result, wall time, peak RSS and load average."""
    command = [sys.executable, str(Path(__file__).resolve()), "--role", role, "--work", str(work),
               "--workers", str(args.workers)]
    command += ["--scale", str(args.scale)] if role == "sample" else []
    command += ["--dump"] if dump else []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    load = os.getloadavg()[0]
    start = time.perf_counter()
    process = subprocess.Popen(command, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{role} failed: {' '.join(command)}")
    result = json.loads((work / f"{role}.json").read_text(encoding="utf-8"))
    return {**result, "wall": wall, "peak_mb": usage.ru_maxrss / 1024, "load": load}


def _agreement(work: Path, role: str) -> dict:
    """How many cases the baseline puts in the same grid, village and town as battlemap."""
    import pandas as pd

    ours = pd.read_parquet(work / "battlemap_ids.parquet")
    theirs = pd.read_parquet(work / f"{role}_ids.parquet").reindex(ours.index)
    return {"cases": len(ours), "no_grid": int(theirs["grid_id"].isna().sum()),
            **{level: int((ours[f"{level}_id"] == theirs[f"{level}_id"]).sum()) for level in LEVELS}}


def _section(scale: float, sample: dict, runs: dict[str, list[dict]], agree: dict,
             args: argparse.Namespace) -> str:
    ours = runs["battlemap"]
    summary = sample["summary"]
    locate = _median(r["steps"]["locate"]["s"] for r in ours)
    lines = [f"### ×{scale:g}: {summary['case_rows']:,} cases in the export, {ours[0]['joined']:,} joined, "
             f"{summary['grids']:,} grids, {summary['villages']:,} villages",
             "",
             f"Writing the sample: {sample['seconds']:.0f} s, peak {sample['peak_mb']:,.0f} MB "
             f"(load {sample.get('load', float('nan')):.1f}).",
             "",
             "| method | grids (s) | grid, village, town (s) | ratio to battlemap | whole process (s) | "
             "peak memory (MB) | same grid / village / town | load |",
             "|---|---|---|---|---|---|---|---|"]
    whole = _median(r["wall"] for r in ours)
    lines.append(f"| battlemap: prepare, load → stats {_median(_load_to_stats(r) for r in ours):.1f} s "
                 f"| {locate:.2f} | {locate:.2f} (by lookup from the grid) | 1 | {whole:.1f} "
                 f"| {max(r['peak_mb'] for r in ours):,.0f} | – | {_loads(ours)} |")
    for role, label in (("geopandas", "geopandas sjoin"),
                        ("dask", f"dask-geopandas sjoin, {args.workers} processes")):
        rs = runs[role]
        join = _median(r["join_s"] for r in rs)
        a = agree[role]
        same = " / ".join(f"{a[level]:,}" for level in LEVELS)
        peak = max(r.get("peak_sum_mb", r["peak_mb"]) for r in rs)
        lines.append(f"| {label} | {_median(r['level_s']['grid'] for r in rs):.2f} | {join:.2f} "
                     f"| {join / locate:.0f} | {_median(r['wall'] for r in rs):.1f} | {peak:,.0f} "
                     f"| {same} of {a['cases']:,} ({a['no_grid']:,} without a grid) | {_loads(rs)} |")
    dask = runs["dask"]
    lines += ["", f"dask-geopandas, medians: cluster start {_median(r['cluster_s'] for r in dask):.1f} s, "
              f"reading inputs {_median(r['read_s'] for r in dask):.1f} s, shuffling the points "
              f"{_median(r['shuffle_s'] for r in dask):.1f} s (in the three levels' time, not in the "
              f"grids' alone), "
              f"{dask[0]['npartitions']} point partitions; geopandas reading inputs "
              f"{_median(r['read_s'] for r in runs['geopandas']):.1f} s.", "",
              "battlemap, medians (peak so far = the process's ru_maxrss after the step):", "",
              "| stage / step | s | peak so far (MB) |", "|---|---|---|"]
    for stage in ours[0]["timings"]:
        lines.append(f"| stage {stage} | {_median(r['timings'][stage] for r in ours):.2f} | |")
    for step in ours[0]["steps"]:
        lines.append(f"| &nbsp;&nbsp;{step} | {_median(r['steps'][step]['s'] for r in ours):.2f} | "
                     f"{max(r['steps'][step]['peak_mb'] for r in ours):,.0f} |")
    return "\n".join(lines)


def _load_to_stats(run: dict) -> float:
    return sum(run["timings"][stage] for stage in ("load", "validate", "join", "stats"))


def _loads(runs: list[dict]) -> str:
    return ", ".join(f"{r['load']:.1f}" for r in runs)


def _median(values) -> float:
    return statistics.median(list(values))


# ---------------------------------------------------------------- the roles, one per subprocess

def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _role_sample(args: argparse.Namespace) -> dict:
    from battlemap.sample import write_sample

    start = time.perf_counter()
    summary = write_sample(args.work / "data", scale=args.scale)
    return {"seconds": time.perf_counter() - start, "peak_mb": _peak_mb(),
            "summary": {k: v for k, v in summary.items() if isinstance(v, int | float | str)}}


def _role_battlemap(args: argparse.Namespace) -> dict:
    """prepare(config), with each step inside the stages timed (wrapped where build calls it)."""
    import battlemap.build as build
    import battlemap.join as join
    from battlemap.config import load_config

    steps: dict[str, dict] = {}
    for module, name in ((build, "load_boundaries"), (build, "read_case_table"),
                         (build, "validate_boundaries"), (build, "validate_cases"),
                         (join, "_locate"), (build, "join_cases"), (build, "join_rivers"),
                         (build, "derive_lifecycle"), (build, "build_atlas")):
        setattr(module, name, _step(getattr(module, name), name.lstrip("_"), steps))
    keep: dict[str, object] = {}
    build.join_cases = _keeping(build.join_cases, keep)
    config = load_config(args.work / "battlemap.toml", out_dir=args.work / "output")
    prepared = build.prepare(config)
    cases = prepared.atlas.cases
    if args.dump:
        _dump(args.work, prepared, keep)
    return {"timings": prepared.timings, "steps": steps, "joined": len(cases)}


def _step(function, name: str, steps: dict[str, dict]):
    def timed(*a, **k):
        start = time.perf_counter()
        out = function(*a, **k)
        steps[name] = {"s": time.perf_counter() - start, "peak_mb": _peak_mb()}
        return out
    return timed


def _keeping(function, keep: dict[str, object]):
    """Keep the points join_cases was given (the geometry array only: a few MB per 1M cases)."""
    def wrapped(cases, *a, **k):
        keep["points"] = cases.geometry
        return function(cases, *a, **k)
    return wrapped


def _dump(work: Path, prepared, keep: dict[str, object]) -> None:
    """The inputs of the baselines (points, polygons) and battlemap's answer, as GeoParquet."""
    import geopandas as gpd

    points = gpd.GeoDataFrame({"case_id": keep["points"].index.to_numpy()},
                              geometry=keep["points"].to_numpy(), crs=keep["points"].crs)
    points.to_parquet(work / "points.parquet")
    for level in LEVELS:
        units = prepared.atlas.units[level]
        gpd.GeoDataFrame({f"{level}_id": units.index.to_numpy()}, geometry=units.geometry.to_numpy(),
                         crs=units.crs).to_parquet(work / f"{level}s.parquet")
    cases = prepared.atlas.cases
    cases[[f"{level}_id" for level in LEVELS]].to_parquet(work / "battlemap_ids.parquet")


def _read_inputs(work: Path):
    import geopandas as gpd

    start = time.perf_counter()
    points = gpd.read_parquet(work / "points.parquet")
    polygons = {level: gpd.read_parquet(work / f"{level}s.parquet") for level in LEVELS}
    return points, polygons, time.perf_counter() - start


def _first_ids(joined, level: str):
    """Per case, the smallest id of the polygons it falls in (battlemap's rule on shared edges)."""
    column = f"{level}_id"
    return joined[["case_id", column]].sort_values(["case_id", column]).drop_duplicates(
        "case_id").set_index("case_id")[column]


def _write_ids(work: Path, role: str, ids: dict, index) -> None:
    import pandas as pd

    pd.DataFrame({f"{level}_id": ids[level].reindex(index) for level in LEVELS},
                 index=index).to_parquet(work / f"{role}_ids.parquet")


def _role_geopandas(args: argparse.Namespace) -> dict:
    import geopandas as gpd

    points, polygons, read_s = _read_inputs(args.work)
    ids, level_s = {}, {}
    for level in LEVELS:
        start = time.perf_counter()
        ids[level] = _first_ids(gpd.sjoin(points, polygons[level], predicate="intersects"), level)
        level_s[level] = time.perf_counter() - start
    _write_ids(args.work, "geopandas", ids, points["case_id"])
    return {"read_s": read_s, "join_s": sum(level_s.values()), "level_s": level_s}


def _role_dask(args: argparse.Namespace) -> dict:
    import dask_geopandas
    from dask.distributed import Client, LocalCluster

    start = time.perf_counter()
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    client = Client(cluster)
    cluster_s = time.perf_counter() - start
    points, polygons, read_s = _read_inputs(args.work)
    npartitions = max(2 * args.workers, round(len(points) / 100_000))
    start = time.perf_counter()
    left = dask_geopandas.from_geopandas(points, npartitions=npartitions).spatial_shuffle().persist()
    shuffle_s = time.perf_counter() - start
    ids, level_s = {}, {}
    for level in LEVELS:
        level_start = time.perf_counter()
        right = dask_geopandas.from_geopandas(
            polygons[level], npartitions=max(1, min(npartitions, len(polygons[level]) // 5_000))
        ).spatial_shuffle()
        ids[level] = _first_ids(dask_geopandas.sjoin(left, right, predicate="intersects").compute(), level)
        level_s[level] = time.perf_counter() - level_start
    join_s = time.perf_counter() - start
    workers = client.run(_peak_mb)
    nannies = client.run(_peak_mb, nanny=True)
    client.close()
    cluster.close()
    _write_ids(args.work, "dask", ids, points["case_id"])
    return {"read_s": read_s, "join_s": join_s, "level_s": level_s, "shuffle_s": shuffle_s,
            "cluster_s": cluster_s,
            "npartitions": npartitions,
            "peak_sum_mb": _peak_mb() + sum(workers.values()) + sum(nannies.values())}


ROLES = {"sample": _role_sample, "battlemap": _role_battlemap, "geopandas": _role_geopandas,
         "dask": _role_dask}


if __name__ == "__main__":
    main()

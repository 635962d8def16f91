"""Where the cores idle during a build: per process pool, each worker's head, gaps and tail.

    python bench/pool_idle.py --config C --out O --tree /work/main --tree . --runs 2 --force
    python bench/pool_idle.py --config C --out O --tree /work/main --tree . --runs 2  # no change
    python bench/pool_idle.py --config C --out O --tree /work/main --tree . --runs 2 --weekly

Each tree builds into its own folder, ``O/<tree's folder name>``.
    python bench/pool_idle.py --warm --config C --out O --tree .        # a worker's warm-up

Each run is a fresh process (``PYTHONPATH=TREE``, the trees interleaved run by run)
that wraps, before the build starts, ``battlemap._engine``'s ``ProcessPoolExecutor``
(each pool's start and end, after its workers are joined) and ``_timed`` (each
batch's start and end, in the worker that ran it: the wrapper is inherited by
fork), and ``battlemap.build.render_all`` (the render's start and end), then runs
``battlemap.cli build --quiet``. Nothing of the tree is changed, so the same
script measures any tree. Its parent reads wall and CPU (user + sys of the build
and its reaped workers) with ``os.wait4``.

Per pool, for each of its workers: the head (pool start → its first batch:
the fork and anything before the first job runs, less ``init``, the time a
worker's initializer took, counted as work: it imports what the jobs would), the gaps between its batches
(the parent collecting and handing out work) and the tail (its last batch's
end → the pool's end: the other worker still works). Idle = workers × the
pool's wall − the seconds its batches took. "Outside pools" is the render's
wall when no pool runs (the parent alone: at most one core busy). A batch's
own time includes each fresh worker's warm-up (font caches, the posters'
context, imports): ``--warm`` times that once in a fresh fork of a prepared
build, cold and then warm, so "workers forked × warm-up" is the repeated cost.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()
_NAMES = {"_render_whole_job": "documents", "_render_web": "web",
          "_render_posters": "posters", "_render_atlases": "atlases"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--tree", type=Path, action="append")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--weekly", action="store_true",
                        help="before each round of runs, the weekly round of bench/run.py: "
                             "1 %% of the cases closed, as many new (the trees build the same data)")
    parser.add_argument("--warm", action="store_true", help="time a fresh worker's warm-up")
    parser.add_argument("--compare", type=Path, nargs=2, metavar=("A", "B"),
                        help="the files of two output folders that differ (build times blanked)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.compare:
        _compare(*args.compare)
        return
    if args.child:
        _child(args)
        return
    if args.warm:
        for tree in args.tree:
            _spawn(tree, args, ["--warm"])
        return
    results: dict[str, list[dict]] = {str(t): [] for t in args.tree}
    for run in range(args.runs):
        if args.weekly:
            _weekly(args.config, run)
        for tree in args.tree:
            result = _measure(tree, args, run)
            results[str(tree)].append(result)
            print(json.dumps({"tree": str(tree), "run": run, **result}, ensure_ascii=False),
                  flush=True)
    print(_table(results))


def _weekly(config: Path, run: int) -> None:
    sys.path.insert(0, str(HERE.parent))
    from run import _as_of, _weekly_round

    from battlemap.config import load_config

    _weekly_round(load_config(config).cases.path, share=0.01, seed=run, as_of=_as_of(config))


def _spawn(tree: Path, args: argparse.Namespace, extra: list[str], log: Path | None = None
           ) -> tuple[float, float, int]:
    """Run this script as a child on ``tree``; (wall, CPU seconds, exit status)."""
    out = args.out / tree.resolve().name       # a folder per tree: compare their outputs
    command = [sys.executable, str(HERE), "--config", str(args.config), "--out", str(out),
               "--tree", str(tree), "--workers", str(args.workers),
               "--child", str(log or "/dev/null"), *extra]
    if args.force:
        command.append("--force")
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    start = time.perf_counter()
    child = subprocess.Popen(command, env=env)
    _, status, usage = os.wait4(child.pid, 0)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime, status


def _measure(tree: Path, args: argparse.Namespace, run: int) -> dict:
    log = Path(f"/tmp/pool-idle-{os.getpid()}-{run}-{tree.resolve().name}.jsonl")
    log.unlink(missing_ok=True)
    load = os.getloadavg()[0]
    wall, cpu, status = _spawn(tree, args, [], log)
    if status:
        raise SystemExit(f"the build on {tree} failed (status {status})")
    events = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    return {"wall": round(wall, 2), "cpu": round(cpu, 2), "load1": round(load, 2),
            **analyse(events)}


def analyse(events: list[dict]) -> dict:
    """Idle seconds per pool (head, gaps, tail), outside pools, and workers forked."""
    pools = [e for e in events if e["ev"] == "pool"]
    jobs = [e for e in events if e["ev"] == "job"]
    render = next((e for e in events if e["ev"] == "render"), None)
    out: dict = {"pools": [], "forked": 0}
    for pool in pools:
        mine = sorted((j for j in jobs if j["pool"] == pool["id"]), key=lambda j: j["t0"])
        pids = sorted({j["pid"] for j in mine})
        span = pool["t1"] - pool["t0"]
        head = gaps = tail = 0.0
        for pid in pids:
            runs = [j for j in mine if j["pid"] == pid]
            head += runs[0]["t0"] - pool["t0"]
            tail += pool["t1"] - runs[-1]["t1"]
            gaps += sum(b["t0"] - a["t1"] for a, b in itertools.pairwise(runs))
        unused = (pool["workers"] - len(pids)) * span
        init = sum(e["t1"] - e["t0"] for e in events if e["ev"] == "init"
                   and e["pool"] == pool["id"])
        busy = sum(j["t1"] - j["t0"] for j in mine) + init
        out["forked"] += pool["workers"]
        out["pools"].append({
            "stages": "+".join(dict.fromkeys(_NAMES.get(j["fn"], j["fn"]) for j in mine)),
            "wall": round(span, 2), "busy": round(busy, 2),
            "idle": round(pool["workers"] * span - busy, 2), "init": round(init, 2),
            "head": round(head - init, 2),
            "gaps": round(gaps, 2), "tail": round(tail + unused, 2)})
    if render:
        inside = sum(p["t1"] - p["t0"] for p in pools)
        out["render_wall"] = round(render["t1"] - render["t0"], 2)
        out["outside_pools"] = round(out["render_wall"] - inside, 2)
        out["idle_total"] = round(sum(p["idle"] for p in out["pools"])
                                  + out["outside_pools"], 2)   # one core, the parent's busy
    return out


def _table(results: dict[str, list[dict]]) -> str:
    lines = ["| tree | wall s | CPU s | load | render wall | idle in pools (head/gaps/tail) "
             "| outside pools | workers forked |", "|---|---|---|---|---|---|---|---|"]
    for tree, runs in results.items():
        for r in runs:
            pools = "; ".join(f"{p['stages']} {p['idle']:.1f} ({p['head']:.1f}/{p['gaps']:.1f}/"
                              f"{p['tail']:.1f})" for p in r["pools"])
            lines.append(f"| {Path(tree).name} | {r['wall']:.1f} | {r['cpu']:.1f} | "
                         f"{r['load1']:.1f} | {r.get('render_wall', 0):.1f} | {pools or '-'} | "
                         f"{r.get('outside_pools', 0):.1f} | {r['forked']} |")
        if len(runs) > 1:
            lines.append(f"| {Path(tree).name} median | "
                         f"{statistics.median(r['wall'] for r in runs):.1f} | "
                         f"{statistics.median(r['cpu'] for r in runs):.1f} | | | | | |")
    return "\n".join(lines)


def _compare(a: Path, b: Path) -> None:
    """Print the files only one folder has and those whose content differs, as the Dask test
    compares a cluster's build with a local one (its normalisation: PDF dates, zip and
    GeoPackage time stamps, the report's timings and sizes)."""
    sys.path.insert(0, str(HERE.parents[1] / "tests"))
    from test_dask_cluster import _files, _normalised

    left, right = _files(a), _files(b)
    only = sorted(set(left) ^ set(right))
    differ = [n for n in sorted(set(left) & set(right))
              if _normalised(left[n]) != _normalised(right[n])]
    print(json.dumps({"files": len(left), "only_in_one": only, "differ": differ},
                     ensure_ascii=False, indent=1))


# ------------------------------------------------------------------ in the measured process
def _child(args: argparse.Namespace) -> None:
    if args.warm:
        _warm(args)
        return
    _instrument(args.child)
    from battlemap.cli import main as cli

    command = ["build", "--config", str(args.config), "--out", str(args.out), "--quiet",
               "--workers", str(args.workers)]
    raise SystemExit(cli(command + (["--force"] if args.force else [])))


def _instrument(log: Path) -> None:
    import battlemap._engine as engine
    import battlemap.build as build

    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    state = {"pool": 0}

    def emit(**event) -> None:
        os.write(fd, (json.dumps(event) + "\n").encode())

    class Pool(engine.ProcessPoolExecutor):
        def __init__(self, workers, *a, **kw) -> None:
            state["pool"] += 1
            self._id, self._workers, self._t0 = state["pool"], workers, time.time()
            super().__init__(workers, *a, **kw)

        def shutdown(self, *a, **kw) -> None:
            super().shutdown(*a, **kw)
            emit(ev="pool", id=self._id, workers=self._workers, t0=self._t0, t1=time.time())

    timed = engine._timed

    def logged(render, atlas, out, batch):
        t0 = time.time()
        try:
            return timed(render, atlas, out, batch)
        finally:
            emit(ev="job", pool=state["pool"] if os.getpid() != parent else 0, pid=os.getpid(),
                 fn=getattr(render, "__name__", str(render)), n=len(batch), t0=t0, t1=time.time())

    render_all = build.render_all

    def render_logged(*a, **kw):
        t0 = time.time()
        try:
            return render_all(*a, **kw)
        finally:
            emit(ev="render", t0=t0, t1=time.time())

    if hasattr(engine, "_enter"):   # a tree whose workers enter a context as they start
        enter = engine._enter

        def enter_logged(*a, **kw):
            t0 = time.time()
            try:
                return enter(*a, **kw)
            finally:
                emit(ev="init", pool=state["pool"], pid=os.getpid(), t0=t0, t1=time.time())

        engine._enter = enter_logged
    parent = os.getpid()
    engine.ProcessPoolExecutor, engine._timed, build.render_all = Pool, logged, render_logged


def _warm(args: argparse.Namespace) -> None:
    """A fresh fork of a prepared build: the first and the second poster of each level."""
    from battlemap._render import _poster_series, _render_posters
    from battlemap.build import prepare
    from battlemap.config import load_config

    atlas = prepare(load_config(args.config, out_dir=args.out)).atlas
    picks = [(level, str(atlas.units[level].index[k])) for level in ("grid", "village", "town")
             for k in (0, 1)]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        times = []
        with _poster_series():
            for job in picks:
                start = time.process_time()
                _render_posters(atlas, args.out / "warm", [job])
                times.append(round(time.process_time() - start, 3))
        os.write(write, json.dumps(times).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    os.close(write)
    times = json.loads(os.read(read, 65536))
    print(json.dumps({"tree": str(args.tree[0]), "cpu_s_per_poster": dict(
        zip([f"{lvl} {'cold' if k % 2 == 0 else 'warm'}" for k, (lvl, _) in enumerate(picks)],
            times, strict=True))}, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Before and after in one run: full builds of the shipped sample by two versions, interleaved.

    python bench/compare.py --base 546a1da            # a commit (or tag) against this tree
    python bench/compare.py --base 546a1da --runs 3

The base version is checked out with ``git worktree`` into the work folder
and run with its own package first on ``PYTHONPATH``; both versions build
the same committed sample (``data/``) with ``--force`` into their own output
folders, alternating base, new, base, new, … so that machine noise falls on
both alike. It prints the medians of the wall time and of each stage that
``report.json`` times (posters and bulletin among them), the ratio new/base,
and the load average before and after, and writes the table to
``bench/results/compare-<base>.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="git commit or tag to compare against")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/battlemap-compare"))
    args = parser.parse_args()
    base_tree = _checkout(args.base, args.workdir / "base")
    trees = {"base": base_tree, "new": REPO}
    load_before = os.getloadavg()
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for _ in range(args.runs):
        for name, tree in trees.items():
            runs[name].append(_build(tree, args.workdir / f"out-{name}"))
    load_after = os.getloadavg()
    text = _table(args.base, runs, load_before, load_after)
    print(text)
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"compare-{args.base}.md").write_text(text, encoding="utf-8")


def _checkout(ref: str, folder: Path) -> Path:
    if folder.exists():
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(folder)],
                       check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
    subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(folder), ref],
                   check=True, capture_output=True)
    return folder


def _build(tree: Path, out: Path) -> dict[str, float]:
    command = [sys.executable, "-m", "battlemap.cli", "build", "--config",
               str(tree / "battlemap.toml"), "--out", str(out), "--force", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, cwd=tree)
    wall = time.perf_counter() - start
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return {"wall": wall, **report["timings_s"]}


def _table(base: str, runs: dict[str, list[dict[str, float]]], before, after) -> str:
    measures = list(dict.fromkeys(k for name in runs for r in runs[name] for k in r))
    lines = [f"battlemap before/after, {dt.date.today()}, {os.cpu_count()} cores, "
             f"medians of {len(runs['new'])} interleaved runs; load average "
             f"{before[0]:.2f} before, {after[0]:.2f} after", "",
             f"| measure (s) | base {base} | new | new/base |", "|---|---|---|---|"]
    for measure in measures:
        old = _median(r.get(measure) for r in runs["base"])
        new = _median(r.get(measure) for r in runs["new"])
        ratio = f"{new / old:.2f}" if old and new else ""
        lines.append(f"| {measure} | {old if old is not None else '—'} | "
                     f"{new if new is not None else '—'} | {ratio} |")
    return "\n".join(lines) + "\n"


def _median(values) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.median(present), 2) if present else None


if __name__ == "__main__":
    main()

"""CPU time and bytes per grid A4 and village A3 poster, as the build writes them.

    python bench/poster_cost.py LABEL [ROUNDS]      # one JSON line on stdout

Prepares the sample of ``battlemap.toml`` (the repository's), writes two
posters of each kind to warm the per-process caches, then ROUNDS times 20
grid posters and 10 village posters through ``render_posters`` (one sheet
reused, as in a build), and prints the CPU milliseconds per poster of each
round and the mean size of the files. To compare two trees, run it with
each tree first on PYTHONPATH, interleaved, e.g.::

    for i in 1 2; do for t in /work/main /work/wt-x; do
        PYTHONPATH=$t python bench/poster_cost.py $t 3; done; done

Issue #16 (one composite font per file), measured 2026-12-01 on 2 shared
cores, medians of 6 rounds, two interleaved runs of each tree: grid A4
148.8 → 67.3 KB and 50.6 → 43.5 ms; village A3 164.0 → 76.4 KB and
69.2 → 58.3 ms (CPU times are noisy at a load average of 3). Full sample,
``--workers 1 --only posters``: posters/ 420.1 → 199.2 MB (grid 299.6 →
135.2 MB); the largest atlas (石滩镇, 289 pages) 4.96 → 2.92 MB, joined in
2.3 → 1.5 s CPU.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import battlemap
from battlemap.build import prepare
from battlemap.config import load_config
from battlemap.render.poster import render_posters


def main() -> None:
    label = sys.argv[1] if len(sys.argv) > 1 else "this tree"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    config = Path(__file__).resolve().parents[1] / "battlemap.toml"
    with tempfile.TemporaryDirectory(prefix="poster-cost-") as tmp:
        out = Path(tmp)
        atlas = prepare(load_config(config, out_dir=out)).atlas
        grids = [("grid", g) for g in atlas.units["grid"].index[100:120]]
        villages = [("village", v) for v in atlas.units["village"].index[20:30]]
        render_posters(atlas, out, grids[:2] + villages[:2])      # warm the caches
        cpu: dict[str, list[float]] = {"grid": [], "village": []}
        sizes: dict[str, float] = {}
        for _ in range(rounds):
            for kind, units in (("grid", grids), ("village", villages)):
                start = time.process_time()
                paths = render_posters(atlas, out, units)
                cpu[kind].append((time.process_time() - start) / len(units) * 1000)
                sizes[kind] = statistics.mean(p.stat().st_size for p in paths)
    print(json.dumps({"label": label, "battlemap": battlemap.__file__, "cpu_ms": cpu,
                      "median_cpu_ms": {k: statistics.median(v) for k, v in cpu.items()},
                      "mean_bytes": sizes}))


if __name__ == "__main__":
    main()

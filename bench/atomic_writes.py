"""What battlemap's atomic writes cost over plain writes, on the files of a real build.

    python bench/atomic_writes.py OUTPUT [--rounds 5]

Takes every file of an output folder's web pages and page data (``district``,
``town``, ``village``, ``grid``, ``river`` and ``data/``: about 4,900 files of
the sample) and writes them again, in rounds, each way in a shuffled order:

- ``atomic``: :func:`battlemap._io.write_bytes` inside ``writing_into`` (a
  temporary file in the folder's ``.battlemap-tmp/``, renamed over the old
  file; every folder checked to be inside the output folder), as a build does;
- ``plain``: ``Path.write_bytes`` over the old file (the floor: no temporary,
  no check, not atomic).

It prints the medians of wall and CPU seconds (the process's, system calls
included) and the ratio. The files are written into a copy of the folder, so
OUTPUT is left alone. Run it on any tree with ``PYTHONPATH=tree``.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import time
from pathlib import Path

FOLDERS = ("district", "town", "village", "grid", "river", "data")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--work", type=Path, default=Path("/tmp/bm-atomic-writes"))
    args = parser.parse_args()
    from battlemap._io import write_bytes, writing_into

    shutil.rmtree(args.work, ignore_errors=True)
    shutil.copytree(args.output, args.work)
    blobs = [(path, path.read_bytes()) for folder in FOLDERS
             for path in sorted((args.work / folder).rglob("*")) if path.is_file()]
    ways = {"atomic": write_bytes, "plain": Path.write_bytes}
    times: dict[str, list[tuple[float, float]]] = {way: [] for way in ways}
    load = os.getloadavg()
    with writing_into(args.work):
        for _ in range(args.rounds):
            for way in random.sample(list(ways), len(ways)):
                wall, cpu = time.perf_counter(), time.process_time()
                for path, data in blobs:
                    ways[way](path, data)
                times[way].append((time.perf_counter() - wall, time.process_time() - cpu))
    print(f"{len(blobs)} files, {sum(len(d) for _, d in blobs) / 1e6:.1f} MB, "
          f"{args.rounds} rounds; load average before {load[0]:.1f}, after {os.getloadavg()[0]:.1f}")
    medians = {way: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
               for way, runs in times.items()}
    for way, (wall, cpu) in medians.items():
        print(f"  {way:7s} wall {wall:6.2f} s  cpu {cpu:6.2f} s  "
              f"({1e3 * cpu / len(blobs):.2f} ms cpu a file)")
    print(f"  atomic / plain: wall ×{medians['atomic'][0] / medians['plain'][0]:.1f}, "
          f"cpu ×{medians['atomic'][1] / medians['plain'][1]:.1f}")


if __name__ == "__main__":
    main()

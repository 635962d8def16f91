"""The fast PDF path against matplotlib's public path, side by side in one run.

    python bench/pdf_paths.py            # page, A4 grid poster, A1 district poster
    python bench/pdf_paths.py --page-only

It also runs on a tree from before ``battlemap.render.pdf`` existed (with
``battlemap/render/_pdf.py``): run it with that tree first on PYTHONPATH,
then with this one, in the same shell command, to compare before and after.

1. One A4 page with 60 strings of 21 CJK characters (1,260 characters, as in
   FINDINGS 2026-12-01): ``Figure.savefig`` (Type 3) vs ``save_pdf`` on the
   fast path.
2. On the sample district (scale 1): one A4 grid poster, one A1 district
   poster (``render_poster``, a fresh sheet each time), and the mean of 20
   grid posters from ``render_posters`` (one sheet reused), each on the fast
   path and on the public path, runs interleaved.

Times are medians of wall time and, since the machine is shared, of the
process's CPU time (one thread: far less sensitive to other load); the load
average is printed before and after.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from unittest import mock

import matplotlib
from matplotlib.figure import Figure

from battlemap.render.fonts import _bundled_font, _register, rc_params

try:
    from battlemap.render.pdf import _mpl, save_pdf
    _SWITCH = (_mpl, "enabled", lambda: False)
    TESTED = _mpl.TESTED
except ImportError:               # a tree from before the package: battlemap/render/_pdf.py
    from battlemap.render._pdf import save_pdf

    from battlemap.render import _pdf as old_pdf

    _SWITCH = (old_pdf, "FAST_TEXT", False)
    TESTED = "(render/_pdf.py: names checked only)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each poster measure")
    parser.add_argument("--page-runs", type=int, default=15)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/battlemap-pdf-bench"))
    parser.add_argument("--page-only", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {_load()}; matplotlib {matplotlib.__version__}, "
          f"fast path written for {TESTED}; save_pdf from {save_pdf.__module__}")
    rows = _page(args.page_runs)
    if not args.page_only:
        rows.update(_posters(args.workdir, args.runs))
    width = max(map(len, rows))
    print(f"{'':<{width}}  {'wall: fast':>11} {'public':>9}       {'CPU: fast':>10} {'public':>9}")
    for name, ((fast, public), (cpu_fast, cpu_public)) in rows.items():
        print(f"{name:<{width}}  {fast * 1000:8.1f} ms {public * 1000:6.0f} ms ×{public / fast:4.1f}"
              f"   {cpu_fast * 1000:7.1f} ms {cpu_public * 1000:6.0f} ms ×{cpu_public / cpu_fast:4.1f}")
    print(f"load average after: {_load()}")


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def _public():
    """The public path for the duration of a ``with`` block (as on another matplotlib)."""
    return mock.patch.object(*_SWITCH)


Pair = tuple[tuple[float, float], tuple[float, float]]
"""((wall fast, wall public), (CPU fast, CPU public)), in seconds."""


def _both(fast: Callable[[], object], runs: int,
          public: Callable[[], object] | None = None) -> Pair:
    """Medians of ``runs`` interleaved runs of each path; ``public`` defaults to ``fast``."""
    public = public or fast
    times: list[list[tuple[float, float]]] = [[], []]
    for _ in range(runs):
        times[0].append(_timed(fast))
        with _public():
            times[1].append(_timed(public))
    walls = tuple(statistics.median(w for w, _ in t) for t in times)
    cpus = tuple(statistics.median(c for _, c in t) for t in times)
    return walls, cpus


def _timed(function: Callable[[], object]) -> tuple[float, float]:
    """(wall, CPU) seconds of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def _page(runs: int) -> dict[str, Pair]:
    font = _register(Path(_bundled_font()).resolve())
    rng = random.Random(1)
    chars = [chr(c) for c in range(0x4E00, 0x9FA6) if c in font.codepoints]
    strings = ["".join(rng.choice(chars) for _ in range(21)) for _ in range(60)]

    def page() -> Figure:
        fig = Figure(figsize=(8.27, 11.69), dpi=72)
        for i, s in enumerate(strings):
            fig.text(0.05, 0.98 - i * 0.016, s, fontsize=9)
        return fig

    with matplotlib.rc_context(rc_params(font)):
        build = [_timed(page) for _ in range(runs)]
        build = (statistics.median(w for w, _ in build), statistics.median(c for _, c in build))
        both = _both(lambda: save_pdf(page(), io.BytesIO(), {}, font.path), runs,
                             lambda: page().savefig(io.BytesIO(), format="pdf"))
    return {"A4 page, 60 CJK strings (incl. building the figure)": both,
            "  of which building the figure": ((build[0], build[0]), (build[1], build[1]))}


def _posters(work: Path, runs: int) -> dict[str, Pair]:
    import shutil

    from battlemap.build import prepare
    from battlemap.config import load_config
    from battlemap.render.poster import render_poster, render_posters
    from battlemap.sample import write_sample

    repo = Path(__file__).resolve().parents[1]
    if not (work / "data").is_dir():
        write_sample(work / "data", scale=1)
        shutil.copy(repo / "battlemap.toml", work / "battlemap.toml")
    atlas = prepare(load_config(work / "battlemap.toml", out_dir=work / "out")).atlas
    district = atlas.units["district"].index[0]
    grid = atlas.units["grid"].index[0]
    grids = [("grid", g) for g in atlas.units["grid"].index[:20]]
    out = work / "out"
    out.mkdir(exist_ok=True)
    rows = {
        "A4 grid poster (render_poster)": _both(
            lambda: render_poster(atlas, "grid", grid, "A4", out / "grid_A4.pdf"), runs),
        "A1 district poster (render_poster)": _both(
            lambda: render_poster(atlas, "district", district, "A1", out / "district_A1.pdf"),
            runs),
    }
    walls, cpus = _both(lambda: render_posters(atlas, out, grids), max(1, runs // 2))
    n = len(grids)
    rows[f"grid poster, mean of {n} (render_posters)"] = (
        (walls[0] / n, walls[1] / n), (cpus[0] / n, cpus[1] / n))
    return rows


if __name__ == "__main__":
    main()

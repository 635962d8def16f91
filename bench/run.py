"""Benchmarks: battlemap against naive baselines, measured side by side in one run.

    python bench/run.py                   # scales 1 and 3
    python bench/run.py --scales 1 3 10   # add the stress scale

For each scale it writes the sample, then measures a full build, a rebuild
with nothing changed, the weekly round (the headline rebuild: 1 % of the
cases closed this week and 1 % new ones reported this week, as in the
sample's last week: 223 new, 209 closed), a rebuild after 1 % of the cases
changed state, the weekly round again with the as-of date moved a week on (as an
office builds it: every poster shows the date and overdue is counted to it)
(wall time, per-stage times from report.json, peak memory of the largest
process), the district page (bytes, and load → rendered in headless
Chromium), and posters (A1 district, mean per grid poster). On the same data
it measures the naive baselines: folium with one CircleMarker per case, and
one matplotlib figure per grid made from scratch. Machines here are noisy:
every time is a median of ``--runs`` runs, and the table gives ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
TARGETS = {
    "full build (s)": 45, "weekly round rebuild (s)": 10, "no-change rebuild (s)": 2,
    "1 % change rebuild (s)": "", "weekly round, a week later (s)": "",
    "peak memory (MB)": 1024, "district page (MB)": 2.5, "district load→rendered (s)": 1.0,
    "A1 district poster (s)": 3, "A1 district poster (MB)": 2, "grid poster mean (s)": 0.1,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1, 3])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--grids", type=int, default=100, help="grid posters timed per method")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/battlemap-bench"))
    parser.add_argument("--full-only", action="store_true",
                        help="only the full build (for the stress scale: baselines would take hours)")
    args = parser.parse_args()
    rows = {}
    load_before = os.getloadavg()
    for scale in args.scales:
        rows[f"×{scale:g}"] = row = {}
        try:
            bench_scale(scale, args.workdir / f"scale{scale:g}", args, row)
        except BaseException as exc:  # print what was measured before the failure
            print(f"bench stopped at ×{scale:g}: {exc!r}; measured so far: {row}", file=sys.stderr)
            raise
    load = " / ".join(f"{a:.1f}, {b:.1f}, {c:.1f}" for a, b, c in (load_before, os.getloadavg()))
    text = (f"battlemap bench, {dt.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} cores, "
            f"medians of {args.runs} runs; load average (1, 5, 15 min) before / after: {load}"
            f"\n\n{_markdown(rows)}\n")
    print(text)
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    name = "-".join(f"x{scale:g}" for scale in args.scales)
    (results / f"latest-{name}.md").write_text(text, encoding="utf-8")


def _markdown(rows: dict[str, dict[str, object]]) -> str:
    """The table: one line per measure, a column per scale, with the target."""
    measures = list(dict.fromkeys(m for row in rows.values() for m in row))
    lines = ["| measure | target | " + " | ".join(rows) + " |",
             "|---|---|" + "---|" * len(rows)]
    for measure in measures:
        cells = [str(row.get(measure, "")) for row in rows.values()]
        lines.append(f"| {measure} | {TARGETS.get(measure, '')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def bench_scale(scale: float, work: Path, args: argparse.Namespace,
                row: dict[str, object]) -> dict[str, object]:
    """Measure one scale into ``row`` (filled as it goes) and return it."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    from battlemap.sample import write_sample

    write_sample(work / "data", scale=scale)
    shutil.copy(REPO / "battlemap.toml", work / "battlemap.toml")
    config = work / "battlemap.toml"
    out = work / "output"

    full = [_build(config, out, force=True) for _ in range(args.runs)]
    row["full build (s)"] = _median(r["wall"] for r in full)
    row["peak memory (MB)"] = max(r["peak_mb"] for r in full)
    for stage in full[-1]["stages"]:
        row[f"  stage {stage} (s)"] = _median(r["stages"].get(stage, 0) for r in full)
    if args.full_only:
        return row
    row["no-change rebuild (s)"] = _median(_build(config, out)["wall"] for _ in range(args.runs))
    rounds = []
    for run in range(args.runs):
        _weekly_round(work / "data" / "cases" / "cases.csv", share=0.01, seed=run,
                      as_of=_as_of(config))
        rounds.append(_build(config, out))
    row["weekly round rebuild (s)"] = _median(r["wall"] for r in rounds)
    row["  weekly round / full build"] = round(row["weekly round rebuild (s)"]
                                               / row["full build (s)"], 2)
    for renderer, counts in rounds[-1]["outputs"].items():
        row[f"  weekly {renderer} rendered / skipped"] = f"{counts['rendered']} / {counts['skipped']}"
    for stage in rounds[-1]["stages"]:
        row[f"  weekly stage {stage} (s)"] = _median(r["stages"].get(stage, 0) for r in rounds)
    changes = []
    for run in range(args.runs):
        _change_states(work / "data" / "cases" / "cases.csv", share=0.01, seed=run)
        changes.append(_build(config, out))
    row["1 % change rebuild (s)"] = _median(r["wall"] for r in changes)
    row["  1 % change / full build"] = round(row["1 % change rebuild (s)"]
                                             / row["full build (s)"], 2)
    later = []
    for run in range(args.runs):
        as_of = _as_of(config) + dt.timedelta(days=7)
        _weekly_round(work / "data" / "cases" / "cases.csv", share=0.01, seed=100 + run,
                      as_of=as_of)
        _set_as_of(config, as_of)
        later.append(_build(config, out))
    row["weekly round, a week later (s)"] = _median(r["wall"] for r in later)
    for renderer, counts in later[-1]["outputs"].items():
        row[f"  a week later: {renderer} rendered / skipped"] = (
            f"{counts['rendered']} / {counts['skipped']}")

    page = _district_page_bytes(out)
    row["district page (MB)"] = round(page / 1e6, 2)
    row["district load→rendered (s)"] = _load_time(out / "index.html", args.runs, ready="battlemap")
    row.update(_naive_web(config, work, args.runs))
    row["web page ratio (naive/ours)"] = round(row["naive folium page (MB)"] / (page / 1e6), 1)
    row.update(_posters(config, work, args))
    row.update(_output_sizes(out))
    return row


def _output_sizes(out: Path) -> dict[str, object]:
    """The output folder per kind of file (as report.json gives it) and the largest atlas."""
    from battlemap.report import output_sizes

    row: dict[str, object] = {f"output {kind} (MB)": round(size / 1e6, 1)
                              for kind, size in output_sizes(out).items()}
    atlases = [p.stat().st_size for p in (out / "posters" / "atlas").glob("*.pdf")]
    row["largest meeting atlas (MB)"] = round(max(atlases, default=0) / 1e6, 2)
    return row


def _build(config: Path, out: Path, force: bool = False) -> dict[str, object]:
    command = [sys.executable, "-m", "battlemap.cli", "build", "--config", str(config),
               "--out", str(out), "--quiet"] + (["--force"] if force else [])
    start = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"build failed: {' '.join(command)}")
    import json

    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return {"wall": wall, "peak_mb": round(usage.ru_maxrss / 1024), "stages": report["timings_s"],
            "outputs": report["outputs"]}


def _change_states(path: Path, share: float, seed: int) -> None:
    """Flip the state of ``share`` of the cases: closed ones reopen, open ones close."""
    cases = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    picked = cases.sample(frac=share, random_state=seed).index
    closed = cases.loc[picked, "处理状态"].isin(["已销号", "已办结"])
    cases.loc[picked[closed], "处理状态"] = "整改中"
    cases.loc[picked[~closed], "处理状态"] = "已销号"
    cases.to_csv(path, index=False, encoding="utf-8-sig")


def _weekly_round(path: Path, share: float, seed: int, as_of: dt.date) -> None:
    """The office's weekly export: ``share`` of the cases closed this week, as many new ones.

    Open cases picked at random are closed (已销号) on a day of the week ending
    ``as_of``; new cases, each a copy of a random existing case (so its town,
    village, river and place are real ones) with a new id, are reported
    during that week and are waiting to be assigned (待交办).
    """
    cases = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    count = max(1, round(share * len(cases)))
    rng = np.random.default_rng(seed)
    week = [as_of - dt.timedelta(days=int(d)) for d in rng.integers(0, 7, size=2 * count)]
    is_open = ~cases["处理状态"].isin(["已销号", "已办结", "已撤销"])
    closing = cases[is_open].sample(n=min(count, int(is_open.sum())), random_state=seed).index
    cases.loc[closing, "处理状态"] = "已销号"
    cases.loc[closing, "办结时间"] = [f"{d:%Y-%m-%d} 16:30" for d in week[:len(closing)]]
    new = cases.sample(n=count, random_state=seed + 1000).reset_index(drop=True)
    new["问题编号"] = [f"ZW{as_of:%Y%m%d}{seed:03d}{n:05d}" for n in range(count)]
    reported = week[count:]
    new["上报时间"] = [f"{d:%Y-%m-%d} 09:{n % 60:02d}" for n, d in enumerate(reported)]
    new["整改期限"] = [f"{d + dt.timedelta(days=30):%Y-%m-%d}" for d in reported]
    new["处理状态"], new["办结时间"], new["是否有效"] = "待交办", "", "是"
    pd.concat([cases, new], ignore_index=True).to_csv(path, index=False, encoding="utf-8-sig")


def _set_as_of(config: Path, as_of: dt.date) -> None:
    """Move the config's as-of date, as an office does each week (or leaves it to today)."""
    lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
    lines = [f"as_of = {as_of.isoformat()}\n" if line.startswith("as_of") else line
             for line in lines]
    config.write_text("".join(lines), encoding="utf-8")


def _as_of(config: Path) -> dt.date:
    from battlemap.config import load_config

    return load_config(config).as_of


def _district_page_bytes(out: Path) -> int:
    """index.html plus the data files it loads (shared Leaflet assets not counted)."""
    files = [out / "index.html", out / "data" / "shared.js", *(out / "data" / "district").glob("*")]
    return sum(p.stat().st_size for p in files if p.is_file())


def _load_time(page: Path, runs: int, ready: str) -> float | str:
    """Median seconds from navigation to 'rendered' in headless Chromium, all network blocked."""
    if not Path(CHROMIUM).exists():
        return "no chromium"
    from playwright.sync_api import sync_playwright

    condition = {"battlemap": "document.body.dataset.ready === '1'",
                 "folium": "document.querySelectorAll('path.leaflet-interactive').length > 0"
                           " && document.readyState === 'complete'"}[ready]
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            web = context.new_page()
            web.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
                "file:") else route.abort())
            start = time.perf_counter()
            web.goto(page.as_uri())
            web.wait_for_function(condition, timeout=120_000)
            times.append(time.perf_counter() - start)
            context.close()
        browser.close()
    return round(statistics.median(times), 2)


def _naive_web(config: Path, work: Path, runs: int) -> dict[str, object]:
    """folium, one CircleMarker per case, Leaflet served locally (as FINDINGS measured)."""
    from importlib.resources import files

    import folium

    from battlemap.build import prepare
    from battlemap.config import load_config
    from battlemap.join import counted

    atlas = prepare(load_config(config, out_dir=work / "naive")).atlas
    naive = work / "naive"
    naive.mkdir(exist_ok=True)
    leaflet = files("js_lib_leaflet") / "static" / "js_lib_leaflet"
    for name in ("leaflet.js", "leaflet.css"):
        (naive / name).write_bytes((leaflet / name).read_bytes())
    colours = atlas.config.style.status_colors
    start = time.perf_counter()
    fmap = folium.Map(location=[atlas.cases["lat"].mean(), atlas.cases["lon"].mean()],
                      zoom_start=10, tiles=None, max_zoom=18)
    fmap.default_js = [("leaflet", "leaflet.js")]
    fmap.default_css = [("leaflet_css", "leaflet.css")]
    cases = atlas.cases[counted(atlas.cases)]  # the cases our page draws (no void, no invalid)
    for lat, lon, state, overdue in zip(cases["lat"], cases["lon"],
                                        cases["state"], cases["overdue"], strict=True):
        colour = colours["overdue" if overdue else state]
        folium.CircleMarker([lat, lon], radius=3, color=colour, fill=True).add_to(fmap)
    fmap.save(naive / "index.html")
    build = time.perf_counter() - start
    return {
        "naive folium build (s)": round(build, 1),
        "naive folium page (MB)": round((naive / "index.html").stat().st_size / 1e6, 1),
        "naive folium load→rendered (s)": _load_time(naive / "index.html", runs, ready="folium"),
    }


def _posters(config: Path, work: Path, args: argparse.Namespace) -> dict[str, object]:
    from battlemap.build import prepare
    from battlemap.config import load_config
    from battlemap.render.poster import render_posters

    atlas = prepare(load_config(config, out_dir=work / "posters")).atlas
    district = atlas.units["district"].index[0]
    from battlemap.render.poster import render_poster

    a1 = work / "posters" / "district_A1.pdf"
    seconds = _median(_timed(lambda: render_poster(atlas, "district", district, "A1", a1))
                      for _ in range(args.runs))
    grids = [("grid", g) for g in atlas.units["grid"].index[: args.grids]]
    ours = _median(_timed(lambda: render_posters(atlas, work / "posters", grids))
                   for _ in range(args.runs)) / len(grids)
    naive = _median(_timed(lambda: _naive_grid_posters(atlas, grids, work / "naive_posters"))
                    for _ in range(args.runs)) / len(grids)
    return {
        "A1 district poster (s)": round(seconds, 2),
        "A1 district poster (MB)": round(a1.stat().st_size / 1e6, 2),
        "grid poster mean (s)": round(ours, 3),
        "naive grid poster mean (s)": round(naive, 3),
        "grid poster ratio (naive/ours)": round(naive / ours, 1),
    }


def _naive_grid_posters(atlas, grids: list[tuple[str, str]], folder: Path) -> None:
    """The baseline: a new matplotlib figure per grid, drawn from scratch."""
    import matplotlib

    from battlemap.join import counted

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    colours = atlas.config.style.status_colors
    for _, grid_id in grids:
        fig, ax = plt.subplots(figsize=(8.27, 11.69))
        atlas.units["grid"].loc[[grid_id]].plot(ax=ax, facecolor="none", edgecolor="black")
        cases = atlas.cases[(atlas.cases["grid_id"] == grid_id) & counted(atlas.cases)]
        cases.plot(ax=ax, color=[colours["overdue" if o else s]
                                 for s, o in zip(cases["state"], cases["overdue"], strict=True)]
                   or "black", markersize=12)
        ax.set_title(f"{grid_id}")
        fig.savefig(folder / f"{grid_id}.pdf")
        plt.close(fig)


def _timed(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _median(values) -> float:
    return round(statistics.median(list(values)), 2)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()

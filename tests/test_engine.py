"""The build engine: incremental, atomic, parallel (fork and Dask), observable."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import tiny_cases_frame, write_tiny_inputs

from battlemap import _render as render_module
from battlemap._engine import Progress, _batches
from battlemap.build import BuildOptions, build
from battlemap.config import load_config
from battlemap.errors import BattlemapError


def _fake_render(atlas, out: Path, jobs) -> list[Path]:
    """Writes one file per job by the real naming rule, and logs what it rendered."""
    written = []
    for level, unit_id in jobs:
        path = out / "index.html" if level == "district" else out / level / f"{unit_id}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{level} {unit_id}", encoding="utf-8")
        (out / "assets").mkdir(exist_ok=True)
        with (out / "rendered.log").open("a", encoding="utf-8") as log:
            log.write(f"{level}:{unit_id}\n")
        written.append(path)
    return written


@pytest.fixture
def fake_web(monkeypatch):
    monkeypatch.setitem(render_module._RENDER, "web", _fake_render)


def _rendered(out: Path) -> set[str]:
    log = out / "rendered.log"
    lines = set(log.read_text(encoding="utf-8").split()) if log.exists() else set()
    log.unlink(missing_ok=True)
    return lines


def _options(**kw) -> BuildOptions:
    return BuildOptions(only=("web",), workers=1, **kw)


def test_incremental_rebuild_renders_exactly_what_changed(tmp_path: Path, fake_web) -> None:
    config_path = write_tiny_inputs(tmp_path / "in")
    config = load_config(config_path, out_dir=tmp_path / "out")
    out = config.output.dir
    build(config, _options())
    assert len(_rendered(out)) == 1 + 2 + 4 + 8 + 3  # every unit and river

    build(config, _options())
    assert _rendered(out) == set()  # nothing changed

    cases = tiny_cases_frame()  # C10 in grid 440118002002002 changes state
    cases.loc[cases["问题编号"] == "C10", "处理状态"] = "整改中"
    write_tiny_inputs(tmp_path / "in", cases=cases)
    report = build(load_config(config_path, out_dir=out), _options())
    assert _rendered(out) == {"district:440118", "town:440118002", "village:440118002002",
                              "grid:440118002002002", "river:T2"}
    assert report["outputs"]["web"] == {"rendered": 5, "skipped": 13, "removed": 0}

    build(load_config(config_path, out_dir=out), _options(force=True))
    assert len(_rendered(out)) == 18


def test_missing_output_is_rendered_again(tmp_path: Path, fake_web) -> None:
    config = load_config(write_tiny_inputs(tmp_path / "in"), out_dir=tmp_path / "out")
    build(config, _options())
    _rendered(config.output.dir)
    (config.output.dir / "village" / "440118001002.html").unlink()
    build(config, _options())
    assert _rendered(config.output.dir) == {"village:440118001002"}


def test_outputs_of_vanished_units_are_removed(tmp_path: Path, fake_web) -> None:
    config = load_config(write_tiny_inputs(tmp_path / "in"), out_dir=tmp_path / "out")
    out = config.output.dir
    build(config, _options())
    manifest = json.loads((out / ".battlemap-manifest.json").read_text(encoding="utf-8"))
    manifest["jobs"]["web:grid:999"] = {"print": "gone", "files": ["grid/999.html"]}
    (out / ".battlemap-manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (out / "grid" / "999.html").write_text("old", encoding="utf-8")
    (out / "grid" / "999.mine.html").write_text("the office's own", encoding="utf-8")
    report = build(config, _options())
    assert not (out / "grid" / "999.html").exists()
    assert (out / "grid" / "999.mine.html").exists()  # never listed: never deleted
    assert report["outputs"]["web"]["removed"] == 1


def test_selective_level_and_unit(tmp_path: Path, fake_web) -> None:
    config = load_config(write_tiny_inputs(tmp_path / "in"), out_dir=tmp_path / "out")
    build(config, _options(levels=("town",), force=True))
    assert _rendered(config.output.dir) == {"town:440118001", "town:440118002"}
    build(config, _options(units=("T1",), force=True))
    assert _rendered(config.output.dir) == {"river:T1"}


def test_process_pool_matches_single_process(tmp_path: Path, fake_web) -> None:
    one = load_config(write_tiny_inputs(tmp_path / "in"), out_dir=tmp_path / "one")
    two = load_config(tmp_path / "in" / "battlemap.toml", out_dir=tmp_path / "two")
    build(one, _options())
    build(two, BuildOptions(only=("web",), workers=2))
    assert _rendered(one.output.dir) == _rendered(two.output.dir)


def test_second_build_on_same_folder_is_refused(tmp_path: Path) -> None:
    import fcntl

    config = load_config(write_tiny_inputs(tmp_path / "in"), out_dir=tmp_path / "out")
    config.output.dir.mkdir(parents=True)
    with (config.output.dir / ".battlemap.lock").open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(BattlemapError, match="another battlemap build"):
            build(config, _options())


def test_hard_input_error_writes_nothing(tmp_path: Path) -> None:
    config_path = write_tiny_inputs(tmp_path / "in")
    cases = tiny_cases_frame().drop(columns=["纬度"])
    write_tiny_inputs(tmp_path / "in", cases=cases)
    config = load_config(config_path, out_dir=tmp_path / "out")
    with pytest.raises(BattlemapError, match="纬度"):
        build(config, _options())
    assert sorted(p.name for p in config.output.dir.iterdir()) == [".battlemap-output",
                                                                    ".battlemap.lock"]


def test_dask_local_cluster_matches_process_pool(tmp_path: Path, fake_web) -> None:
    pytest.importorskip("distributed")
    one = load_config(write_tiny_inputs(tmp_path / "in"), out_dir=tmp_path / "one")
    two = load_config(tmp_path / "in" / "battlemap.toml", out_dir=tmp_path / "two")
    build(one, _options())
    build(two, BuildOptions(only=("web",), workers=2, executor="dask-local"))
    rendered = _rendered(one.output.dir)
    assert rendered == _rendered(two.output.dir) and len(rendered) == 18


def test_report_has_stage_timings(tmp_path: Path, fake_web) -> None:
    config = load_config(write_tiny_inputs(tmp_path / "in"), out_dir=tmp_path / "out")
    report = build(config, _options())
    assert set(report["timings_s"]) >= {"load", "validate", "join", "stats", "exports", "web"}
    assert pd.read_excel(config.output.dir / "statistics.xlsx", sheet_name="镇街")["编码"].astype(
        str).tolist() == ["440118001", "440118002"]


def test_bulletin_is_one_job_per_as_of_date(tmp_path: Path) -> None:
    config = load_config(write_tiny_inputs(tmp_path / "in"), out_dir=tmp_path / "out")
    first = build(config, BuildOptions(only=("bulletin",), workers=1))
    assert first["outputs"]["bulletin"] == {"rendered": 1, "skipped": 0, "removed": 0}
    assert (config.output.dir / "bulletin" / "2026-11-27.pdf").exists()
    again = build(config, BuildOptions(only=("bulletin",), workers=1))
    assert again["outputs"]["bulletin"] == {"rendered": 0, "skipped": 1, "removed": 0}


# Progress, on a fake clock and a simulated pool: no wall time is measured.

class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _progress(clock: _Clock, total: int) -> tuple[Progress, io.StringIO]:
    stream = io.StringIO()  # not a terminal
    return Progress("posters", total, clock=clock, stream=stream), stream


COST = {"district": 7.0, "town": 4.8, "village": 0.35, "grid": 0.45, "river": 0.7}
"""Seconds per poster of each level in the simulation (as measured at ×1, see LEVEL_WEIGHT)."""
OVERHEAD = 3.0
"""Seconds each batch costs before its first job (the renderer's set-up)."""


def _simulate(jobs: list[tuple[str, str]], workers: int, clock: _Clock, progress: Progress
              ) -> list[tuple[float, float]]:
    """Run the batches on ``workers`` simulated workers; return (estimate, truth) at each report
    once a batch of grids (nine tenths of the work) has been timed: before, the estimate leans
    on the prior :data:`LEVEL_WEIGHT`."""
    free, timed = [0.0] * workers, set()
    finishes = []
    for batch in _batches(jobs, workers):
        worker = free.index(min(free))
        seconds = OVERHEAD + sum(COST[level] for level, _ in batch)
        free[worker] += seconds
        finishes.append((free[worker], batch, seconds))
    end = max(free)
    progress.expect(jobs, parallel=workers)
    pairs = []
    for at, batch, seconds in sorted(finishes, key=lambda item: item[0]):
        clock.now = 100.0 + at
        progress.finished(batch, seconds)
        timed.update(level for level, _ in batch)
        if progress.done < progress.total and "grid" in timed:
            pairs.append((progress.left(), end - at))
    return pairs


def _jobs() -> list[tuple[str, str]]:
    return ([("district", "D")] + [("town", f"T{i}") for i in range(12)]
            + [("village", f"V{i}") for i in range(150)] + [("grid", f"G{i}") for i in range(2000)]
            + [("river", f"R{i}") for i in range(40)])


def test_time_left_is_within_a_factor_of_two_of_the_truth() -> None:
    clock = _Clock()
    jobs = _jobs()
    progress, _ = _progress(clock, len(jobs))
    pairs = _simulate(jobs, 2, clock, progress)
    off = [(left, truth) for left, truth in pairs
           if not truth / 2 <= left <= truth * 2 and abs(left - truth) > 5]
    assert len(pairs) > 50 and off == []


def test_by_count_alone_the_estimate_is_far_off() -> None:
    """The check above can fail: counting jobs (the old estimate) misses by far more than 2."""
    clock = _Clock()
    jobs = _jobs()
    progress, _ = _progress(clock, len(jobs))
    progress.expect(jobs, parallel=2)
    clock.now += OVERHEAD + COST["district"]
    progress.advance(1)  # the district poster, of no known level or cost: by count
    truth = sum(COST[level] for level, _ in jobs[1:]) / 2
    assert progress.left() > 10 * truth


def test_first_line_within_two_seconds_then_every_tenth() -> None:
    clock = _Clock()
    progress, stream = _progress(clock, 100)
    assert stream.getvalue().count("\n") == 1  # the 0/100 line at once
    clock.now += 1.9
    progress.tick()
    assert stream.getvalue().count("\n") == 1
    clock.now += 0.2
    progress.tick()
    assert stream.getvalue().splitlines()[-1].startswith("posters       0/100   0.0%    2.1 s")
    clock.now += 2.1
    progress.tick()  # then only every 15 s while nothing finishes
    assert stream.getvalue().count("\n") == 2
    progress.expect([("grid", str(i)) for i in range(100)])
    clock.now += 1
    progress.finished([("grid", "0")], 3.1)
    assert "~307 s left" in stream.getvalue().splitlines()[-1]  # 99 grids × 3.1 s, one worker
    lines = stream.getvalue().count("\n")
    progress.finished([("grid", str(i)) for i in range(1, 5)], 4.0)  # still the first tenth
    clock.now += 5
    progress.tick()  # nothing new to say: a line only after 15 s without one
    assert stream.getvalue().count("\n") == lines
    clock.now += 15
    progress.tick()
    assert stream.getvalue().count("\n") == lines + 1
    # 95 grids × (3.1 + 4.0 s) / 5, less the 20 s since the last batch: it counts down
    assert "~115 s left" in stream.getvalue().splitlines()[-1]


def test_batches_are_of_one_level_small_first_then_shrinking() -> None:
    jobs = _jobs()
    batches = _batches(jobs, 2)
    assert sorted(job for batch in batches for job in batch) == sorted(jobs)
    assert all(len({level for level, _ in batch}) == 1 for batch in batches)
    assert [b[0][0] for b in batches[:5]] == ["grid", "village", "river", "town", "district"]
    grids = [len(b) for b in batches if b[0][0] == "grid"]
    assert grids[:3] == [63, 243, 212]  # 2000 / (2 workers × 16), then a quarter of the rest each
    assert grids[1:-1] == sorted(grids[1:-1], reverse=True) and min(grids[:-1]) == 63
    assert grids[-1] <= 63 and [len(b) for b in batches if b[0][0] == "district"] == [1]


def test_one_by_one_batches_keep_the_order_given() -> None:
    jobs = [("town", "b"), ("town", "a"), ("grid", "c")]
    assert _batches(jobs, 2, one_by_one=True) == [[("town", "b")], [("town", "a")], [("grid", "c")]]

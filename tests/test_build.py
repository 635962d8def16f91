"""build: the output folder is guarded, odd characters never stop it, a failure is reported."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest
from conftest import tiny_cases_frame, tiny_units, write_tiny_inputs

from battlemap import _render as render_module
from battlemap import build as build_module
from battlemap._output import check_output_dir
from battlemap._paths import MARKER, TEMP_DIR
from battlemap.build import BuildOptions, build, validate_only
from battlemap.config import load_config
from battlemap.errors import ConfigError, RenderError

WEB = BuildOptions(only=("web",), workers=1)


def _config(tmp_path: Path, out: Path | str, cases=None):
    return load_config(write_tiny_inputs(tmp_path / "in", cases=cases), out_dir=out)


@pytest.mark.parametrize(("out", "why"), [("/", "root of the file system"), ("~", "home folder")])
def test_root_and_home_are_refused(tmp_path: Path, out: str, why: str) -> None:
    config = _config(tmp_path, Path(out).expanduser())
    with pytest.raises(ConfigError, match=why) as caught:
        check_output_dir(config)
    assert "output.dir" in str(caught.value) and "--out" in str(caught.value)


@pytest.mark.parametrize(("where", "why"), [
    ("in", "folder of the config file"), (".", "folder of the config file"),
    ("data", "holds the input data"), ("data/sub/..", "holds the input data")])
def test_config_and_data_folders_are_refused_by_build_and_validate(
        tmp_path: Path, where: str, why: str) -> None:
    config_path = write_tiny_inputs(tmp_path / "in")
    (tmp_path / "data").mkdir()
    (tmp_path / "in" / "cases.csv").rename(tmp_path / "data" / "cases.csv")
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(text.replace('"cases.csv"', f'"{tmp_path / "data" / "cases.csv"}"'),
                           encoding="utf-8")
    config = load_config(config_path, out_dir=tmp_path / where)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")}
    for run in (lambda: build(config, WEB), lambda: validate_only(config)):
        with pytest.raises(ConfigError, match=why):
            run()
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")} == before


def test_a_foreign_non_empty_folder_is_refused_and_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.docx").write_text("the office's own", encoding="utf-8")
    config = _config(tmp_path, out)
    with pytest.raises(ConfigError, match="not made by battlemap"):
        build(config, WEB)
    assert [p.name for p in out.iterdir()] == ["notes.docx"]


def test_an_empty_folder_is_taken_and_marked(tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    build(_config(tmp_path, out), WEB)
    assert (out / MARKER).is_file() and (out / "index.html").is_file()


def test_a_folder_of_an_earlier_version_is_migrated(tmp_path: Path) -> None:
    out = tmp_path / "old"
    out.mkdir()
    (out / ".battlemap-manifest.json").write_text('{"web:grid:x": "abc"}', encoding="utf-8")
    (out / "index.html").write_text("old", encoding="utf-8")
    report = build(_config(tmp_path, out), WEB)
    assert (out / MARKER).is_file()
    assert report["outputs"]["web"]["rendered"] == 18  # files of a format-1 manifest are unknown
    manifest = json.loads((out / ".battlemap-manifest.json").read_text(encoding="utf-8"))
    assert manifest["jobs"]["web:district:440118"]["files"] == ["data/district/440118.js",
                                                                 "index.html"]


def test_clean_up_never_deletes_by_pattern(tmp_path: Path) -> None:
    config = _config(tmp_path, tmp_path / "out")
    build(config, WEB)
    out = config.output.dir
    keep = [out / ".canary.tmp-keepme", out / "grid" / ".x.html.tmp-abc.html", out / "grid" / "x.pdf"]
    for path in keep:
        path.write_text("mine", encoding="utf-8")
    (out / TEMP_DIR / "tmp-left.html").write_text("killed build", encoding="utf-8")
    build(config, BuildOptions(only=("web",), workers=1, force=True))
    assert all(p.read_text(encoding="utf-8") == "mine" for p in keep)
    assert list((out / TEMP_DIR).iterdir()) == []  # battlemap's own temporary folder is emptied


def test_odd_characters_never_stop_the_build(tmp_path: Path) -> None:
    """An emoji in 问题类型 and a village name: warnings with file, row and column; □ on posters."""
    cases = tiny_cases_frame()
    cases.loc[0, "问题类型"] = "排水口😀"
    folder = tmp_path / "in"
    config_path = write_tiny_inputs(folder, cases=cases)
    units = tiny_units()
    units["village"].loc[0, "name"] = "甲一村\U0001f30a"
    (folder / "boundaries.gpkg").unlink()
    for level, frame in units.items():
        frame.to_file(folder / "boundaries.gpkg", layer=level, engine="pyogrio")
    config = load_config(config_path, out_dir=tmp_path / "out")
    checked = validate_only(config)
    glyphs = [w for w in checked["warnings"] if w["kind"] == "missing_glyph"]
    where = {(Path(w["file"]).name, w["feature"], w["column"]) for w in glyphs}
    assert ("cases.csv", "row 2", "问题类型") in where
    assert ("boundaries.gpkg", "440118001001", "name") in where
    assert build(config, BuildOptions(only=("bulletin",), workers=1))["build"]["status"] == (
        "complete")
    report = build(config, BuildOptions(only=("posters",), workers=1, levels=("village",)))
    assert report["build"]["status"] == "complete"
    poster = config.output.dir / "posters" / "village" / "440118001001_A3.pdf"
    text = subprocess.run(["pdftotext", str(poster), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "甲一村□" in text.replace(" ", "")


def test_a_failure_while_rendering_leaves_a_report_that_says_so(tmp_path: Path, monkeypatch) -> None:
    config = _config(tmp_path, tmp_path / "out")
    out = config.output.dir
    build(config, WEB)
    real = render_module._RENDER["web"]

    calls = []

    def failing(atlas, out_dir, jobs):  # fails after one job of the first batch of two or more
        calls.append(list(jobs))
        written = []
        for k, job in enumerate(jobs):
            if k == 1:
                raise RenderError("disk on fire")
            written += real(atlas, out_dir, [job])
        return written

    monkeypatch.setitem(render_module._RENDER, "web", failing)
    with pytest.raises(RenderError, match="disk on fire"):
        build(config, BuildOptions(only=("web",), workers=1, force=True))
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    status = report["build"]
    assert status["status"] == "failed" and status["stage"] == "web"
    assert "disk on fire" in status["error"]
    assert report["outputs"]["exports"]["rendered"] == 1
    assert {"battlemap.gpkg", "statistics.xlsx", "index.html"} <= set(status["replaced"])
    pages = [n for n in status["replaced"] if n.endswith(".html")]
    finished = sum(len(batch) for batch in calls[:-1])
    assert len(calls[-1]) >= 2 and finished > 0
    assert len(pages) == finished + 1           # the failing batch's first page, by its time stamp
    assert status["files_replaced"] == len(status["replaced"])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "构建失败 build FAILED" in html and "at stage web" in html
    monkeypatch.setitem(render_module._RENDER, "web", real)
    again = build(config, WEB)  # all but the pages of the finished batches render again
    assert again["build"]["status"] == "complete"
    assert again["outputs"]["web"]["rendered"] == 18 - finished


def test_report_is_marked_in_progress_before_the_first_output(tmp_path: Path, monkeypatch) -> None:
    config = _config(tmp_path, tmp_path / "out")
    out = config.output.dir
    seen = []

    def spy(atlas, out_dir, jobs):
        seen.append(json.loads((out / "report.json").read_text(encoding="utf-8"))["build"])
        return []

    monkeypatch.setitem(render_module._RENDER, "exports", spy)
    build(config, WEB)
    assert seen[0]["status"] == "in progress" and seen[0]["stage"] == "exports"
    assert seen[0]["files_replaced"] == 0


def _fake_posters(atlas, out_dir, jobs):
    from battlemap._io import write_text
    from battlemap._paths import poster_file

    return [write_text(out_dir / poster_file(level, unit_id, paper), "pdf")
            for level, unit_id in jobs for paper in atlas.config.posters.papers.get(level, ())]


def _fake_atlases(atlas, out_dir, jobs):
    from battlemap._io import write_text
    from battlemap._paths import atlas_file

    return [write_text(out_dir / atlas_file(unit_id), "atlas") for _, unit_id in jobs]


def test_manifest_lists_each_jobs_files_and_drops_a_paper_no_longer_configured(
        tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setitem(render_module._RENDER, "posters", _fake_posters)
    monkeypatch.setattr(render_module, "_render_atlases", _fake_atlases)
    config = _config(tmp_path, tmp_path / "out")
    out = config.output.dir
    options = BuildOptions(only=("posters",), workers=1)
    build(config, options)
    jobs = json.loads((out / ".battlemap-manifest.json").read_text(encoding="utf-8"))["jobs"]
    assert jobs["posters:town:440118001"]["files"] == [
        "posters/atlas/440118001.pdf", "posters/town/440118001_A1.pdf",
        "posters/town/440118001_A3.pdf"]
    assert jobs["posters:grid:440118001001001"]["files"] == ["posters/grid/440118001001001_A4.pdf"]
    assert "posters:*:*" not in jobs  # every poster file belongs to a job
    papers = {**config.posters.papers, "town": ("A3",)}
    fewer = config.model_copy(update={"posters": config.posters.model_copy(
        update={"papers": papers})})
    report = build(fewer, options)
    assert report["build"]["removed"] == ["posters/town/440118001_A1.pdf",
                                          "posters/town/440118002_A1.pdf"]
    assert not (out / "posters/town/440118001_A1.pdf").exists()
    assert (out / "posters/atlas/440118001.pdf").exists()
    jobs = json.loads((out / ".battlemap-manifest.json").read_text(encoding="utf-8"))["jobs"]
    assert jobs["posters:town:440118001"]["files"] == [
        "posters/atlas/440118001.pdf", "posters/town/440118001_A3.pdf"]


def _fail_on_river(atlas, out_dir, jobs):
    if any(level == "river" for level, _ in jobs):
        raise RenderError("river renderer broke")
    return render_module._render_web(atlas, out_dir, jobs)


def test_a_worker_failure_still_reports_the_batches_that_finished(tmp_path: Path,
                                                                  monkeypatch) -> None:
    monkeypatch.setitem(render_module._RENDER, "web", _fail_on_river)
    config = _config(tmp_path, tmp_path / "out")
    with pytest.raises(RenderError, match="river renderer broke"):
        build(config, BuildOptions(only=("web",), workers=2))
    status = json.loads((config.output.dir / "report.json").read_text(encoding="utf-8"))["build"]
    assert status["status"] == "failed"
    pages = {n for n in status["replaced"] if n.endswith(".html")}
    on_disk = {p.relative_to(config.output.dir).as_posix()
               for p in config.output.dir.rglob("*.html") if "report" not in p.name}
    assert pages == on_disk and "index.html" in pages
    assert not any(n.startswith("river/") for n in pages)


# ---------------------------------------------------------------- no-change rebuilds (issue 16)
def _snapshot(out: Path) -> dict[str, tuple[int, int]]:
    """Every file of the output folder with its size and modification time."""
    return {p.relative_to(out).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in out.rglob("*") if p.is_file() and p.name != ".battlemap.lock"}


def _build_counting(config, options, monkeypatch) -> tuple[dict, int]:
    """Build; return the report and how many times the pipeline (prepare) ran."""
    calls = []
    real = build_module.prepare

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(build_module, "prepare", counting)
    report = build(config, options)
    monkeypatch.setattr(build_module, "prepare", real)
    return report, len(calls)


def _skipped(config, options, monkeypatch) -> bool:
    """Whether the build took the fast path (checked three ways that must agree)."""
    out = config.output.dir
    before = _snapshot(out)
    report, prepared = _build_counting(config, options, monkeypatch)
    skipped = "up_to_date" in report
    assert skipped == (prepared == 0)
    if skipped:
        assert _snapshot(out) == before   # nothing written, report.json/html left as they are
        listed = {n for e in json.loads((out / ".battlemap-manifest.json").read_text(
            encoding="utf-8"))["jobs"].values() for n in e["files"]}
        assert report["up_to_date"]["outputs"] == len(listed) > 0
        assert report["build"]["status"] == "complete" and report["build"]["replaced"] == []
        assert report["outputs"] and all(n["rendered"] == n["removed"] == 0 and n["skipped"]
                                         for n in report["outputs"].values())
    else:
        assert report["build"]["status"] == "complete"
    return skipped


def test_an_unchanged_rebuild_skips_everything_and_any_change_builds(tmp_path: Path,
                                                                     monkeypatch) -> None:
    config = _config(tmp_path, tmp_path / "out")
    out, folder = config.output.dir, tmp_path / "in"
    assert not _skipped(config, WEB, monkeypatch)                  # the first build
    assert _skipped(config, WEB, monkeypatch)                      # nothing changed
    assert "nothing changed since the build of" in build(config, WEB)["up_to_date"]["message"]

    cases = tiny_cases_frame()                                     # a changed case file
    cases.loc[cases["问题编号"] == "C06", "处理状态"] = "已销号"
    cases.to_csv(folder / "cases.csv", index=False, encoding="utf-8-sig")
    before = json.loads((out / "report.json").read_text(encoding="utf-8"))["states"]
    assert not _skipped(config, WEB, monkeypatch)
    after = json.loads((out / "report.json").read_text(encoding="utf-8"))["states"]
    assert after["closed"] == before["closed"] + 1
    assert _skipped(config, WEB, monkeypatch)

    noted = config.model_copy(update={"project": config.project.model_copy(  # a config value
        update={"note": "内部资料 · 第二版"})})
    assert not _skipped(noted, WEB, monkeypatch)
    assert not _skipped(config, WEB, monkeypatch)                  # and back again
    assert not _skipped(config, BuildOptions(only=("web",), workers=1, levels=("town",)),
                        monkeypatch)                               # other options
    assert not _skipped(config, WEB, monkeypatch)

    page = next((out / "grid").glob("*.html"))                     # a deleted output
    page.unlink()
    assert not _skipped(config, WEB, monkeypatch)
    assert page.is_file()

    assert not _skipped(config, BuildOptions(only=("web",), workers=1, force=True),
                        monkeypatch)                               # --force
    later = config.model_copy(update={"project": config.project.model_copy(  # a new as-of date
        update={"as_of": config.as_of + dt.timedelta(days=1)})})
    assert not _skipped(later, WEB, monkeypatch)
    assert sorted(p.name for p in (out / "history").iterdir()) == [
        "2026-11-27.csv.gz", "2026-11-28.csv.gz"]
    assert not _skipped(config, WEB, monkeypatch)                  # back to the first date

    validate_only(config)                                          # validate rewrites the report
    assert not _skipped(config, WEB, monkeypatch)
    assert _skipped(config, WEB, monkeypatch)


def test_a_rebuild_after_a_failed_build_is_not_skipped(tmp_path: Path, monkeypatch) -> None:
    config = _config(tmp_path, tmp_path / "out")
    build(config, WEB)
    monkeypatch.setitem(render_module._RENDER, "web", _fail_on_river)
    with pytest.raises(RenderError):
        build(config, BuildOptions(only=("web",), workers=1, force=True))
    monkeypatch.undo()
    assert not _skipped(config, WEB, monkeypatch)


def test_the_report_of_a_finished_build_has_output_sizes_the_running_one_not(
        tmp_path: Path, monkeypatch) -> None:
    config = _config(tmp_path, tmp_path / "out")
    out = config.output.dir
    seen = []
    real = render_module._RENDER["web"]

    def spy(atlas, out_dir, jobs):
        seen.append(json.loads((out / "report.json").read_text(encoding="utf-8")))
        return real(atlas, out_dir, jobs)

    monkeypatch.setitem(render_module._RENDER, "web", spy)
    report = build(config, WEB)
    assert seen and all(r["output_sizes"] is None for r in seen)
    assert report["output_sizes"]["web"] > 0
    assert report["output_sizes"]["total"] == sum(
        v for k, v in report["output_sizes"].items() if k != "total")

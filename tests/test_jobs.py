"""Render jobs' bookkeeping: a rendered job's old files are deleted exactly when no job lists them."""

from __future__ import annotations

from pathlib import Path

from battlemap._jobs import BuildLog, JobRecorder, key, remove_gone


def _files(out: Path, names: list[str]) -> None:
    for name in names:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(name, encoding="utf-8")


def test_record_drops_exactly_the_files_no_job_lists_any_more(tmp_path: Path) -> None:
    out = tmp_path
    a, b, c = ("grid", "a"), ("grid", "b"), ("grid", "c")
    _files(out, ["a_old.pdf", "a_new.pdf", "moved.pdf", "shared.pdf", "b.pdf", "c.pdf",
                 "mine.pdf"])
    manifest = {key("posters", a): {"print": "1", "files": ["a_old.pdf", "moved.pdf",
                                                            "shared.pdf"]},
                key("posters", b): {"print": "1", "files": ["b.pdf"]},
                key("posters", c): {"print": "1", "files": ["c.pdf", "shared.pdf"]}}
    log = BuildLog(out)
    recorder = JobRecorder(out, "posters", [a, b], lambda job: [], log, whole=False)
    recorder.finished([a, b], [])
    recorder.done[a] = ["a_new.pdf"]            # a no longer writes a_old, moved or shared
    recorder.done[b] = ["b.pdf", "moved.pdf"]   # b writes moved.pdf now
    recorder.record({a: "2", b: "2", c: "1"}, manifest)
    assert log.removed == ["a_old.pdf"]         # moved: b's; shared: still c's; mine: no job's
    assert sorted(p.name for p in out.iterdir()) == ["a_new.pdf", "b.pdf", "c.pdf", "mine.pdf",
                                                     "moved.pdf", "shared.pdf"]
    assert manifest[key("posters", a)] == {"print": "2", "files": ["a_new.pdf"]}
    assert manifest[key("posters", b)] == {"print": "2", "files": ["b.pdf", "moved.pdf"]}


def test_a_job_that_did_not_finish_keeps_its_files_and_no_print(tmp_path: Path) -> None:
    out, a = tmp_path, ("grid", "a")
    _files(out, ["a.pdf"])
    manifest = {key("posters", a): {"print": "1", "files": ["a.pdf"]}}
    log = BuildLog(out)
    JobRecorder(out, "posters", [a], lambda job: ["a.pdf"], log, whole=False).record(
        {a: "2"}, manifest)
    assert manifest[key("posters", a)]["print"] == "" and (out / "a.pdf").is_file()
    assert log.removed == []


def test_gone_units_lose_their_files_unless_another_job_lists_them(tmp_path: Path) -> None:
    out = tmp_path
    _files(out, ["gone.html", "both.js", "kept.html"])
    manifest = {key("web", ("grid", "gone")): {"print": "1", "files": ["both.js", "gone.html"]},
                key("web", ("grid", "kept")): {"print": "1", "files": ["both.js", "kept.html"]}}
    log = BuildLog(out)
    assert remove_gone(out, "web", manifest, {("grid", "kept"): "1"}, log) == 1
    assert log.removed == ["gone.html"]
    assert sorted(p.name for p in out.iterdir()) == ["both.js", "kept.html"]


def test_shared_files_no_batch_wrote_are_dropped_once_every_job_finished(tmp_path: Path) -> None:
    out, a, b = tmp_path, ("grid", "a"), ("grid", "b")
    _files(out, ["assets/atlas.js", "assets/leaflet.js", "a.html", "b.html"])
    shared = key("web", ("*", "*"))

    def manifest() -> dict:
        return {shared: {"print": "", "files": ["assets/atlas.js", "assets/leaflet.js"]},
                key("web", a): {"print": "1", "files": ["a.html"]},
                key("web", b): {"print": "1", "files": ["b.html"]}}

    def batch(done: list) -> tuple[dict, BuildLog]:
        seen, log = manifest(), BuildLog(out)
        recorder = JobRecorder(out, "web", [a, b], lambda job: [f"{job[1]}.html"], log,
                               whole=False)
        for job in done:
            recorder.finished([job], [out / f"{job[1]}.html", out / "assets" / "atlas.js"])
        recorder.record({a: "2", b: "2"}, seen)
        return seen, log

    seen, log = batch([a])                      # b's batch failed: the old list is kept
    assert seen[shared]["files"] == ["assets/atlas.js", "assets/leaflet.js"]
    assert log.removed == [] and (out / "assets" / "leaflet.js").is_file()
    seen, log = batch([a, b])                   # complete: leaflet.js is left from before
    assert seen[shared]["files"] == ["assets/atlas.js"]
    assert log.removed == ["assets/leaflet.js"] and (out / "assets" / "atlas.js").is_file()
    assert not (out / "assets" / "leaflet.js").exists()

"""_render: the whole-atlas outputs run side by side, and a failure among them loses nothing."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from conftest import write_tiny_inputs

from battlemap import _render as render_module
from battlemap._io import write_text
from battlemap._manifest import load_manifest
from battlemap.build import BuildOptions, build
from battlemap.config import load_config
from battlemap.errors import RenderError

WHOLE = BuildOptions(only=("bulletin", "letters"), workers=2)


def _fake(name: str, fail: bool = False):
    def render(atlas, out_dir, jobs):  # runs in a pool worker: it leaves its traces in a file
        start = time.time()
        time.sleep(0.6)
        if fail:
            raise RenderError(f"{name} on fire")
        end = time.time()
        return [write_text(out_dir / f"{name}.txt", json.dumps([os.getpid(), start, end]))]
    return render


def _faked(monkeypatch, fail: str = "") -> None:
    for name in render_module.WHOLE_ATLAS:
        monkeypatch.setitem(render_module._RENDER, name, _fake(name, fail=name == fail))


def test_exports_bulletin_and_letters_run_side_by_side(tmp_path: Path, monkeypatch) -> None:
    _faked(monkeypatch)
    config = load_config(write_tiny_inputs(tmp_path / "in"), out_dir=tmp_path / "out")
    report = build(config, WHOLE)
    runs = {n: json.loads((tmp_path / "out" / f"{n}.txt").read_text(encoding="utf-8"))
            for n in render_module.WHOLE_ATLAS}
    assert len({pid for pid, _, _ in runs.values()}) == 2       # two workers
    (_, l_start, l_end), (_, b_start, b_end) = runs["letters"], runs["bulletin"]
    assert l_start < b_end and b_start < l_end                  # the longest two at once
    assert runs["exports"][1] >= min(l_end, b_end) - 0.05       # the third waits for a worker
    for name in render_module.WHOLE_ATLAS:
        assert report["outputs"][name]["rendered"] == 1
        assert report["timings_s"][name] >= 0.6      # what its job took on its worker
    manifest = load_manifest(tmp_path / "out")
    assert manifest[f"letters:letters:{config.as_of}"]["files"] == ["letters.txt"]


def test_a_failing_whole_output_keeps_the_others(tmp_path: Path, monkeypatch) -> None:
    _faked(monkeypatch, fail="letters")
    config = load_config(write_tiny_inputs(tmp_path / "in"), out_dir=tmp_path / "out")
    with pytest.raises(RenderError, match="letters on fire"):
        build(config, WHOLE)
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["build"]["status"] == "failed"
    assert report["build"]["stage"] == "exports, bulletin, letters"
    assert {"bulletin.txt", "exports.txt"} <= set(report["build"]["replaced"])
    _faked(monkeypatch)
    again = build(config, WHOLE)                  # only the one that failed is made again
    assert {n: again["outputs"][n]["rendered"] for n in render_module.WHOLE_ATLAS} == {
        "exports": 0, "bulletin": 0, "letters": 1}


def test_their_progress_line_keeps_the_column(tmp_path: Path, monkeypatch, capsys) -> None:
    _faked(monkeypatch)
    config = load_config(write_tiny_inputs(tmp_path / "in"), out_dir=tmp_path / "out")
    build(config, BuildOptions(only=WHOLE.only, workers=2, quiet=False))
    lines = [line for line in capsys.readouterr().err.splitlines()
             if line.startswith(render_module.WHOLE_LABEL)]
    assert lines and all(line[9] == " " for line in lines)   # the stage column is 9 wide
    assert lines[-1].split()[1] == "3/3"


def test_the_longest_document_of_the_last_build_goes_out_first(tmp_path: Path) -> None:
    whole = list(render_module.WHOLE_ATLAS)
    assert render_module._longest_first(tmp_path, whole) == ["letters", "bulletin", "exports"]
    report = {"timings_s": {"load": 40.0, "exports": 27.0, "bulletin": 15.1, "letters": 18.0}}
    (tmp_path / "report.json").write_text(json.dumps(report), encoding="utf-8")
    assert render_module._longest_first(tmp_path, whole) == ["exports", "letters", "bulletin"]
    (tmp_path / "report.json").write_text("{broken", encoding="utf-8")
    assert render_module._longest_first(tmp_path, whole) == ["letters", "bulletin", "exports"]

"""The CLI through its entry point: exit codes, messages, quiet and progress output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from battlemap.cli import main

REPO = Path(__file__).resolve().parents[1]


def test_validate_writes_balanced_report(tiny_config_path: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["validate", "--config", str(tiny_config_path), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["cases_in"] == report["cases_mapped"] + report["cases_rejected"] == 11
    assert (out / "report.html").exists() and (out / "rejected_cases.csv").exists()
    assert "11 cases in, 7 mapped, 4 rejected" in capsys.readouterr().out


def test_build_web_with_progress(tiny_config_path: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = main(["build", "--config", str(tiny_config_path), "--out", str(out), "--only", "web",
                 "--workers", "1"])
    assert code == 0
    captured = capsys.readouterr()
    assert "web" in captured.err and "18/18" in captured.err
    assert all(f"{stage:<9}" in captured.err for stage in ("load", "validate", "join", "stats"))
    assert "web: 18 rendered, 0 unchanged" in captured.out
    assert (out / "index.html").exists()


def test_a_no_change_rebuild_says_so_in_one_line_before_pandas_loads(
        tiny_config_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["build", "--config", str(tiny_config_path), "--out", str(out), "--only", "web",
            "--workers", "1"]
    assert main([*args, "--quiet"]) == 0
    probe = ("import sys; from battlemap.cli import main; code = main(sys.argv[1:]); "
             "print(code, 'pandas' in sys.modules, 'geopandas' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True,
                            text=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    line, verdict = result.stdout.splitlines()
    assert line.startswith(f"{out}: nothing changed since the build of ")
    assert line.endswith(" outputs up to date)")
    assert verdict == "0 False False" and result.stderr == ""


def test_quiet_prints_nothing(tiny_config_path: Path, tmp_path: Path, capsys) -> None:
    code = main(["build", "--config", str(tiny_config_path), "--out", str(tmp_path / "o"),
                 "--only", "web", "--workers", "1", "--quiet"])
    assert code == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_bad_config_exit_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[project]\nname = 1\nfoo = 2\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "battlemap.cli", "build", "--config", str(bad)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "project.foo: unknown key" in result.stderr
    assert "boundaries: required key is missing" in result.stderr


def test_missing_config_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["build", "--config", str(tmp_path / "none.toml")]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_unreadable_case_file_exit_2(tiny_config_path: Path, capsys) -> None:
    (tiny_config_path.parent / "cases.csv").write_bytes(b"\x00\xff\xfe garbage \x00" * 50)
    assert main(["validate", "--config", str(tiny_config_path)]) == 2
    err = capsys.readouterr().err
    assert "cases.csv" in err and "Traceback" not in err


def test_bad_workers_and_date(tiny_config_path: Path, capsys) -> None:
    assert main(["build", "--config", str(tiny_config_path), "--workers", "0"]) == 2
    assert "--workers" in capsys.readouterr().err


def test_sample_command_small_scale(tmp_path: Path, capsys) -> None:
    assert main(["sample", "--out", str(tmp_path / "data"), "--scale", "0.05"]) == 0
    assert (tmp_path / "data" / "cases" / "cases.csv").exists()
    assert (tmp_path / "data" / "boundaries" / "grids.geojson").exists()


def test_validate_is_refused_while_a_build_holds_the_folder(
        tiny_config_path: Path, tmp_path: Path, capsys) -> None:
    """validate takes the build's lock: it never rewrites report.json under a running build."""
    out = tmp_path / "out"
    assert main(["validate", "--config", str(tiny_config_path), "--out", str(out)]) == 0
    capsys.readouterr()
    report = (out / "report.json").read_bytes()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time\n"
        f"f = open({str(out / '.battlemap.lock')!r}, 'a+')\n"
        "fcntl.flock(f, fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert main(["validate", "--config", str(tiny_config_path), "--out", str(out)]) == 2
        assert "another battlemap build or validate" in capsys.readouterr().err
        assert (out / "report.json").read_bytes() == report
    finally:
        holder.kill()
        holder.communicate()


def test_output_folder_guard_exit_2(tiny_config_path: Path, capsys) -> None:
    code = main(["build", "--config", str(tiny_config_path), "--out",
                 str(tiny_config_path.parent / ".."), "--workers", "1"])
    assert code == 2
    err = capsys.readouterr().err
    assert "folder of the config file" in err and "--out" in err and "Traceback" not in err

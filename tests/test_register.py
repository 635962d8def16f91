"""The letter register (SQLite): numbers continue across builds and repeat for a rebuild, each
case's history, bad input refused with exit 2 and nothing numbered, kill -9 during writing."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from conftest import escalation_config

from battlemap.cli import main
from battlemap.register import letters_frame, read_history, register_path

REPO = Path(__file__).resolve().parents[1]


def _build(folder: Path, as_of: str, capsys=None, **kwargs) -> int:
    """A letters build; forced, so that a rebuild of the same inputs does not take the
    no-change path (battlemap._uptodate) and really numbers its letters again."""
    config = escalation_config(folder, as_of=as_of, **kwargs)
    return main(["build", "--config", str(config.source), "--out", str(folder / "output"),
                 "--only", "letters", "--workers", "1", "--quiet", "--force"])


def _letters(out: Path) -> list[tuple]:
    with sqlite3.connect(register_path(out)) as db:
        return db.execute("SELECT as_of, kind, recipient_id, number FROM letters "
                          "ORDER BY year, seq").fetchall()


def _cases(out: Path, as_of: str, kind: str, town: str) -> list[str]:
    with sqlite3.connect(register_path(out)) as db:
        return [r[0] for r in db.execute(
            "SELECT x.case_id FROM letter_cases x JOIN letters l ON l.number = x.number "
            "WHERE l.as_of = ? AND l.kind = ? AND l.recipient_id = ? ORDER BY x.case_id",
            (as_of, kind, town))]


def _sheet_numbers(out: Path) -> list[str]:
    sheet = openpyxl.load_workbook(out / "letters" / "letters.xlsx")["发文登记"]
    return [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]


def test_numbers_continue_across_dates_and_repeat_for_the_same_date(tmp_path) -> None:
    out = tmp_path / "output"
    assert _build(tmp_path, "2026-11-27") == 0
    first = _letters(out)
    assert [n for *_, n in first] == [f"测河长办〔2026〕{k}号" for k in range(1, 6)]

    assert _build(tmp_path, "2026-11-27") == 0               # a rebuild: the same numbers
    assert _letters(out) == first
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [x["number"] for x in report["letters"]] == [n for *_, n in first]
    assert "测河长办〔2026〕5号" in (out / "report.html").read_text(encoding="utf-8")

    assert _build(tmp_path, "2026-12-04") == 0               # a week later: numbers go on
    later = [row for row in _letters(out) if row[0] == "2026-12-04"]
    assert later and [n for *_, n in later] == [f"测河长办〔2026〕{k}号"
                                                for k in range(6, 6 + len(later))]
    assert _letters(out)[:5] == first                         # the first week's stay
    kinds = {(kind, town) for _, kind, town, _ in later}
    assert ("assign", "440118001") not in kinds              # nothing new that week
    assert _cases(out, "2026-12-04", "reminder", "440118001") == ["D0", "D1", "R6"]  # newly due
    assert _cases(out, "2026-12-04", "warning", "440118001") == [   # reminded last week: up
        "R7", "R8", "W29", "W30", "W31"]
    assert _sheet_numbers(out) == [n for *_, n in _letters(out)]

    assert _build(tmp_path, "2026-12-04") == 0               # and a rebuild of that week too
    assert [row for row in _letters(out) if row[0] == "2026-12-04"] == later


def test_each_case_keeps_its_escalation_history(tmp_path) -> None:
    out = tmp_path / "output"
    assert _build(tmp_path, "2026-11-27") == 0
    assert _build(tmp_path, "2026-12-04") == 0
    with sqlite3.connect(register_path(out)) as db:
        db.row_factory = sqlite3.Row
        history = {r["case_id"]: dict(r) for r in db.execute("SELECT * FROM case_history")}
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    r8 = history["R8"]
    assert (r8["first_reminder_date"], r8["first_warning_date"]) == ("2026-11-27", "2026-12-04")
    assert r8["first_reminder_number"] == "测河长办〔2026〕3号" and r8["first_assign_number"] is None
    assert history["N1"]["first_assign_number"] == "测河长办〔2026〕1号"
    week = read_history(out, __import__("datetime").date(2026, 12, 4))
    assert set(week["as_of"]) == {"2026-11-27"}              # a date's own letters are not history


def test_the_second_week_reports_on_the_first_weeks_letters(tmp_path) -> None:
    import docx

    out = tmp_path / "output"
    assert _build(tmp_path, "2026-11-27") == 0
    assert _build(tmp_path, "2026-12-04") == 0
    [warning] = (out / "letters" / "2026-12-04").glob("*_YJ_440118001.docx")
    text = "".join(p.text for p in docx.Document(str(warning)).paragraphs)
    assert "前期来函整改情况：测河长办〔2026〕1号交办函" in text
    assert "测河长办〔2026〕3号提醒函（2026年11月27日）涉及 3 件，已销号 0 件，尚有 3 件未销号" in text


def test_an_unreadable_register_is_refused_and_nothing_is_written(tmp_path, capsys) -> None:
    assert _build(tmp_path, "2026-11-27") == 0
    path = register_path(tmp_path / "output")
    for leftover in path.parent.glob("register.sqlite-*"):   # WAL files of the last build
        leftover.unlink()
    path.write_bytes(b"this is not a database, but a file someone saved here" * 40)
    before = sorted(p.name for p in path.parent.iterdir())
    capsys.readouterr()
    assert _build(tmp_path, "2026-12-04") == 2
    err = capsys.readouterr().err
    assert str(path) in err and "cannot be read" in err and "Traceback" not in err
    assert sorted(p.name for p in path.parent.iterdir()) == before     # no 2026-12-04


def test_an_unknown_placeholder_is_refused_naming_it(tmp_path, capsys) -> None:
    from battlemap.errors import ConfigError

    with pytest.raises(ConfigError) as info:
        escalation_config(tmp_path, extra='\n[letters]\nnumber_template = "〔{year}〕{n}号{month}"\n')
    assert "letters.number_template" in str(info.value) and "{month}" in str(info.value)
    with pytest.raises(ConfigError, match="needs \\{kind\\}"):
        escalation_config(tmp_path, extra='\n[letters]\nsequences = "per_kind"\n')


def test_a_town_without_a_chief_is_refused_before_any_number(tmp_path, capsys) -> None:
    import geopandas as gpd

    config = escalation_config(tmp_path)
    boundaries = config.boundaries["town"].path
    towns = gpd.read_file(boundaries, layer="town")
    towns.loc[towns["code"] == "440118002", "chief"] = ""
    towns.to_file(boundaries, layer="town", engine="pyogrio")
    code = main(["build", "--config", str(config.source), "--out", str(tmp_path / "output"),
                 "--only", "letters", "--workers", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "town 440118002 (乙镇): no chief" in err and "chief" in err
    path = register_path(tmp_path / "output")
    assert not path.exists() or not _letters(tmp_path / "output")
    assert not (tmp_path / "output" / "letters" / "2026-11-27").exists()


KILLED = """
import sys, time
from pathlib import Path
import battlemap.render.letters as letters
from battlemap.build import BuildOptions, build
from battlemap.config import load_config

real, calls = letters.write_pdf, []
def slow(document, path, font):
    calls.append(path)
    if len(calls) == 3:
        Path(sys.argv[2]).write_text("writing")
        time.sleep(120)
    return real(document, path, font)
letters.write_pdf = slow
build(load_config(sys.argv[1], out_dir=sys.argv[3]), BuildOptions(only=("letters",), workers=1))
"""


def test_kill_9_while_writing_letters_leaves_register_and_database_consistent(tmp_path) -> None:
    out = tmp_path / "output"
    assert _build(tmp_path, "2026-11-27") == 0
    before = _letters(out)
    config = escalation_config(tmp_path, as_of="2026-12-04")
    ready = tmp_path / "ready"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen([sys.executable, "-c", KILLED, str(config.source), str(ready),
                              str(out)], env=env)
    try:
        for _ in range(1200):
            if ready.exists() or child.poll() is not None:
                break
            time.sleep(0.1)
        assert ready.exists(), "the child never reached the third letter"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL

    with sqlite3.connect(register_path(out)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert letters_frame(db)["number"].tolist() == [n for *_, n in before]
    assert _letters(out) == before                           # nothing of the killed build
    assert _sheet_numbers(out) == [n for *_, n in before]    # letters.xlsx agrees
    assert not (out / "letters" / "2026-12-04").exists()     # no half set of letters

    assert _build(tmp_path, "2026-12-04") == 0               # the next build numbers on
    after = [n for as_of, *_, n in _letters(out) if as_of == "2026-12-04"]
    assert after[0] == "测河长办〔2026〕6号"
    assert not [p for p in (out / "letters").iterdir() if p.name.startswith(".")]
    assert _sheet_numbers(out) == [n for *_, n in _letters(out)]


def test_two_builds_in_one_period_do_not_send_a_case_the_same_kind_twice(tmp_path) -> None:
    out = tmp_path / "output"
    assert _build(tmp_path, "2026-11-25") == 0               # Wednesday of the week of 11-23
    assert _cases(out, "2026-11-25", "assign", "440118001") == ["N1"]
    assert _cases(out, "2026-11-25", "reminder", "440118001") == ["W29", "W30", "W31"]
    assert _build(tmp_path, "2026-11-27") == 0               # Friday, same week
    assert _cases(out, "2026-11-27", "assign", "440118001") == []        # assigned on Wednesday
    assert _cases(out, "2026-11-27", "reminder", "440118001") == ["R7", "R8"]   # W29 not again
    assert _cases(out, "2026-11-27", "warning", "440118001") == ["W30", "W31"]  # 30 days: up

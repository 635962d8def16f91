"""load through the command line: exit 2, our words, never the library's."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_tiny_inputs
from load_helpers import LIBRARY_WORDS


def cli_validate(tmp_path: Path, capsys, cases_name: str = "cases.csv",
                 cases_bytes: bytes | None = None, rivers_bytes: bytes | None = None
                 ) -> tuple[int, str]:
    from battlemap.cli import main

    config = write_tiny_inputs(tmp_path / "tiny")
    folder = config.parent
    if cases_name != "cases.csv":
        (folder / "cases.csv").rename(folder / cases_name)
        config.write_text(config.read_text(encoding="utf-8").replace(
            'path = "cases.csv"', f'path = "{cases_name}"'), encoding="utf-8")
    if cases_bytes is not None:
        (folder / cases_name).write_bytes(cases_bytes)
    if rivers_bytes is not None:
        (folder / "rivers.gpkg").write_bytes(rivers_bytes)
    code = main(["validate", "--config", str(config), "--out", str(tmp_path / "out"), "--quiet"])
    err = capsys.readouterr().err
    return code, err


@pytest.mark.parametrize("name, data, ours", [
    ("cases.csv", b"", "cases.csv: the case table is empty (0 bytes)"),
    ("cases.xlsx", b"", "cases.xlsx: the case table is empty (0 bytes)"),
    ("cases.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
     "cases.xlsx: the case table is neither a spreadsheet nor text"),
    ("cases.xlsx", b"PK\x03\x04" + b"\x00" * 300, "cases.xlsx: not a readable Excel workbook"),
])
def test_unreadable_case_files_exit_2_in_our_words(tmp_path, capsys, name, data, ours):
    code, err = cli_validate(tmp_path, capsys, name, data)
    assert code == 2 and ours in err
    assert not [w for w in LIBRARY_WORDS if w in err], err


def test_a_csv_named_xlsx_builds_and_the_report_says_what_it_is(tmp_path, capsys):
    code, err = cli_validate(tmp_path, capsys, "cases.xlsx")
    assert code == 0 and err == ""
    report = (tmp_path / "out" / "report.json").read_text(encoding="utf-8")
    assert "the case table is CSV text, though named .xlsx" in report


def test_an_unreadable_layer_exits_2_in_our_words(tmp_path, capsys):
    code, err = cli_validate(tmp_path, capsys, rivers_bytes=b"<html><body>404</body></html>")
    assert code == 2
    assert "rivers.gpkg: cannot be read as a vector layer" in err and "web page" in err
    assert not [w for w in LIBRARY_WORDS if w in err], err


def test_no_traceback_from_the_real_command(tmp_path):
    import subprocess
    import sys

    config = write_tiny_inputs(tmp_path / "tiny")
    (config.parent / "rivers.gpkg").write_bytes(b"")
    result = subprocess.run([sys.executable, "-m", "battlemap.cli", "validate", "--config",
                             str(config), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "rivers.gpkg: is empty (0 bytes)" in result.stderr
    assert "Traceback" not in result.stderr

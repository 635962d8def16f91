"""The spreadsheet writers before and after: same workbook, CPU time, memory (issue 16).

    python bench/xlsx.py time --base main --runs 5             # ×1 sample, CPU, interleaved
    python bench/xlsx.py rss --version new --config /tmp/bm-bench10/scale10/battlemap.toml \
        --out /tmp/xlsx-out10                                   # one fresh process, ×10
    python bench/xlsx.py compare OLD.xlsx NEW.xlsx              # every sheet and cell

``time`` prepares the atlas once (load → stats, as ``battlemap build`` does),
then alternates the base version's writers (their source read from the git
ref ``--base`` and imported beside this tree's) with this tree's, timing the
process CPU of ``write_statistics_xlsx`` and ``write_register_xlsx`` (the
letters register of a made-up 300 letters); it writes both statistics.xlsx
and compares them cell by cell.

``rss`` is one fresh process: it prepares the atlas, notes the peak RSS so
far (``ru_maxrss``) and the current RSS, resets the kernel's high-water mark
(``/proc/self/clear_refs``), writes statistics.xlsx with the chosen version and
prints the wall time and the writer's own peak (VmHWM since the reset; the
reset lowers ``ru_maxrss`` too, so the process's peak is the larger of the
figure before and the one after writing).

``compare`` checks, for every sheet and cell: value, data type, number
format, quote prefix, bold font, and per sheet: column widths, freeze panes,
auto-filter ref, print titles and page setup. An empty cell counts as equal
to an absent one (openpyxl reads pandas' ``""`` cells back as empty
``inlineStr`` cells).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

from battlemap._model import Atlas

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "battlemap.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    timing = commands.add_parser("time")
    timing.add_argument("--base", default="main")
    timing.add_argument("--runs", type=int, default=5)
    timing.add_argument("--config", type=Path, default=SAMPLE)
    timing.add_argument("--out", type=Path, default=Path("/tmp/xlsx-out"))
    rss = commands.add_parser("rss")
    rss.add_argument("--base", default="main")
    rss.add_argument("--version", choices=["old", "new"], required=True)
    rss.add_argument("--config", type=Path, required=True)
    rss.add_argument("--out", type=Path, required=True)
    compare = commands.add_parser("compare")
    compare.add_argument("old", type=Path)
    compare.add_argument("new", type=Path)
    args = parser.parse_args()
    if args.command == "compare":
        differences = compare_books(args.old, args.new)
        print("\n".join(differences) or "no difference")
        sys.exit(1 if differences else 0)
    elif args.command == "time":
        _time(args)
    else:
        _rss(args)


# ---------------------------------------------------------------- the base version's writers


def base_writers(ref: str) -> types.SimpleNamespace:
    """The base version's ``write_statistics_xlsx`` and ``write_register_xlsx``, from git."""
    import battlemap.export
    import battlemap.render.letters  # noqa: F401 - imported with this tree's rules first

    sheets = _module_from_git(ref, "battlemap/_sheets.py", "battlemap_base_sheets")
    saved = sys.modules["battlemap._sheets"]
    sys.modules["battlemap._sheets"] = sheets      # the base modules import the base rules
    try:
        export = _module_from_git(ref, "battlemap/export.py", "battlemap_base_export")
        letters = _module_from_git(ref, "battlemap/render/letters/sheet.py",
                                   "battlemap_base_letters_sheet")
    finally:
        sys.modules["battlemap._sheets"] = saved
    return types.SimpleNamespace(statistics=export.write_statistics_xlsx,
                                 register=letters.write_register_xlsx)


def _module_from_git(ref: str, path: str, name: str) -> types.ModuleType:
    source = subprocess.run(["git", "-C", str(REPO), "show", f"{ref}:{path}"], check=True,
                            capture_output=True, text=True).stdout
    module = types.ModuleType(name)
    module.__file__ = f"{ref}:{path}"
    sys.modules[name] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def new_writers() -> types.SimpleNamespace:
    from battlemap.export import write_statistics_xlsx
    from battlemap.render.letters.sheet import write_register_xlsx

    return types.SimpleNamespace(statistics=write_statistics_xlsx, register=write_register_xlsx)


def _atlas(config_path: Path, out: Path) -> Atlas:
    from battlemap.build import prepare
    from battlemap.config import load_config

    return prepare(load_config(config_path, out_dir=out)).atlas


HOSTILE = ['=HYPERLINK("http://x","点我")', "+1", "-2+3", "@SUM(A1)", "\t=1", "=1\x07",
           "a\x00b\x1fc", "-113.5", "-"]


def _hostile(atlas: Atlas) -> Atlas:
    """The atlas with formula-like and control-character text in names, chiefs, descriptions."""
    units = dict(atlas.units)
    grids = units["grid"].copy()
    grids.iloc[: len(HOSTILE), grids.columns.get_loc("name")] = HOSTILE
    units["grid"] = grids
    villages = units["village"].copy()
    villages.iloc[: len(HOSTILE), villages.columns.get_loc("chief")] = HOSTILE
    units["village"] = villages
    cases = atlas.cases.copy()
    picked = cases.index[cases["overdue"].astype(bool)][: len(HOSTILE)].append(
        cases.index[cases["recurring"].astype(bool)][: len(HOSTILE)])
    cases.loc[picked, "description"] = HOSTILE * 2
    return dataclasses.replace(atlas, units=units, cases=cases)


def _letters(count: int) -> pd.DataFrame:
    """A made-up register: numbers, dates, recipients, long case lists, a formula-like cc."""
    return pd.DataFrame({
        "number": [f"增河长办〔2026〕{k}号" for k in range(1, count + 1)],
        "as_of": ["2026-11-27"] * count,
        "kind": (["assign", "remind", "warn"] * count)[:count],
        "recipient": [f"镇街{k % 13}" for k in range(count)],
        "recipient_id": [f"4401180{k % 13:02d}" for k in range(count)],
        "cc": ["=区河长" if k % 50 == 0 else "区河长办" for k in range(count)],
        "case_count": [k % 40 + 1 for k in range(count)],
        "case_ids": ["、".join(f"ZC{k:06d}{j}" for j in range(k % 40 + 1)) for k in range(count)],
        "docx": [f"letters/{k}.docx" for k in range(count)],
        "pdf": [None if k % 7 == 0 else f"letters/{k}.pdf" for k in range(count)],
    })


# ---------------------------------------------------------------- measurements


def _cpu(write: Callable[..., Path], *args: object) -> float:
    start = time.process_time()
    write(*args)
    return time.process_time() - start


def _time(args: argparse.Namespace) -> None:
    args.out.mkdir(parents=True, exist_ok=True)
    writers = {"old": base_writers(args.base), "new": new_writers()}
    load_before = os.getloadavg()
    atlas = _atlas(args.config, args.out)
    letters = _letters(300)
    seconds: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.runs):
        for version, writer in writers.items():
            seconds.setdefault((version, "statistics"), []).append(
                _cpu(writer.statistics, atlas, args.out / f"statistics-{version}.xlsx"))
            seconds.setdefault((version, "register"), []).append(
                _cpu(writer.register, letters, args.out / f"letters-{version}.xlsx"))
    print(f"load average before {load_before}, after {os.getloadavg()}; {args.runs} runs")
    for what in ("statistics", "register"):
        old, new = (statistics.median(seconds[v, what]) for v in ("old", "new"))
        print(f"{what}: CPU median old {old:.3f} s, new {new:.3f} s, new/old {new / old:.2f}  "
              f"(old {[round(s, 2) for s in seconds['old', what]]}, "
              f"new {[round(s, 2) for s in seconds['new', what]]})")
    hostile = _hostile(atlas)
    for version, writer in writers.items():
        writer.statistics(hostile, args.out / f"hostile-{version}.xlsx")
    for what in ("statistics", "letters", "hostile"):
        differences = compare_books(args.out / f"{what}-old.xlsx", args.out / f"{what}-new.xlsx")
        print(f"{what}.xlsx old vs new: {len(differences)} differences")
        print("\n".join(differences[:40]))


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def _rss(args: argparse.Namespace) -> None:
    args.out.mkdir(parents=True, exist_ok=True)
    writer = base_writers(args.base) if args.version == "old" else new_writers()
    start = time.perf_counter()
    atlas = _atlas(args.config, args.out)
    prepared = time.perf_counter() - start
    before = {"ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
              "vmrss_mb": _rss_mb("VmRSS")}
    Path("/proc/self/clear_refs").write_text("5")     # reset VmHWM: the writer's own peak next
    start, cpu = time.perf_counter(), time.process_time()
    writer.statistics(atlas, args.out / f"statistics-{args.version}.xlsx")
    print(json.dumps({
        "version": args.version, "config": str(args.config), "prepare_s": round(prepared, 1),
        "before_write": before, "write_wall_s": round(time.perf_counter() - start, 2),
        "write_cpu_s": round(time.process_time() - cpu, 2),
        "peak_while_writing_mb": _rss_mb("VmHWM"),
        "ru_maxrss_after_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cases": len(atlas.cases), "grids": len(atlas.units["grid"]),
        "load_average": os.getloadavg()}, indent=1))


# ---------------------------------------------------------------- comparison


def compare_books(old_path: Path, new_path: Path) -> list[str]:
    """Every difference a user could see between two workbooks, one line each."""
    old, new = openpyxl.load_workbook(old_path), openpyxl.load_workbook(new_path)
    if old.sheetnames != new.sheetnames:
        return [f"sheets: {old.sheetnames} != {new.sheetnames}"]
    differences = []
    for name in old.sheetnames:
        differences += [f"{name}: {d}" for d in _compare_sheets(old[name], new[name])]
    return differences


def _compare_sheets(old: Worksheet, new: Worksheet) -> list[str]:
    differences = [f"{what}: {a!r} != {b!r}" for what, a, b in (
        ("dimensions", old.dimensions, new.dimensions),
        ("freeze_panes", old.freeze_panes, new.freeze_panes),
        ("auto_filter", old.auto_filter.ref, new.auto_filter.ref),
        ("print_title_rows", old.print_title_rows, new.print_title_rows),
        ("orientation", old.page_setup.orientation, new.page_setup.orientation),
        ("fitToWidth/Height", (old.page_setup.fitToWidth, old.page_setup.fitToHeight),
         (new.page_setup.fitToWidth, new.page_setup.fitToHeight)),
        ("fitToPage", old.sheet_properties.pageSetUpPr.fitToPage,
         new.sheet_properties.pageSetUpPr.fitToPage),
        ("widths", _widths(old), _widths(new))) if a != b]
    cells = 0
    for old_row, new_row in zip(old.iter_rows(), new.iter_rows(), strict=True):
        for a, b in zip(old_row, new_row, strict=True):
            cells += 1
            seen = [_seen(a), _seen(b)]
            if seen[0] != seen[1]:
                differences.append(f"{a.coordinate}: {seen[0]} != {seen[1]}")
    if not cells:
        differences.append("no cells")
    return differences


def _seen(cell: Cell) -> tuple:
    """What a user sees of a cell; an empty cell is empty whatever its data type."""
    kind = None if cell.value is None else cell.data_type
    return (cell.value, kind, cell.number_format, bool(cell.quotePrefix), bool(cell.font.b))


def _widths(sheet: Worksheet) -> dict[str, float]:
    return {key: dim.width for key, dim in sorted(sheet.column_dimensions.items()) if dim.width}


if __name__ == "__main__":
    main()

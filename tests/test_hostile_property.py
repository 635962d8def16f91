"""Property: hostile unit ids, names and case texts go through the whole build.

Every example draws ids, names and texts from all Unicode categories (emoji,
right-to-left, combining marks, controls, very long strings, path
separators, phone numbers) and builds the tiny district. Whatever is drawn:
the build ends with exit 0 or an InputError (never a RenderError: data text
must not stop a build), the ledger balances, nothing
is written outside the output folder, and no injected phone number reaches
an output.
"""

from __future__ import annotations

import gzip
import shutil
import tempfile
import zipfile
from pathlib import Path

import pytest
from conftest import TOWNS, tiny_cases_frame, tiny_rivers, tiny_units, write_tiny_inputs
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from battlemap.build import BuildOptions, build
from battlemap.config import load_config
from battlemap.errors import ConfigError, InputError

PHONES = ("13955020002", "139 5502 0002", "139-5503-0003", "+8613955050005", "１３９５５０６０００６")
"""Injected reporter phone numbers (issue 11): none may appear in any output."""
ESCAPES = [f"{'../' * k}ESCAPED" for k in range(1, 5)] + ["/tmp/ESCAPED", "a/b", "a\\b", "C:\\x"]
SPECIAL = ["😀", "👨‍👩‍👧", "مرحبا", "\u202eRTL", "e\u0301\u0301", "\x00", "\x1b[31m", "\u200b",
           "CON", ".", "..", " ", "x" * 201, "甲一村", "𪚥", "\ue000", "=HYPERLINK(1)", *PHONES]
hostile = st.one_of(
    st.sampled_from(ESCAPES + SPECIAL),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=150, max_size=260),
    st.tuples(st.sampled_from(SPECIAL), st.sampled_from(ESCAPES)).map("".join),
)
DEPTH = 5
"""The output folder sits this deep under the watched root, so '../' × 4 stays observable."""


def _write_inputs(folder: Path, grid_ids: list[str], names: list[str], texts: list[str],
                  case_id: str = "C00") -> Path:
    units = tiny_units()
    grids = units["grid"]
    grids["code"] = grid_ids
    grids["name"] = [names[k % len(names)] for k in range(len(grids))]
    units["village"]["name"] = [names[(k + 1) % len(names)] for k in range(4)]
    units["village"]["chief"] = [texts[k % len(texts)] for k in range(4)]
    units["town"]["name"] = [f"{n}{names[k % len(names)]}" for k, (n, _) in
                             enumerate(TOWNS.values())]
    cases = tiny_cases_frame()
    for k, column in enumerate(("问题描述", "问题类型", "上报渠道", "所属村居", "河涌名称")):
        cases[column] = [texts[(k + j) % len(texts)] for j in range(len(cases))]
    cases.loc[0, "问题编号"] = case_id  # an id: never masked, so never a phone number here
    rivers = tiny_rivers()
    rivers["name"] = [names[k % len(names)] for k in range(len(rivers))]
    config = write_tiny_inputs(folder, cases=cases)
    (folder / "boundaries.gpkg").unlink()
    (folder / "rivers.gpkg").unlink()
    for level, frame in units.items():
        frame.to_file(folder / "boundaries.gpkg", layer=level, engine="pyogrio")
    rivers.to_file(folder / "rivers.gpkg", engine="pyogrio")
    return config


def _snapshot(root: Path, skip: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and not p.is_relative_to(skip)}


def _output_text(out: Path) -> str:
    """Every output file's text: plain files, .gz, the members of .xlsx, the GeoPackage bytes."""
    parts = []
    for path in out.rglob("*"):
        if not path.is_file() or path.suffix == ".pdf":
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as book:
                data = b"".join(book.read(name) for name in book.namelist())
        parts.append(data.decode("utf-8", "replace"))
    return "\n".join(parts)


def _build(grid_ids: list[str], names: list[str], texts: list[str], posters: bool,
           case_id: str = "C00") -> tuple[dict | None, Path, set[str]]:
    with tempfile.TemporaryDirectory(prefix="battlemap-hostile-") as tmp:
        root = Path(tmp)
        base = root.joinpath(*(f"d{k}" for k in range(DEPTH - 1)))
        config_path = _write_inputs(base / "in", grid_ids, names, texts, case_id)
        (root / "sentinel.txt").write_text("keep", encoding="utf-8")
        out = base / "out"
        before = _snapshot(root, out)
        only = ("web", "posters", "bulletin") if posters else ("web",)
        try:
            report = build(load_config(config_path, out_dir=out),
                           BuildOptions(only=only, workers=1))
        except (InputError, ConfigError):  # refused input; a RenderError would be a bug
            report = None
        assert _snapshot(root, out) == before, "a file outside the output folder changed"
        leaks = {p for p in PHONES if p in _output_text(out)} if out.exists() else set()
        names_out = {p.name for p in out.rglob("*")} if out.exists() else set()
        shutil.rmtree(out, ignore_errors=True)
    bad_names = {"<bad name>"} if any("/" in n or "\\" in n for n in names_out) else set()
    return report, out, leaks | bad_names


def _check(report: dict | None, leaks: set[str]) -> None:
    if report is None:  # a clean BattlemapError
        return
    assert report["build"]["status"] == "complete"
    assert report["cases_in"] == report["cases_mapped"] + report["cases_rejected"] == 11
    assert "<bad name>" not in leaks
    assert not leaks, f"phone numbers published: {leaks}"


def _no_phone(text: str) -> bool:
    return not any(phone in text for phone in PHONES)


ids = st.lists(hostile.filter(_no_phone), min_size=8, max_size=8, unique=True)
"""Unit ids are shown as they are (never masked), so an id is never one of the phone numbers."""
names = st.lists(hostile, min_size=1, max_size=4)
texts = st.lists(hostile, min_size=1, max_size=6)
case_ids = st.sampled_from([x for x in ESCAPES + SPECIAL if x not in PHONES])
# no shrinking: each example is a whole build (seconds); a failure is reported as drawn
FAST = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                phases=[Phase.explicit, Phase.reuse, Phase.generate])


@FAST
@given(grid_ids=ids, names=names, texts=texts, case_id=case_ids)
def test_hostile_ids_names_and_texts_build_safely(grid_ids, names, texts, case_id):
    """Web pages, page data, exports, history and the report."""
    _check(*_build(grid_ids, names, texts, posters=False, case_id=case_id)[::2])


@pytest.mark.slow
@settings(FAST, max_examples=3)
@given(grid_ids=ids, names=names, texts=texts, case_id=case_ids)
def test_hostile_ids_names_and_texts_on_posters_and_bulletin(grid_ids, names, texts, case_id):
    """The same, with every poster, the meeting atlases and the bulletin (about 30 s each)."""
    _check(*_build(grid_ids, names, texts, posters=True, case_id=case_id)[::2])


def test_injected_phone_numbers_reach_no_output():
    report, _, leaks = _build([f"G{k}" for k in range(8)], ["甲村"], list(PHONES), posters=False)
    assert report is not None
    assert not leaks, f"phone numbers published: {leaks}"

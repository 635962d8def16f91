"""Property: any case table, however corrupted, either builds with a balanced ledger or
fails with a BattlemapError; never a traceback, never a lost case."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from functools import cache
from pathlib import Path

import pandas as pd
from conftest import X0, Y0, tiny_cases_frame, write_tiny_inputs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from battlemap.build import prepare
from battlemap.config import load_config
from battlemap.errors import BattlemapError

COLUMNS = list(tiny_cases_frame().columns)
TO_WGS = Transformer.from_crs("EPSG:4526", "EPSG:4326", always_xy=True)

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
blank = st.sampled_from(["", " ", "nan", "NULL", "-", "无"])


def coordinates() -> st.SearchStrategy[tuple[str, str]]:
    """A good point in the district, swapped, shifted far away, zero, garbage or blank."""
    def good(xy: tuple[float, float]) -> tuple[str, str]:
        lon, lat = TO_WGS.transform(X0 + xy[0], Y0 + xy[1])
        return f"{lon:.6f}", f"{lat:.6f}"

    inside = st.tuples(st.floats(-200, 4200), st.floats(-200, 2200)).map(good)
    number = st.floats(allow_nan=True, allow_infinity=True).map(repr)
    return st.one_of(
        inside,
        inside.map(lambda p: (p[1], p[0])),
        st.tuples(number, number),
        st.tuples(st.sampled_from(["0", "0.0", "1e400", "-113.8"]), number),
        st.tuples(text, text),
        st.tuples(blank, blank),
    )


dates = st.one_of(
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M")),
    st.dates().map(lambda d: f"{d.year}年{d.month}月{d.day}日"),
    st.dates().map(lambda d: f"{d.year}/{d.month}/{d.day}"),
    st.floats(-1e13, 1e13).map(str),
    st.integers(-10**14, 10**14).map(str),
    st.sampled_from(["2026-02-30", "2026-11-05T08:30:00Z", "0000-00-00", "9999-12-31 23:59"]),
    text, blank,
)


@cache
def _template() -> Path:
    """The tiny district written once; each example copies it (writing GeoPackages is slow)."""
    root = Path(tempfile.mkdtemp(prefix="battlemap-tiny-"))
    atexit.register(shutil.rmtree, root, True)
    return write_tiny_inputs(root / "tiny").parent


def tiny_copy(tmp: str) -> Path:
    """A fresh copy of the tiny district in ``tmp``; the config's path."""
    folder = Path(tmp) / "tiny"
    shutil.copytree(_template(), folder)
    return folder / "battlemap.toml"


@st.composite
def case_rows(draw: st.DrawFn) -> dict[str, str | None]:
    lon, lat = draw(coordinates())
    row: dict[str, str | None] = {
        "问题编号": draw(st.one_of(st.sampled_from(["C1", "C2", "C3", " C1", "c1"]), text, blank)),
        "上报时间": draw(dates),
        "上报渠道": draw(text),
        "问题类型": draw(text),
        "所属镇街": draw(st.one_of(st.sampled_from(["甲镇", "乙镇"]), text)),
        "所属村居": draw(st.one_of(st.sampled_from(["甲一村", "乙二村"]), text)),
        "河涌名称": draw(text),
        "经度": lon,
        "纬度": lat,
        "处理状态": draw(st.one_of(st.sampled_from(["待交办", "已交办", "整改中", "已销号"]),
                                   text)),
        "整改期限": draw(dates),
        "办结时间": draw(dates),
        "问题描述": draw(text),
        "上报人电话": draw(st.one_of(st.from_regex(r"1[3-9]\d{9}", fullmatch=True), text)),
        "是否有效": draw(st.one_of(st.sampled_from(["是", "否", ""]), text)),
    }
    missing = draw(st.sets(st.sampled_from(COLUMNS), max_size=3))
    return {k: (None if k in missing else v) for k, v in row.items()}


def _prepare_with_cases(data: bytes):
    """Prepare the tiny district with ``data`` as its case file; None on a clean BattlemapError."""
    with tempfile.TemporaryDirectory() as tmp:
        config_path = tiny_copy(tmp)
        (config_path.parent / "cases.csv").write_bytes(data)
        try:
            return prepare(load_config(config_path, out_dir=Path(tmp) / "out"))
        except BattlemapError:
            return None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(case_rows(), min_size=0, max_size=8))
def test_any_case_table_keeps_the_ledger_or_fails_cleanly(rows):
    frame = pd.DataFrame(rows, columns=COLUMNS)
    prepared = _prepare_with_cases(frame.to_csv(index=False).encode("utf-8-sig"))
    if prepared is None:
        return
    ledger = prepared.ledger()
    assert ledger["cases_in"] == ledger["cases_mapped"] + ledger["cases_rejected"]
    rows_out = (list(prepared.atlas.cases["source_row"])
                + list(prepared.findings.rejected_frame()["source_row"]))
    assert len(rows_out) == len(set(rows_out)) == ledger["cases_in"]
    details = prepared.findings.rejected_frame()["detail"]
    assert details.map(lambda d: isinstance(d, str) and d.strip() != "").all(), details
    assert prepared.atlas.cases.index.is_unique
    phones = {str(r["上报人电话"]) for r in rows if r["上报人电话"] and len(r["上报人电话"]) == 11}
    shown = prepared.atlas.cases.to_csv() + prepared.original.to_csv()
    assert not any(phone in shown for phone in phones if phone.isdigit())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=300), header=st.booleans())
def test_any_bytes_as_a_case_file_fail_cleanly(raw, header):
    """Truncated, binary or wrongly encoded files: a BattlemapError or a balanced ledger."""
    head = (",".join(COLUMNS) + "\n").encode("utf-8") if header else b""
    prepared = _prepare_with_cases(head + raw)
    if prepared is None:
        return
    ledger = prepared.ledger()
    assert ledger["cases_in"] == ledger["cases_mapped"] + ledger["cases_rejected"]

"""Shared fixtures: a tiny hand-drawn district whose answers are known.

Layout (metres, EPSG:4526, origin X0, Y0), 4 km × 2 km:

    y=2000 +---------+---------+---------+---------+
           |  g 2-1  |  g 2-2  |  g 4-1  |  g 4-2  |   villages 甲二村 | 乙二村
    y=1000 +---------+---------+---------+---------+
           |  g 1-1  |  g 1-2  |  g 3-1  |  g 3-2  |   villages 甲一村 | 乙一村
    y=0    +---------+---------+---------+---------+
           x=0      1000      2000      3000      4000
           \\_____ 甲镇 ______/ \\______ 乙镇 _____/

Rivers: main stem M along y=50; tributaries T1 at x=1500 and T2 at x=3500.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import LineString, box

X0, Y0 = 38_479_000.0, 2_566_000.0
CRS = "EPSG:4526"
TOWNS = {"440118001": ("甲镇", 0), "440118002": ("乙镇", 2000)}

# case id, x, y, status, reported, deadline, closed, declared town, declared village, expected
TINY_CASES = [
    ("C01", 500, 500, "已销号", "2026-01-05 09:00", "2026-02-05", "2026-01-20", "甲镇", "甲一村"),
    ("C02", 1000, 500, "整改中", "2026/11/5 8:30", "2026-12-30", "", "甲镇", "甲一村"),
    ("C03", 5000, 500, "已交办", "2026-03-01", "2026-04-01", "", "", ""),
    ("C04", 2500, 1500, "已交办", "2026年5月1日", "2026-06-01", "", "乙镇", "乙一村"),
    ("C05", 3000, 300, "已销号", "2025-12-01", "2026-01-01", "2026-01-10", "乙镇", "乙一村"),
    ("C06", 3010, 300, "待交办", "2026-03-01", "2026-12-31", "", "乙镇", "乙一村"),
    ("C07", 700, 1700, "待核实", "2026-04-01", "", "", "甲镇", "甲二村"),
    ("C08", "", "", "已交办", "2026-04-02", "", "", "甲镇", "甲二村"),
    ("C09", 1200, 800, "已交办", "2026-06-01", "2026-07-01", "", "甲镇", "甲一村"),
    ("C09", 1200, 800, "已销号", "2026-06-01", "2026-07-01", "2026-06-20", "甲镇", "甲一村"),
    ("C10", 3800, 1900, "已交办", "46100.5", "2026-12-31", "", "乙镇", "乙二村"),
]
AS_OF = "2026-11-27"


def tiny_units() -> dict[str, gpd.GeoDataFrame]:
    """The four levels as GeoDataFrames in EPSG:4526."""
    def frame(rows: list[dict]) -> gpd.GeoDataFrame:
        return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)

    district = frame([{"code": "440118", "name": "测试区", "chief": "区河长",
                       "geometry": box(X0, Y0, X0 + 4000, Y0 + 2000)}])
    towns, villages, grids = [], [], []
    for town_id, (name, x) in TOWNS.items():
        towns.append({"code": town_id, "name": name, "district_code": "440118",
                      "chief": f"{name}河长", "geometry": box(X0 + x, Y0, X0 + x + 2000, Y0 + 2000)})
        for v, y in ((1, 0), (2, 1000)):
            vid = f"{town_id}00{v}"
            vname = f"{name[0]}{'一二'[v - 1]}村"
            villages.append({"code": vid, "name": vname, "town_code": town_id, "chief": f"{vname}河长",
                             "geometry": box(X0 + x, Y0 + y, X0 + x + 2000, Y0 + y + 1000)})
            for g, gx in ((1, 0), (2, 1000)):
                grids.append({"code": f"{vid}00{g}", "name": f"{vname}第{g}网格",
                              "village_code": vid, "chief": f"网格员{vid[-1]}{g}",
                              "geometry": box(X0 + x + gx, Y0 + y, X0 + x + gx + 1000,
                                              Y0 + y + 1000)})
    return {"district": district, "town": frame(towns), "village": frame(villages),
            "grid": frame(grids)}


def tiny_rivers() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame([
        {"code": "M", "name": "测试干流", "kind": "main",
         "geometry": LineString([(X0 - 100, Y0 + 50), (X0 + 4100, Y0 + 50)])},
        {"code": "T1", "name": "一涌", "kind": "tributary",
         "geometry": LineString([(X0 + 1500, Y0 + 2000), (X0 + 1500, Y0 + 50)])},
        {"code": "T2", "name": "二涌", "kind": "tributary",
         "geometry": LineString([(X0 + 3500, Y0 + 2000), (X0 + 3500, Y0 + 50)])},
    ], geometry="geometry", crs=CRS)


def tiny_cases_frame() -> pd.DataFrame:
    to_wgs = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    rows = []
    for case_id, x, y, status, reported, deadline, closed, town, village in TINY_CASES:
        lon = lat = ""
        if x != "":
            lon, lat = (f"{v:.7f}" for v in to_wgs.transform(X0 + x, Y0 + y))
        rows.append({"问题编号": case_id, "上报时间": reported, "上报渠道": "广州河长APP",
                     "问题类型": "排水口", "所属镇街": town, "所属村居": village,
                     "河涌名称": "", "经度": lon, "纬度": lat, "处理状态": status,
                     "整改期限": deadline, "办结时间": closed,
                     "问题描述": "<img src=x onerror=alert(1)>", "上报人电话": "13800138000",
                     "是否有效": "是"})
    return pd.DataFrame(rows)


TINY_TOML = """
[project]
name = "测试区"
as_of = {as_of}
sample = false
analysis_crs = "EPSG:4526"

[boundaries.district]
path = "boundaries.gpkg"
layer = "district"
chief_field = "chief"
[boundaries.town]
path = "boundaries.gpkg"
layer = "town"
parent_field = "district_code"
chief_field = "chief"
[boundaries.village]
path = "boundaries.gpkg"
layer = "village"
parent_field = "town_code"
chief_field = "chief"
[boundaries.grid]
path = "boundaries.gpkg"
layer = "grid"
parent_field = "village_code"
chief_field = "chief"

[rivers]
path = "rivers.gpkg"

[cases]
path = "cases.csv"
coordinates = "WGS84"
private_columns = ["上报人电话"]
[cases.columns]
case_id = "问题编号"
reported_at = "上报时间"
channel = "上报渠道"
problem_type = "问题类型"
declared_town = "所属镇街"
declared_village = "所属村居"
river_name = "河涌名称"
lon = "经度"
lat = "纬度"
status = "处理状态"
deadline = "整改期限"
closed_at = "办结时间"
description = "问题描述"
valid = "是否有效"
[cases.status_map]
"待交办" = "reported"
"已交办" = "assigned"
"整改中" = "rectifying"
"已销号" = "closed"
"""


def write_tiny_inputs(folder: Path, cases: pd.DataFrame | None = None) -> Path:
    """Write the tiny district's files and config into ``folder``; return the config path."""
    folder.mkdir(parents=True, exist_ok=True)
    for level, frame in tiny_units().items():
        frame.to_file(folder / "boundaries.gpkg", layer=level, engine="pyogrio")
    tiny_rivers().to_file(folder / "rivers.gpkg", engine="pyogrio")
    (tiny_cases_frame() if cases is None else cases).to_csv(
        folder / "cases.csv", index=False, encoding="utf-8-sig")
    config = folder / "battlemap.toml"
    config.write_text(TINY_TOML.format(as_of=AS_OF), encoding="utf-8")
    return config


@pytest.fixture
def tiny_config_path(tmp_path: Path) -> Path:
    """The tiny district written to a temporary folder; the config's path."""
    return write_tiny_inputs(tmp_path / "tiny")


@pytest.fixture
def tiny_config(tiny_config_path: Path):
    from battlemap.config import load_config

    return load_config(tiny_config_path, out_dir=tiny_config_path.parent / "output")


def leftover_temp_files(folder: Path) -> list[Path]:
    """Temporary files an atomic write left behind (``.NAME.tmp-XXXX.SUFFIX``, see ``_io``)."""
    return sorted(folder.rglob(".*.tmp-*"))


def _fingerprint(prepared) -> tuple:
    """A digest of everything in a Prepared, to catch a test that changes a shared one."""
    atlas = prepared.atlas
    frames = {"cases": atlas.cases, "rivers": atlas.rivers, "context": atlas.context,
              "by_type": atlas.by_type, "by_channel": atlas.by_channel,
              "original": prepared.original, **{f"units.{k}": v for k, v in atlas.units.items()},
              **{f"extra.{k}": v for k, v in atlas.extra.items() if isinstance(v, pd.DataFrame)}}
    digest = [(name, None if frame is None else _frame_digest(frame)) for name, frame in frames.items()]
    others = {k: repr(v) for k, v in atlas.extra.items() if not isinstance(v, pd.DataFrame)}
    return (*digest, sorted(others.items()), repr(prepared.findings.warning_records()),
            len(prepared.findings.rejected_frame()), atlas.config, atlas.period)


def _frame_digest(frame: pd.DataFrame) -> tuple:
    plain = frame.to_wkb() if isinstance(frame, gpd.GeoDataFrame) else frame
    return (tuple(plain.columns), tuple(map(str, plain.dtypes)),
            int(pd.util.hash_pandas_object(plain, index=True).sum()))


@pytest.fixture(scope="session")
def _tiny_shared(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The tiny district loaded, validated, joined and counted once for the whole session."""
    from battlemap.config import load_config

    path = write_tiny_inputs(tmp_path_factory.mktemp("tiny-shared") / "tiny")
    shared = {"config": load_config(path, out_dir=path.parent / "output")}
    _prepare_shared(shared)
    return shared


def _prepare_shared(shared: dict) -> None:
    from battlemap.build import prepare

    shared["prepared"] = prepare(shared["config"])
    shared["fingerprint"] = _fingerprint(shared["prepared"])


@pytest.fixture
def tiny_prepared(_tiny_shared: dict):
    """The shared, READ-ONLY prepared tiny district.

    A test that needs a changed atlas makes its own (``dataclasses.replace``,
    ``frame.copy()``); one that changes the shared one in place fails here,
    after it ran, naming itself (and the next tests get a fresh one).
    """
    yield _tiny_shared["prepared"]
    if _fingerprint(_tiny_shared["prepared"]) != _tiny_shared["fingerprint"]:
        _prepare_shared(_tiny_shared)
        pytest.fail("this test changed the shared tiny_prepared / tiny_atlas in place: copy it first")


@pytest.fixture
def tiny_atlas(tiny_prepared):
    """The shared, read-only atlas of the tiny district (see ``tiny_prepared``)."""
    return tiny_prepared.atlas




# case id, x, y, status, reported, deadline, closed, problem type, description: a district whose
# escalation answers are known as of AS_OF (reminder 7 days, warning 30, recurring window 365)
ESCALATION_CASES = [
    ("D0", 100, 100, "已交办", "2026-09-01", "2026-11-27", "", "排水口", "到期当天"),
    ("D1", 300, 100, "已交办", "2026-09-01", "2026-11-26", "", "排水口", "超期一天"),
    ("R6", 500, 100, "整改中", "2026-09-01", "2026-11-21", "", "排水口", "超期六天"),
    ("R7", 700, 100, "整改中", "2026-09-01", "2026-11-20", "", "排水口", "超期七天"),
    ("R8", 900, 100, "整改中", "2026-09-01", "2026-11-19", "", "排水口", "超期八天"),
    ("W29", 1100, 100, "已交办", "2026-08-01", "2026-10-29", "", "排水口", "超期29天"),
    ("W30", 1300, 100, "已交办", "2026-08-01", "2026-10-28", "", "排水口", "超期30天"),
    ("W31", 1700, 100, "已交办", "2026-08-01", "2026-10-27", "", "排水口", "超期31天"),
    ("X", 1900, 300, "已销号", "2026-08-01", "2026-10-01", "2026-11-01", "排水口", "已销号"),
    ("P1", 2500, 500, "已销号", "2025-12-01", "2026-01-01", "2026-01-10", "生活污水直排", "前案"),
    ("P2", 2510, 500, "整改中", "2026-11-01", "2026-12-30", "", "生活污水直排", "反复，窗内"),
    ("Q1", 3000, 1500, "已销号", "2025-05-01", "2025-06-01", "2025-06-01 00:00", "排水口", "前案"),
    ("Q2", 3010, 1500, "整改中", "2026-06-03", "2026-12-30", "", "排水口", "反复，窗外"),
    ("E1", 3300, 1500, "已销号", "2025-05-01", "2025-06-01", "2025-06-01 00:00", "排水口", "前案"),
    ("E2", 3310, 1500, "整改中", "2026-06-01 00:00", "2026-12-30", "", "排水口", "反复，恰满窗口"),
    ("N1", 600, 1500, "待交办", "2026-11-24 10:00", "", "", "垃圾堆放", "请联系13800138000核实"),
    ("N2", 2600, 1200, "已交办", "2026-11-25", "2026-12-25", "", "排水口", "新增有期限"),
    ("N3", 800, 1500, "待交办", "2026-11-22", "", "", "排水口", "上周上报"),
    ("N4", 1000, 1500, "已销号", "2026-11-24", "", "2026-11-26", "排水口", "本周上报已销号"),
]


def escalation_cases_frame() -> pd.DataFrame:
    """ESCALATION_CASES as the tiny district's case export."""
    to_wgs = Transformer.from_crs(CRS, "EPSG:4326", always_xy=True)
    rows = []
    for case_id, x, y, status, reported, deadline, closed, kind, text in ESCALATION_CASES:
        lon, lat = (f"{v:.7f}" for v in to_wgs.transform(X0 + x, Y0 + y))
        rows.append({"问题编号": case_id, "上报时间": reported, "上报渠道": "广州河长APP",
                     "问题类型": kind, "所属镇街": "", "所属村居": "", "河涌名称": "",
                     "经度": lon, "纬度": lat, "处理状态": status, "整改期限": deadline,
                     "办结时间": closed, "问题描述": text, "上报人电话": "13800138000",
                     "是否有效": "是"})
    return pd.DataFrame(rows)


LETTERS_TOML = """
[letters]
office = "测试区河长制办公室"
number_template = "测河长办〔{year}〕{n}号"
deadline_days = { "垃圾堆放" = 7 }
accountability_warnings = 2
[letters.cc]
"440118001" = "区级河长甲"
"""


def escalation_config(folder, as_of: str = "2026-11-27", extra: str = LETTERS_TOML):
    """The tiny district with ESCALATION_CASES and a [letters] table; the loaded config."""
    from battlemap.config import load_config

    path = write_tiny_inputs(folder, escalation_cases_frame())
    text = path.read_text(encoding="utf-8").replace("as_of = 2026-11-27", f"as_of = {as_of}")
    path.write_text(text + extra, encoding="utf-8")
    return load_config(path, out_dir=folder / "output")

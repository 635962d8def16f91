"""Tests of the synthetic sample generator and of the committed ``data/`` files."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from battlemap.sample import write_sample
from battlemap.sample.reference import OUTLINES, load_reference, packaged_reference

DATA = Path(__file__).resolve().parents[1] / "data"
REF = Path(str(packaged_reference()))
FILES = ("boundaries/district.geojson", "boundaries/towns.geojson", "boundaries/villages.geojson",
         "boundaries/grids.geojson", "rivers/rivers.geojson", "context/context.geojson",
         "context/neighbours.geojson", "cases/cases.csv", "monitoring/monitoring.csv")
HEADER = ["问题编号", "上报时间", "上报渠道", "问题类型", "所属镇街", "所属村居", "河涌名称", "经度",
          "纬度", "处理状态", "整改期限", "办结时间", "问题描述", "上报人电话", "是否有效"]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path, dict]:
    """Three small datasets: two with the same seed, one with another."""
    base = tmp_path_factory.mktemp("sample")
    a, b, c = base / "a", base / "b", base / "c"
    summary = write_sample(a, scale=0.1)
    write_sample(b, scale=0.1)
    write_sample(c, scale=0.1, seed=7)
    return a, b, c, summary


def _read(name: str) -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / "boundaries" / f"{name}.geojson", engine="pyogrio")


@pytest.fixture(scope="module")
def levels() -> dict[str, gpd.GeoDataFrame]:
    return {n: _read(n).to_crs(4526) for n in ("district", "towns", "villages", "grids")}


@pytest.fixture(scope="module")
def cases() -> pd.DataFrame:
    return pd.read_csv(DATA / "cases" / "cases.csv", dtype=str, keep_default_na=False,
                       encoding="utf-8-sig")


# ---------------------------------------------------------------- generator


def test_same_seed_gives_identical_files(small: tuple[Path, Path, Path, dict]) -> None:
    a, b, _, _ = small
    for rel in FILES:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def test_other_seed_gives_other_cases(small: tuple[Path, Path, Path, dict]) -> None:
    a, _, c, _ = small
    assert (a / "cases/cases.csv").read_bytes() != (c / "cases/cases.csv").read_bytes()


def test_small_scale_counts(small: tuple[Path, Path, Path, dict]) -> None:
    a, _, _, summary = small
    rows = pd.read_csv(a / "cases/cases.csv", dtype=str, encoding="utf-8-sig")
    assert len(rows) == round(32_197 * 0.1) == summary["case_rows"]
    assert summary["villages"] == 370 and summary["grids"] == 370
    assert summary["channels"]["增城河长公众号有奖举报"] == round(1332 * 0.1)


def test_summary_lists_the_dirt(small: tuple[Path, Path, Path, dict]) -> None:
    dirt = small[3]["dirt"]
    assert dirt["html_descriptions"] == 3
    for key in ("outside_district", "blank_coordinates", "zero_coordinates",
                "swapped_coordinates", "non_numeric_coordinates", "unknown_status"):
        assert dirt[key] > 0, key


def test_committed_neighbours_are_the_generator_output(small: tuple[Path, Path, Path, dict]) -> None:
    """The neighbours layer does not depend on scale or seed: it matches data/ byte for byte."""
    a, _, c, summary = small
    rel = "context/neighbours.geojson"
    assert (a / rel).read_bytes() == (c / rel).read_bytes() == (DATA / rel).read_bytes()
    assert summary["neighbours"] == 6


def test_reference_is_read_from_the_package(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The reference data ship inside the package, so the generator needs no checkout."""
    monkeypatch.chdir(tmp_path)
    assert REF.parent.name == "sample" and REF.parent.parent.name == "battlemap"
    assert (REF / OUTLINES).is_file() and not (DATA / "reference").exists()
    district, dongguan, towns, villages = load_reference(packaged_reference())
    assert len(towns) == 13 and len(villages) == 370
    assert 1.5e9 < district.area < 1.7e9 and district.distance(dongguan) < 1.0   # ~1,616 km², borders 东莞


def test_bad_scale_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale"):
        write_sample(tmp_path, scale=0)


# ---------------------------------------------------------------- committed boundaries


def test_level_counts_and_official_codes(levels: dict[str, gpd.GeoDataFrame]) -> None:
    towns_ref = pd.read_csv(REF / "zengcheng_towns_2023.csv", dtype=str)
    villages_ref = pd.read_csv(REF / "zengcheng_villages_2023.csv", dtype=str)
    assert len(levels["district"]) == 1
    assert levels["district"]["code"].tolist() == ["440118"]
    assert levels["district"]["name"].tolist() == ["增城区"]
    towns, villages = levels["towns"], levels["villages"]
    assert dict(zip(towns["code"], towns["name"], strict=True)) == dict(
        zip(towns_ref["code"], towns_ref["name"], strict=True))
    assert dict(zip(villages["code"], villages["name"], strict=True)) == dict(
        zip(villages_ref["code"], villages_ref["name"], strict=True))
    assert dict(zip(villages["code"], villages["town_code"], strict=True)) == dict(
        zip(villages_ref["code"], villages_ref["streetCode"], strict=True))
    assert (towns["district_code"] == "440118").all()
    assert 1900 <= len(levels["grids"]) <= 2100


def test_grid_codes_extend_village_codes(levels: dict[str, gpd.GeoDataFrame]) -> None:
    grids = levels["grids"]
    assert grids["code"].str.fullmatch(r"\d{15}").all()
    assert grids["code"].is_unique
    assert (grids["code"].str[:12] == grids["village_code"]).all()
    assert set(grids["village_code"]) == set(levels["villages"]["code"])


def test_every_unit_has_a_chief(levels: dict[str, gpd.GeoDataFrame]) -> None:
    for frame in levels.values():
        assert frame["chief"].str.len().between(2, 4).all()


@pytest.mark.parametrize(("child", "parent", "key"), [
    ("towns", "district", "district_code"), ("villages", "towns", "town_code"),
    ("grids", "villages", "village_code")])
def test_children_nest_and_partition_their_parent(
        levels: dict[str, gpd.GeoDataFrame], child: str, parent: str, key: str) -> None:
    kids, parents = levels[child], levels[parent].set_index("code")
    assert kids.geometry.is_valid.all()
    inside = shapely.area(shapely.intersection(
        kids.geometry.values, parents.geometry.loc[kids[key]].values))
    assert (inside >= 0.999 * kids.area.to_numpy()).all()
    for code, group in kids.groupby(key):
        whole = parents.geometry.loc[code]
        assert group.area.sum() == pytest.approx(whole.area, rel=1e-3)
        assert shapely.union_all(group.geometry.values).area == pytest.approx(whole.area, rel=1e-3)


def test_neighbours_share_identical_vertices() -> None:
    villages = _read("villages")
    coords = [shapely.get_coordinates(g) for g in villages.geometry]
    all_pts = {tuple(p) for c in coords for p in c}
    touching = shapely.STRtree(villages.geometry.values).query(villages.geometry.values,
                                                               predicate="touches")
    assert touching.shape[1] > 0
    # every vertex of a shared border exists, identically, in both neighbours
    i, j = touching[:, touching[0] < touching[1]][:, :200]
    for a, b in zip(i, j, strict=True):
        shared = villages.geometry[a].intersection(villages.geometry[b])
        pts = shapely.get_coordinates(shared)
        assert all(tuple(p) in all_pts for p in pts)
        assert shared.geom_type in ("LineString", "MultiLineString", "Point", "MultiPoint",
                                    "GeometryCollection")


# ---------------------------------------------------------------- rivers, context


def test_rivers() -> None:
    rivers = gpd.read_file(DATA / "rivers" / "rivers.geojson")
    assert len(rivers) == 35
    assert rivers["code"].is_unique and rivers["name"].is_unique
    main = rivers[rivers["kind"] == "main"].set_index("code")
    assert set(main.index) == {"DJBG", "ZJ"}
    assert main.loc["DJBG", "name"] == "东江北干流" and main.loc["ZJ", "name"] == "增江"
    tribs = rivers[rivers["kind"] == "tributary"]
    assert sorted(tribs["code"]) == [f"T{k:02d}" for k in range(1, 34)]
    assert tribs["name"].str.endswith("（示例）").all()
    assert set(tribs["flows_into"]) <= {"DJBG", "ZJ"}
    proj = rivers.to_crs(4526).set_index("code")
    for code, row in proj[proj["kind"] == "tributary"].iterrows():
        mouth = shapely.Point(row.geometry.coords[-1])
        assert proj.geometry[row["flows_into"]].distance(mouth) < 1.0, code


def test_context_points() -> None:
    ctx = gpd.read_file(DATA / "context" / "context.geojson")
    assert sorted(ctx["kind"]) == ["monitoring_section"] * 5 + ["treatment_plant"]
    sections = ctx[ctx["kind"] == "monitoring_section"].set_index("code")
    assert sections.loc["GK001", ["river", "target", "section_kind"]].tolist() == ["DJBG", "Ⅲ类", "国考"]
    assert set(sections["section_kind"]) == {"国考", "省考", "市考", "交接断面"}
    towns = _read("towns").set_index("name")
    plant = ctx[ctx["kind"] == "treatment_plant"].geometry.iloc[0]
    assert towns.geometry["新塘镇"].contains(plant)


def test_neighbours_layer() -> None:
    """The real outlines of the districts around 增城区, without 增城区 itself."""
    neighbours = gpd.read_file(DATA / "context" / "neighbours.geojson")
    assert neighbours.crs.to_epsg() == 4326
    assert list(neighbours.columns) == ["adcode", "name", "geometry"]
    assert dict(zip(neighbours["adcode"], neighbours["name"], strict=True)) == {
        "440117": "从化区", "440112": "黄埔区", "440111": "白云区", "441900": "东莞市",
        "441322": "博罗县", "441324": "龙门县"}
    district = _read("district").to_crs(4526).geometry.iloc[0]
    around = neighbours.to_crs(4526)
    assert (around.intersection(district).area < 0.01 * district.area).all()
    assert (around.distance(district) < 10_000).all()  # 白云区 is ~7.5 km away, the rest touch


# ---------------------------------------------------------------- committed cases


def test_case_columns_and_bom() -> None:
    raw = (DATA / "cases" / "cases.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with (DATA / "cases" / "cases.csv").open(encoding="utf-8-sig", newline="") as fh:
        assert next(csv.reader(fh)) == HEADER


def test_case_counts_and_channels(cases: pd.DataFrame) -> None:
    assert len(cases) == 32_197
    chan = cases["上报渠道"].value_counts()
    assert chan["增城河长公众号有奖举报"] == 1332
    assert chan["河涌众采小程序"] == 1213
    assert chan["广州河长APP"] == 32_197 - 1332 - 1213
    reward = cases[cases["上报渠道"] == "增城河长公众号有奖举报"]
    assert (reward["是否有效"] == "是").sum() == 411
    others = cases[cases["上报渠道"] != "增城河长公众号有奖举报"]
    assert (others["是否有效"] == "是").all()


def test_case_dirt_present(cases: pd.DataFrame) -> None:
    assert 10 <= cases["问题编号"].duplicated().sum() <= 30
    lon = pd.to_numeric(cases["经度"], errors="coerce")
    assert (cases["经度"] == "").sum() >= 10
    assert (lon == 0).sum() >= 5
    assert ((lon > 20) & (lon < 30)).sum() >= 5  # swapped: a latitude in the 经度 column
    assert cases["问题描述"].str.contains("<script>", regex=False).sum() == 1
    known = {"待交办", "已交办", "整改中", "已销号", "已派发", "处理中", "已办结"}
    assert 5 <= (~cases["处理状态"].isin(known)).sum() <= 20
    assert cases["上报人电话"].str.fullmatch(r"1[358]\d{9}").all()


def test_case_dates_and_states(cases: pd.DataFrame) -> None:
    iso = cases["上报时间"].str.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
    assert 0.8 < iso.mean() < 0.9
    assert cases["上报时间"].str.contains("年").mean() > 0.01
    assert cases["上报时间"].str.fullmatch(r"\d{5}\.\d+").sum() > 100
    reported = pd.to_datetime(cases["上报时间"].where(iso), format="%Y-%m-%d %H:%M")
    assert reported.min() >= pd.Timestamp("2019-01-01")
    assert reported.max() <= pd.Timestamp("2026-11-28")
    closed = cases["处理状态"].isin(["已销号", "已办结"])
    assert 0.90 <= closed.mean() <= 0.96
    assert (cases.loc[closed, "办结时间"] != "").all()
    open_ = cases["处理状态"].isin(["待交办", "已交办", "整改中", "已派发", "处理中"])
    assert (cases.loc[open_, "办结时间"] == "").all()
    deadline = pd.to_datetime(cases["整改期限"], format="%Y-%m-%d")
    overdue = open_ & (deadline < pd.Timestamp(dt.date(2026, 11, 27)))
    assert 100 <= overdue.sum() <= 800


def test_case_positions_are_gcj02_inside_the_district(cases: pd.DataFrame) -> None:
    lon = pd.to_numeric(cases["经度"], errors="coerce")
    lat = pd.to_numeric(cases["纬度"], errors="coerce")
    ok = lon.between(113.5, 114.1) & lat.between(23.0, 23.7)
    assert ok.mean() > 0.99
    district = _read("district").geometry.iloc[0]
    # GCJ-02 is offset from WGS84 by a few hundred metres; shifted back it falls inside
    inside = shapely.contains_xy(district, lon[ok] - 0.0051, lat[ok] + 0.0029)
    assert inside.mean() > 0.97
    assert np.isclose(lon[ok].round(6), lon[ok]).all()

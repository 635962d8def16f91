"""Join: hand-drawn shapes and points whose answers are known."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from conftest import X0, Y0, tiny_rivers
from shapely.geometry import LineString, MultiLineString, Point

from battlemap._findings import Findings
from battlemap.join import (
    age_band_labels,
    current_period,
    derive_lifecycle,
    join_cases,
    join_rivers,
    river_stretches,
    split_lines,
)


def _cases(points: dict[str, tuple[float, float]], **columns) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {"source_row": range(2, len(points) + 2), "declared_town": "", "declared_village": "",
         **columns},
        geometry=[Point(X0 + x, Y0 + y) for x, y in points.values()],
        index=pd.Index(list(points), name="case_id"), crs="EPSG:4526")
    return frame


def test_located_in_the_hierarchy(tiny_prepared) -> None:
    cases = tiny_prepared.atlas.cases
    assert cases.loc["C01", ["grid_id", "village_id", "town_id", "district_id"]].tolist() == [
        "440118001001001", "440118001001", "440118001", "440118"]
    assert cases.loc["C10", "grid_id"] == "440118002002002"


def test_shared_edge_goes_to_smaller_id(tiny_prepared) -> None:
    # C02 lies on x = 1000, the edge between grids …001001001 and …001001002
    assert tiny_prepared.atlas.cases.loc["C02", "grid_id"] == "440118001001001"


def test_gap_point_within_tolerance_goes_to_nearest_grid(tiny_config) -> None:
    units = _tiny_units(tiny_config)
    grids = units["grid"].copy()
    target = "440118002002002"  # shrink it: a 100 m gap opens along the district's east edge
    grids.loc[target, "geometry"] = grids.geometry[target].buffer(-100, join_style="mitre")
    units["grid"] = grids
    findings = Findings()
    joined = join_cases(_cases({"near": (3930, 1500), "far": (3990, 1500)}), units,
                        tiny_config, findings)
    assert joined.loc["near", "grid_id"] == target  # 30 m from the grid, tolerance 50 m
    assert findings.rejected_frame()["case_id"].tolist() == ["far"]  # 90 m: rejected


def test_point_beyond_tolerance_is_rejected(tiny_config) -> None:
    units = _tiny_units(tiny_config)
    grids = units["grid"].copy()
    target = "440118002002002"
    grids.loc[target, "geometry"] = grids.geometry[target].buffer(-200, join_style="mitre")
    units["grid"] = grids
    findings = Findings()
    joined = join_cases(_cases({"inner": (3500, 1500), "gap": (3900, 1500)}), units,
                        tiny_config, findings)
    assert list(joined.index) == ["inner"]
    rejected = findings.rejected_frame()
    assert rejected["case_id"].tolist() == ["gap"]
    assert rejected["reason_code"].tolist() == ["outside_grids"]
    assert rejected["detail"].tolist() == [
        "is 100 m from the nearest grid 440118002002002, beyond join.gap_tolerance_m = 50 m; "
        "a gap between grids?"]


def test_declared_mismatch(tiny_prepared) -> None:
    cases = tiny_prepared.atlas.cases
    assert bool(cases.loc["C04", "declared_mismatch"])  # declared 乙一村, lies in 乙二村
    assert not cases.drop(index="C04")["declared_mismatch"].any()


def test_equidistant_rivers_go_to_smaller_id(tiny_config) -> None:
    rivers = tiny_rivers().set_index("code")
    rivers.index.name = "river_id"
    cases = _cases({"mid": (2500, 1500), "t2": (3400, 1500), "main": (2500, 100),
                    "none": (2500, 1500)})
    cases.loc["none", "geometry"] = Point(X0 + 2500, Y0 + 5000)
    joined = join_rivers(cases, rivers, tiny_config)
    assert joined.loc["mid", "river_id"] == "T1"
    assert joined.loc["mid", "river_distance_m"] == pytest.approx(1000)
    assert joined.loc["t2", "river_id"] == "T2"
    # the nearest river wins, a main stem too: 50 m from M, 1,000 m from T1
    assert joined.loc["main", "river_id"] == "M"
    assert joined.loc["main", "river_distance_m"] == pytest.approx(50)
    assert joined.loc["none", "river_id"] == ""


def test_main_stem_when_no_tributary_within_reach(tiny_config) -> None:
    rivers = tiny_rivers().set_index("code")
    rivers.index.name = "river_id"
    cases = _cases({"far": (-1900, 60)})  # 3.4 km from T1, 1.8 km from the main stem
    joined = join_rivers(cases, rivers, tiny_config)
    assert joined.loc["far", "river_id"] == "M"


def test_split_lines_keeps_geometry() -> None:
    rivers = tiny_rivers().set_index("code")
    segments = split_lines(rivers)
    assert len(segments) == 3
    assert segments.geometry.length.sum() == pytest.approx(rivers.length.sum())


@pytest.mark.parametrize("vertices", [2, 3, 9, 50])
def test_split_lines_pieces_cover_every_segment_once(vertices: int, tiny_config) -> None:
    zigzag = LineString([(X0 + 100 * k, Y0 + (300 if k % 2 else 0)) for k in range(40)])
    rivers = gpd.GeoDataFrame({"code": ["Z", "S", "P"]}, crs="EPSG:4526", geometry=[
        zigzag, LineString([(X0, Y0 - 500), (X0 + 4000, Y0 - 500)]),
        MultiLineString([[(X0, Y0 + 900), (X0 + 50, Y0 + 950), (X0 + 90, Y0 + 900)],
                         [(X0 + 200, Y0 + 900), (X0 + 300, Y0 + 990)]])]).set_index("code")
    pieces = split_lines(rivers, vertices)
    assert pieces.geometry.length.sum() == pytest.approx(rivers.length.sum(), rel=1e-12)
    assert shapely.get_num_coordinates(pieces.geometry.values).max() <= vertices
    assert pieces.groupby("river_id").size().to_dict() == {  # ⌈segments / (vertices − 1)⌉ a part
        "Z": -(-39 // (vertices - 1)), "S": 1, "P": -(-2 // (vertices - 1)) + 1}
    for river_id, line in rivers.geometry.items():   # the same vertices, in order, none lost
        own = pieces[pieces["river_id"] == river_id].geometry
        assert shapely.equals(shapely.line_merge(shapely.union_all(own.values)),
                              shapely.line_merge(line))
    points = [Point(X0 + x, Y0 + y) for x in range(-150, 4100, 37) for y in (-700, -260, 150, 310, 920)]
    cases = gpd.GeoDataFrame(geometry=points, crs="EPSG:4526",
                             index=pd.Index([f"C{k}" for k in range(len(points))], name="case_id"))
    joined = join_rivers(cases, rivers.rename_axis("river_id"), tiny_config)
    distance = pd.DataFrame({r: rivers.geometry[r].distance(cases.geometry) for r in rivers.index})
    assert (joined["river_distance_m"] == distance.min(axis=1)).all()   # to the last bit
    assert (joined["river_id"] == distance.idxmin(axis=1)).all()


def test_river_stretches(tiny_config) -> None:
    units = _tiny_units(tiny_config)
    rivers = tiny_rivers().set_index("code")
    rivers.index.name = "river_id"
    stretches = river_stretches(units, rivers)
    town1 = stretches[(stretches["level"] == "town") & (stretches["unit_id"] == "440118001")]
    lengths = dict(zip(town1["river_id"], town1["length_m"], strict=True))
    assert lengths == pytest.approx({"M": 2000, "T1": 1950})


def _lifecycle_frame(rows: list[tuple]) -> gpd.GeoDataFrame:
    ids = [r[0] for r in rows]
    frame = _cases({r[0]: (r[1], 500) for r in rows})
    frame["state"] = [r[2] for r in rows]
    frame["reported_at"] = pd.to_datetime([r[3] for r in rows])
    frame["deadline"] = pd.to_datetime([r[4] for r in rows])
    frame["closed_at"] = pd.to_datetime([r[5] for r in rows])
    assert list(frame.index) == ids
    return frame


def test_overdue_and_days(tiny_config) -> None:
    frame = _lifecycle_frame([
        ("late", 100, "assigned", "2026-10-01", "2026-11-20", None),
        ("due_today", 300, "assigned", "2026-10-01", "2026-11-27", None),
        ("closed_late", 500, "closed", "2026-10-01", "2026-10-10", "2026-11-01"),
    ])
    out = derive_lifecycle(frame, tiny_config)  # as of 2026-11-27
    assert out["overdue"].tolist() == [True, False, False]
    assert out["days_overdue"].tolist() == [7, 0, 0]
    assert out.loc["closed_late", "days_open"] == 31


def test_invalid_and_void_cases_are_never_overdue_nor_recurring(tiny_config) -> None:
    frame = _lifecycle_frame([
        ("old", 100, "closed", "2025-01-01", "2025-02-01", "2025-01-10"),
        ("late", 110, "assigned", "2026-01-09", "2026-11-20", None),        # recurring, overdue
        ("late_invalid", 120, "assigned", "2026-01-09", "2026-11-20", None),
        ("late_void", 130, "void", "2026-01-09", "2026-11-20", None),
        ("closed_invalid", 500, "closed", "2025-01-01", "2025-02-01", "2025-01-10"),
        ("after_invalid", 510, "reported", "2026-01-09", "2026-12-20", None),  # near it only
    ])
    frame["valid"] = [True, True, False, True, False, True]
    out = derive_lifecycle(frame, tiny_config)
    assert out["counted"].to_dict() == {"old": True, "late": True, "late_invalid": False,
                                        "late_void": False, "closed_invalid": False,
                                        "after_invalid": True}
    assert out["overdue"].tolist() == [False, True, False, False, False, False]
    assert out["days_overdue"].tolist() == [0, 7, 0, 0, 0, 0]
    assert out["recurring"].tolist() == [False, True, False, False, False, False]


def test_age_bands_use_the_one_list_of_labels(tiny_config) -> None:
    assert age_band_labels((30, 90, 180, 365)) == ["0–30天", "31–90天", "91–180天", "181–365天",
                                                   ">365天"]
    bounds = tiny_config.lifecycle.age_bands_days
    labels = age_band_labels(bounds)
    frame = _lifecycle_frame([
        ("fresh", 100, "assigned", "2026-11-27", "2026-12-20", None),         # 0 days
        ("month", 200, "assigned", f"{dt.date(2026, 11, 27) - dt.timedelta(bounds[0] + 1)}",
         "2026-12-20", None),                                                  # first day of band 2
        ("old", 300, "assigned", "2019-01-01", "2019-02-01", None),
    ])
    out = derive_lifecycle(frame, tiny_config)
    assert out["age_band"].tolist() == [labels[0], labels[1], labels[-1]]


def test_recurring_window_edges(tiny_config) -> None:
    frame = _lifecycle_frame([
        ("old", 100, "closed", "2025-01-01", "2025-02-01", "2025-01-10"),
        ("inside", 120, "reported", "2026-01-09", "2026-02-01", None),   # 364 days later, 20 m
        ("outside", 110, "reported", "2026-01-12", "2026-02-01", None),  # 367 days later
        ("far", 200, "reported", "2025-06-01", "2025-07-01", None),      # 100 m away
    ])
    out = derive_lifecycle(frame, tiny_config)
    assert out["recurring"].to_dict() == {"old": False, "inside": True, "outside": False,
                                          "far": False}


def test_current_period() -> None:
    assert current_period(dt.date(2026, 11, 27), "week") == (dt.date(2026, 11, 23),
                                                              dt.date(2026, 11, 27))
    assert current_period(dt.date(2026, 11, 27), "month") == (dt.date(2026, 11, 1),
                                                               dt.date(2026, 11, 27))


def _tiny_units(config) -> dict[str, gpd.GeoDataFrame]:
    from battlemap.load import load_boundaries
    from battlemap.validate import validate_boundaries

    return validate_boundaries(load_boundaries(config), config, Findings())


def test_catchment_polygons_rule_over_distance(tiny_config_path) -> None:
    from shapely.geometry import box

    from battlemap.build import prepare
    from battlemap.config import load_config

    folder = tiny_config_path.parent
    # the east half drains to T1 by catchment, though T2 is nearer there; one catchment is unknown
    gpd.GeoDataFrame({"river_code": ["T1", "NOPE"]},
                     geometry=[box(X0 + 2000, Y0, X0 + 4000, Y0 + 2000), box(X0, Y0, X0 + 10, Y0 + 10)],
                     crs="EPSG:4526").to_file(folder / "catchments.gpkg", engine="pyogrio")
    text = tiny_config_path.read_text(encoding="utf-8")
    tiny_config_path.write_text(text + '\n[catchments]\npath = "catchments.gpkg"\n', encoding="utf-8")
    prepared = prepare(load_config(tiny_config_path))
    cases = prepared.atlas.cases
    east = cases[cases["town_id"] == "440118002"]
    assert len(east) and (east["river_id"] == "T1").all()
    assert (east["river_distance_m"] > 1000).all()  # distance to T1, not to the nearer T2
    west = cases[cases["town_id"] == "440118001"]
    rivers = tiny_rivers().set_index("code")
    nearest = [rivers.distance(point).idxmin() for point in west.geometry]
    assert west["river_id"].tolist() == nearest     # by distance, main stem included
    assert set(nearest) == {"M", "T1"}
    assert prepared.findings.warning_counts().get("unknown_river") == 1

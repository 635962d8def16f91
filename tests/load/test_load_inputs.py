"""load.inputs: the configured layers, here the neighbouring districts, through the canonical loader."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from conftest import X0, Y0, write_tiny_inputs
from shapely.geometry import Point, box

from battlemap.config import load_config
from battlemap.errors import ConfigError, InputError
from battlemap.load import load_neighbours, load_rivers


def _with_neighbours(tmp_path: Path, frame: gpd.GeoDataFrame, extra: str = "") -> Path:
    """The tiny district with a ``[neighbours]`` layer written as WGS84 GeoJSON."""
    folder = tmp_path / "tiny"
    config = write_tiny_inputs(folder)
    frame.to_crs("EPSG:4326").to_file(folder / "neighbours.geojson", engine="pyogrio")
    with config.open("a", encoding="utf-8") as fh:
        fh.write(f'\n[neighbours]\npath = "neighbours.geojson"\nid_field = "adcode"\n{extra}')
    return config


def _neighbour_frame(geometry) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"adcode": [440999, 440118], "name": [" 邻区 ", "测试区"]},
                            geometry=geometry, crs="EPSG:4526")


def test_neighbours_load_through_the_canonical_loader(tmp_path):
    east = box(X0 + 4000, Y0, X0 + 8000, Y0 + 2000)
    config = load_config(_with_neighbours(tmp_path, _neighbour_frame(
        [east, box(X0, Y0, X0 + 4000, Y0 + 2000)])))
    frame = load_neighbours(config)
    assert frame.crs.to_epsg() == 4526
    assert frame["neighbour_id"].tolist() == ["440999", "440118"]   # ids as clean text
    assert frame["name"].tolist() == ["邻区", "测试区"]
    assert shapely.equals_exact(frame.geometry.iloc[0], east, tolerance=0.01)
    assert load_neighbours(load_config(write_tiny_inputs(tmp_path / "bare"))) is None


def test_neighbours_must_be_polygons_and_their_keys_are_checked(tmp_path):
    points = [Point(X0 + 5000, Y0 + 500), Point(X0 - 500, Y0 + 500)]
    config = load_config(_with_neighbours(tmp_path / "a", _neighbour_frame(points)))
    with pytest.raises(InputError, match=r"neighbours\.geojson: this layer must hold polygons"):
        load_neighbours(config)
    bad = _with_neighbours(tmp_path / "b", _neighbour_frame(points), 'kind_field = "kind"\n')
    with pytest.raises(ConfigError) as info:
        load_config(bad)
    assert any("neighbours.kind_field: unknown key" in p for p in info.value.problems)


def _with_river_chiefs(tmp_path: Path, chiefs: list[str] | None) -> Path:
    """The tiny district whose rivers carry a ``chief`` field (None: the field is configured but absent)."""
    folder = tmp_path / "tiny"
    config = write_tiny_inputs(folder)
    if chiefs is not None:
        rivers = gpd.read_file(folder / "rivers.gpkg", engine="pyogrio")
        rivers.assign(chief=chiefs).to_file(folder / "rivers.gpkg", engine="pyogrio")
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace('[rivers]\npath = "rivers.gpkg"\n',
                                   '[rivers]\npath = "rivers.gpkg"\nchief_field = "chief"\n'),
                      encoding="utf-8")
    return config


def test_rivers_carry_their_chief_when_the_field_is_configured(tmp_path):
    frame = load_rivers(load_config(_with_river_chiefs(tmp_path / "a", [" 干流河长 ", None, "二涌河长"])))
    assert frame["chief"].tolist() == ["干流河长", "", "二涌河长"]
    bare = load_rivers(load_config(write_tiny_inputs(tmp_path / "bare")))
    assert bare["chief"].tolist() == ["", "", ""]
    with pytest.raises(InputError, match="chief"):
        load_rivers(load_config(_with_river_chiefs(tmp_path / "b", None)))

"""load.layers: every vector format and CRS an office has, through read_layer."""

from __future__ import annotations

import re

import numpy as np
import pytest
import shapely
from conftest import X0, Y0
from load_helpers import TOWN_FIELDS, TOWN_NAMES, notes, read_towns, towns, write_shapefile
from shapely.geometry import Point

from battlemap.config import LayerConfig
from battlemap.errors import InputError
from battlemap.load import read_layer


@pytest.mark.parametrize("name, layer", [("towns.shp", None), ("all.gpkg", "town"),
                                         ("towns.geojson", None)])
def test_every_vector_format_reads_the_same(tmp_path, name, layer):
    path = tmp_path / name
    towns().to_file(path, layer=layer, engine="pyogrio")
    frame = read_towns(path, layer=layer)
    assert frame["name"].tolist() == TOWN_NAMES
    assert frame["unit_id"].tolist() == ["440118001", "440118002"]
    assert frame["feature"].tolist() == [1, 2]
    assert frame.crs.to_epsg() == 4526
    assert frame.geometry.area.round().tolist() == [4_000_000, 4_000_000]
    assert notes(frame) == []


def test_geopackage_without_the_named_layer_lists_its_layers(tmp_path):
    path = tmp_path / "all.gpkg"
    towns().to_file(path, layer="town", engine="pyogrio")
    with pytest.raises(InputError, match=r"Layers in the file: \['town'\]"):
        read_towns(path, layer="towns")


def test_missing_field_lists_the_fields_and_a_close_match(tmp_path):
    path = tmp_path / "towns.gpkg"
    towns().rename(columns={"district": "distric"}).to_file(path, engine="pyogrio")
    with pytest.raises(InputError) as error:
        read_towns(path)
    assert "['district']" in str(error.value) and "'distric'" in str(error.value)


def test_wrong_geometry_type_is_refused_by_feature(tmp_path):
    path = tmp_path / "towns.gpkg"
    frame = towns()
    frame.loc[1, "geometry"] = Point(X0 + 10, Y0 + 10)
    frame.to_file(path, engine="pyogrio")
    with pytest.raises(InputError, match="polygons") as error:
        read_towns(path)
    assert error.value.problems == ["feature 2: Point"]


def test_epsg_4526_lands_where_it_should(tmp_path):
    """4526 is northing-first by definition; geopandas keeps (easting, northing) with zone 38."""
    path = tmp_path / "towns.gpkg"
    towns().to_file(path, engine="pyogrio")
    frame = read_layer(LayerConfig(path=path), "EPSG:4326", TOWN_FIELDS)
    west, south, east, north = frame.total_bounds
    # X0 = 38 479 000: zone 38, 21 km west of the 114°E central meridian; Y0 ≈ 23.19°N.
    assert 113.79 < west < 113.80 and 113.83 < east < 113.84
    assert 23.19 < south < 23.20 and 23.20 < north < 23.22


@pytest.mark.parametrize("epsg", [4490, 4326, 4526])
def test_every_crs_gives_the_same_analysis_geometry(tmp_path, epsg):
    path = tmp_path / f"towns_{epsg}.geojson"
    towns().to_crs(epsg).to_file(path, engine="pyogrio")
    frame = read_towns(path)
    assert frame.crs.to_epsg() == 4526
    expected = towns().geometry.values
    assert np.all(shapely.hausdorff_distance(frame.geometry.values, expected) < 0.05)


def test_no_crs_and_none_configured_is_an_error(tmp_path):
    path = tmp_path / "towns.shp"
    towns().to_file(path, engine="pyogrio")
    path.with_suffix(".prj").unlink()
    with pytest.raises(InputError, match=r"carries no CRS.*EPSG:4490"):
        read_towns(path)


def test_no_crs_in_file_uses_the_configured_one(tmp_path):
    path = tmp_path / "towns.shp"
    towns().to_file(path, engine="pyogrio")
    path.with_suffix(".prj").unlink()
    frame = read_towns(path, crs="EPSG:4526")
    assert frame.geometry.area.round().tolist() == [4_000_000, 4_000_000]


def test_projected_coordinates_in_plain_geojson_need_the_configured_crs(tmp_path):
    """GeoJSON without a crs member is WGS84 by definition; metres there are a wrong export."""
    path = tmp_path / "towns.geojson"
    frame = towns()
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        frame.set_crs(None, allow_override=True).to_file(path, engine="pyogrio")
    with pytest.raises(InputError, match=r"outside China.*not degrees"):
        read_towns(path)
    fixed = read_towns(path, crs="EPSG:4526")
    assert fixed.geometry.area.round().tolist() == [4_000_000, 4_000_000]
    assert [n.kind for n in notes(fixed)] == ["crs_overridden"]


def test_eastings_without_zone_prefix_are_caught(tmp_path):
    path = tmp_path / "towns.gpkg"
    frame = towns()
    frame["geometry"] = shapely.transform(frame.geometry.values, lambda xy: xy - [38_000_000, 0])
    frame.to_file(path, engine="pyogrio")
    with pytest.raises(InputError, match=r"zone prefix.*EPSG:4547"):
        read_towns(path)


@pytest.mark.parametrize("name, content, expected", [
    ("towns.gpkg", b"", "is empty (0 bytes)"),
    ("towns.geojson", b'{"type": "FeatureCollection", "features": [', "cannot be read as a vector "
     "layer (Shapefile, GeoPackage or GeoJSON)"),
    ("towns.gpkg", "编号,名称\n1,甲镇\n".encode(), "cannot be read as a vector layer"),
    ("towns.gpkg", bytes(range(256)) * 8, "its content is no format battlemap reads"),
])
def test_unreadable_layers_in_our_words(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=re.escape(expected)) as error:
        read_towns(path)
    assert "DRIVER" not in str(error.value) and "not recognized" not in str(error.value)


def test_a_shapefile_without_its_shx_says_so(tmp_path):
    path = write_shapefile(towns(), tmp_path / "towns.shp", "UTF-8")
    path.with_suffix(".shx").unlink()
    with pytest.raises(InputError, match=r"a Shapefile without its \.shx beside it"):
        read_towns(path)

"""load.encodings: a .dbf in GBK with or without .cpg, read right or explained."""

from __future__ import annotations

import geopandas as gpd
import pytest
from load_helpers import TOWN_NAMES, notes, read_towns, towns, write_shapefile

from battlemap.errors import ConfigError, InputError


def test_gdal_reads_a_gbk_dbf_without_cpg_as_latin1(tmp_path):
    """What GDAL does on its own: ISO-8859-1, hence mojibake. The loader must not stop there."""
    path = write_shapefile(towns(), tmp_path / "towns.shp", "GBK", cpg=None)
    raw = gpd.read_file(path, engine="pyogrio")
    assert raw["name"].tolist() == [n.encode("gbk").decode("latin-1") for n in TOWN_NAMES]


def test_gbk_dbf_with_cpg_reads_cleanly(tmp_path):
    path = write_shapefile(towns(), tmp_path / "towns.shp", "GBK")
    assert path.with_suffix(".cpg").read_text().strip().upper() in ("GBK", "CP936", "936")
    frame = read_towns(path)
    assert frame["name"].tolist() == TOWN_NAMES
    assert notes(frame) == []


def test_gbk_dbf_without_cpg_is_decoded_with_a_warning(tmp_path):
    path = write_shapefile(towns(), tmp_path / "towns.shp", "GBK", cpg=None)
    frame = read_towns(path)
    assert frame["name"].tolist() == TOWN_NAMES
    [finding] = notes(frame)
    assert finding.kind == "encoding_guessed"
    assert finding.file == str(path)
    assert "'name'" in finding.message and 'encoding = "GBK"' in finding.message
    assert "ISO-8859-1" in finding.message


def test_gbk_dbf_without_cpg_and_configured_encoding_is_silent(tmp_path):
    path = write_shapefile(towns(), tmp_path / "towns.shp", "GBK", cpg=None)
    frame = read_towns(path, encoding="GBK")
    assert frame["name"].tolist() == TOWN_NAMES
    assert notes(frame) == []


def test_cpg_that_lies_is_overruled_with_a_warning(tmp_path):
    path = write_shapefile(towns(), tmp_path / "towns.shp", "GBK", cpg="UTF-8")
    frame = read_towns(path)
    assert frame["name"].tolist() == TOWN_NAMES
    assert [n.kind for n in notes(frame)] == ["encoding_guessed"]


@pytest.mark.parametrize("data, configured, right", [("GBK", "UTF-8", "GBK"),
                                                     ("UTF-8", "GBK", "UTF-8"),
                                                     ("GBK", "ISO-8859-1", "GBK")])
def test_wrong_configured_encoding_is_an_error_naming_the_field_and_the_fix(
        tmp_path, data, configured, right):
    path = write_shapefile(towns(), tmp_path / "towns.shp", data, cpg=None)
    with pytest.raises(InputError) as error:
        read_towns(path, encoding=configured)
    message = str(error.value)
    assert str(path) in message and "'name'" in message
    assert f'encoding = "{right}"' in message


def test_unknown_configured_encoding_is_a_config_error(tmp_path):
    path = write_shapefile(towns(), tmp_path / "towns.shp", "GBK")
    with pytest.raises(ConfigError, match="klingon"):
        read_towns(path, encoding="klingon")

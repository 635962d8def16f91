"""load: every format, encoding and CRS an office has, through the one canonical loader."""

from __future__ import annotations

import datetime as dt
import functools
import re
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from conftest import TINY_TOML, X0, Y0, tiny_cases_frame, tiny_units, write_tiny_inputs
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from battlemap._findings import NOTES, Findings
from battlemap.config import CasesConfig, LayerConfig, load_config
from battlemap.errors import ConfigError, InputError
from battlemap.load import read_case_table, read_layer

TOWN_FIELDS = {"unit_id": "code", "name": "name", "parent_id": "district"}
TOWN_NAMES = ["甲镇", "乙镇"]


def towns() -> gpd.GeoDataFrame:
    """The tiny district's two towns (field names short enough for a .dbf)."""
    return tiny_units()["town"].rename(columns={"district_code": "district"})


def notes(frame: pd.DataFrame) -> list:
    return list(frame.attrs.get(NOTES, []))


def read_towns(path: Path, **layer: object) -> gpd.GeoDataFrame:
    return read_layer(LayerConfig(path=path, **layer), "EPSG:4526", TOWN_FIELDS, kind="polygon")


def write_shapefile(frame: gpd.GeoDataFrame, path: Path, encoding: str,
                    cpg: str | None = "keep") -> Path:
    """A shapefile with its .dbf in ``encoding``.

    ``cpg=None`` deletes the .cpg; a string rewrites it.
    """
    frame.to_file(path, engine="pyogrio", encoding=encoding)
    cpg_path = path.with_suffix(".cpg")
    if cpg is None:
        cpg_path.unlink(missing_ok=True)
    elif cpg != "keep":
        cpg_path.write_text(cpg)
    return path


# --- formats ----------------------------------------------------------------

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


# --- encodings of .dbf files ------------------------------------------------

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


# --- coordinate reference systems --------------------------------------------

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


# --- case tables ------------------------------------------------------------

def cases_config(path: Path, **extra: object) -> CasesConfig:
    config = load_config(write_tiny_inputs(path.parent / "cfg"))
    return config.cases.model_copy(update={"path": path, **extra})


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_csv_encodings_are_detected(tmp_path, encoding):
    path = tmp_path / "cases.csv"
    frame = tiny_cases_frame()
    frame.loc[0, "问题描述"] = "河涌𠀾边有垃圾" if encoding == "gb18030" else "河涌边有垃圾"
    frame.to_csv(path, index=False, encoding=encoding, sep="\t" if encoding == "utf-16" else ",")
    table = read_case_table(cases_config(path)).table
    assert table["description"].iloc[0] == frame.loc[0, "问题描述"]
    assert table["declared_town"].iloc[0] == "甲镇"
    kinds = [n.kind for n in notes(table)]
    assert kinds == ([] if encoding.startswith("utf-8") else ["encoding_detected"])


def test_configured_csv_encoding_is_used_and_a_wrong_one_explained(tmp_path):
    path = tmp_path / "cases.csv"
    tiny_cases_frame().to_csv(path, index=False, encoding="gbk")
    table = read_case_table(cases_config(path, encoding="GBK")).table
    assert table["declared_town"].iloc[0] == "甲镇" and notes(table) == []
    with pytest.raises(InputError, match=r'not in the configured encoding UTF-8.*"gb18030"'):
        read_case_table(cases_config(path, encoding="UTF-8"))
    with pytest.raises(InputError, match=r"garbled.*encoding"):
        read_case_table(cases_config(path, encoding="latin-1"))


def test_missing_mapped_column_is_one_error_listing_the_file_columns(tmp_path):
    path = tmp_path / "cases.csv"
    tiny_cases_frame().drop(columns=["经度", "处理状态"]).rename(
        columns={"纬度": "纬度 "}).to_csv(path, index=False)
    with pytest.raises(InputError) as error:
        read_case_table(cases_config(path))
    message = str(error.value)
    assert "['经度', '处理状态'] not found" in message
    assert "'问题编号', '上报时间'" in message and "[cases.columns]" in message


def test_title_row_above_the_header_is_skipped_and_rows_numbered_as_excel_shows(tmp_path):
    path = tmp_path / "cases.csv"
    body = tiny_cases_frame().to_csv(index=False)
    path.write_text("增城区河长办问题清单（导出）\n" + body, encoding="utf-8-sig")
    table = read_case_table(cases_config(path)).table
    assert table["case_id"].iloc[0] == "C01"
    assert table["source_row"].iloc[0] == 3


def test_blank_rows_are_not_cases(tmp_path):
    path = tmp_path / "cases.csv"
    frame = tiny_cases_frame()
    blank = pd.DataFrame([[""] * frame.shape[1]], columns=frame.columns)
    pd.concat([frame.iloc[:2], blank, frame.iloc[2:]]).to_csv(path, index=False)
    table = read_case_table(cases_config(path)).table
    assert len(table) == len(frame)
    assert 4 not in table["source_row"].tolist()
    assert [n.kind for n in notes(table)] == ["blank_rows"]


def test_private_columns_are_dropped_and_phone_numbers_masked(tmp_path):
    path = tmp_path / "cases.csv"
    frame = tiny_cases_frame()
    frame["联系手机"] = "13912345678"
    frame.loc[0, "问题描述"] = "请回电13800138000，身份证440101199001011234"
    frame.to_csv(path, index=False)
    result = read_case_table(cases_config(path))
    everything = result.table.to_csv() + result.original.to_csv()
    assert "13800138000" not in everything and "13912345678" not in everything
    assert "440101199001011234" not in everything
    assert "上报人电话" not in result.original and "联系手机" not in result.original
    assert result.table["description"].iloc[0].startswith("请回电138****8000")
    assert [n.kind for n in notes(result.table)] == ["private_column"]


def write_xlsx(path: Path, rows: list[list[object]], sheet: str = "Sheet1",
               other: str | None = None) -> Path:
    book = openpyxl.Workbook()
    if other:
        book.active.title = other
        book.active.append(["说明"])
        sheet_ = book.create_sheet(sheet)
    else:
        sheet_ = book.active
        sheet_.title = sheet
    for row in rows:
        sheet_.append(row)
    book.save(path)
    return path


def xlsx_rows() -> list[list[object]]:
    frame = tiny_cases_frame()
    rows: list[list[object]] = [list(frame.columns)]
    for record in frame.to_dict("records"):
        rows.append([record[c] for c in frame.columns])
    # real cell types: a datetime, a float serial, numbers for coordinates
    rows[1][1] = dt.datetime(2026, 1, 5, 9, 0)
    rows[2][1] = 46331.354166666664  # 2026-11-05 08:30 as an Excel serial
    rows[1][7], rows[1][8] = float(rows[1][7]), float(rows[1][8])
    return rows


def test_xlsx_first_sheet_with_real_cell_types(tmp_path):
    path = write_xlsx(tmp_path / "cases.xlsx", xlsx_rows())
    table = read_case_table(cases_config(path)).table
    assert len(table) == len(tiny_cases_frame())
    assert table["reported_at"].iloc[0] == "2026-01-05 09:00:00"
    assert table["case_id"].iloc[0] == "C01"
    from battlemap.validate import parse_datetimes
    parsed = parse_datetimes(table["reported_at"].iloc[:2])
    assert parsed.tolist() == [pd.Timestamp("2026-01-05 09:00"), pd.Timestamp("2026-11-05 08:30")]


def test_xlsx_named_sheet_and_a_missing_one(tmp_path):
    path = write_xlsx(tmp_path / "cases.xlsx", xlsx_rows(), sheet="案件", other="封面")
    table = read_case_table(cases_config(path, sheet="案件")).table
    assert table["case_id"].iloc[0] == "C01"
    with pytest.raises(InputError, match=r"no sheet named '问题'.*\['封面', '案件'\]"):
        read_case_table(cases_config(path, sheet="问题"))
    with pytest.raises(InputError, match="set \\[cases\\] sheet"):
        read_case_table(cases_config(path))


def test_damaged_workbook_is_an_input_error_in_our_words(tmp_path):
    path = tmp_path / "cases.xlsx"
    good = write_xlsx(tmp_path / "good.xlsx", xlsx_rows()).read_bytes()
    path.write_bytes(good[: len(good) // 2])  # cut short, as by a failed download
    with pytest.raises(InputError, match="not a readable Excel workbook") as error:
        read_case_table(cases_config(path))
    assert "save it again as .xlsx" in str(error.value)
    assert "engine" not in str(error.value) and "zip" not in str(error.value).lower().replace(
        "a zip or office file", "")


# --- footer rows, and what a file really is ---------------------------------------

def test_xlsx_with_merged_title_rows_and_a_footer_row(tmp_path):
    rows = xlsx_rows()
    width = len(rows[0])
    titles = [["增城区河长办 问题清单"] + [None] * (width - 1),
              ["导出时间：2026-11-27"] + [None] * (width - 1)]
    footer = ["合计", None, None, None, None, None, None, None, None, None, None, None,
              f"{len(rows) - 1}条", None, None]
    path = write_xlsx(tmp_path / "cases.xlsx", [*titles, *rows, footer, [" "] + [None] * (width - 1)])
    book = openpyxl.load_workbook(path)
    for n in (1, 2):
        book.active.merge_cells(start_row=n, start_column=1, end_row=n, end_column=width)
    book.save(path)
    table = read_case_table(cases_config(path)).table
    assert len(table) == len(rows) - 1 and table["case_id"].iloc[0] == "C01"
    assert table["source_row"].tolist() == list(range(4, 4 + len(rows) - 1))
    footer_row = 3 + len(rows)  # two titles, the header, the cases
    found = {n.kind: n for n in notes(table)}
    assert found["footer_row"].message == (f"row {footer_row}: a footer row ('合计' in column "
                                           "'问题编号') left out; it is not a case")
    assert found["footer_row"].file == str(path)
    assert found["blank_rows"].message.endswith(f"rows {footer_row + 1}")


def test_csv_footer_rows_in_any_writing_and_a_case_that_only_mentions_them(tmp_path):
    frame = tiny_cases_frame()
    frame.loc[0, "问题描述"] = "合计三处排口"
    footer = pd.DataFrame([{"问题编号": "合 计：", "问题描述": "11"}, {"上报时间": "总计"},
                           {"问题编号": "小计3"}], columns=frame.columns, dtype=object).fillna("")
    path = tmp_path / "cases.csv"
    pd.concat([frame, footer]).to_csv(path, index=False)
    table = read_case_table(cases_config(path)).table
    assert len(table) == len(frame)
    footers = [n.message for n in notes(table) if n.kind == "footer_row"]
    assert [m.split(":")[0] for m in footers] == ["row 13", "row 14", "row 15"]
    assert "('总计' in column '上报时间')" in footers[1]


@pytest.mark.parametrize("name, content, expected", [
    ("cases.csv", b"", "is empty (0 bytes"),
    ("cases.xlsx", b"", "is empty (0 bytes"),
    ("cases.csv", b" \r\n\r\n ", "holds only blank space, no table"),
    ("cases.xlsx", bytes(range(256)) * 8, "is neither a spreadsheet nor text"),
    ("cases.xls", b"<html><body><table><tr><td>x</td></tr></table></body></html>",
     "is a web page (HTML or XML)"),
])
def test_what_a_case_file_really_is(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=re.escape(expected)) as error:
        read_case_table(cases_config(path))
    assert str(path) in str(error.value)


def test_csv_named_xlsx_and_a_workbook_named_csv_are_read_for_what_they_are(tmp_path):
    csv_text = tmp_path / "cases.xlsx"
    tiny_cases_frame().to_csv(csv_text, index=False)
    table = read_case_table(cases_config(csv_text)).table
    assert len(table) == len(tiny_cases_frame())
    assert [n.message for n in notes(table) if n.kind == "file_kind"] == [
        "the case table is CSV text, though named .xlsx; read as CSV (rename it to .csv to say so)"]
    workbook = tmp_path / "cases.csv"
    workbook.write_bytes(write_xlsx(tmp_path / "w.xlsx", xlsx_rows()).read_bytes())
    table = read_case_table(cases_config(workbook)).table
    assert table["case_id"].iloc[0] == "C01"
    assert [n.kind for n in notes(table)] == ["file_kind"]


def test_a_row_wider_than_the_header_does_not_stop_the_table(tmp_path):
    path = tmp_path / "cases.csv"
    text = tiny_cases_frame().to_csv(index=False)
    lines = text.splitlines()
    lines[-1] += ",多出来的一格,又一格"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = read_case_table(cases_config(path)).table
    assert len(table) == len(tiny_cases_frame()) and table["case_id"].iloc[-1] == "C10"


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


def test_load_notes_reach_the_findings(tmp_path):
    folder = tmp_path / "tiny"
    write_tiny_inputs(folder)
    frame = tiny_cases_frame()
    frame.to_csv(folder / "cases.csv", index=False, encoding="gbk")
    table = read_case_table(load_config(folder / "battlemap.toml").cases).table
    findings = Findings()
    findings.absorb(table)
    assert [w.kind for w in findings.warnings] == ["encoding_detected"]
    assert NOTES not in table.attrs
    assert "cases.csv" in TINY_TOML


# --- through the command line: exit 2, our words, never the library's ---------------

LIBRARY_WORDS = ("engine manually", "DRIVER", "not recognized as being in a supported file",
                 "No columns to parse", "Error tokenizing", "Traceback", "BadZipFile",
                 "File is not a zip file")


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


@functools.cache
def good_workbook() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return write_xlsx(Path(tmp) / "good.xlsx", xlsx_rows()).read_bytes()


@settings(max_examples=15, deadline=None)
@given(cut=st.floats(0, 1), flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)),
                                          max_size=6),
       suffix=st.sampled_from([".xlsx", ".csv", ".xls"]))
def test_any_damaged_workbook_is_read_or_refused_in_our_words(tmp_path_factory, cut, flips,
                                                             suffix):
    """A real workbook cut short or with bytes changed: a table or an InputError, nothing else."""
    folder = tmp_path_factory.mktemp("damaged")
    data = bytearray(good_workbook())
    data = data[: max(1, int(len(data) * cut))]
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    path = folder / f"cases{suffix}"
    path.write_bytes(bytes(data))
    try:
        table = read_case_table(cases_config(path)).table
    except InputError as error:
        assert str(path) in str(error)
        assert not [w for w in LIBRARY_WORDS if w in str(error)], str(error)
        return
    assert "case_id" in table

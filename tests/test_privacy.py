"""Personal numbers are masked at load, in every writing, and never reach an output."""

from __future__ import annotations

import gzip
import re
import shutil
import sqlite3
import subprocess
import unicodedata
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import CRS, tiny_cases_frame, tiny_rivers, tiny_units, write_tiny_inputs

from battlemap.build import BuildOptions, build
from battlemap.config import load_config
from battlemap.load import read_case_table, read_layer
from battlemap.privacy import MASKED, mask_columns, mask_text

MASKED_WRITINGS = [
    # mobiles
    ("13955020002", "139****0002"),
    ("请联系13955020002处理", "请联系139****0002处理"),
    ("139 5502 0002", "139****0002"),
    ("139-5502-0002", "139****0002"),
    ("139 - 5502 - 0002", "139****0002"),
    ("139.5502.0002", "139****0002"),
    ("139 5502-0002", "139****0002"),
    ("(139)5502 0002", "139****0002"),
    ("+8613955020002", "+86139****0002"),
    ("+86 139 5502 0002", "+86 139****0002"),
    ("0086-139-5502-0002", "0086-139****0002"),
    ("8613955020002", "86139****0002"),
    ("(+86)13955020002", "(+86)139****0002"),
    ("139—5502—0002", "139****0002"),
    ("139\u00a05502\u00a00002", "139****0002"),
    ("电话：１３９５５０２０００２", "电话：139****0002"),
    ("１３９－５５０２－０００２", "139****0002"),
    ("电话一三九五五〇二〇〇〇二", "电话139****0002"),
    ("幺三九 五五零二 零零零二", "139****0002"),
    ("TEL13955020002", "TEL139****0002"),
    ("13955020002、13855030003", "139****0002、138****0003"),
    ("13955020002 13855030003", "139****0002 138****0003"),
    # landlines
    ("020-8275 5088", "020-****5088"),
    ("(020)82755088", "(020)****5088"),
    ("（０２０）８２７５５０８８", "(020)****5088"),
    ("020-82755088", "020-****5088"),
    ("02082755088", "020****5088"),
    ("0752-1234567转8001", "0752-***4567转8001"),
    ("010 6552 8888", "010 ****8888"),
    ("+86 20 8275 5088", "+86 20 ****5088"),
    ("联系电话：82755088", "联系电话：****5088"),
    ("Tel. 8275 5088", "Tel. ****5088"),
    # ID cards
    ("44018319900101123X", "440183********123X"),
    ("身份证号440183199001011234。", "身份证号440183********1234。"),
    ("440183 19900101 123x", "440183********123x"),
    ("４４０１８３１９９００１０１１２３Ｘ", "440183********123X"),
    ("440183900101123", "440183******123"),
    # e-mail
    ("zhang.san@qq.com", "z***@qq.com"),
    ("邮箱13955020002@163.com。", "邮箱1***@163.com。"),
    ("ｚｈａｎｇ＠ｑｑ．ｃｏｍ", "z***@qq.com"),
    # bank cards
    ("6222021234567890123", "6222***********0123"),
    ("卡号6222 0212 3456 7890", "卡号6222********7890"),
    ("6217-0000-1111-2222", "6217********2222"),
    # QQ
    ("QQ：12345678", "QQ：12****78"),
]

NEAR_MISSES = [
    "ZC2020001334", "ZC2026003695", "问题编号ZC2020001334已销号",
    "2026-11-27", "20261127", "2026年11月27日 08:30", "2026/11/5 8:30", "46100.5",
    "113.6012345, 23.1234567", "113.615777", "23.13955020002", "133.55020002",
    "10万吨/日", "1500米", "7.49万元", "0.5万元", "440118001001", "村居编码440118001001",
    "202611270830001", "第13 14 15 16 17 18号", "2019-01-24 09:24", "邮编511300",
    "10:30-12:00", "1,234,567", "广州河长APP", "", "Hotel 2345678", "QQ群", "电镀废水1500吨",
    "二〇二六年十一月二十七日", "第一二三网格", "一二三四五六七八九十",
]


@pytest.mark.parametrize(("written", "published"), MASKED_WRITINGS)
def test_personal_numbers_are_masked(written: str, published: str) -> None:
    assert mask_text(written) == published


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_stay_unchanged(text: str) -> None:
    assert mask_text(text) == text


def test_mask_columns_counts_cells_and_leaves_non_text() -> None:
    frame = pd.DataFrame({"a": ["13955020002", "13955020002", "无", None],
                          "b": [1.5, 13955020002.0, float("nan"), 2.0]})
    counts = mask_columns(frame, ["a", "b"], {"a": "问题描述"})
    assert counts == {"问题描述": 2, "b": 0}
    assert frame["a"].iloc[:3].tolist() == ["139****0002", "139****0002", "无"]
    assert pd.isna(frame["a"].iloc[3])
    assert frame["b"].iloc[1] == 13955020002.0


# --- at load ----------------------------------------------------------------

INJECTED = {
    "问题描述": "请回电 139 5502 0002，或(020)8275 5088，身份证44018319900101123X",
    "所属村居": "甲一村１３９－５５０３－０００３",
    "河涌名称": "+86 139-5504-0004",
    "上报渠道": "广州河长APP 0752-1234567转8001",
    "问题类型": "排水口 13955050005@163.com 6222 0212 3456 7890",
    "经度": "13955060006",
    "备注": "0086 139.5507.0007",
}
LAYER_INJECTED = {("grid", "chief"): "网格员 139.5508.0008",
                  ("village", "name"): "甲二村（联系13955090009）",
                  ("river", "name"): "一涌 座机 82755099"}
NUMBERS = ["13955020002", "02082755088", "44018319900101123", "13955030003", "13955040004",
           "07521234567", "13955050005", "6222021234567890", "13955060006", "13955070007",
           "13955080008", "13955090009", "82755099"]
"""Every injected number, digits only."""


def hostile_inputs(folder: Path) -> Path:
    """The tiny district with personal numbers in seven case columns and three layer fields."""
    cases = tiny_cases_frame()
    cases["备注"] = ""
    for column, text in INJECTED.items():
        # C01 is mapped and C03 rejected (outside the district); C04's longitude rejects it
        rows = [3] if column == "经度" else [0, 2]
        cases.loc[rows, column] = text
    config = write_tiny_inputs(folder, cases)
    units = tiny_units()
    rivers = tiny_rivers()
    for (level, field), text in LAYER_INJECTED.items():
        frame = rivers if level == "river" else units[level]
        frame.loc[1, field] = text
    (folder / "boundaries.gpkg").unlink()
    for level, frame in units.items():
        frame.to_file(folder / "boundaries.gpkg", layer=level, engine="pyogrio")
    rivers.to_file(folder / "rivers.gpkg", engine="pyogrio")
    return config


def test_every_case_column_but_the_case_number_is_masked(tmp_path: Path) -> None:
    config = load_config(hostile_inputs(tmp_path / "in"))
    result = read_case_table(config.cases)
    shown = _digits_only(result.table.to_csv() + result.original.to_csv())
    assert not [n for n in NUMBERS if n in shown]
    assert result.original.attrs[MASKED] == {
        "上报时间": 0, "上报渠道": 2, "问题类型": 2, "所属镇街": 0, "所属村居": 2, "河涌名称": 2,
        "经度": 1, "纬度": 0, "处理状态": 0, "整改期限": 0, "办结时间": 0, "问题描述": 2,
        "是否有效": 0, "备注": 2}
    assert result.table["case_id"].tolist()[:3] == ["C01", "C02", "C03"]
    assert result.table.loc[0, "river_name"] == "+86 139****0004"


def test_layer_text_is_masked_but_ids_are_not(tmp_path: Path) -> None:
    config = load_config(hostile_inputs(tmp_path / "in"))
    grids = read_layer(config.boundaries["grid"], CRS, {"unit_id": "code", "name": "name",
                                                         "chief": "chief"})
    assert grids.loc[1, "chief"] == "网格员 139****0008"
    assert grids.attrs[MASKED] == {"boundaries.gpkg/grid:name": 0,
                                   "boundaries.gpkg/grid:chief": 1}
    assert grids["unit_id"].tolist() == tiny_units()["grid"]["code"].tolist()


# --- end to end: no injected number in any output file ------------------------

def test_no_injected_number_in_any_output(tmp_path: Path) -> None:
    config = load_config(hostile_inputs(tmp_path / "in"), out_dir=tmp_path / "out")
    report = build(config, BuildOptions(workers=1))
    out = config.output.dir
    files = sorted(p for p in out.rglob("*") if p.is_file())
    kinds = {p.suffix for p in files}
    assert {".html", ".js", ".json", ".csv", ".gz", ".gpkg", ".xlsx", ".pdf"} <= kinds
    leaks = [(n, str(p.relative_to(out))) for p in files for n in NUMBERS
             if n in _digits_only(_text_of(p))]
    assert leaks == []
    assert report["masked"]["问题描述"] == 2 and report["masked"]["备注"] == 2
    assert report["masked"]["boundaries.gpkg/village:name"] == 1
    assert report["masked"]["rivers.gpkg:name"] == 1
    assert "values masked" in (out / "report.html").read_text(encoding="utf-8")
    assert "139****0007" in (out / "rejected_cases.csv").read_text(encoding="utf-8-sig")
    for poster in ("village/440118001001_A3.pdf", "atlas/440118001.pdf"):   # their text is read
        assert "139****" in _text_of(out / "posters" / poster)


def _digits_only(text: str) -> str:
    """NFKC, JSON \\u escapes decoded, then only the digits: every writing of a number alike."""
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), text)
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", text))


def _text_of(path: Path) -> str:
    """What a reader of ``path`` can see, as text; the kind is told by the content."""
    data = path.read_bytes()
    if data.startswith(b"\x1f\x8b"):
        return gzip.decompress(data).decode("utf-8", "replace")
    if zipfile.is_zipfile(path):  # .xlsx, and .docx or .ods should they come
        with zipfile.ZipFile(path) as book:
            return "\n".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    if data.startswith(b"%PDF"):
        return subprocess.run(["pdftotext", "-q", str(path), "-"], capture_output=True,
                              check=True, text=True).stdout
    if data.startswith(b"SQLite format 3\x00"):
        return _gpkg_text(path)
    return data.decode("utf-8", "replace")


def _gpkg_text(path: Path) -> str:
    """Every text cell of every table of a GeoPackage (or any SQLite file)."""
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        cells = [str(v) for t in tables for row in db.execute(f'SELECT * FROM "{t}"')
                 for v in row if isinstance(v, str)]
    return "\n".join(cells)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
def test_pdf_text_is_read(tmp_path: Path) -> None:
    """The end-to-end test's PDF reader sees text (a blank reader would pass anything)."""
    from matplotlib.figure import Figure

    figure = Figure()
    figure.text(0.1, 0.5, "13955020002")
    figure.savefig(tmp_path / "x.pdf")
    assert "13955020002" in _digits_only(_text_of(tmp_path / "x.pdf"))

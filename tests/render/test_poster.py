"""Posters of the tiny district, checked for what a person would see on the printed page."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import leftover_temp_files

from battlemap.errors import RenderError
from battlemap.render.closure import closure_color
from battlemap.render.pdf import FAST_TEXT
from battlemap.render.poster import (
    PAPER_MM,
    render_meeting_atlas,
    render_meeting_atlases,
    render_poster,
    render_posters,
    series,
)
from battlemap.render.poster.sheet import Sheet
from battlemap.render.poster.style import class_colors, closure_classes_of

POPPLER = all(shutil.which(tool) for tool in ("pdfinfo", "pdffonts", "pdftotext", "pdftoppm"))
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdfinfo, pdffonts, "
                                   "pdftotext, pdftoppm) not installed; CI installs them")

UNITS = {"district": "440118", "town": "440118002", "village": "440118002001",
         "grid": "440118002001002", "river": "T2"}
NAMES = {"district": "测试区", "town": "乙镇", "village": "乙一村", "grid": "乙一村第2网格",
         "river": "二涌"}


def run(*args: str | Path) -> str:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True,
                          text=True).stdout


def page_sizes(pdf: Path) -> list[tuple[float, float]]:
    info = run("pdfinfo", "-f", "1", "-l", "999", pdf)
    return [(float(w), float(h)) for w, h in
            re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)]


def text_of(pdf: Path) -> str:
    return re.sub(r"\s+", "", run("pdftotext", pdf, "-"))


def ink_share(pdf: Path, tmp_path: Path, page: int = 1) -> float:
    from PIL import Image

    stem = tmp_path / f"{pdf.stem}_p{page}"
    run("pdftoppm", "-r", "20", "-f", page, "-l", page, "-png", "-singlefile", pdf, stem)
    pixels = np.asarray(Image.open(f"{stem}.png").convert("L"))
    return float((pixels < 245).mean())


def expected_points(paper: str) -> tuple[float, float]:
    return tuple(v * 72 / 25.4 for v in PAPER_MM[paper])


@pytest.fixture
def sample_atlas(tiny_atlas):
    project = tiny_atlas.config.project.model_copy(update={
        "sample": True, "note": "内部资料 审图号：示例", "data_source": "测试数据源"})
    return dataclasses.replace(tiny_atlas, config=tiny_atlas.config.model_copy(
        update={"project": project}))


@needs_poppler
@pytest.mark.parametrize("level", list(UNITS))
def test_each_poster_kind_renders_what_a_person_needs(tiny_atlas, tmp_path, level):
    paper = tiny_atlas.config.posters.papers[level][-1]
    pdf = render_poster(tiny_atlas, level, UNITS[level], paper, tmp_path / f"{level}.pdf")
    [(w, h)] = page_sizes(pdf)
    assert sorted((w, h)) == pytest.approx(sorted(expected_points(paper)), abs=1.0)
    fonts = run("pdffonts", pdf).splitlines()[2:]
    assert fonts and all(" yes " in line and "NotoSansSC" in line for line in fonts)
    text = text_of(pdf)
    assert NAMES[level] in text
    assert f"{NAMES[level]}河长制挂图作战作战图" in text
    assert "2026-11-27" in text                      # the as-of date
    for label in ("待交办", "已交办", "整改中", "已销号", "超期", "反复"):
        assert label in text
    assert "销号率" in text and "1:" in text          # statistics, scale
    assert 0.04 < ink_share(pdf, tmp_path) < 0.6


@needs_poppler
def test_district_poster_shows_ranking_chiefs_and_date_range(tiny_atlas, tmp_path):
    pdf = render_poster(tiny_atlas, "district", "440118", "A3", tmp_path / "d.pdf")
    text = text_of(pdf)
    assert "甲镇河长" in text and "乙镇河长" in text and "区河长" in text
    assert "2025-12-01至2026-11-05" in text          # min/max reported_at of mapped cases
    assert "按销号率" in text                          # the ranking rule
    assert "北" in text                                # north arrow


@needs_poppler
def test_sample_data_is_marked_with_note_and_source(sample_atlas, tmp_path):
    pdf = render_poster(sample_atlas, "village", UNITS["village"], "A3", tmp_path / "v.pdf")
    text = text_of(pdf)
    assert "示例数据" in text and "SAMPLEDATA" in text
    assert "审图号" in text and "测试数据源" in text


@needs_poppler
def test_a0_district_is_landscape_for_a_wide_district(tiny_atlas, tmp_path):
    pdf = render_poster(tiny_atlas, "district", "440118", "A0", tmp_path / "d0.pdf")
    [(w, h)] = page_sizes(pdf)
    assert (w, h) == pytest.approx((1189 * 72 / 25.4, 841 * 72 / 25.4), abs=1.0)


def test_render_posters_names_files_from_ids(tiny_atlas, tmp_path):
    paths = render_posters(tiny_atlas, tmp_path, [("district", "440118"), ("grid",
                                                   UNITS["grid"]), ("river", "T1")])
    names = sorted(p.relative_to(tmp_path).as_posix() for p in paths)
    assert names == ["posters/district/440118_A0.pdf", "posters/district/440118_A3.pdf",
                     f"posters/grid/{UNITS['grid']}_A4.pdf", "posters/river/T1_A3.pdf"]
    assert all(p.stat().st_size > 1000 for p in paths)
    assert not leftover_temp_files(tmp_path)          # atomic writes leave nothing behind


def test_every_poster_of_the_tiny_district(tiny_atlas, tmp_path):
    paths = render_posters(tiny_atlas, tmp_path)
    by_level = {}
    for path in paths:
        by_level.setdefault(path.parent.name, []).append(path)
    assert len(by_level["district"]) == 2 and len(by_level["town"]) == 4
    assert len(by_level["village"]) == 4 and len(by_level["grid"]) == 8
    assert len(by_level["river"]) == 3 and len(by_level["atlas"]) == 2


def test_reused_figure_gives_the_same_poster_as_a_fresh_one(tiny_atlas, tmp_path):
    series = render_posters(tiny_atlas, tmp_path / "series",
                            [("grid", g) for g in tiny_atlas.units["grid"].index])
    last = series[-1]
    unit_id = last.name.split("_")[0]
    fresh = render_poster(tiny_atlas, "grid", unit_id, "A4", tmp_path / "fresh.pdf")
    assert last.read_bytes() == fresh.read_bytes()


def test_a_series_makes_each_sheet_once_for_all_its_batches(tiny_atlas, tmp_path, monkeypatch):
    made = []
    original = Sheet.__init__
    monkeypatch.setattr(Sheet, "__init__", lambda self, ctx, paper, orient: made.append(
        (paper, orient)) or original(self, ctx, paper, orient))
    grids = [("grid", g) for g in tiny_atlas.units["grid"].index]
    alone = [p.read_bytes() for p in render_posters(tiny_atlas, tmp_path / "alone", grids)]
    render_posters(tiny_atlas, tmp_path / "alone", grids[:2])
    per_call = len(made)
    assert per_call > len(set(made))                  # outside a series: new sheets every call
    made.clear()
    with series():
        batches = [render_posters(tiny_atlas, tmp_path / "series", [job]) for job in grids]
        render_meeting_atlases(tiny_atlas, tmp_path / "series", ["440118002"])
    assert sorted(made) == sorted(set(made))          # one sheet per paper and orientation
    assert [p.read_bytes() for [p] in batches] == alone
    render_posters(tiny_atlas, tmp_path / "after", grids[:1])
    assert len(made) == len(set(made)) + 1            # the series ended: nothing kept


def test_label_missing_from_font_is_drawn_as_placeholder(tiny_atlas, tmp_path):
    import subprocess

    towns = tiny_atlas.units["town"].copy()
    towns.loc["440118002", "name"] = "乙\ue000镇"      # private use: no glyph in Noto Sans SC
    atlas = dataclasses.replace(tiny_atlas, units={**tiny_atlas.units, "town": towns})
    path = render_poster(atlas, "district", "440118", "A3", tmp_path / "odd.pdf")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "乙□镇" in text.replace(" ", "") and "\ue000" not in text


def test_unknown_unit_level_or_paper_is_a_render_error(tiny_atlas, tmp_path):
    with pytest.raises(RenderError, match="no town"):
        render_poster(tiny_atlas, "town", "nope", "A3", tmp_path / "x.pdf")
    with pytest.raises(RenderError, match="unknown level"):
        render_posters(tiny_atlas, tmp_path, [("province", "44")])
    with pytest.raises(RenderError, match="unknown paper"):
        render_poster(tiny_atlas, "town", "440118001", "B5", tmp_path / "x.pdf")


@needs_poppler
def test_meeting_atlas_has_cover_town_villages_grids_and_statistics(tiny_atlas, tmp_path):
    pdf = render_meeting_atlas(tiny_atlas, "440118002", tmp_path / "atlas.pdf")
    sizes = page_sizes(pdf)
    villages, grids = 2, 4
    assert len(sizes) >= 1 + 1 + villages + grids + 1
    assert all(sorted(s) == pytest.approx(sorted(expected_points("A4")), abs=1.0)
               for s in sizes)
    pages = run("pdftotext", pdf, "-").split("\f")
    flat = [re.sub(r"\s+", "", p) for p in pages]
    assert "会议图册" in flat[0]
    assert "乙镇河长制挂图作战作战图" in flat[1]
    assert "乙一村河长制挂图作战作战图" in flat[2]
    assert sum("网格河长制挂图作战作战图" in p for p in flat) == grids
    assert any("村居统计" in p for p in flat[2 + villages + grids:])
    assert ink_share(pdf, tmp_path, page=1) > 0.01


def test_children_are_shaded_by_the_stats_stage_classes(tiny_atlas):
    from battlemap.render.poster.view import Context

    view = Context(tiny_atlas).view("district", tiny_atlas.units["district"].index[0])
    key, classes = closure_classes_of(tiny_atlas, view)
    assert key == "town" and classes is tiny_atlas.extra["closure_classes"]["town"]
    colors = class_colors(view.children, classes)
    assert colors == [closure_color(int(k), classes["classes"])
                      for k in tiny_atlas.units["town"].loc[view.children.index, "closed_class"]]


def test_a_views_case_columns_are_its_cases_columns(tiny_atlas):
    from battlemap.render.poster.view import Context

    ctx = Context(tiny_atlas)
    grids = tiny_atlas.units["grid"]
    for level, unit_id in [("grid", grids.index[0]), ("grid", grids.index[-1]),
                           ("village", tiny_atlas.units["village"].index[0]),
                           ("river", tiny_atlas.rivers.index[0])]:
        view = ctx.view(level, unit_id)
        cases = view.cases
        assert view.case_count == len(cases)
        assert list(view.case_column("index")) == list(cases.index)
        assert list(view.case_column("geometry")) == list(cases.geometry.values)
        for name, dtype in [("state", None), ("overdue", bool), ("days_overdue", float),
                            ("deadline", "datetime64[D]"), ("reported_at", "datetime64[D]")]:
            np.testing.assert_array_equal(view.case_column(name, dtype),
                                          cases[name].to_numpy(dtype=dtype))
    # crumbs are kept per parent: each view gets its own list, the same names as a fresh context
    first, again = ctx.view("grid", grids.index[0]), ctx.view("grid", grids.index[0])
    assert first.crumbs == Context(tiny_atlas).view("grid", grids.index[0]).crumbs
    assert len(first.crumbs) == 3 and first.crumbs is not again.crumbs


@needs_poppler
def test_meeting_atlases_are_joined_from_the_written_posters(tiny_atlas, tmp_path, monkeypatch):
    town = "440118002"
    units = [("town", town), *((lvl, u) for lvl in ("village", "grid")
                               for u in tiny_atlas.units[lvl].index if u.startswith(town))]
    render_posters(tiny_atlas, tmp_path, units)
    assert not (tmp_path / "posters" / "atlas").exists()      # batches leave it to the caller
    (tmp_path / "posters" / "grid" / f"{UNITS['grid']}_A4.pdf").unlink()   # rendered for the atlas

    drawn = []
    original = Sheet.save
    monkeypatch.setattr(Sheet, "save",
                        lambda self, view, *a, **k: drawn.append(view.unit_id) or original(
                            self, view, *a, **k))
    [pdf] = render_meeting_atlases(tiny_atlas, tmp_path, [town])
    assert pdf == tmp_path / "posters" / "atlas" / f"{town}.pdf"
    assert drawn == [UNITS["grid"]]                            # every other page was reused
    sizes = page_sizes(pdf)
    assert len(sizes) >= 1 + 1 + 2 + 4 + 1
    assert all(sorted(s) == pytest.approx(sorted(expected_points("A4")), abs=1.0) for s in sizes)
    flat = [re.sub(r"\s+", "", p) for p in run("pdftotext", pdf, "-").split("\f")]
    assert "会议图册" in flat[0] and "乙镇河长制挂图作战作战图" in flat[1]
    assert sum("网格河长制挂图作战作战图" in p for p in flat) == 4
    assert "乙镇" in run("pdfinfo", pdf)                       # the title survives the join
    assert ink_share(pdf, tmp_path, page=2) > 0.04             # a scaled A3 page still shows


def test_meeting_atlases_refuse_an_unknown_town(tiny_atlas, tmp_path):
    with pytest.raises(RenderError, match="no town"):
        render_meeting_atlases(tiny_atlas, tmp_path, ["nope"])


@pytest.fixture
def joined_atlas(tiny_atlas, tmp_path) -> tuple[Path, list[Path]]:
    """The 乙镇 meeting atlas joined from written posters, and those posters (town, villages, grids)."""
    town = "440118002"
    units = [("town", town), *((lvl, u) for lvl in ("village", "grid")
                               for u in tiny_atlas.units[lvl].index if u.startswith(town))]
    posters = render_posters(tiny_atlas, tmp_path, units)
    [pdf] = render_meeting_atlases(tiny_atlas, tmp_path, [town])
    return pdf, posters


def _outline_titles(reader, items, depth=0) -> list[tuple[int, str, int]]:
    out = []
    for item in items:
        if isinstance(item, list):
            out += _outline_titles(reader, item, depth + 1)
        else:
            out.append((depth, item.title, reader.get_destination_page_number(item)))
    return out


@needs_poppler
def test_meeting_atlas_has_page_numbers_outline_and_contents_links(tiny_atlas, joined_atlas):
    from pypdf import PdfReader

    pdf, _ = joined_atlas
    reader = PdfReader(pdf)
    total = len(reader.pages)
    for number in (1, 2, total):
        page = run("pdftotext", "-f", number, "-l", number, pdf, "-")
        assert f"{number} / {total}" in page
    assert reader.page_labels[:3] == ["1", "2", "3"]
    outline = _outline_titles(reader, reader.outline)
    flat = [re.sub(r"\s+", "", p) for p in run("pdftotext", pdf, "-").split("\f")]
    town = next(o for o in outline if o[1] == "乙镇 作战图")
    assert town[0] == 0 and "乙镇河长制挂图作战作战图" in flat[town[2]]
    villages = [o for o in outline if o[0] == 1]
    grids = [o for o in outline if o[0] == 2]
    assert len(villages) == 2 and len(grids) == 4
    for _, title, page in villages + grids:          # each bookmark opens its own map
        assert f"{title}河长制挂图作战" in flat[page], title
    assert outline[-1][1] == "统计表" and "村居统计" in flat[outline[-1][2]]
    links = [a.get_object() for a in reader.pages[0].get("/Annots", [])]
    refs = [page.indirect_reference for page in reader.pages]
    targets = [refs.index(link["/Dest"][0]) for link in links]
    assert targets == [0, 1, 2, 4, 8]                # cover, town, villages, grids, tables


@needs_poppler
def test_meeting_atlas_writes_what_its_pages_share_once(joined_atlas, tmp_path):
    pdf, posters = joined_atlas
    fonts = [line.split() for line in run("pdffonts", pdf).splitlines()[2:] if line.strip()]
    if FAST_TEXT:        # one composite font: every page's glyphs, and the page numbers
        assert [row[1:4] for row in fonts] == [["CID", "Type", "0C"]]
    assert len(fonts) == len({row[0] for row in fonts})   # no font object repeated page by page
    in_posters = sum(len(run("pdffonts", p).splitlines()[2:]) for p in posters)
    assert len(fonts) < in_posters
    assert pdf.stat().st_size < 0.6 * sum(p.stat().st_size for p in posters)
    assert "乙一村第2网格" in text_of(pdf)             # the text is still text


def _raster(pdf: Path, page: int, stem: Path, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image

    done = subprocess.run([str(a) for a in ("pdftoppm", "-f", page, "-l", page, "-scale-to-x",
                                            size[0], "-scale-to-y", size[1], "-png",
                                            "-singlefile", pdf, stem)],
                          check=True, capture_output=True, text=True)
    assert "Error" not in done.stderr, done.stderr      # a well-formed file, not a tolerated one
    return np.asarray(Image.open(f"{stem}.png").convert("L"), dtype=float)


@needs_poppler
def test_meeting_atlas_pages_look_like_the_posters(joined_atlas, tmp_path):
    pdf, posters = joined_atlas
    town, village = (next(p for p in posters if p.parent.name == level and p.stem.endswith("_A3"))
                     for level in ("town", "village"))
    for poster, page in ((town, 2), (village, 3)):
        size = (600, 424)                            # landscape A-paper at the same pixels
        atlas_page = _raster(pdf, page, tmp_path / f"a{page}", size)
        alone = _raster(poster, 1, tmp_path / f"p{page}", size)
        assert atlas_page.shape == alone.shape
        differs = np.abs(atlas_page - alone) > 48
        assert differs.mean() < 0.01, poster.name    # the page number is the only addition
        assert (alone < 200).mean() > 0.02           # a page with something on it


@needs_poppler
def test_pypdf_join_gives_the_same_pages_as_the_byte_join(tiny_atlas, tmp_path):
    from battlemap.render.pdf.join import concatenate, concatenate_pypdf

    paths = render_posters(tiny_atlas, tmp_path, [("village", UNITS["village"]),
                                                  ("grid", UNITS["grid"])])
    a4 = expected_points("A4")
    fast, slow = tmp_path / "fast.pdf", tmp_path / "slow.pdf"
    assert concatenate(paths, fast, {"Title": "乙"}, page_size=a4) == 2
    assert concatenate_pypdf([p.read_bytes() for p in paths], slow, {"Title": "乙"}, a4) == 2
    assert page_sizes(fast) == page_sizes(slow)
    assert text_of(fast) == text_of(slow)
    assert ink_share(fast, tmp_path) == pytest.approx(ink_share(slow, tmp_path), abs=0.002)


def test_config_paper_sizes_choose_the_posters(tiny_atlas, tmp_path):
    posters = tiny_atlas.config.posters.model_copy(update={"papers": {"town": ("A2",)}})
    atlas = dataclasses.replace(tiny_atlas, config=tiny_atlas.config.model_copy(
        update={"posters": posters}))
    written = render_posters(atlas, tmp_path, [("town", "440118001"), ("grid", "440118001001001")])
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        "posters/town/440118001_A2.pdf"]


# --- what posters read from the atlas ----------------------------------------------


@needs_poppler
def test_river_poster_ranks_the_towns_the_stats_stage_gave_it(tiny_atlas, tmp_path):
    table = tiny_atlas.extra["river_towns"].copy()
    along = table["river_id"] == "T2"
    assert table.loc[along, "town_id"].tolist() == ["440118002"]
    table.loc[along, "total"] = 4321                  # a figure only the table holds
    atlas = dataclasses.replace(tiny_atlas, extra={**tiny_atlas.extra, "river_towns": table})
    text = text_of(render_poster(atlas, "river", "T2", "A3", tmp_path / "t2.pdf"))
    assert "乙镇河长" in text and "4,321" in text and "甲镇河长" not in text

    del atlas.extra["river_towns"]
    with pytest.raises(RenderError, match="river_towns"):
        render_poster(atlas, "river", "T2", "A3", tmp_path / "none.pdf")


@needs_poppler
def test_neighbours_are_drawn_when_the_atlas_has_them(tiny_atlas, tmp_path):
    import geopandas as gpd
    from conftest import X0, Y0
    from shapely.geometry import box

    neighbours = gpd.GeoDataFrame(
        {"neighbour_id": ["440999", "440118"], "name": ["东邻县", "自身区"]},
        geometry=[box(X0 + 4000, Y0 - 2000, X0 + 9000, Y0 + 4000),
                  box(X0, Y0, X0 + 4000, Y0 + 2000)], crs=tiny_atlas.cases.crs)
    plain = text_of(render_poster(tiny_atlas, "district", "440118", "A3", tmp_path / "a.pdf"))
    atlas = dataclasses.replace(tiny_atlas, neighbours=neighbours)
    text = text_of(render_poster(atlas, "district", "440118", "A3", tmp_path / "b.pdf"))
    assert "东邻县" not in plain and "东邻县" in text
    assert "自身区" not in text                         # the district itself is left out


def test_every_poster_and_atlas_file_name_comes_from_safe_stem(tiny_atlas, tmp_path,
                                                               monkeypatch):
    from battlemap import _paths

    monkeypatch.setattr(_paths, "safe_stem", lambda unit_id: f"s{unit_id}")  # poster_file's
    drawn = []
    original = Sheet.save
    monkeypatch.setattr(Sheet, "save", lambda self, view, *a, **k: drawn.append(
        view.level) or original(self, view, *a, **k))
    written = render_posters(tiny_atlas, tmp_path)
    names = {p.relative_to(tmp_path).as_posix() for p in written}
    assert "posters/grid/s440118002001002_A4.pdf" in names
    assert "posters/atlas/s440118002.pdf" in names
    assert all(p.name.startswith("s") for p in written)
    posters = [p for p in written if p.parent.name != "atlas"]
    assert len(drawn) == len(posters) == 21   # the atlases found every poster by the same names


def test_case_dots_are_circles_like_the_legend():
    from matplotlib.path import Path as MplPath

    from battlemap.render.poster.paths import dots

    for arcs, tolerance in ((3, 0.002), (2, 0.02)):
        path = dots(np.array([[100.0, 50.0]]), 4.0, arcs=arcs)
        assert (path.codes == MplPath.CURVE4).sum() == 3 * arcs   # Béziers, not a polygon
        points = np.concatenate([seg(np.linspace(0, 1, 50))
                                 for seg, _ in path.iter_bezier()])
        radius = np.hypot(points[:, 0] - 100, points[:, 1] - 50)
        assert radius == pytest.approx(4.0, rel=tolerance)


@needs_poppler
def test_grid_case_list_is_at_least_6_5_pt(tiny_atlas, tmp_path):
    pdf = render_poster(tiny_atlas, "grid", UNITS["grid"], "A4", tmp_path / "grid.pdf")
    # the table's header word; its rows are set in the same size
    words = re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">整改期限<',
                       run("pdftotext", "-bbox", pdf, "-"))
    table = [(float(y1) - float(y0)) for y0, y1 in words]
    assert table, "no case table printed"
    # a bbox is ascent + descent high: 1.448 em for Noto Sans SC
    assert max(table) / 1.448 >= 6.5 - 0.05


@needs_poppler
def test_river_poster_prints_the_rivers_chief(tiny_atlas, tmp_path):
    rivers = tiny_atlas.rivers.assign(chief=[f"{n}河长" for n in tiny_atlas.rivers["name"]])
    atlas = dataclasses.replace(tiny_atlas, rivers=rivers)
    pdf = render_poster(atlas, "river", UNITS["river"], "A3", tmp_path / "river.pdf")
    assert "河长：二涌河长" in text_of(pdf)

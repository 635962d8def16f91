"""The poster font: found, registered, glyph-checked, embedded (no tofu on the wall)."""

from __future__ import annotations

import dataclasses

import pytest

from battlemap.errors import RenderError
from battlemap.render.fonts import (
    PLACEHOLDER,
    check_text,
    check_texts,
    font_for,
    glyph_findings,
    missing_glyphs,
    rc_params,
)

# U+E000 is private use; U+2A6A5 (𪚥) is a rare CJK Extension B character.
MISSING = ("\ue000", "\U0002a6a5")


@pytest.fixture
def font(tiny_config):
    return font_for(tiny_config)


def test_bundled_font_is_noto_sans_sc(font):
    assert font.path.name == "NotoSansSC-Regular.otf"
    assert font.family == "Noto Sans SC"
    assert font.line_height == pytest.approx(1.0)


def test_common_and_rare_place_name_characters_are_covered(font):
    assert missing_glyphs("增城区 河长制挂图作战 作战图 已销号 超期 反复 ≤–·…", font) == ""
    assert missing_glyphs("塱氹冚埗垌壆㘵𬒈", font) == ""


@pytest.mark.parametrize("char", MISSING)
def test_missing_character_is_drawn_as_placeholder(font, char):
    assert char in missing_glyphs(f"石滩镇{char}村", font)
    assert check_text(f"石滩镇{char}村", font) == f"石滩镇{PLACEHOLDER}村"
    assert missing_glyphs(check_text(f"石滩镇{char}村", font), font) == ""


def test_controls_are_left_out_and_odd_spaces_become_spaces(font):
    assert check_text("甲\x00镇\u200d\x1f乙\n丙😀", font) == f"甲镇 乙\n丙{PLACEHOLDER}"
    assert check_text("石滩镇", font) == "石滩镇"


def test_check_texts_substitutes_every_label(font):
    assert check_texts(["好的", f"甲{MISSING[0]}", f"乙{MISSING[1]}"], font) == [
        "好的", f"甲{PLACEHOLDER}", f"乙{PLACEHOLDER}"]


def test_glyph_findings_name_file_row_and_column(tiny_atlas, font):
    cases = tiny_atlas.cases.copy()
    first = cases.index[0]
    cases.loc[first, "problem_type"] = "排水口😀"
    towns = tiny_atlas.units["town"].copy()
    towns.loc["440118002", "name"] = f"乙{MISSING[1]}镇"
    atlas = dataclasses.replace(tiny_atlas, cases=cases, units={**tiny_atlas.units, "town": towns})
    found = {(f.file.rsplit("/", 1)[-1], f.feature, f.column): f for f in glyph_findings(atlas, font)}
    row = f"row {cases.loc[first, 'source_row']}"
    assert set(found) == {("cases.csv", row, "问题类型"), ("boundaries.gpkg", "440118002", "name")}
    assert "U+1F600" in found[("cases.csv", row, "问题类型")].message
    assert all(f.kind == "missing_glyph" for f in found.values())
    assert glyph_findings(tiny_atlas, font) == []


def test_whitespace_and_controls_are_not_glyph_problems(font):
    assert missing_glyphs("甲镇\n乙镇\t 丙", font) == ""


def test_rc_params_use_type3_and_never_bold(font):
    params = rc_params(font)
    assert params["pdf.fonttype"] == 3
    assert params["font.family"] == ["Noto Sans SC"]
    assert params["font.weight"] == "normal"


def test_configured_font_path_wins(tiny_config, font):
    config = tiny_config.model_copy(update={"style": tiny_config.style.model_copy(
        update={"font_path": font.path})})
    assert font_for(config).path == font.path


def test_missing_configured_font_is_a_render_error(tiny_config, tmp_path):
    config = tiny_config.model_copy(update={"style": tiny_config.style.model_copy(
        update={"font_path": tmp_path / "nope.ttf"})})
    with pytest.raises(RenderError, match="font file not found"):
        font_for(config)

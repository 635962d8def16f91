"""What a sheet remembers from poster to poster of a series gives what computing it again would."""

from __future__ import annotations

import matplotlib
import pytest

from battlemap.render.fonts import PLACEHOLDER, check_text, rc_params, wrap_to_width
from battlemap.render.poster import panels, sheet
from battlemap.render.poster.sheet import Sheet
from battlemap.render.poster.view import Context

TEXTS = ["石滩镇", "石滩镇\ue000村", "乙一村第2网格", "石滩镇", "\U0002a6a5 村\x07委\U000e0001",
         "石滩镇\ue000村", ""]
"""Recurring and new texts; private-use, rare, control and tag characters the font lacks."""


@pytest.mark.parametrize("room", [100, 2])
def test_a_sheet_draws_each_text_as_check_text_would(tiny_atlas, monkeypatch, room):
    monkeypatch.setattr(sheet, "_CHECKED_MAX", room)       # also when it starts afresh
    ctx = Context(tiny_atlas)
    with matplotlib.rc_context(rc_params(ctx.font)):
        page = Sheet(ctx, "A4", "portrait")
    drawn = [page._drawable(t) for t in TEXTS + TEXTS]
    assert drawn == [check_text(t, ctx.font) for t in TEXTS + TEXTS]
    assert PLACEHOLDER in drawn[1] and drawn[1] != drawn[0]


def test_wrapped_notes_are_those_of_wrap_to_width():
    note = "计数口径：案件按上报位置计入网格、村居、镇街；已销号案件计入销号率，超期按截至日计算。" * 2
    cases = [(note, 5.0, 120.0), (note, 5.0, 80.0), (note, 6.5, 120.0), (note[:9], 5.0, 120.0),
             (note, 5.0, 120.0)]
    for text, size, width in cases:
        assert list(panels._wrapped(text, size, width)) == wrap_to_width(text, size, width)
    assert len(panels._wrapped(note, 5.0, 80.0)) > len(panels._wrapped(note, 5.0, 120.0))

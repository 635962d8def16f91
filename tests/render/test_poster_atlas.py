"""The meeting atlas's own pages (cover, statistics) draw their texts in one batch a page."""

from __future__ import annotations

import dataclasses

import pytest

from battlemap.render import pdf
from battlemap.render.fonts import check_text
from battlemap.render.pdf import TextBatch, _mpl
from battlemap.render.poster import atlas, render_meeting_atlas
from battlemap.render.poster.style import INK


def figure_text(ctx, ax, x, y, text, size, **kw):
    """The atlas's texts as matplotlib figure texts, one ``Text`` artist each (the reference)."""
    kw.setdefault("color", INK)
    ax.figure.text(x, y, check_text(text, ctx.font), fontsize=size, parse_math=False,
                   transform=ax.transData, **kw)


@pytest.mark.skipif(not pdf.FAST_TEXT, reason=f"matplotlib {_mpl.VERSION}: no fast path")
def test_batched_atlas_texts_write_the_bytes_text_artists_would(tiny_atlas, monkeypatch, tmp_path):
    project = tiny_atlas.config.project.model_copy(update={"sample": True})   # the watermark too
    sample = dataclasses.replace(tiny_atlas, config=tiny_atlas.config.model_copy(
        update={"project": project}))
    batches = []
    add = TextBatch.add
    monkeypatch.setattr(TextBatch, "add", lambda self, *a, **kw: batches.append(
        (kw.get("rotation"), kw["color"][3])) or add(self, *a, **kw))
    batched = render_meeting_atlas(sample, "440118002", tmp_path / "batched.pdf").read_bytes()
    assert (55, 0.08) in batches                         # the watermark: turned, faint
    assert len(batches) > 50                             # cover and tables
    monkeypatch.setattr(atlas, "_t", figure_text)
    texts = render_meeting_atlas(sample, "440118002", tmp_path / "texts.pdf").read_bytes()
    assert batched == texts

"""The bulletin's blocks for the tiny district: a committed snapshot, and figures recounted.

The snapshot (``snapshots/tiny_blocks.json``) is every block in order with
its text and every table cell: a change in any figure, row or wording shows
in the diff. Rewrite it, after checking the change is meant, with
``BATTLEMAP_UPDATE_SNAPSHOTS=1 pytest tests/render/bulletin``. The headline
figures and the ranking table are also recounted here from the cases
themselves, independently of the statistics stage.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from battlemap.render.bulletin import bulletin_data, bulletin_document
from battlemap.render.document import Figure, Heading, KeyFigures, Paragraph, Table

SNAPSHOT = Path(__file__).parent / "snapshots" / "tiny_blocks.json"


def outline(document) -> list[dict[str, object]]:
    """Each block as plain data (a chart by its caption and size)."""
    out = []
    for block in document.blocks:
        if isinstance(block, Heading):
            out.append({"heading": block.text, "level": block.level})
        elif isinstance(block, Paragraph):
            out.append({"paragraph": block.text, "kind": block.kind, "tone": block.tone})
        elif isinstance(block, KeyFigures):
            out.append({"figures": [[i.key, i.label, i.value, i.tone] for i in block.items]})
        elif isinstance(block, Table):
            out.append({"table": [c.header for c in block.columns],
                        "rows": [[c.text for c in row] for row in block.rows]})
        elif isinstance(block, Figure):
            out.append({"chart": block.alt, "width": block.width})
    return out


def test_blocks_match_the_snapshot(tiny_atlas) -> None:
    document = bulletin_document(bulletin_data(tiny_atlas))
    blocks = outline(document)
    if os.environ.get("BATTLEMAP_UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        lines = ",\n".join(json.dumps(b, ensure_ascii=False) for b in blocks)
        SNAPSHOT.write_text(f"[\n{lines}\n]\n", encoding="utf-8")
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert [next(iter(b)) for b in blocks] == [next(iter(b)) for b in expected]
    for got, want in zip(blocks, expected, strict=True):
        assert got == want
    assert document.title == "测试区 河长制 挂图作战 工作通报（截至 2026-11-27）"


def test_headline_and_ranking_recounted_from_the_cases(tiny_atlas) -> None:
    document = bulletin_document(bulletin_data(tiny_atlas))
    cases = tiny_atlas.cases
    closed = cases["state"] == "closed"
    figures = next(b for b in document.blocks if isinstance(b, KeyFigures)).items
    values = {item.key: item.value for item in figures}
    assert values["total"] == f"{len(cases):,}"
    assert values["closed_rate"] == f"{closed.mean() * 100:.1f}%"
    assert values["overdue"] == f"{int(cases['overdue'].sum()):,}"
    assert values["recurring"] == f"{int(cases['recurring'].sum()):,}"

    ranking = next(b for b in document.blocks if isinstance(b, Table)
                   and b.columns[0].header == "名次")
    names = tiny_atlas.units["town"]["name"]
    for row in ranking.rows:
        town = names[names == row[1].text].index[0]
        mine = cases[cases["town_id"] == town]
        assert row[3].text == f"{len(mine):,}"
        assert row[4].text == f"{int((mine['state'] == 'closed').sum()):,}"
        assert row[6].text == f"{int(mine['overdue'].sum()):,}"
    ranked = [(int(r[0].text), r[1].text) for r in ranking.rows]
    assert sorted(ranked) == ranked and [k for k, _ in ranked] == list(range(1, len(ranked) + 1))

    overdue_ids = {row[0].text for b in document.blocks if isinstance(b, Table)
                   and b.continued is not None for row in b.rows}
    assert overdue_ids == set(cases.index[cases["overdue"].astype(bool)])


def test_changes_since_the_last_bulletin_say_what_they_count(tiny_atlas) -> None:
    """The changes count only counted cases (CHANGES_RULE), and say who changed counting."""
    import dataclasses

    from battlemap.history import CHANGES_RULE

    def summary(recounted: dict[str, int]) -> str:
        atlas = dataclasses.replace(tiny_atlas, extra={
            **tiny_atlas.extra, "changes_since": "2026-11-20", "changes_recounted": recounted})
        blocks = bulletin_document(bulletin_data(atlas)).blocks
        return next(b.text for b in blocks if isinstance(b, Paragraph)
                    and b.text.startswith("与上次通报（2026-11-20）相比"))

    text = summary({"joined": 2, "left": 1})
    assert CHANGES_RULE in text
    assert "（本次转为计入 2 件、已含在新增内，转为不计整改 1 件）" in text
    assert text.endswith(f"{CHANGES_RULE}（本次转为计入 2 件、已含在新增内，转为不计整改 1 件）。")
    quiet = summary({"joined": 0, "left": 0})
    assert quiet.endswith(f"{CHANGES_RULE}。") and "转为计入" not in quiet.replace(CHANGES_RULE, "")

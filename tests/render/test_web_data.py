"""The web atlas pieces (render/web/data.py, encode.py): built once per Atlas object, never stale."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pandas as pd
import pytest

from battlemap.join import counted
from battlemap.render.web import render_web
from battlemap.render.web.data import web_atlas
from battlemap.render.web.encode import STAT_KEYS, _pack_ints, _stat_rows, _unpack_ints


def _data(out, level, unit_id):
    text = (out / "data" / level / f"{unit_id}.js").read_text(encoding="utf-8")
    return json.loads(text[text.index("{"):text.rindex(")")])


def test_same_atlas_is_encoded_once(tiny_atlas, tmp_path):
    first = web_atlas(tiny_atlas)
    render_web(tiny_atlas, tmp_path, units=[("town", "440118001")])
    assert web_atlas(tiny_atlas) is first


def test_batches_write_what_one_call_writes(tiny_atlas, tmp_path):
    render_web(tiny_atlas, tmp_path / "once")
    jobs = [("grid", str(g)) for g in tiny_atlas.units["grid"].index]
    jobs += [("town", str(t)) for t in tiny_atlas.units["town"].index]
    jobs += [("district", str(tiny_atlas.units["district"].index[0]))]
    jobs += [("village", str(v)) for v in tiny_atlas.units["village"].index]
    jobs += [("river", str(r)) for r in tiny_atlas.rivers.index]
    for start in range(0, len(jobs), 3):   # as the build's batches: one call each
        render_web(tiny_atlas, tmp_path / "batched", units=jobs[start:start + 3])
    once = sorted(p.relative_to(tmp_path / "once") for p in (tmp_path / "once").rglob("*")
                  if p.is_file())
    batched = sorted(p.relative_to(tmp_path / "batched")
                     for p in (tmp_path / "batched").rglob("*") if p.is_file())
    assert once == batched
    for rel in once:
        assert (tmp_path / "once" / rel).read_bytes() == (tmp_path / "batched" / rel).read_bytes()


def test_another_atlas_gets_new_pieces(tiny_atlas, tmp_path):
    render_web(tiny_atlas, tmp_path / "old")
    old = web_atlas(tiny_atlas)
    towns = tiny_atlas.units["town"].copy()
    towns.loc["440118001", "name"] = "新名镇"
    dropped = tiny_atlas.cases.index[counted(tiny_atlas.cases)][0]
    cases = tiny_atlas.cases.drop(index=dropped)
    renamed = dataclasses.replace(tiny_atlas, units={**tiny_atlas.units, "town": towns},
                                  cases=cases)
    render_web(renamed, tmp_path / "new")
    assert web_atlas(renamed) is not old
    assert _data(tmp_path / "new", "town", "440118001")["name"] == "新名镇"
    assert "新名镇" in (tmp_path / "new" / "town" / "440118001.html").read_text(encoding="utf-8")
    shared = (tmp_path / "new" / "data" / "shared.js").read_text(encoding="utf-8")
    assert "新名镇" in shared
    district = str(tiny_atlas.units["district"].index[0])
    n_old = len(_unpack_ints(_data(tmp_path / "old", "district", district)["cases"]["x"]))
    n_new = len(_unpack_ints(_data(tmp_path / "new", "district", district)["cases"]["x"]))
    assert n_new == n_old - 1
    assert web_atlas(tiny_atlas) is not web_atlas(renamed)


def test_stat_rows_are_ints_rates_and_none():
    frame = pd.DataFrame({key: [3, 0] for key in STAT_KEYS})
    frame["closed_rate"] = [2 / 3, np.nan]
    frame["overdue"] = pd.array([1, None], dtype="Int64")
    rows = _stat_rows(frame)
    rate, overdue = STAT_KEYS.index("closed_rate"), STAT_KEYS.index("overdue")
    assert rows[0][rate] == 0.6667 and rows[1][rate] is None
    assert rows[0][overdue] == 1 and rows[1][overdue] is None
    assert all(type(v) is int for k, v in zip(STAT_KEYS, rows[0], strict=True)
               if k != "closed_rate")
    assert not any(isinstance(v, float) and math.isnan(v) for row in rows for v in row)


@pytest.mark.parametrize("values", [[], [0], [5, 7, 70], [-1, 0, 63, 64, 4095, 4096],
                                    [262_143, 262_144, 3], [-(2**40), 2**40]])
def test_packed_ints_round_trip(values):
    packed = _pack_ints(np.array(values, dtype=np.int64))
    assert _unpack_ints(packed) == values
    assert set(packed["v"]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(packed["v"]) == len(values) * packed["w"]


def test_packed_ints_are_short():
    packed = _pack_ints(np.array([5, 7, 70]))
    assert packed == {"b": 5, "w": 2, "v": "AAACBB"}
    assert _pack_ints(np.arange(60_000))["w"] == 3   # a case's coordinate: 3 characters


def test_the_filter_menus_show_the_stats_stages_counts(tiny_atlas, tmp_path):
    """Each type's and channel's count on a page is the stats stage's, never recounted here."""
    by_type = tiny_atlas.by_type.assign(count=tiny_atlas.by_type["count"] * 10)
    by_channel = tiny_atlas.by_channel.assign(counted=tiny_atlas.by_channel["counted"] + 1)
    doctored = dataclasses.replace(tiny_atlas, by_type=by_type, by_channel=by_channel)
    render_web(doctored, tmp_path)
    web = web_atlas(doctored)
    for level, frame in (("town", doctored.units["town"]), ("river", doctored.rivers)):
        for unit_id in frame.index.astype(str):
            counts = _data(tmp_path, level, unit_id)["filterCounts"]
            types = by_type[(by_type["level"] == level) & (by_type["unit_id"] == unit_id)]
            channels = by_channel[(by_channel["level"] == level)
                                  & (by_channel["unit_id"] == unit_id)]
            assert ({web.types[k]: n for k, n in enumerate(counts["t"]) if n}
                    == dict(zip(types["problem_type"], types["count"], strict=True)))
            assert ({web.channels[k]: n for k, n in enumerate(counts["c"]) if n}
                    == dict(zip(channels["channel"], channels["counted"], strict=True)))

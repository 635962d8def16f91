"""The whole pipeline on the shipped sample: every case placed, counts recounted."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from battlemap import LEVELS, STATES
from battlemap.build import prepare
from battlemap.config import load_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return prepare(load_config(REPO / "battlemap.toml", out_dir=tmp_path_factory.mktemp("out")))


def test_ledger_balances_and_every_case_is_placed(sample) -> None:
    ledger = sample.ledger()
    assert ledger["cases_in"] == 32_197
    assert ledger["cases_in"] == ledger["cases_mapped"] + ledger["cases_rejected"]
    rejected = sample.findings.rejected_frame()
    assert rejected["source_row"].is_unique
    assert not set(rejected["source_row"]) & set(sample.atlas.cases["source_row"])
    cases = sample.atlas.cases
    for level in LEVELS:
        assert cases[f"{level}_id"].isin(sample.atlas.units[level].index).all()
    assert (cases["river_id"].isin(sample.atlas.rivers.index) | (cases["river_id"] == "")).all()


def test_statistics_match_an_independent_recount(sample) -> None:
    everything = sample.atlas.cases
    kept = everything["valid"].astype(bool) & everything["state"].isin(STATES)
    cases = everything[kept]
    for level in LEVELS:
        stats = sample.atlas.units[level]
        recount = pd.crosstab(cases[f"{level}_id"], cases["state"]).reindex(
            index=stats.index, columns=list(STATES), fill_value=0)
        pd.testing.assert_frame_equal(stats[list(STATES)], recount, check_names=False,
                                      check_dtype=False)
        overdue = cases.groupby(f"{level}_id")["overdue"].sum().reindex(stats.index, fill_value=0)
        assert (stats["overdue"] == overdue).all()
        left_out = (~kept).groupby(everything[f"{level}_id"]).sum().reindex(stats.index,
                                                                           fill_value=0)
        assert (stats["uncounted"] == left_out).all()


def test_invalid_tips_and_void_words_leave_the_figures_but_not_the_ledger(sample) -> None:
    cases = sample.atlas.cases
    district = sample.atlas.units["district"].iloc[0]
    invalid = ~cases["valid"].astype(bool)
    void = cases["state"] == "void"
    assert invalid.sum() > 900 and void.sum() > 0   # 是否有效 = 否; 已撤销, 挂起, 待核实, 暂缓办理
    assert district["uncounted"] == int((invalid | void).sum())
    assert district["total"] + district["uncounted"] == len(cases)
    assert not cases.loc[invalid | void, ["overdue", "recurring"]].any().any()
    channels = sample.atlas.by_channel.query("level == 'district'")
    assert channels["count"].sum() == len(cases)     # the channel statistics count every tip
    assert channels["counted"].sum() == district["total"]  # and which of them the figures count
    # the problem types count what the figures count: a town's types add up to its total
    by_type = sample.atlas.by_type.query("level == 'town'").groupby("unit_id")["count"].sum()
    towns = sample.atlas.units["town"]["total"]
    assert by_type.reindex(towns.index, fill_value=0).to_dict() == towns.to_dict()


def test_town_ranking_follows_the_rule(sample) -> None:
    towns = sample.atlas.units["town"]
    recount = sorted(zip(-towns["closed_rate"], towns["overdue"], towns.index, strict=True))
    assert [t for *_, t in recount] == list(towns.sort_values("rank").index)
    assert sorted(towns["rank"]) == list(range(1, 14))


def test_channels_as_the_export_carries_them(sample) -> None:
    channels = sample.atlas.by_channel.query("level == 'district'").set_index("channel")
    tips = channels.loc["增城河长公众号有奖举报"]
    assert tips["valid"] == 411  # 1,332 tips of which 411 valid; one duplicate row left out
    assert channels["count"].sum() == len(sample.atlas.cases)

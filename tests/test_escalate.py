"""Escalation (督办) in the stats stage: thresholds, recurring window, recipients by unit id,
moving up after an earlier letter, the cases to assign, follow-up and accountability."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest
from conftest import escalation_config

from battlemap.errors import InputError
from battlemap.escalate import (
    ASSIGN,
    REMINDER,
    WARNING,
    accountability,
    assignments,
    check_recipients,
    escalations,
    follow_up,
    recipients,
)


@pytest.fixture(scope="module")
def atlas(tmp_path_factory):
    from battlemap.build import prepare

    return prepare(escalation_config(tmp_path_factory.mktemp("escalate"))).atlas


def _history(rows: list[tuple[str, str, str, str, str]]) -> pd.DataFrame:
    """Earlier letters: (number, level, as_of, period_start, case_id) to town 440118001."""
    kinds = {ASSIGN: "assign", REMINDER: "reminder", WARNING: "warning"}
    return pd.DataFrame([{"number": n, "kind": kinds[level], "as_of": day, "period_start": start,
                          "recipient_level": "town", "recipient_id": "440118001",
                          "recipient": "甲镇河长", "case_id": case, "level": level}
                         for n, level, day, start, case in rows])


def test_overdue_on_the_day_one_day_before_and_after(atlas) -> None:
    cases = atlas.cases
    assert not cases.loc["D0", "overdue"]                       # deadline today: not yet
    assert cases.loc["D1", "overdue"] and cases.loc["D1", "days_overdue"] == 1
    assert not cases.loc["X", "overdue"]                        # closed: never overdue


def test_levels_one_day_before_on_and_after_each_threshold(atlas) -> None:
    due = escalations(atlas).set_index("case_id")
    for case in ("D0", "D1", "R6"):
        assert case not in due.index, case
    assert {c: due.loc[c, "level"] for c in ("R7", "R8", "W29", "W30", "W31")} == {
        "R7": REMINDER, "R8": REMINDER, "W29": REMINDER, "W30": WARNING, "W31": WARNING}
    assert due.loc["W30", "days_overdue"] == 30 and due.loc["R7", "reason"] == "超期"


def test_recurring_within_the_window_is_reminded_with_the_earlier_case(atlas) -> None:
    due = escalations(atlas).set_index("case_id")
    assert atlas.cases.loc["P2", "recurring_of"] == "P1"
    assert due.loc["P2", "level"] == REMINDER and due.loc["P2", "reason"] == "反复"
    assert due.loc["P2", "recurring_of"] == "P1"
    assert pd.Timestamp(due.loc["P2", "recurring_of_closed"]) == pd.Timestamp("2026-01-10")
    assert atlas.cases.loc["E2", "recurring"] and atlas.cases.loc["E2", "recurring_of"] == "E1"
    assert not atlas.cases.loc["Q2", "recurring"] and "Q2" not in due.index
    assert atlas.cases.loc["Q2", "recurring_of"] == ""


def test_recipients_are_towns_by_id_with_their_copy(atlas) -> None:
    due = escalations(atlas)
    for row in due.itertuples():
        town = atlas.cases.loc[row.case_id, "town_id"]
        assert (row.recipient_id, row.recipient_level) == (town, "town")
        assert row.recipient == atlas.units["town"].loc[town, "chief"]
    who = recipients(atlas)
    assert who.loc["440118001", "cc"] == "区级河长甲"          # from [letters.cc]
    assert who.loc["440118002", "cc"] == "区河长"              # else the district's chief


def test_two_towns_whose_chiefs_share_a_name_stay_two_recipients(atlas) -> None:
    towns = atlas.units["town"].copy()
    towns["chief"] = "王伟"
    same = dataclasses.replace(atlas, units={**atlas.units, "town": towns})
    due = escalations(same)
    assert set(due["recipient"]) == {"王伟"}
    assert due.groupby("recipient_id").ngroups == 2


def test_a_town_without_a_chief_is_refused_naming_it(atlas) -> None:
    towns = atlas.units["town"].copy()
    towns.loc["440118002", "chief"] = ""
    blank = dataclasses.replace(atlas, units={**atlas.units, "town": towns})
    with pytest.raises(InputError, match="chief") as info:
        check_recipients(blank, escalations(blank)["recipient_id"])
    assert "town 440118002 (乙镇): no chief" in str(info.value)


def test_reminded_in_an_earlier_period_and_still_open_moves_up(atlas) -> None:
    history = _history([("甲1号", REMINDER, "2026-11-20", "2026-11-16", "R8"),
                        ("甲2号", REMINDER, "2026-11-24", "2026-11-23", "R7"),
                        ("甲3号", WARNING, "2026-11-20", "2026-11-16", "W31")])
    later = dataclasses.replace(atlas, extra={**atlas.extra, "letter_history": history})
    due = escalations(later).set_index("case_id")
    assert due.loc["R8", "level"] == WARNING and due.loc["R8", "previous_number"] == "甲1号"
    assert due.loc["R8", "sent_in_period"] == ""
    # reminded earlier this same period: not sent a reminder again, and not moved up yet
    assert due.loc["R7", "level"] == REMINDER and due.loc["R7", "sent_in_period"] == "甲2号"
    assert due.loc["W31", "level"] == WARNING and due.loc["W31", "previous_number"] == "甲3号"
    assert due.loc["W29", "previous_number"] == "" and due.loc["W29", "level"] == REMINDER


def test_assignments_are_the_open_cases_new_in_the_period(atlas) -> None:
    new = assignments(atlas).set_index("case_id")
    assert sorted(new.index) == ["N1", "N2"]                   # N3 last week, N4 closed
    assert pd.Timestamp(new.loc["N1", "deadline"]) == pd.Timestamp("2026-12-01")   # 垃圾堆放: 7 days
    assert new.loc["N1", "deadline_rule"] == "按规则" and new.loc["N2", "deadline_rule"] == ""
    assert pd.Timestamp(new.loc["N2", "deadline"]) == pd.Timestamp("2026-12-25")
    assert "13800138000" not in new.loc["N1", "description"]   # masked at load
    history = _history([("甲9号", ASSIGN, "2026-11-25", "2026-11-23", "N1")])
    again = dataclasses.replace(atlas, extra={**atlas.extra, "letter_history": history})
    assert list(assignments(again)["case_id"]) == ["N2"]       # never assigned twice


def test_follow_up_counts_the_cases_closed_since(atlas) -> None:
    history = _history([("甲1号", REMINDER, "2026-11-20", "2026-11-16", "X"),
                        ("甲1号", REMINDER, "2026-11-20", "2026-11-16", "R8"),
                        ("甲1号", REMINDER, "2026-11-20", "2026-11-16", "gone")])
    later = dataclasses.replace(atlas, extra={**atlas.extra, "letter_history": history})
    row = follow_up(later).iloc[0]
    assert (row["number"], row["cases"], row["closed"], row["open"]) == ("甲1号", 3, 1, 2)
    assert follow_up(atlas).empty


def test_accountability_lists_village_chiefs_at_the_threshold(atlas) -> None:
    due = escalations(atlas)
    candidates = accountability(atlas, due)
    warned = due[due["level"] == WARNING].groupby("village_id").size()
    assert list(candidates["village_id"]) == list(warned[warned >= 2].index)
    assert len(candidates) == 1 and candidates["warnings"].iloc[0] == 2      # W30, W31
    assert candidates["chief"].iloc[0] == "甲一村河长"
    raised = atlas.config.model_copy(update={"letters": atlas.config.letters.model_copy(
        update={"accountability_warnings": 3})})
    assert accountability(dataclasses.replace(atlas, config=raised), due).empty


def test_rewards_of_the_reward_channel_this_period_and_in_all(atlas) -> None:
    from battlemap.escalate import rewards

    assert rewards(atlas) is None                              # no reward column mapped
    cases = atlas.cases.copy()
    cases["channel"] = "有奖举报"
    cases.loc[["D0", "D1"], "channel"] = "巡河"
    cases["reward"] = ""
    cases.loc[["N1", "N2", "R7", "D0"], "reward"] = ["200", "1,000元", "见附件", "999"]
    cases.loc[["N2"], "valid"] = False
    letters = atlas.config.letters.model_copy(update={"reward_channel": "有奖举报"})
    tipped = dataclasses.replace(atlas, cases=cases,
                                 config=atlas.config.model_copy(update={"letters": letters}))
    table = rewards(tipped)
    period, total = table.loc["period"], table.loc["total"]
    assert (period["tips"], period["valid"], period["rewards"]) == (3, 2, 1200.0)  # N1 N2 N4
    assert (total["tips"], total["rewards"], total["unreadable"]) == (len(cases) - 2, 1200.0, 1)
    assert total["valid_share"] == pytest.approx((len(cases) - 3) / (len(cases) - 2))

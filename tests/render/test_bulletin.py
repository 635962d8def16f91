"""Bulletin (通报): escalation thresholds, figures against the statistics, rank change, channels,
escaping, pagination; the PDF read back with pdftotext and the HTML in headless Chromium."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from battlemap.config import EscalationConfig
from battlemap.render.bulletin import REMINDER, WARNING, bulletin_data, escalations, render_bulletin
from battlemap.render.bulletin.document import bulletin_document
from battlemap.render.document import Heading
from battlemap.stats import by_category, previous_ranks


def _with_overdue(atlas, days: dict[str, int]):
    """A copy of the atlas in which exactly the cases of ``days`` are overdue by that much."""
    cases = atlas.cases.copy()
    cases["overdue"] = False
    cases["days_overdue"] = 0
    cases["recurring"] = False           # recurring cases are escalated too (tests/test_escalate.py)
    for case_id, d in days.items():
        cases.loc[case_id, ["overdue", "days_overdue", "state"]] = [True, d, "assigned"]
    return dataclasses.replace(atlas, cases=cases)


def _with_snapshot(atlas, snapshot: pd.DataFrame):
    """A copy of the atlas as the build makes it when ``snapshot`` is the previous one."""
    return dataclasses.replace(atlas, extra={
        **atlas.extra, "previous_snapshot": snapshot, "changes_since": "2026-11-20",
        "previous_rank": previous_ranks(atlas.units["town"], snapshot)})


def _pdftext(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) not installed")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def _html_figures(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-key="([a-z_]+)" data-value="([^"]*)"', page))


# --------------------------------------------------------------------------- escalation


@pytest.mark.parametrize(("reminder", "warning"), [(7, 30), (3, 10), (5, 5)])
def test_escalation_levels_exactly_at_the_thresholds(tiny_atlas, reminder, warning) -> None:
    rule = EscalationConfig(reminder_days=reminder, warning_days=warning)
    config = tiny_atlas.config.model_copy(update={"escalation": rule})
    ids = list(tiny_atlas.cases.index[:4])
    days = dict(zip(ids, [reminder - 1, reminder, warning - 1, warning], strict=True))
    atlas = dataclasses.replace(_with_overdue(tiny_atlas, days), config=config)

    due = escalations(atlas).set_index("case_id")

    expected = {ids[0]: None, ids[1]: REMINDER, ids[2]: REMINDER, ids[3]: WARNING}
    if warning == reminder:            # a single threshold: straight to a warning
        expected = {ids[0]: None, ids[1]: WARNING, ids[2]: None, ids[3]: WARNING}
    for case_id, level in expected.items():
        if level is None:
            assert case_id not in due.index
        else:
            assert due.loc[case_id, "level"] == level
            assert due.loc[case_id, "days_overdue"] == days[case_id]
    assert len(due) == sum(level is not None for level in expected.values())


def test_escalation_recipients_and_order(tiny_atlas) -> None:
    ids = list(tiny_atlas.cases.index)
    atlas = _with_overdue(tiny_atlas, {ids[0]: 8, ids[2]: 40, ids[3]: 12, ids[4]: 90})
    due = escalations(atlas)
    towns = atlas.units["town"]
    for row in due.itertuples():
        town_id = atlas.cases.loc[row.case_id, "town_id"]
        assert row.town_id == town_id
        assert row.town == towns.loc[town_id, "name"]
        assert row.recipient == towns.loc[town_id, "chief"]
        assert row.cc == "区河长"
        assert row.village == atlas.units["village"].loc[
            atlas.cases.loc[row.case_id, "village_id"], "name"]
    keys = list(zip(due["recipient_id"], -due["days_overdue"], strict=True))  # by unit id
    assert keys == sorted(keys)
    assert list(due.columns[:10]) == ["case_id", "town_id", "town", "village", "problem_type",
                                      "deadline", "days_overdue", "level", "recipient", "cc"]


def test_no_escalations_without_overdue_cases(tiny_atlas) -> None:
    due = escalations(_with_overdue(tiny_atlas, {}))
    assert due.empty and "level" in due.columns


# --------------------------------------------------------------------------- figures


def test_headline_figures_equal_the_statistics_stage(tiny_atlas, tmp_path) -> None:
    pdf, page, _ = render_bulletin(tiny_atlas, tmp_path)
    assert pdf == tmp_path / "bulletin" / "2026-11-27.pdf"
    assert page == tmp_path / "bulletin" / "2026-11-27.html"
    district = tiny_atlas.units["district"].iloc[0]

    figures = _html_figures(page.read_text(encoding="utf-8"))
    assert set(figures) == {"total", "closed_rate", "overdue", "recurring", "new_in_period",
                            "closed_in_period"}
    for key, value in figures.items():
        assert float(value) == pytest.approx(float(district[key])), key

    text = _pdftext(pdf)
    assert "测试区 河长制 挂图作战 工作通报（截至 2026-11-27）" in text
    for name in tiny_atlas.units["town"]["name"]:
        assert name in text
    assert "案件总数" in text
    assert f"累计受理污染源问题 {int(district['total']):,} 件" in text
    assert f"已销号 {int(district['closed']):,} 件，销号率 {district['closed_rate']:.1%}" in text
    assert f"超期未销号 {int(district['overdue']):,} 件" in text
    assert "示例数据" not in text          # the tiny district is not the sample


def test_ranking_change_since_the_previous_snapshot(tiny_atlas) -> None:
    towns = tiny_atlas.units["town"].sort_values("rank")
    first, second = towns.index
    cases = tiny_atlas.cases
    snapshot = pd.DataFrame({
        "state": ["assigned" if t == first else "closed" for t in cases["town_id"]],
        "overdue": False, "town_id": cases["town_id"].to_numpy()}, index=cases.index)
    atlas = _with_snapshot(tiny_atlas, snapshot)
    ranking = bulletin_data(atlas).ranking
    assert ranking.loc[first, "previous_rank"] == 2 and ranking.loc[first, "rank_change"] == 1
    assert ranking.loc[second, "previous_rank"] == 1 and ranking.loc[second, "rank_change"] == -1

    no_history = bulletin_data(tiny_atlas).ranking
    assert no_history["previous_rank"].isna().all()


def test_rank_change_shown_in_html_and_pdf(tiny_atlas, tmp_path) -> None:
    first = tiny_atlas.units["town"].sort_values("rank").index[0]
    cases = tiny_atlas.cases
    snapshot = pd.DataFrame({
        "state": ["reported" if t == first else "closed" for t in cases["town_id"]],
        "overdue": "False", "town_id": cases["town_id"].to_numpy()}, index=cases.index)
    atlas = _with_snapshot(tiny_atlas, snapshot)
    pdf, page, _ = render_bulletin(atlas, tmp_path)
    html_text = page.read_text(encoding="utf-8")
    assert "↑1" in html_text and "↓1" in html_text and "2026-11-20" in html_text
    assert "↑1" in _pdftext(pdf)

    pdf, page, _ = render_bulletin(tiny_atlas, tmp_path / "first")
    assert "无上次构建" in page.read_text(encoding="utf-8")
    assert "↑" not in _pdftext(pdf)


def test_channel_valid_and_closed_shares(tiny_atlas, tmp_path) -> None:
    cases = tiny_atlas.cases.copy()
    ids = list(cases.index)
    tips = ids[:3]
    cases.loc[tips, "channel"] = "增城河长公众号有奖举报"
    cases.loc[tips, "valid"] = [True, False, False]
    atlas = dataclasses.replace(tiny_atlas, cases=cases, by_channel=by_category(cases, "channel"))

    channels = bulletin_data(atlas).channels.set_index("channel")
    tip = channels.loc["增城河长公众号有奖举报"]
    assert (tip["count"], tip["valid"]) == (3, 1)
    assert tip["valid_share"] == pytest.approx(1 / 3)
    assert tip["closed_share"] == pytest.approx((cases.loc[tips, "state"] == "closed").mean())
    app = channels.loc["广州河长APP"]
    assert app["count"] == len(ids) - 3 and app["valid_share"] == 1.0
    assert channels["count"].sum() == tiny_atlas.units["district"]["total"].iloc[0]

    per_town = bulletin_data(atlas).channels_by_town
    assert per_town.groupby("channel")["count"].sum().to_dict() == channels["count"].to_dict()

    _, page, _ = render_bulletin(atlas, tmp_path)
    assert "33.3%" in page.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- safety, layout


def test_html_escapes_public_text(tiny_atlas, tmp_path) -> None:
    case_id = tiny_atlas.cases.index[0]
    atlas = _with_overdue(tiny_atlas, {case_id: 45})
    atlas.cases.loc[case_id, "description"] = '<script>alert("x")</script> 排水口 & 污水'
    _, page, _ = render_bulletin(atlas, tmp_path)
    text = page.read_text(encoding="utf-8")
    assert "<script" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; 排水口 &amp; 污水" in text
    assert "<img src=x" not in text                 # the fixture's descriptions
    assert "default-src 'none'" in text             # and nothing would run or load anyway
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)


def test_sample_mark(tiny_atlas, tmp_path) -> None:
    project = tiny_atlas.config.project.model_copy(update={"sample": True})
    atlas = dataclasses.replace(tiny_atlas,
                                config=tiny_atlas.config.model_copy(update={"project": project}))
    pdf, page, _ = render_bulletin(atlas, tmp_path)
    assert "示例数据 sample data" in page.read_text(encoding="utf-8")
    assert "示例数据" in _pdftext(pdf)


def test_long_tables_break_across_pages_without_losing_a_row(tiny_atlas, tmp_path) -> None:
    """150 overdue cases: every one is listed, headers repeat, pages are A4."""
    base = tiny_atlas.cases
    copies = []
    for k in range(150):
        one = base.iloc[[k % len(base)]].copy()
        one.index = [f"X{k:04d}"]
        one["overdue"], one["days_overdue"], one["state"] = True, 200 + k, "assigned"
        copies.append(one)
    cases = pd.concat(copies)
    atlas = dataclasses.replace(tiny_atlas, cases=cases)
    pdf, page, _ = render_bulletin(atlas, tmp_path)

    text = _pdftext(pdf)
    pages = text.split("\f")
    assert len([p for p in pages if p.strip()]) >= 4
    for case_id in cases.index:
        assert case_id in text, case_id
        assert case_id in page.read_text(encoding="utf-8")
    assert "（续）" in text
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "595.28 x 841.89 pts (A4)" in info


@pytest.mark.browser
def test_html_opens_offline_in_chromium(tiny_atlas, tmp_path) -> None:
    pytest.importorskip("playwright")
    from tests.render.browser import CHROMIUM, PageLog, browser, open_offline

    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium")
    _, page_path, _ = render_bulletin(tiny_atlas, tmp_path)
    log = PageLog()
    with browser() as chromium:
        context = chromium.new_context(viewport={"width": 1100, "height": 900})
        page = open_offline(context, page_path, log, wait_ready=False)
        assert page.locator("h1").inner_text().startswith("测试区 河长制 挂图作战 工作通报")
        document = bulletin_document(bulletin_data(tiny_atlas))
        headings = [b for b in document.blocks if isinstance(b, Heading) and b.level == 1]
        assert len(headings) >= 9              # seven sections, 整改情况 and 责任追究线索
        assert page.locator("section").count() == len(headings)
        images = page.eval_on_selector_all(
            "img.chart", "els => els.map(e => e.complete && e.naturalWidth > 100)")
        assert images and all(images)
        context.close()
    assert log.problems() == []


def test_follow_up_of_earlier_letters_and_accountability_candidates(tiny_atlas) -> None:
    from battlemap.render.bulletin import bulletin_document
    from battlemap.render.document import Heading, Table

    history = pd.DataFrame([
        {"number": "测〔2026〕1号", "kind": "reminder", "as_of": "2026-11-20",
         "period_start": "2026-11-16", "recipient_level": "town", "recipient_id": "440118001",
         "recipient": "甲镇河长", "case_id": case, "level": REMINDER} for case in ("C01", "C02")])
    rule = tiny_atlas.config.letters.model_copy(update={"accountability_warnings": 1})
    atlas = dataclasses.replace(
        tiny_atlas, config=tiny_atlas.config.model_copy(update={"letters": rule}),
        extra={**tiny_atlas.extra, "letter_history": history})
    blocks = bulletin_document(bulletin_data(atlas)).blocks
    k = next(i for i, b in enumerate(blocks) if isinstance(b, Heading) and "督办函整改情况" in b.text)
    assert blocks[k].text == "八、督办函整改情况"
    assert "涉及案件 2 件，截至本期已销号 1 件、尚未销号 1 件" in blocks[k + 1].text
    [row] = blocks[k + 2].rows
    assert [c.text for c in row] == ["测〔2026〕1号", "提醒函", "2026-11-20", "甲镇 甲镇河长", "2", "1",
                                     "1", "50.0%"]
    people = next(b for b in blocks[k + 3:] if isinstance(b, Table))
    assert [[c.text for c in r][:4] for r in people.rows] == [["乙二村", "乙镇", "乙二村河长", "1"]]  # C04


def test_reward_tips_are_reported_when_the_export_has_a_reward_column(tiny_atlas) -> None:
    from battlemap.render.bulletin import bulletin_document
    from battlemap.render.document import Heading

    plain = bulletin_document(bulletin_data(tiny_atlas)).blocks
    assert not [b for b in plain if isinstance(b, Heading) and b.text == "有奖举报"]
    cases = tiny_atlas.cases.copy()
    cases["reward"] = ["5000", "", "", "2,500元", "", "", ""][:len(cases)]
    blocks = bulletin_document(bulletin_data(dataclasses.replace(tiny_atlas, cases=cases))).blocks
    k = next(i for i, b in enumerate(blocks) if isinstance(b, Heading) and b.text == "有奖举报")
    rows = [[c.text for c in r] for r in blocks[k + 1].rows]
    assert rows[1] == ["累计", str(len(cases)), str(len(cases)), "100.0%", "0.75"]

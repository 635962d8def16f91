"""The bulletin (通报) as a document: its seven sections written once, as blocks.

一、总体情况  headline figures, a summary paragraph and charts;
二、镇街排名  the ranking of towns, the change in rank since the last build,
              the ranking rule, and each town's cases by state (各镇街案件状态);
三、督办提醒与预警  reminders (提醒) and warnings (预警) per recipient;
四、超期案件  overdue cases by town, longest first, with the responsible chief;
五、反复案件  recurring cases still open, and counts per town;
六、属地不符  open cases whose declared town/village differs from where they lie;
七、上报渠道  cases, valid share (有效率) and closed share per channel and town;
八、断面水质  with monitoring data: :mod:`.water`.
then (:data:`LETTER_SECTIONS`, numbered on after it) the follow-up of the office's
earlier letters (整改情况) and the accountability rule's candidates (责任追究).

Every number is formatted here, once; the PDF, HTML and .docx writers of
:mod:`battlemap.render.document` only lay the blocks out.
"""

from __future__ import annotations

from functools import partial

import pandas as pd

from battlemap import STATES, __version__
from battlemap.render.bulletin.charts import chart_ages, chart_cumulative, chart_towns, chart_weekly
from battlemap.render.bulletin.data import REMINDER, WARNING, Bulletin
from battlemap.render.bulletin.water import water_section
from battlemap.render.document import (
    DEFAULT_TONES,
    Block,
    Column,
    Document,
    Figure,
    Heading,
    KeyFigure,
    KeyFigures,
    Paragraph,
    Table,
    cells,
)
from battlemap.stats import count_rule, uncounted_note

__all__ = ["LETTER_SECTIONS", "SECTIONS", "VALID_NOTE", "bulletin_document"]

LETTER_SECTIONS = ("督办函整改情况", "责任追究线索")
"""Appended after SECTIONS, numbered on: what the office's letters achieved, and who is next."""
SECTIONS = tuple(f"{n}、{name}" for n, name in zip(
    "一二三四五六七", ("总体情况", "镇街排名", "督办提醒与预警", "超期案件", "反复案件", "属地不符",
                   "上报渠道"), strict=True))
VALID_NOTE = ("有效率：经核实为有效问题的案件占比，按渠道计全部举报；无效举报及不计整改的案件"
              "只计入本节，不计入整改的各项数字。")
SAMPLE_MARK = "示例数据 sample data · 合成案件，非真实情况"


def bulletin_document(b: Bulletin) -> Document:
    """The bulletin's blocks, from its data (see :func:`~.data.bulletin_data`)."""
    blocks: list[Block] = []
    for section in (_overview, _ranking, _escalations, _overdue, _recurring, _mismatches,
                    _channels):
        blocks.extend(section(b))
    water = water_section(b.water, b.as_of)
    blocks.extend(water)
    blocks.extend(_letters(b, first=len(SECTIONS) + (1 if water else 0)))
    source = f"数据来源：{b.data_source}" if b.data_source else ""
    return Document(
        title=b.title, blocks=tuple(blocks), meta=_meta_line(b),
        footer=f"{b.note}　{source}".strip(), mark=SAMPLE_MARK if b.sample else None,
        creator=f"battlemap {__version__}", tones={**DEFAULT_TONES, "warn": b.colors["overdue"]})


# --------------------------------------------------------------------------- sections


def _overview(b: Bulletin) -> list[Block]:
    h = b.headline
    return [
        Heading(SECTIONS[0]),
        KeyFigures(tuple(KeyFigure(key, label, value, h[key], "warn" if key == "overdue" else "")
                         for key, label, value in _headline(b))),
        Paragraph(_states_line(b), "note"),
        *(Paragraph(text) for text in _summary(b)),
        Figure(partial(chart_cumulative, b), "累计受理与销号", height=170, width=0.5, room=34),
        Figure(partial(chart_weekly, b), "近26周每周新增与销号", height=170, width=0.5, room=26),
    ]


def _ranking(b: Bulletin) -> list[Block]:
    rows = []
    for r in b.ranking.itertuples():
        rows.append(cells(int(r.rank), r.name, r.chief or "—", _int(r.total), _int(r.closed),
                          _pct(r.closed_rate), (_int(r.overdue), "warn" if r.overdue else ""),
                          _int(r.recurring), _int(r.new_in_period), _int(r.closed_in_period),
                          _change(r.rank_change)))
    columns = (Column("名次", 28, "center"), Column("镇街", 58), Column("镇街河长", 50),
               Column("案件", 42, "right"), Column("已销号", 42, "right"),
               Column("销号率", 44, "right"), Column("超期", 38, "right"),
               Column("反复", 36, "right"), Column(f"本{b.period_kind}新增", 50, "right"),
               Column(f"本{b.period_kind}销号", 50, "right"), Column("名次变化", 50, "center"))
    height = max(220.0, 15.0 * len(b.ranking) + 50)
    return [Heading(SECTIONS[1]), Table(columns, tuple(rows)),
            Paragraph(f"排名规则：{b.ranking_rule}", "note"),
            Figure(partial(chart_towns, b), "镇街销号率排名", height=height, width=0.5, room=58),
            Figure(partial(chart_ages, b), "超期案件按案龄", height=height, width=0.5),
            *_town_states(b)]


TOWN_STATES = "各镇街案件状态"
"""The heading of the town state table (under 二、镇街排名)."""
DISTRICT_ROW = "全区合计"


def _town_states(b: Bulletin) -> list[Block]:
    """Each town's cases by state, with the same words and rule as every legend (计数口径)."""
    label = b.labels.get
    columns = (Column("镇街", 70), Column("案件总数", 50, "right"),
               *(Column(label(s, s), 46, "right") for s in STATES),
               Column(f"其中{label('overdue', '超期')}", 50, "right"),
               Column(f"其中{label('recurring', '反复')}", 50, "right"),
               Column("不计整改", 50, "right"))
    rows = tuple(cells(DISTRICT_ROW if r.is_district else r.name, _int(r.total),
                       *(_int(getattr(r, s)) for s in STATES),
                       (_int(r.overdue), "warn" if r.overdue else ""), _int(r.recurring),
                       (_int(r.uncounted), "muted"))
                 for r in b.town_states.itertuples())
    note = f"{count_rule(b.labels)}。不计整改：无效举报及不计整改案件，不含在案件总数及各状态内。"
    return [Heading(TOWN_STATES, level=2), Table(columns, rows), Paragraph(note, "note")]


def _escalations(b: Bulletin) -> list[Block]:
    h = b.headline
    rule = (f"督办规则：超期满 {b.reminder_days} 天发提醒、满 {b.warning_days} 天发预警，"
            "销号后反复出现的问题发提醒，此前已提醒仍未整改的升为预警；送达案件所在镇街的河长，"
            f"抄送该镇街的区级河长。本期共需发出预警 {_int(h['warnings'])}"
            f" 件、提醒 {_int(h['reminders'])} 件，按收件人列出如下。")
    summary, details = [], []
    for _, group in b.escalations.groupby("recipient_id", sort=False):
        recipient, town = group["recipient"].iloc[0], group["town"].iloc[0]
        warn = int((group["level"] == WARNING).sum())
        cc = group["cc"].iloc[0] or "—"
        summary.append(cells(recipient or "（未填）", town, (warn, "warn" if warn else ""),
                             len(group) - warn, f"{int(group['days_overdue'].max()):,}", cc))
        details.append(Heading(f"{town} 河长 {recipient or '（未填）'}：预警 {warn} 件，提醒 "
                               f"{len(group) - warn} 件（抄送 区级河长 {cc}）", level=2))
        for level in (WARNING, REMINDER):
            part = group[group["level"] == level]
            if len(part):
                items = "、".join(f"{c}（{_why(d, why)}）" for c, d, why in
                                 zip(part["case_id"], part["days_overdue"], part["reason"],
                                     strict=True))
                details.append(Paragraph(f"{level}：{items}", "list",
                                         "warn" if level == WARNING else ""))
    columns = (Column("收件人（镇街河长）", 90), Column("镇街", 80), Column("预警", 50, "right"),
               Column("提醒", 50, "right"), Column("最长超期（天）", 80, "right"),
               Column("抄送（区级河长）", 90))
    return [Heading(SECTIONS[2]), Paragraph(rule), Table(columns, tuple(summary)), *details]


def _overdue(b: Bulletin) -> list[Block]:
    blocks: list[Block] = [Heading(SECTIONS[3]), Paragraph(
        f"超期未销号 {_int(b.headline['overdue'])} 件，按镇街（超期件数多者在前）、"
        "超期天数从长到短列出；责任河长为案件所在村居的河长。")]
    columns = (Column("编号", 64), Column("村居", 82), Column("问题类型", 56), Column("状态", 34),
               Column("整改期限", 52), Column("超期天数", 40, "right"),
               Column("督办", 28, "center"), Column("责任河长", 48),
               Column("问题描述", 120, screen_only=True))
    for (town, chief), group in b.overdue.groupby(["town", "town_chief"], sort=False):
        blocks.append(Heading(f"{town or '（未定位）'}　{len(group)} 件，最长超期 "
                              f"{int(group['days_overdue'].max()):,} 天　镇街河长 {chief or '—'}",
                              level=2))
        rows = tuple(cells(r.case_id, r.village, r.problem_type, r.state, _date(r.deadline),
                           (f"{r.days_overdue:,}", "warn"),
                           (r.level or "", "warn" if r.level == WARNING else ""), r.chief,
                           r.description) for r in group.itertuples())
        blocks.append(Table(columns, rows, continued=town))
    if b.overdue.empty:
        blocks.append(Table(columns, ()))
    return blocks


def _recurring(b: Bulletin) -> list[Block]:
    h = b.headline
    intro = (f"反复问题（同一位置销号后又被举报）累计 {_int(h['recurring'])} 件，"
             f"其中仍未销号 {_int(h['recurring_open'])} 件，列于下表。")
    by_town = Table((Column("镇街", 90), Column("反复（累计）", 70, "right"),
                     Column("其中未销号", 70, "right")),
                    tuple(cells(r.town, _int(r.recurring), _int(r.open))
                          for r in b.recurring_by_town.itertuples()))
    cases = Table((Column("编号", 64), Column("镇街", 50), Column("村居", 82),
                   Column("问题类型", 56), Column("状态", 34), Column("上报日期", 52),
                   Column("超期", 28, "center"), Column("村居河长", 48),
                   Column("问题描述", 120, screen_only=True)),
                  tuple(cells(r.case_id, r.town, r.village, r.problem_type, r.state,
                              _date(r.reported_at), ("是", "warn") if r.overdue else "", r.chief,
                              r.description) for r in b.recurring.itertuples()))
    return [Heading(SECTIONS[4]), Paragraph(intro), by_town, cases]


def _mismatches(b: Bulletin) -> list[Block]:
    intro = (f"上报时选择的镇街/村居与定位所在地不一致的案件累计 {_int(b.headline['mismatches'])}"
             f" 件；以下 {len(b.mismatches)} 件尚未销号，请核实属地，按定位所在地落实整改。")
    table = Table((Column("编号", 64), Column("上报镇街", 50), Column("上报村居", 90),
                   Column("定位镇街", 50), Column("定位村居", 90), Column("问题类型", 56),
                   Column("状态", 34)),
                  tuple(cells(r.case_id, r.declared_town or "（未填）",
                              r.declared_village or "（未填）", r.town, r.village,
                              r.problem_type, r.state) for r in b.mismatches.itertuples()))
    return [Heading(SECTIONS[5]), Paragraph(intro), table]


def _channels(b: Bulletin) -> list[Block]:
    district = Table(
        (Column("上报渠道", 160), Column("案件", 60, "right"), Column("有效", 60, "right"),
         Column("有效率", 60, "right"), Column("已销号", 60, "right"),
         Column("销号率", 60, "right")),
        tuple(cells(r.channel, _int(r.count), _int(r.valid), _pct(r.valid_share),
                    _int(r.closed), _pct(r.closed_share)) for r in b.channels.itertuples()))
    rows, previous = [], None
    for r in b.channels_by_town.itertuples():
        rows.append(cells(r.town if r.town != previous else "", r.channel, _int(r.count),
                          _int(r.valid), _pct(r.valid_share), _int(r.closed),
                          _pct(r.closed_share)))
        previous = r.town
    per_town = Table((Column("镇街", 70), Column("渠道", 130), Column("案件", 55, "right"),
                      Column("有效", 55, "right"), Column("有效率", 55, "right"),
                      Column("已销号", 55, "right"), Column("销号率", 55, "right")),
                     tuple(rows), group=0)
    return [Heading(SECTIONS[6]), district, Paragraph(VALID_NOTE, "note"),
            Heading("各镇街分渠道", level=2), per_town]


def _rewards(b: Bulletin) -> list[Block]:
    """有奖举报 (under 上报渠道): tips, valid share and rewards paid, this period and in all."""
    if b.rewards is None:
        return []
    labels = {"period": f"本{b.period_kind}", "total": "累计"}
    table = Table((Column("期间", 60), Column("举报", 60, "right"), Column("有效", 60, "right"),
                   Column("有效率", 60, "right"), Column("奖励金额（万元）", 90, "right")),
                  tuple(cells(labels[name], _int(r.tips), _int(r.valid), _pct(r.valid_share),
                              f"{r.rewards / 10000:,.2f}") for name, r in b.rewards.iterrows()))
    bad = int(b.rewards.loc["total", "unreadable"])
    note = [Paragraph(f"另有 {bad} 件的奖励金额无法识别，未计入。", "note")] if bad else []
    return [Heading("有奖举报", level=2), table, *note]


def _letters(b: Bulletin, first: int) -> list[Block]:
    """整改情况 of the earlier letters, and the accountability rule's candidates."""
    numerals = "一二三四五六七八九十"
    follow, candidates = b.follow_up, b.accountability
    closed, total = int(follow["closed"].sum()), int(follow["cases"].sum())
    intro = (f"此前发出督办函 {len(follow)} 件，涉及案件 {total:,} 件，截至本期已销号 {closed:,} 件"
             f"、尚未销号 {total - closed:,} 件。" if len(follow) else "此前尚无督办函（本期为首期）。")
    kinds = {"assign": "交办函", "reminder": "提醒函", "warning": "预警函"}
    letters = Table((Column("文号", 110), Column("类别", 46), Column("发文日期", 56),
                     Column("主送", 120), Column("案件", 40, "right"), Column("已销号", 44, "right"),
                     Column("未销号", 44, "right"), Column("销号率", 44, "right")),
                    tuple(cells(r.number, kinds.get(r.kind, r.kind), r.as_of,
                                f"{r.town} {r.recipient}".strip(),
                                _int(r.cases), _int(r.closed), (_int(r.open), "warn" if r.open
                                                                else ""),
                                _pct(r.closed / r.cases if r.cases else float("nan")))
                          for r in follow.itertuples()))
    rule = (f"规则：村居内尚未销号的预警案件达 {b.accountability_warnings} 件及以上的，"
            f"列为村居河长责任追究线索（截至 {b.as_of.isoformat()}），"
            f"本期 {len(candidates)} 人，供区河长办研究。")
    people = Table((Column("村居", 110), Column("镇街", 70), Column("村居河长", 60),
                    Column("未销号预警案件", 70, "right"), Column("最长超期（天）", 70, "right")),
                   tuple(cells(r.village, r.town, r.chief or "—", (_int(r.warnings), "warn"),
                               _int(r.longest)) for r in candidates.itertuples()))
    return [*_rewards(b), Heading(f"{numerals[first]}、{LETTER_SECTIONS[0]}"), Paragraph(intro),
            letters,
            Heading(f"{numerals[first + 1]}、{LETTER_SECTIONS[1]}"), Paragraph(rule), people]


# --------------------------------------------------------------------------- texts


def _meta_line(b: Bulletin) -> str:
    since = (f"排名变化对比 {b.changes_since} 的上次构建" if b.changes_since
             else "无上次构建，不计排名变化")
    return (f"本{b.period_kind}：{b.period[0].isoformat()} 至 {b.period[1].isoformat()}　·　{since}"
            f"　·　区河长 {b.district_chief or '—'}")


def _states_line(b: Bulletin) -> str:
    h = b.headline
    states = "　".join(f"{b.labels.get(s, s)} {_int(h[s])}" for s in STATES)
    subsets = (f"其中{b.labels.get('overdue', '超期')} {_int(h['overdue'])}　"
               f"其中{b.labels.get('recurring', '反复')} {_int(h['recurring'])}")
    uncounted = uncounted_note(h.get("uncounted", 0))
    return (f"按状态：{states}　{subsets}　·　督办：预警 {_int(h['warnings'])}　提醒 "
            f"{_int(h['reminders'])}　·　属地不符 {_int(h['mismatches'])}。{count_rule(b.labels)}"
            + (f"；{uncounted}。" if uncounted else "。"))


def _headline(b: Bulletin) -> list[tuple[str, str, str]]:
    """(key, label, formatted value) of the headline figures."""
    h = b.headline
    return [("total", "案件总数", _int(h["total"])), ("closed_rate", "销号率", _pct(h["closed_rate"])),
            ("overdue", "其中超期", _int(h["overdue"])),
            ("recurring", "其中反复", _int(h["recurring"])),
            ("new_in_period", f"本{b.period_kind}新增", _int(h["new_in_period"])),
            ("closed_in_period", f"本{b.period_kind}销号", _int(h["closed_in_period"]))]


def _summary(b: Bulletin) -> list[str]:
    """The bulletin's opening paragraphs, as an office would write them."""
    h, r = b.headline, b.ranking
    paragraphs = [
        f"截至 {b.as_of:%Y年%m月%d日}，全区累计受理污染源问题 {_int(h['total'])} 件，"
        f"已销号 {_int(h['closed'])} 件，销号率 {_pct(h['closed_rate'])}；"
        f"尚未销号 {_int(h['total'] - h['closed'])} 件，其中整改中 {_int(h['rectifying'])} 件、"
        f"已交办 {_int(h['assigned'])} 件、待交办 {_int(h['reported'])} 件"
        + (f"（{uncounted_note(h.get('uncounted', 0))}）。" if h.get("uncounted") else "。"),
        f"本{b.period_kind}（{b.period[0]:%m月%d日}至{b.period[1]:%m月%d日}）新增 "
        f"{_int(h['new_in_period'])} 件，销号 {_int(h['closed_in_period'])} 件。",
        f"超期未销号 {_int(h['overdue'])} 件，最长超期 {_int(h['max_days_overdue'])} 天；"
        f"按督办规则，发出预警 {_int(h['warnings'])} 件、提醒 {_int(h['reminders'])} 件。"
        f"反复问题累计 {_int(h['recurring'])} 件，仍未销号 {_int(h['recurring_open'])} 件。",
    ]
    ranked = r[r["total"] > 0]
    if len(ranked) >= 2:
        top = "、".join(ranked["name"].head(3))
        last = "、".join(ranked["name"].tail(min(3, len(ranked) - 1)).iloc[::-1])
        paragraphs.append(f"镇街销号率排名前列：{top}；排名靠后：{last}（由后往前），请相关镇街"
                          "对照超期清单，逐件落实整改，按期销号。")
    if b.changes_since:
        paragraphs.append(
            f"与上次通报（{b.changes_since}）相比：新增 {_int(h.get('new_since', 0))} 件，"
            f"新销号 {_int(h.get('closed_since', 0))} 件，新超期 {_int(h.get('overdue_since', 0))}"
            f" 件，重新打开 {_int(h.get('reopened_since', 0))} 件。{_changes_note(b)}")
    else:
        paragraphs.append("本次为首次通报（无上次构建的快照），排名变化以“—”表示。")
    return paragraphs


def _changes_note(b: Bulletin) -> str:
    """What the changes count (:data:`battlemap.history.CHANGES_RULE`) and who changed counting."""
    moved = b.changes_recounted or {}
    joined, left = int(moved.get("joined", 0)), int(moved.get("left", 0))
    counts = (f"（本次转为计入 {joined:,} 件、已含在新增内，转为不计整改 {left:,} 件）"
              if joined or left else "")
    return f"{b.changes_rule}{counts}。" if b.changes_rule else ""


# --------------------------------------------------------------------------- formatting


def _why(days: int, reason: str) -> str:
    """Why a case is escalated: days overdue, recurring (反复), or both."""
    late = f"{int(days):,}天" if "超期" in reason else ""
    return "、".join(filter(None, (late, "反复" if "反复" in reason else "")))


def _int(value: float) -> str:
    return "—" if pd.isna(value) else f"{int(value):,}"


def _pct(value: float, digits: int = 1) -> str:
    return "—" if pd.isna(value) else f"{value * 100:.{digits}f}%"


def _date(value: object) -> str:
    return "" if pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _change(value: object) -> tuple[str, str]:
    """Rank change as text and tone: ↑ moved up, ↓ down, 持平, — without a previous build."""
    if value is None or pd.isna(value):
        return "—", "muted"
    value = int(value)
    if value > 0:
        return f"↑{value}", "up"
    if value < 0:
        return f"↓{-value}", "down"
    return "持平", "muted"

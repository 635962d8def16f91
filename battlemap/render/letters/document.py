"""A letter as a document: red header, number, title, 主送, body, case table, signature, 抄送.

Laid out after GB/T 9704-2012 in spirit (版头: the office in red, the
document number, a red rule; 主体: title, 主送, body, 附件 table, 落款 and
date; 版记: the 抄送 line between rules). Every text is written here once;
the PDF, HTML and .docx writers of :mod:`battlemap.render.document` only
lay the blocks out.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from battlemap import __version__
from battlemap.config import Config
from battlemap.escalate import WARNING
from battlemap.render.document import (
    Block,
    Colophon,
    Column,
    Document,
    Figure,
    Heading,
    Letterhead,
    Paragraph,
    Signature,
    Table,
    cells,
)
from battlemap.render.letters.plan import KIND_NAMES, Letter

__all__ = ["letter_document", "letter_title"]

SAMPLE_MARK = "示例数据 sample data · 合成案件，非真实来函"


def letter_title(letter: Letter) -> str:
    """The letter's title (标题)."""
    if letter.kind == "assign":
        return f"关于交办{letter.town}新增污染源问题的函"
    return f"关于督促整改{letter.town}超期和反复问题的{KIND_NAMES[letter.kind]}"


def letter_document(letter: Letter, config: Config, town_map: Figure | None = None) -> Document:
    """The blocks of one letter (``letter.number`` already given)."""
    rules = config.letters
    office = rules.office
    body = _assign_body(letter, config) if letter.kind == "assign" else _escalation_body(letter,
                                                                                          config)
    table = _assign_table(letter) if letter.kind == "assign" else _escalation_table(letter)
    blocks: list[Block] = [
        Paragraph(f"{letter.town}总河长 {letter.recipient}：", "address"),
        *(Paragraph(text) for text in body),
        *_follow_up(letter),
        Paragraph(f"附件：{'新增污染源问题清单及分布图' if letter.kind == 'assign' else '督办问题清单'}"
                  f"（共 {len(letter.cases)} 件）", "body"),
        Signature(((rules.signature or office), _cn_date(letter.as_of))),
        Heading("附件", level=2),
        table,
        *_table_notes(letter),
        *([town_map] if town_map is not None else []),
        Colophon((f"抄送：{letter.cc}（区级河长）。" if letter.cc else "抄送：无。",
                  f"{office}　　{_cn_date(letter.as_of)}印发")),
    ]
    return Document(
        title=letter_title(letter), blocks=tuple(blocks),
        letterhead=Letterhead(office, letter.number),
        footer=f"{letter.number}　{config.project.note}".strip(),
        mark=SAMPLE_MARK if config.project.sample else None,
        creator=f"battlemap {__version__}")


# --------------------------------------------------------------------------- texts


def _assign_body(letter: Letter, config: Config) -> list[str]:
    start, end = letter.period
    kind = "月" if config.lifecycle.period == "month" else "周"
    by_rule = int((letter.cases["deadline_rule"] != "").sum())
    rule = (f"其中 {by_rule} 件导出数据未载明整改期限，按问题类型规定的期限确定。" if by_rule else "")
    return [
        f"本{kind}（{start:%m月%d日}至{end:%m月%d日}），你镇街辖区新增上报污染源问题 "
        f"{len(letter.cases)} 件，经本办梳理，现予交办（见附件）。{rule}",
        "请按照“流域为体系、网格为单位、挂图作战、销号管理”的要求，组织相关村居、网格逐件核查，"
        "落实整改责任人和措施，于整改期限前完成整改并在系统中申请销号。逾期未完成的，本办将按督办"
        "规则发出提醒函、预警函。",
    ]


def _escalation_body(letter: Letter, config: Config) -> list[str]:
    cases = letter.cases
    overdue = cases[cases["reason"].str.contains("超期")]
    recurring = cases[cases["reason"].str.contains("反复")]
    reply_by = letter.as_of + dt.timedelta(days=config.letters.reply_days)
    longest = f"，最长超期 {int(overdue['days_overdue'].max()):,} 天" if len(overdue) else ""
    first = (f"截至{_cn_date(letter.as_of)}，你镇街辖区有 {len(cases)} 件污染源问题需督促整改"
             f"（见附件）：超期未销号 {len(overdue)} 件{longest}；销号后在同一位置再次被举报"
             f"（反复）{len(recurring)} 件。")
    if letter.kind == "warning":
        earlier = int((cases["previous_number"] != "").sum())
        again = f"其中 {earlier} 件本办此前已发函督办，至今仍未整改到位。" if earlier else ""
        return [first + again + "现予预警。",
                f"请于{_cn_date(reply_by)}前完成整改并书面报告本办；确有困难的，说明原因和整改计划。"
                "逾期仍未整改到位的，本办将提请区级河长约谈，并按规定追究相关责任。"]
    return [first + "现予提醒。",
            f"请于{_cn_date(reply_by)}前督促相关村居完成整改并在系统中申请销号，书面报告本办。"
            "逾期未整改的，本办将发出预警函。"]


def _follow_up(letter: Letter) -> list[Block]:
    """整改情况: the earlier letters to this recipient, and how many of their cases are closed."""
    if letter.earlier.empty:
        return []
    parts = [f"{r.number}{KIND_NAMES.get(r.kind, '')}（{_cn_date(dt.date.fromisoformat(r.as_of))}）"
             f"涉及 {r.cases} 件，已销号 {r.closed} 件，尚有 {r.open} 件未销号"
             for r in letter.earlier.head(6).itertuples()]
    more = len(letter.earlier) - 6
    tail = f"；另有 {more} 件来函，见发文登记" if more > 0 else ""
    return [Paragraph("前期来函整改情况：" + "；".join(parts) + tail + "。")]


# --------------------------------------------------------------------------- tables


def _table_notes(letter: Letter) -> list[Block]:
    if letter.kind == "assign" and (letter.cases["deadline_rule"] != "").any():
        return [Paragraph("* 导出数据未载明整改期限，按问题类型规定的期限确定。", "note")]
    return []


def _assign_table(letter: Letter) -> Table:
    columns = (Column("序号", 24, "center"), Column("问题编号", 80), Column("村居", 64),
               Column("网格", 70), Column("问题类型", 50), Column("河涌", 56),
               Column("问题描述", 120), Column("整改期限", 60))
    rows = tuple(cells(k, r.case_id, r.village, r.grid, r.problem_type, r.river or "—",
                       r.description, _date(r.deadline) + ("*" if r.deadline_rule else ""))
                 for k, r in enumerate(letter.cases.itertuples(), start=1))
    return Table(columns, rows, keep_together=40)


def _escalation_table(letter: Letter) -> Table:
    columns = (Column("序号", 24, "center"), Column("问题编号", 76), Column("村居", 60),
               Column("问题类型", 50), Column("整改期限", 54), Column("超期天数", 38, "right"),
               Column("反复（前案）", 76), Column("前案销号", 54), Column("前次督办", 88))
    rows = []
    for k, r in enumerate(letter.cases.itertuples(), start=1):
        late = "超期" in r.reason
        days = f"{r.days_overdue:,}" if late else "—"
        again = "反复" in r.reason
        rows.append(cells(k, r.case_id, r.village, r.problem_type, _date(r.deadline),
                          (days, "warn" if late and r.level == WARNING else ""),
                          (r.recurring_of or "是") if again else "—",
                          _date(r.recurring_of_closed) if again else "—",
                          r.previous_number or "—"))
    return Table(columns, tuple(rows), keep_together=40)


def _date(value: object) -> str:
    return "" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def _cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"

"""Which letters this build sends: the statistics stage's selections grouped into letters.

One :class:`Letter` per kind and recipient: a 交办函 per town with cases
newly reported in the period (:func:`battlemap.escalate.assignments`), a
提醒函 and a 预警函 per town with cases at that level not yet sent one in
this period (:func:`battlemap.escalate.escalations`). Recipients are keyed
by unit id and level. Nothing here counts; it only groups.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from battlemap._model import Atlas
from battlemap.escalate import (
    KIND_OF_LEVEL,
    REMINDER,
    WARNING,
    assignments,
    check_recipients,
    escalations,
    follow_up,
)

__all__ = ["KIND_CODES", "KIND_NAMES", "KIND_SHORT", "Letter", "plan_letters"]

KIND_NAMES = {"assign": "交办函", "reminder": "提醒函", "warning": "预警函"}
KIND_SHORT = {"assign": "交", "reminder": "提", "warning": "预"}
"""The ``{kind}`` placeholder of ``[letters] number_template``."""
KIND_CODES = {"assign": "JB", "reminder": "TX", "warning": "YJ"}
"""In file names (交办 JB, 提醒 TX, 预警 YJ): ``<number>_<code>_<town id>.docx``."""


@dataclass(frozen=True, eq=False)
class Letter:
    """One letter's content before it is laid out.

    ``cases`` holds the rows of :func:`~battlemap.escalate.assignments` or
    :func:`~battlemap.escalate.escalations` for this recipient and kind;
    ``earlier`` the rows of :func:`~battlemap.escalate.follow_up` for
    letters sent to the same recipient before (整改情况).
    """

    kind: str                       # assign | reminder | warning
    recipient_level: str            # "town"
    recipient_id: str
    recipient: str                  # the chief's name, printed only
    town: str
    cc: str
    as_of: dt.date
    period: tuple[dt.date, dt.date]
    cases: pd.DataFrame
    earlier: pd.DataFrame
    number: str = ""
    seq: int = 0
    files: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return KIND_NAMES[self.kind]


def plan_letters(atlas: Atlas) -> list[Letter]:
    """The letters of this build, 交办函 first, then 提醒函 and 预警函, each by town id.

    Raises
    ------
    InputError
        When a letter would go to a town without a chief (before anything
        is numbered or written).
    """
    new = assignments(atlas)
    due = escalations(atlas)
    due = due[due["sent_in_period"] == ""]
    check_recipients(atlas, pd.concat([new["recipient_id"], due["recipient_id"]]))
    earlier = follow_up(atlas)
    period = atlas.period or (atlas.as_of, atlas.as_of)
    letters = []
    for kind, frame in (("assign", new), (KIND_OF_LEVEL[REMINDER], due[due["level"] == REMINDER]),
                        (KIND_OF_LEVEL[WARNING], due[due["level"] == WARNING])):
        for recipient_id, group in frame.groupby("recipient_id", sort=True):
            first = group.iloc[0]
            letters.append(Letter(
                kind=kind, recipient_level=str(first["recipient_level"]),
                recipient_id=str(recipient_id), recipient=str(first["recipient"]),
                town=str(first["town"]), cc=str(first["cc"]), as_of=atlas.as_of, period=period,
                cases=group.reset_index(drop=True),
                earlier=earlier[earlier["recipient_id"] == recipient_id].reset_index(drop=True)))
    return letters

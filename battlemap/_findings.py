"""Soft problems (warnings) and rejected cases, collected across stages."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

import pandas as pd

REJECT_REASONS = {
    "missing_case_id": "问题编号为空 missing case number",
    "bad_report_date": "上报时间无法识别 report date not understood",
    "blank_coordinates": "坐标为空 blank coordinates",
    "non_numeric_coordinates": "坐标不是数字 non-numeric coordinates",
    "zero_coordinates": "坐标为0 zero coordinates",
    "coordinates_out_of_range": "坐标超出范围 coordinates out of range",
    "outside_district": "位于辖区外 outside the district",
    "outside_grids": "不在任何网格内 in no grid (beyond the gap tolerance)",
    "unknown_status": "未知处理状态 unknown status word",
    "unknown_coordinate_system": "坐标系无法识别 coordinate system not understood",
    "duplicate_case_id": "问题编号重复 duplicate case number (newer record kept)",
}
"""Reason code -> the text shown to the office."""

DUPLICATE_RULE = (
    "同一问题编号只保留最新一条：办结时间最晚者，未办结则上报时间最晚者，再相同取表中靠后一行；"
    "其余记录退回。 For a repeated case number the newest record is kept: the latest 办结时间 "
    "(closure), else the latest 上报时间 (report), else the lowest row in the file; the others "
    "are rejected as duplicate_case_id."
)
"""The rule for duplicate case numbers, as the report states it."""

NOTES = "battlemap_notes"
"""Key in a loaded frame's ``attrs`` under which load leaves its warnings for validate."""


@dataclass(frozen=True)
class Finding:
    """One soft problem: what, where (file, feature or row, column), and what to do."""

    kind: str
    message: str
    file: str = ""
    feature: str = ""
    column: str = ""


@dataclass
class Findings:
    """Warnings and rejected cases gathered by validate and join."""

    warnings: list[Finding] = field(default_factory=list)
    rejected: list[pd.DataFrame] = field(default_factory=list)

    def warn(self, kind: str, message: str, **where: str) -> None:
        self.warnings.append(Finding(kind, message, **where))

    def absorb(self, frame: pd.DataFrame) -> None:
        """Take over the warnings load attached to ``frame`` (see :func:`note`)."""
        self.warnings.extend(frame.attrs.pop(NOTES, []))

    def reject(self, rows: pd.DataFrame, code: str, detail: str | pd.Series = "") -> None:
        """Reject ``rows`` with a reason code.

        ``rows`` need ``source_row``, and ``case_id`` as a column or as the index.
        """
        if rows.empty:
            return
        case_id = rows["case_id"] if "case_id" in rows.columns else rows.index.to_series()
        frame = pd.DataFrame({
            "source_row": rows["source_row"].to_numpy(),
            "case_id": case_id.astype(str).to_numpy(),
            "reason_code": code,
            "reason": REJECT_REASONS[code],
            "detail": detail.to_numpy() if isinstance(detail, pd.Series) else detail,
        })
        self.rejected.append(frame)

    def rejected_frame(self) -> pd.DataFrame:
        columns = ["source_row", "case_id", "reason_code", "reason", "detail"]
        if not self.rejected:
            return pd.DataFrame(columns=columns)
        return pd.concat(self.rejected, ignore_index=True).sort_values("source_row", kind="stable")

    def warning_counts(self) -> dict[str, int]:
        return dict(Counter(w.kind for w in self.warnings))

    def warning_records(self) -> list[dict[str, str]]:
        return [asdict(w) for w in self.warnings]


def note(frame: pd.DataFrame, kind: str, message: str, **where: str) -> None:
    """Attach a load-stage warning to ``frame``; validate moves it into :class:`Findings`.

    Load has no ``Findings`` (it runs before there is anything to find), so
    what it notices about encodings, CRSs and columns travels with the frame.
    """
    frame.attrs.setdefault(NOTES, []).append(Finding(kind, message, **where))

"""What every check of the case table shares.

Blank cell words, full-width to ASCII (NFKC), rejecting rows with a reason
(:func:`_take`: they go to ``findings.rejected``) and flagging rows that stay
(:func:`_flag`: one warning each).
"""

from __future__ import annotations

import unicodedata

import pandas as pd

from battlemap._findings import Findings

BLANK_WORDS = ("", "nan", "none", "null", "na", "n/a", "-", "--", "/", "无", "空")
"""Cell values that mean "nothing here" (compared case-insensitively)."""
_BLANK = frozenset(BLANK_WORDS)


def _nfkc(values: pd.Series) -> pd.Series:
    """Full-width digits and letters to ASCII (only where there is anything non-ASCII)."""
    out = [v if v.isascii() else unicodedata.normalize("NFKC", v).strip() for v in values]
    return pd.Series(out, index=values.index, dtype=object)


def _take(cases: pd.DataFrame, bad: pd.Series, code: str, findings: Findings,
          detail: str | pd.Series = "") -> pd.DataFrame:
    """Reject the rows where ``bad`` holds; return the others."""
    bad = bad.reindex(cases.index, fill_value=False).fillna(False).astype(bool)
    if isinstance(detail, pd.Series):
        detail = detail.reindex(cases.index)[bad]
    findings.reject(cases[bad], code, detail)
    return cases[~bad]


def _flag(cases: pd.DataFrame, mask: pd.Series, kind: str, what: str | pd.Series, path: str,
          column: str, findings: Findings) -> None:
    """One warning per flagged row: the case stays, the office checks the record."""
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return
    text = what[mask] if isinstance(what, pd.Series) else pd.Series(what, index=cases.index[mask])
    for row, case_id, message in zip(cases.loc[mask, "source_row"], cases.loc[mask, "case_id"],
                                     text, strict=True):
        findings.warn(kind, f"row {row} case {case_id}: {message}; check the export",
                      file=path, feature=f"row {row}", column=column)

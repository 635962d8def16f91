"""What every check of the case table shares.

Blank cell words, full-width to ASCII (NFKC), rejecting rows with a reason
(:func:`_take`: they go to ``findings.rejected``) and flagging rows that stay
(:func:`_flag`: one warning each).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import pandas as pd

from battlemap._findings import Findings

BLANK_WORDS = ("", "nan", "none", "null", "na", "n/a", "-", "--", "/", "无", "空")
"""Cell values that mean "nothing here" (compared case-insensitively)."""
_BLANK = frozenset(BLANK_WORDS)


def _nfkc(values: pd.Series) -> pd.Series:
    """Full-width digits and letters to ASCII (only where there is anything non-ASCII)."""
    out = [v if v.isascii() else unicodedata.normalize("NFKC", v).strip() for v in values]
    return pd.Series(out, index=values.index, dtype=object)


Detail = str | pd.Series | Callable[[pd.Index], pd.Series]
"""A rejected row's detail: one text, one per row, or a function making the rejected rows' texts."""


def _take(cases: pd.DataFrame, bad: pd.Series, code: str, findings: Findings,
          detail: Detail = "") -> pd.DataFrame:
    """Reject the rows where ``bad`` holds; return the others.

    A callable ``detail`` is given the index of the rejected rows only (its
    text is then made for a few rows, not for the whole table).
    """
    bad = bad.reindex(cases.index, fill_value=False).fillna(False).astype(bool)
    if not bad.any():
        return cases
    if callable(detail):
        detail = detail(cases.index[bad.to_numpy()])
    elif isinstance(detail, pd.Series):
        detail = detail.reindex(cases.index)[bad]
    findings.reject(cases[bad], code, detail)
    return cases[~bad]


def _flag(cases: pd.DataFrame, mask: pd.Series, kind: str, what: Detail, path: str,
          column: str, findings: Findings) -> None:
    """One warning per flagged row: the case stays, the office checks the record.

    ``what`` is one text, one per row, or a function making the flagged rows' texts.
    """
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return
    if callable(what):
        text = what(cases.index[mask.to_numpy()])
    elif isinstance(what, pd.Series):
        text = what[mask]
    else:
        text = pd.Series(what, index=cases.index[mask])
    for row, case_id, message in zip(cases.loc[mask, "source_row"], cases.loc[mask, "case_id"],
                                     text, strict=True):
        findings.warn(kind, f"row {row} case {case_id}: {message}; check the export",
                      file=path, feature=f"row {row}", column=column)

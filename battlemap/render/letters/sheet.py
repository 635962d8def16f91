"""letters.xlsx (发文登记): every letter of the register, one row each, Chinese headers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from battlemap._io import atomic_path
from battlemap._sheets import write_workbook
from battlemap.render.letters.plan import KIND_NAMES

__all__ = ["REGISTER_HEADERS", "write_register_xlsx"]

REGISTER_HEADERS = {"number": "文号", "as_of": "发文日期", "kind": "类别", "recipient": "主送",
                    "recipient_id": "主送单位编码", "cc": "抄送", "case_count": "案件数",
                    "case_ids": "案件编号", "docx": "文件（Word）", "pdf": "文件（PDF）"}


def write_register_xlsx(letters: pd.DataFrame, path: Path) -> Path:
    """Write the register's letters (:func:`battlemap.register.letters_frame`) to ``path``."""
    table = letters.assign(kind=letters["kind"].map(KIND_NAMES).fillna(letters["kind"]),
                           case_ids=letters["case_ids"].fillna(""))
    table = table[list(REGISTER_HEADERS)].rename(columns=REGISTER_HEADERS)
    with atomic_path(path) as tmp:
        write_workbook(tmp, {"发文登记": table}, max_width=80)
    return path

"""The letter register (发文登记): numbers, letters and each case's escalation history, in SQLite.

``output/letters/register.sqlite`` is a real embedded database (stdlib
:mod:`sqlite3`, write-ahead log, ``synchronous=FULL``): a build numbers its
letters, writes their files and records them inside one transaction
(:class:`Register`), so a build that fails or is killed (``kill -9``) leaves
the register as it was before, never a half-numbered set.

Tables: ``sequences`` (the last number used, per sequence and year: numbers
only grow, a number is never given twice), ``letters`` (number, kind, date,
period, recipient unit and name, cc, case count, files) and
``letter_cases`` (each letter's cases and their level). The view
``case_history`` gives per case its first 交办, 提醒 and 预警 (date and
number). A rebuild of the same as-of date gives each (kind, recipient) its
earlier number again.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from battlemap.errors import InputError

__all__ = ["REGISTER", "Register", "letters_frame", "letters_on", "read_history", "register_path"]

REGISTER = "register.sqlite"
SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sequences (
    name TEXT NOT NULL, year INTEGER NOT NULL, last INTEGER NOT NULL,
    PRIMARY KEY (name, year));
CREATE TABLE IF NOT EXISTS letters (
    number TEXT PRIMARY KEY, kind TEXT NOT NULL, sequence TEXT NOT NULL, year INTEGER NOT NULL,
    seq INTEGER NOT NULL, as_of TEXT NOT NULL, period_start TEXT NOT NULL,
    period_end TEXT NOT NULL, recipient_level TEXT NOT NULL, recipient_id TEXT NOT NULL,
    recipient TEXT NOT NULL, cc TEXT NOT NULL, case_count INTEGER NOT NULL,
    docx TEXT NOT NULL, pdf TEXT NOT NULL,
    UNIQUE (as_of, kind, recipient_level, recipient_id));
CREATE TABLE IF NOT EXISTS letter_cases (
    number TEXT NOT NULL REFERENCES letters (number) ON DELETE CASCADE,
    case_id TEXT NOT NULL, level TEXT NOT NULL, reason TEXT NOT NULL,
    PRIMARY KEY (number, case_id));
CREATE INDEX IF NOT EXISTS letter_cases_case ON letter_cases (case_id);
CREATE VIEW IF NOT EXISTS case_history AS
SELECT c.case_id,
{firsts}
FROM (SELECT DISTINCT case_id FROM letter_cases) AS c;
"""
_FIRST = ("  (SELECT l.{col} FROM letter_cases x JOIN letters l ON l.number = x.number "
          "WHERE x.case_id = c.case_id AND x.level = '{level}' ORDER BY l.as_of, l.seq LIMIT 1)"
          " AS first_{name}_{alias}")
_LEVELS = {"assign": "交办", "reminder": "提醒", "warning": "预警"}


def register_path(out: Path) -> Path:
    """Where the register of the output folder ``out`` lives."""
    return Path(out) / "letters" / REGISTER


def _schema() -> str:
    firsts = ",\n".join(_FIRST.format(col=col, level=level, name=name, alias=alias)
                        for name, level in _LEVELS.items()
                        for col, alias in (("as_of", "date"), ("number", "number")))
    return _SCHEMA.format(firsts=firsts)


def _connect(path: Path) -> sqlite3.Connection:
    """Open (and create) the register; a file that is not one raises InputError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=30)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = FULL")
        db.executescript(_schema())
        version = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if version is None:
            db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        elif version[0] != SCHEMA_VERSION:
            raise InputError(f"{path}: letter register of schema {version[0]}, this battlemap "
                             f"reads schema {SCHEMA_VERSION}; use the battlemap that wrote it")
    except sqlite3.Error as exc:
        raise _unreadable(path, exc) from None
    return db


def _unreadable(path: Path, exc: sqlite3.Error) -> InputError:
    return InputError(
        f"{path}: the letter register (numbering state) cannot be read ({exc.__class__.__name__}:"
        f" {exc}); restore it from a backup, or move it away to start numbering again from 1 — "
        "numbers already sent would then be given again")


def read_history(out: Path, before: dt.date) -> pd.DataFrame:
    """Every letter sent before the as-of date ``before``, one row per letter and case.

    Columns of :data:`battlemap.escalate.HISTORY_COLUMNS`; empty without a register.

    Raises
    ------
    InputError
        When the register exists but cannot be read.
    """
    path = register_path(out)
    columns = ["number", "kind", "as_of", "period_start", "recipient_level", "recipient_id",
               "recipient", "case_id", "level"]
    if not path.exists():
        return pd.DataFrame(columns=columns)
    db = _connect(path)
    try:
        rows = db.execute(
            "SELECT l.number, l.kind, l.as_of, l.period_start, l.recipient_level, "
            "l.recipient_id, l.recipient, x.case_id, x.level FROM letters l "
            "JOIN letter_cases x ON x.number = l.number WHERE l.as_of < ? "
            "ORDER BY l.as_of, l.kind, l.seq, x.case_id", (before.isoformat(),)).fetchall()
    except sqlite3.Error as exc:
        raise _unreadable(path, exc) from None
    finally:
        db.close()
    return pd.DataFrame(rows, columns=columns)


def letters_frame(db: sqlite3.Connection) -> pd.DataFrame:
    """The register's letters with their case ids, oldest first (for letters.xlsx)."""
    rows = db.execute(
        "SELECT l.number, l.as_of, l.kind, l.recipient, l.recipient_id, l.cc, l.case_count, "
        "(SELECT group_concat(case_id, '、') FROM (SELECT case_id FROM letter_cases x "
        " WHERE x.number = l.number ORDER BY case_id)), l.docx, l.pdf "
        "FROM letters l ORDER BY l.as_of, l.kind, l.seq").fetchall()
    return pd.DataFrame(rows, columns=["number", "as_of", "kind", "recipient", "recipient_id",
                                       "cc", "case_count", "case_ids", "docx", "pdf"])


class Register:
    """One build's numbering, inside one write transaction (``BEGIN IMMEDIATE``).

    Use :meth:`open` as a context manager: it commits when the block ends
    normally and rolls back on any error (and SQLite rolls back by itself
    when the process is killed).
    """

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self.db, self.path = db, path

    @classmethod
    @contextmanager
    def open(cls, out: Path) -> Iterator[Register]:
        path = register_path(out)
        db = _connect(path)
        try:
            db.execute("BEGIN IMMEDIATE")
            register = cls(db, path)
            yield register
            db.execute("COMMIT")
        except sqlite3.IntegrityError as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise InputError(
                f"{path}: a letter number would be given twice ({exc}); the number template or "
                "[letters] sequences changed since earlier letters were numbered: restore the "
                "earlier setting or add {year}/{kind} to the template") from None
        except sqlite3.Error as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise _unreadable(path, exc) from None
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def earlier_numbers(self, as_of: dt.date) -> dict[tuple[str, str, str], tuple[str, int]]:
        """(kind, recipient level, recipient id) -> (number, seq) given on this date before."""
        rows = self.db.execute("SELECT kind, recipient_level, recipient_id, number, seq "
                               "FROM letters WHERE as_of = ?", (as_of.isoformat(),))
        return {(k, level, rid): (number, seq) for k, level, rid, number, seq in rows}

    def forget(self, as_of: dt.date) -> None:
        """Drop this date's letters (a rebuild records them again, with the same numbers)."""
        self.db.execute("DELETE FROM letters WHERE as_of = ?", (as_of.isoformat(),))

    def next_seq(self, sequence: str, year: int) -> int:
        """The next number of ``sequence`` in ``year``; never one given before."""
        row = self.db.execute("SELECT last FROM sequences WHERE name = ? AND year = ?",
                              (sequence, year)).fetchone()
        seq = (row[0] if row else 0) + 1
        self.db.execute("INSERT INTO sequences VALUES (?, ?, ?) ON CONFLICT (name, year) "
                        "DO UPDATE SET last = excluded.last", (sequence, year, seq))
        return seq

    def record(self, letter: dict[str, object], cases: list[tuple[str, str, str]]) -> None:
        """Record one letter (the ``letters`` columns) and its (case id, level, reason) rows."""
        names = ", ".join(letter)
        marks = ", ".join("?" * len(letter))
        self.db.execute(f"INSERT INTO letters ({names}) VALUES ({marks})", tuple(letter.values()))
        self.db.executemany("INSERT INTO letter_cases VALUES (?, ?, ?, ?)",
                            [(letter["number"], *case) for case in cases])

    def letters(self) -> pd.DataFrame:
        """Every letter as this transaction sees it (see :func:`letters_frame`)."""
        return letters_frame(self.db)


def letters_on(out: Path, as_of: dt.date) -> list[dict[str, object]]:
    """The letters registered for ``as_of`` (number, kind, recipient, cases, files), for the report."""
    path = register_path(out)
    if not path.exists():
        return []
    db = _connect(path)
    try:
        frame = letters_frame(db)
    except sqlite3.Error as exc:
        raise _unreadable(path, exc) from None
    finally:
        db.close()
    frame = frame[frame["as_of"] == as_of.isoformat()]
    return [{"number": r.number, "kind": r.kind, "recipient": r.recipient,
             "recipient_id": r.recipient_id, "cc": r.cc, "cases": int(r.case_count),
             "docx": f"letters/{r.docx}", "pdf": f"letters/{r.pdf}"} for r in frame.itertuples()]

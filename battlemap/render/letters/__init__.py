"""The office's letters: 交办函, 提醒函 and 预警函, numbered, registered and tracked round to round.

Each build writes, under ``output/letters/<as-of date>/``, one .docx and
one .pdf per letter, both from the same
:class:`~battlemap.render.document.Document`, and ``output/letters/letters.xlsx``
(发文登记), the register of every letter so far. Numbers, letters and each
case's escalation history live in ``output/letters/register.sqlite``
(:mod:`battlemap.register`).

All or nothing: the letters are numbered inside one database transaction,
written into a staging folder, and the transaction commits only when every
file is written; then the folder takes the date's place. A failure (or a
``kill -9``) before the commit leaves the register, ``letters.xlsx`` and
the date's folder as they were.

The package holds :mod:`.plan` (which letters, grouped from the statistics
stage's selections), :mod:`.document` (a letter as blocks), :mod:`.townmap`
(the 交办函's map) and :mod:`.sheet` (letters.xlsx).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import matplotlib

from battlemap._model import Atlas
from battlemap._paths import safe_stem
from battlemap.register import Register
from battlemap.render.document.docx import write_docx
from battlemap.render.document.pdf import write_pdf
from battlemap.render.fonts import font_for, rc_params
from battlemap.render.letters.document import letter_document
from battlemap.render.letters.plan import KIND_CODES, KIND_SHORT, Letter, plan_letters
from battlemap.render.letters.sheet import write_register_xlsx
from battlemap.render.letters.townmap import town_map

__all__ = ["LETTERS_DIR", "REGISTER_XLSX", "Letter", "plan_letters", "render_letters"]

LETTERS_DIR = "letters"
REGISTER_XLSX = "letters.xlsx"
_STAGING, _OLD = ".staging-", ".replaced-"


def render_letters(atlas: Atlas, out: Path) -> list[Path]:
    """Number, write and register this build's letters; return the files written.

    Raises
    ------
    InputError
        A letter to a town without a chief, or a register that cannot be
        read; nothing is numbered or written then.
    RenderError
        A text the font cannot draw; the transaction is rolled back.
    """
    letters = plan_letters(atlas)
    root = Path(out) / LETTERS_DIR
    stem = safe_stem(atlas.as_of.isoformat())
    staging = root / f"{_STAGING}{stem}"
    _clear_leftovers(root)
    staging.mkdir(parents=True)
    try:
        with Register.open(out) as register:
            numbered = _number(register, letters, atlas)
            written = _write(atlas, numbered, staging, stem)
            sequence = atlas.config.letters.sequences
            for letter in numbered:
                register.record(_row(letter, sequence), [(c.case_id, c.level, _reason(c))
                                               for c in letter.cases.itertuples()])
            write_register_xlsx(register.letters(), staging / REGISTER_XLSX)
        _swap(staging, root / stem)
        (root / stem / REGISTER_XLSX).replace(root / REGISTER_XLSX)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [root / stem / p.name for p in written] + [root / REGISTER_XLSX]


def _number(register: Register, letters: list[Letter], atlas: Atlas) -> list[Letter]:
    """Give each letter its number: the one it had on this date before, else the next one."""
    rules = atlas.config.letters
    year = atlas.as_of.year
    earlier = register.earlier_numbers(atlas.as_of)
    register.forget(atlas.as_of)
    numbered = []
    for letter in letters:
        key = (letter.kind, letter.recipient_level, letter.recipient_id)
        if key in earlier:
            number, seq = earlier[key]
        else:
            seq = register.next_seq("shared" if rules.sequences == "shared" else letter.kind, year)
            number = rules.number_template.format(year=year, n=seq, kind=KIND_SHORT[letter.kind])
        numbered.append(dataclasses.replace(letter, number=number, seq=seq))
    return numbered


def _write(atlas: Atlas, letters: list[Letter], folder: Path, stem: str) -> list[Path]:
    font = font_for(atlas.config)
    written = []
    with matplotlib.rc_context(rc_params(font)):
        for letter in letters:
            name = safe_stem(f"{letter.seq:03d}_{KIND_CODES[letter.kind]}_{letter.recipient_id}")
            figure = town_map(atlas, letter) if letter.kind == "assign" else None
            document = letter_document(letter, atlas.config, figure)
            written.append(write_docx(document, folder / f"{name}.docx"))
            written.append(write_pdf(document, folder / f"{name}.pdf", font))
            letter.files.update(docx=f"{stem}/{name}.docx", pdf=f"{stem}/{name}.pdf")
    return written


def _row(letter: Letter, sequence: str) -> dict[str, object]:
    return {"number": letter.number, "kind": letter.kind,
            "sequence": "shared" if sequence == "shared" else letter.kind,
            "year": letter.as_of.year, "seq": letter.seq, "as_of": letter.as_of.isoformat(),
            "period_start": letter.period[0].isoformat(), "period_end": letter.period[1].isoformat(),
            "recipient_level": letter.recipient_level, "recipient_id": letter.recipient_id,
            "recipient": letter.recipient, "cc": letter.cc, "case_count": len(letter.cases),
            "docx": letter.files["docx"], "pdf": letter.files["pdf"]}


def _reason(case) -> str:
    return getattr(case, "reason", "") or "新增"


def _swap(staging: Path, target: Path) -> None:
    """Put the staging folder in the date's place (the old one, if any, is removed)."""
    old = target.with_name(f"{_OLD}{target.name}")
    if target.exists():
        target.replace(old)
    staging.replace(target)
    shutil.rmtree(old, ignore_errors=True)


def _clear_leftovers(root: Path) -> None:
    """Staging folders of a build that was stopped before its commit: never registered."""
    if not root.is_dir():
        return
    for leftover in [*root.glob(f"{_STAGING}*"), *root.glob(f"{_OLD}*")]:
        shutil.rmtree(leftover, ignore_errors=True)

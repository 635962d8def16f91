"""Privacy: personal numbers in input text are masked the way public notices mask them.

Every text column of the case table and every text attribute of a layer that
can reach an output passes through :func:`mask_columns` at load, so no later
stage ever sees the number. What is found, in any common writing (spaces,
dashes, dots, brackets, ``+86``/``0086``/``86`` prefixes, full-width digits
``１３９…``, digits as Chinese numerals ``一三九五五〇二…``, mixtures such as
``139 5502-0002``):

===========================  ==========================  ===========================
kind                         written                     published
===========================  ==========================  ===========================
mobile (手机)                ``+86 139-5502-0002``        ``+86 139****0002``
landline (座机) + extension  ``(020)8275 5088转8001``     ``(020)****5088转8001``
ID card (身份证), 18 / 15    ``44018319900101123X``       ``440183********123X``
e-mail                       ``zhang.san@qq.com``         ``z***@qq.com``
bank card, 16–19 digits      ``6222 0212 3456 7890``      ``6222********7890``
QQ number after "QQ"         ``QQ:12345678``              ``QQ:12****78``
===========================  ==========================  ===========================

Left alone, because they are not personal: case numbers (``ZC2020001334``),
dates (``20261127``, ``2026-11-27``), coordinates (``113.6012345``; digits after
a decimal point never start a number), quantities and amounts (``1500米``,
``7.49万元``) and 12-digit unit codes (``440118001001``). A landline is only
recognised with its area code, or after a word such as 电话 or 座机.

Identifiers (the case number, unit and river ids) are keys, not free text,
and are not passed through: masking two different ids to the same text would
merge them. Numbers in numeric (non-text) attributes are left as numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from itertools import groupby

import numpy as np
import pandas as pd

__all__ = ["MASKED", "mask_columns", "mask_text", "masked_counts"]

MASKED = "battlemap_masked"
"""Key in a loaded frame's ``attrs``: {column label: number of values masked}."""

_FULL_WIDTH = {**{0xFF10 + d: ord("0") + d for d in range(10)},
               **{0xFF21 + i: ord("A") + i for i in range(26)},
               **{0xFF41 + i: ord("a") + i for i in range(26)},
               0xFF0B: "+", 0xFF0D: "-", 0xFF08: "(", 0xFF09: ")", 0xFF0E: ".", 0xFF20: "@",
               0xFF3F: "_", 0x3000: " ", 0x00A0: " ", 0x2010: "-", 0x2011: "-", 0x2012: "-",
               0x2013: "-", 0x2014: "-", 0x2015: "-", 0x2212: "-", 0xFE63: "-",
               **{ord(c): str(d) for d, c in enumerate("〇一二三四五六七八九")},
               ord("零"): "0", ord("幺"): "1"}
_NORMALISE = str.maketrans(_FULL_WIDTH)
"""One character for one, so positions in the normalised text are positions in the original."""
_NEEDS_NORMALISING = re.compile("[" + "".join(map(chr, _FULL_WIDTH)) + "]")

_QUICK = re.compile(r"\d{3}(?:\d{4}|[ \t\-)]{1,3}\d{3}|\.\d{4}\.\d{4})|[@电座固Qq]|[Tt][Ee][Ll]")
"""Found in every text that holds a personal number (and in a few others): one fast pass
over a whole column picks the texts the full rules look at."""

_SEP = r"(?:[ \t]?-[ \t]?|[ \t]{1,2}|\.)?"
_NOT_IN_NUMBER = r"(?<!\d)(?<!\d\.)"
_PROVINCE = r"(?:1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|8[1-3]|91)\d{4}"
_DATE8 = r"(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_DATE6 = r"\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
_LOCAL = rf"(?P<local>[1-9]\d{{2,3}}(?P<ls>{_SEP})\d{{4}})(?!\d)"
"""A local number, 7 or 8 digits, maybe split 3/4 + 4."""

_EMAIL = re.compile(r"(?P<user>[A-Za-z0-9][A-Za-z0-9._%+\-]*)@(?P<domain>[A-Za-z0-9]"
                    r"(?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*"
                    r"[A-Za-z0-9])?)*\.[A-Za-z]{2,})")
_ID18 = re.compile(rf"{_NOT_IN_NUMBER}(?P<a>{_PROVINCE})[ \t]?(?P<b>{_DATE8})[ \t]?"
                   r"(?P<c>\d{3}[\dXx])(?![\dXx])")
_ID15 = re.compile(rf"{_NOT_IN_NUMBER}(?P<a>{_PROVINCE})(?P<b>{_DATE6})(?P<c>\d{{3}})(?!\d)")
_CARD = re.compile(rf"{_NOT_IN_NUMBER}(?P<d>\d{{16,19}}|\d{{4}}(?:[ \t-]\d{{4}}){{3}}"
                   r"(?:[ \t-]?\d{1,3})?)(?!\d)")
_MOBILE = re.compile(
    rf"{_NOT_IN_NUMBER}(?P<cc>\(?(?:\+|00)?86\)?[ \t-]*)?\(?(?P<a>1[3-9]\d)\)?"
    rf"(?P<s1>{_SEP})(?P<b>\d{{4}})(?P<s2>{_SEP})(?P<c>\d{{4}})(?!\d)")
_LANDLINE = re.compile(
    rf"{_NOT_IN_NUMBER}(?P<area>(?:(?:\+|00)86[ \t-]*\(?0?|\(?0)(?:10|2\d|[3-9]\d{{2}})\)?)"
    rf"[ \t]*-?[ \t]*{_LOCAL}")
_LABELLED_LOCAL = re.compile(rf"(?:电话|座机|固话|(?<![A-Za-z])[Tt][Ee][Ll])[:：号码 \t.]*{_LOCAL}")
_QQ = re.compile(r"(?P<label>[Qq]{2}(?:号码?)?[:： \t]*)(?P<n>[1-9]\d{4,10})(?!\d)")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _mask_email(m: re.Match[str]) -> str:
    return f"{m['user'][0]}***@{m['domain']}"


def _mask_id(m: re.Match[str]) -> str:
    return m["a"] + "*" * len(m["b"]) + m["c"]


def _mask_card(m: re.Match[str]) -> str | None:
    digits = _digits(m["d"])
    if not 16 <= len(digits) <= 19:
        return None
    return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]


def _mask_mobile(m: re.Match[str]) -> str | None:
    dotted = "." in (m["s1"] or "") or "." in (m["s2"] or "")
    if dotted and not (m["s1"] == m["s2"] == "."):  # 133.55020002 is a coordinate
        return None
    return f"{m['cc'] or ''}{m['a']}****{m['c']}"


def _mask_local(m: re.Match[str]) -> str | None:
    """Area code or label kept, the local number masked but its last four digits."""
    if "." in m["ls"]:
        return None
    digits = _digits(m["local"])
    head = m.string[m.start(0):m.start("local")]
    return head + "*" * (len(digits) - 4) + digits[-4:]


def _mask_qq(m: re.Match[str]) -> str:
    number = m["n"]
    return m["label"] + number[:2] + "*" * (len(number) - 4) + number[-2:]


_RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str | None]], ...] = (
    (_EMAIL, _mask_email), (_ID18, _mask_id), (_ID15, _mask_id), (_CARD, _mask_card),
    (_MOBILE, _mask_mobile), (_LANDLINE, _mask_local), (_LABELLED_LOCAL, _mask_local),
    (_QQ, _mask_qq),
)
"""In order of precedence: a span claimed by an earlier rule is not looked at again."""


def mask_text(text: str) -> str:
    """``text`` with every personal number masked; the rest unchanged, character for character.

    >>> mask_text("请回电 139-5502-0002 或 020-82755088，邮箱 zhang@qq.com")
    '请回电 139****0002 或 020-****5088，邮箱 z***@qq.com'
    >>> mask_text("ZC2020001334 于2026-11-27 08:30上报，坐标113.6012345,23.1234567")
    'ZC2020001334 于2026-11-27 08:30上报，坐标113.6012345,23.1234567'
    """
    return _mask_many([text]).get(text, text)


def mask_columns(frame: pd.DataFrame, columns: Iterable[str],
                 labels: dict[str, str] | None = None) -> dict[str, int]:
    """Mask personal numbers in the text cells of ``columns``, in place.

    Each distinct value is looked at once, and all of a column's distinct
    values are searched as one text (one pass of each pattern in C, not one
    Python call per cell). Cells that are not strings (numbers, NaN) are
    left as they are.

    Parameters
    ----------
    frame
        The frame to mask, changed in place.
    columns
        The columns to pass through :func:`mask_text`.
    labels
        Column -> the name the report gives it (e.g. the file's field name);
        the column itself by default.

    Returns
    -------
    dict
        Report label -> number of cells that held a personal number, for
        every column looked at (zero included).
    """
    counts = {}
    for column in columns:
        label = (labels or {}).get(column, column)
        counts[label] = 0
        values = frame[column]
        if values.dtype != object and not pd.api.types.is_string_dtype(values):
            continue
        array = values.to_numpy(dtype=object)
        masked = _mask_many([v for v in pd.unique(array) if isinstance(v, str)])
        if masked:
            hit = [isinstance(v, str) and v in masked for v in array]
            frame[column] = pd.Series([masked[v] if h else v for v, h in zip(array, hit,
                                                                             strict=True)],
                                      index=frame.index, dtype=values.dtype)
            counts[label] = sum(hit)
    return counts


def _mask_many(texts: list[str]) -> dict[str, str]:
    """Text -> its masked form, for the texts that hold a personal number.

    The texts are joined by newlines, which no pattern crosses, and searched
    at once: first for :data:`_QUICK`, then, in the texts it picked, by the
    rules. A match is mapped back to its text by its offset.
    """
    picked = _search(texts, _QUICK)
    texts = [texts[i] for i in sorted({i for i, _ in picked})]
    out: dict[str, str] = {}
    for owner, group in groupby(_search(texts, None), key=lambda hit: hit[0]):
        text, pieces, last = texts[owner], [], 0
        for _, (start, end, replacement) in group:
            pieces += [text[last:start], replacement]
            last = end
        out[text] = "".join([*pieces, text[last:]])
    return out


def _search(texts: list[str], quick: re.Pattern[str] | None
            ) -> list[tuple[int, tuple[int, int, str]]]:
    """(text number, (start, end, masked form) within that text) of each hit, in order.

    With ``quick``, its matches (masked form ``""``); else the rules' matches.
    """
    if not texts:
        return []
    joined = "\n".join(texts)
    if _NEEDS_NORMALISING.search(joined):
        joined = joined.translate(_NORMALISE)
    spans = ([(m.start(), m.end(), "") for m in quick.finditer(joined)] if quick is not None
             else _spans(joined))
    starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]])
    owners = np.searchsorted(starts, [start for start, _, _ in spans], side="right") - 1
    return [(int(i), (s - int(starts[i]), e - int(starts[i]), r))
            for i, (s, e, r) in zip(owners, spans, strict=True)]


def _spans(plain: str) -> list[tuple[int, int, str]]:
    """(start, end, masked form) of each personal number in ``plain``, in text order.

    Rules are applied in order of precedence; a match that overlaps a span
    an earlier rule claimed is dropped.
    """
    claimed = np.zeros(len(plain) + 1, dtype=bool)
    spans = []
    for pattern, mask in _RULES:
        for match in pattern.finditer(plain):
            start, end = match.span()
            if claimed[start:end].any():
                continue
            replacement = mask(match)
            if replacement is not None:
                claimed[start:end] = True
                spans.append((start, end, replacement))
    return sorted(spans)


def masked_counts(*frames: pd.DataFrame | None) -> dict[str, int]:
    """The masked-value counts that load left on ``frames`` (see :data:`MASKED`), merged."""
    merged: dict[str, int] = {}
    for frame in frames:
        if frame is None:
            continue
        for label, count in frame.attrs.get(MASKED, {}).items():
            merged[label] = merged.get(label, 0) + count
    return merged

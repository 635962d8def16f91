"""Dates: :func:`parse_datetimes`, and the checks of a case's dates.

Exports carry dates in a dozen writings (``2019/11/5``, ``2019年11月5日``,
Excel serial numbers, Unix timestamps, ISO 8601 with a zone); all are read
as Asia/Shanghai wall time. :func:`_parse_dates` is the case-table step:
an unreadable report date rejects the case, other oddities (a deadline or
closure before the report, a date after the as-of date) are flagged.
"""

from __future__ import annotations

import pandas as pd

from battlemap._findings import Findings
from battlemap._text import text_series
from battlemap.config import Config
from battlemap.validate._cells import _BLANK, _flag, _nfkc, _take

__all__ = ["EARLIEST_YEAR", "LATEST_YEAR", "parse_datetimes"]


EARLIEST_YEAR, LATEST_YEAR = 1990, 2100
"""Dates outside these years are typing errors, not dates."""


_DATE_PARTS = (r"^(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
               r"(?: (?P<hour>\d{1,2}):(?P<minute>\d{1,2})(?::(?P<second>\d{1,2})(?:\.\d+)?)?)?$")
_COMPACT = (r"^(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})"
            r"(?:(?P<hour>\d{2})(?P<minute>\d{2})(?P<second>\d{2})?)?$")
_ZONED = r"^\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})$"


def parse_datetimes(values: pd.Series) -> pd.Series:
    """Parse the date formats exports carry, as Asia/Shanghai wall time (naive).

    ``2019-11-05 08:30``, ``2019/11/5``, ``2019.11.5``, ``2019年11月5日``
    (with or without a time, also ``8时30分``), ``20191105``, full-width
    digits, Excel serial numbers (``43774.35``, as text or as numbers from
    ``.xlsx`` cells), ISO 8601 with a zone (converted to Beijing time) and
    Unix timestamps in seconds or milliseconds (UTC, converted). Anything
    else, and years outside 1990–2100, is NaT. Blank stays NaT.

    >>> parse_datetimes(pd.Series(["2019年11月5日", "43774.5"])).dt.strftime("%F %R").tolist()
    ['2019-11-05 00:00', '2019-11-05 12:00']
    """
    text = _nfkc(text_series(values, strip=True))
    result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    # a format with a time matches only texts with a colon, one without only texts without
    timed = pd.Series([":" in v for v in text], index=text.index, dtype=bool)
    for fmt in _FAST_FORMATS:  # the common cases, at C speed
        todo = result.isna() & (text != "") & (timed if ":" in fmt else ~timed)
        if todo.any():
            result[todo] = _sane(pd.to_datetime(text[todo], format=fmt, errors="coerce"))
    rest = result.isna() & (text != "")
    if not rest.any():
        return result
    result[rest] = _parse_slowly(text[rest])
    return result


_FAST_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y/%m/%d %H:%M",
                 "%Y/%m/%d")


def _parse_slowly(text: pd.Series) -> pd.Series:
    """Every other format, by normalising the text first."""
    text = text.astype(str)
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    number = pd.to_numeric(text.where(text.str.fullmatch(r"\d{5,13}(?:\.\d+)?")),
                           errors="coerce")
    result = result.mask(number.between(20000, 80000), _from_excel_serial(number))
    seconds, millis = number.between(6.3e8, 4.1e9), number.between(6.3e11, 4.1e12)
    result = result.mask(seconds, _from_unix(number.where(seconds), "s"))
    result = result.mask(millis, _from_unix(number.where(millis), "ms"))
    zoned = text.str.fullmatch(_ZONED) & result.isna()
    if zoned.any():
        parsed = pd.to_datetime(text[zoned].str.replace(" ", "T", n=1, regex=False),
                                format="ISO8601", utc=True, errors="coerce")
        result[zoned] = _sane(parsed.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None))
    norm = (text.str.replace(r"\s*[上下]午\s*", " ", regex=True)
                .str.replace(r"[年月/.]", "-", regex=True)
                .str.replace("日", " ", regex=False)
                .str.replace(r"[时點点]", ":", regex=True)
                .str.replace(r"[分秒]", "", regex=True)
                .str.replace("T", " ", regex=False)
                .str.replace(r"\s+", " ", regex=True).str.strip().str.rstrip(":"))
    todo = result.isna() & (norm != "")
    for pattern in (_DATE_PARTS, _COMPACT):
        if not todo.any():
            break
        parts = norm[todo].str.extract(pattern)
        result[todo] = _from_parts(parts)
        todo = result.isna() & (norm != "")
    afternoon = text.str.contains("下午", regex=False) & (result.dt.hour < 12)
    return result.mask(afternoon, result + pd.Timedelta(hours=12)).astype("datetime64[ns]")


def _sane(stamps: pd.Series) -> pd.Series:
    """NaT outside the plausible years, then nanosecond resolution (which cannot overflow now)."""
    year = stamps.dt.year
    return stamps.where(year.between(EARLIEST_YEAR, LATEST_YEAR)).astype("datetime64[ns]")


def _from_excel_serial(days: pd.Series) -> pd.Series:
    seconds = (days.where(days.between(20000, 80000)) * 86400).round()
    return pd.Timestamp("1899-12-30") + pd.to_timedelta(seconds, unit="s")


def _from_unix(number: pd.Series, unit: str) -> pd.Series:
    stamps = pd.to_datetime(number.where(number.notna()).round(), unit=unit, utc=True,
                            errors="coerce")
    return stamps.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None).astype("datetime64[ns]")


def _from_parts(parts: pd.DataFrame) -> pd.Series:
    numbers = parts.apply(pd.to_numeric, errors="coerce")
    for column in ("hour", "minute", "second"):
        numbers[column] = numbers[column].fillna(0)
    sane = (numbers["year"].between(EARLIEST_YEAR, LATEST_YEAR) & numbers["hour"].between(0, 23)
            & numbers["minute"].between(0, 59) & numbers["second"].between(0, 59))
    numbers = numbers[sane]
    if numbers.empty:
        return pd.Series(pd.NaT, index=parts.index, dtype="datetime64[ns]")
    stamps = pd.to_datetime(numbers[["year", "month", "day", "hour", "minute", "second"]],
                            errors="coerce")
    return stamps.astype("datetime64[ns]").reindex(parts.index)


def _parse_dates(cases: pd.DataFrame, config: Config, findings: Findings) -> pd.DataFrame:
    path = str(config.cases.path)
    column_of = config.cases.columns
    raw_reported = text_series(cases["reported_at"])
    cases = cases.assign(reported_at=parse_datetimes(cases["reported_at"]))
    cases = _take(cases, cases["reported_at"].isna(), "bad_report_date", findings,
                  "上报时间: " + raw_reported)
    for field in ("deadline", "closed_at"):
        if field not in cases:
            cases[field] = pd.Series(pd.NaT, index=cases.index, dtype="datetime64[ns]")
            continue
        raw = text_series(cases[field], strip=True)
        cases[field] = parse_datetimes(raw)
        unreadable = cases[field].isna().to_numpy(copy=True)  # blank words are not unreadable
        unreadable[unreadable] = [v.lower() not in _BLANK for v in raw[unreadable]]
        unreadable = pd.Series(unreadable, index=cases.index)
        _flag(cases, unreadable, "bad_date",
              lambda rows, raw=raw: "'" + raw[rows] + "' is not a date; left blank",
              path, column_of[field], findings)
    as_of_end = pd.Timestamp(config.as_of) + pd.Timedelta(days=1)
    _flag(cases, cases["reported_at"] >= as_of_end, "future_date",
          "reported after the as-of date " + str(config.as_of), path,
          column_of["reported_at"], findings)
    _flag(cases, cases["closed_at"] >= as_of_end, "future_date",
          "closed after the as-of date " + str(config.as_of), path,
          column_of.get("closed_at", ""), findings)
    _flag(cases, cases["closed_at"] < cases["reported_at"].dt.normalize(), "closed_before_report",
          "closed before it was reported", path, column_of.get("closed_at", ""), findings)
    _flag(cases, cases["deadline"] < cases["reported_at"].dt.normalize(), "deadline_before_report",
          "deadline before the report date", path, column_of.get("deadline", ""), findings)
    return cases

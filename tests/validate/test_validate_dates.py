"""validate.dates: every date writing an export has, and the checks of a case's dates."""

from __future__ import annotations

import pandas as pd
import pytest
from validate_helpers import case, folder_with, run

from battlemap.validate import parse_datetimes


@pytest.mark.parametrize("text, expected", [
    ("2019-11-05 08:30", "2019-11-05 08:30:00"),
    ("2019-11-05 08:30:15", "2019-11-05 08:30:15"),
    ("2019/11/5", "2019-11-05 00:00:00"),
    ("2019/11/5 8:30", "2019-11-05 08:30:00"),
    ("2019.11.05", "2019-11-05 00:00:00"),
    ("2019年11月5日", "2019-11-05 00:00:00"),
    ("2019年11月5日 8时30分", "2019-11-05 08:30:00"),
    ("２０１９－１１－０５", "2019-11-05 00:00:00"),
    ("20191105", "2019-11-05 00:00:00"),
    ("43774", "2019-11-05 00:00:00"),
    ("43774.354166666664", "2019-11-05 08:30:00"),
    ("2019-11-05T00:30:00Z", "2019-11-05 08:30:00"),
    ("2019-11-05T08:30:00+08:00", "2019-11-05 08:30:00"),
    ("1572913800", "2019-11-05 08:30:00"),
    ("1572913800000", "2019-11-05 08:30:00"),
    ("2019-11-05 下午2:30", "2019-11-05 14:30:00"),
])
def test_date_formats_parse_as_beijing_wall_time(text, expected):
    assert parse_datetimes(pd.Series([text])).iloc[0] == pd.Timestamp(expected)


@pytest.mark.parametrize("text", ["", "明天", "2019-02-30", "2019-13-01", "9999-12-31",
                                  "0001-01-01", "2019-11-05 25:00", "12", "nan"])
def test_impossible_dates_are_not_dates(text):
    assert pd.isna(parse_datetimes(pd.Series([text])).iloc[0])


def test_dates_parse_as_nanosecond_timestamps():
    parsed = parse_datetimes(pd.Series(["2019-11-05", None, 43774.5, "x"]))
    assert str(parsed.dtype) == "datetime64[ns]"


def test_future_and_closed_before_report_are_flagged_but_kept(tmp_path):
    frame = pd.DataFrame([
        case("F1", 上报时间="2030-01-01"),
        case("F2", 上报时间="2026-03-01", 办结时间="2026-02-01", 处理状态="已销号"),
        case("F3", 上报时间="2026-03-01", 整改期限="下周"),
    ])
    prepared = run(folder_with(tmp_path, cases=frame))
    assert set(prepared.atlas.cases.index) == {"F1", "F2", "F3"}
    flagged = {(w.kind, w.feature) for w in prepared.findings.warnings}
    assert {("future_date", "row 2"), ("closed_before_report", "row 3"),
            ("bad_date", "row 4")} <= flagged

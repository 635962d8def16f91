"""GB 3838-2002 Table 1: every class boundary of every assessed parameter, both ways."""

from __future__ import annotations

import numpy as np
import pytest

from battlemap.gb3838 import LIMITS, WORST, class_label, parameter_class, parameter_classes, parse_class

UPPER = [code for code, limit in LIMITS.items() if limit.bound == "max"]


def _boundaries(code: str) -> list[tuple[int, float]]:
    """(class, limit) for the classes whose limit differs from the class before."""
    limits = LIMITS[code].limits
    return [(k, v) for k, v in enumerate(limits, start=1) if k == 1 or v != limits[k - 2]]


@pytest.mark.parametrize("code", UPPER)
def test_upper_bounds_inclusive(code: str) -> None:
    for k, limit in _boundaries(code):
        step = limit * 1e-3
        assert parameter_class(code, limit) == k, (code, k, "on the limit")
        assert parameter_class(code, limit - step) <= k, (code, k, "just below")
        above = parameter_class(code, limit + step)
        assert above > k, (code, k, "just above")
    assert parameter_class(code, LIMITS[code].limits[-1] * 1.01) == WORST


def test_known_values() -> None:
    assert [parameter_class("NH3-N", v) for v in (0.15, 0.16, 0.5, 0.51, 1.0, 1.01, 1.5, 2.0, 2.01)] \
        == [1, 2, 2, 3, 3, 4, 4, 5, 6]
    assert [parameter_class("TP", v) for v in (0.02, 0.021, 0.1, 0.2, 0.201, 0.3, 0.4, 0.41)] \
        == [1, 2, 2, 3, 4, 4, 5, 6]
    assert [parameter_class("COD", v) for v in (15, 15.1, 20, 20.1, 30, 40, 40.5)] == [1, 3, 3, 4, 4, 5, 6]


def test_dissolved_oxygen_is_a_lower_bound() -> None:
    for k, limit in _boundaries("DO"):
        assert parameter_class("DO", limit) == k
        assert parameter_class("DO", limit + 0.01) <= k
        assert parameter_class("DO", limit - 0.01) == k + 1
    assert [parameter_class("DO", v) for v in (8.0, 7.5, 7.49, 6.0, 5.0, 4.99, 3.0, 2.0, 1.99)] \
        == [1, 1, 2, 2, 3, 4, 4, 5, 6]


def test_ph_six_to_nine_for_every_class() -> None:
    assert [parameter_class("pH", v) for v in (5.99, 6.0, 7.5, 9.0, 9.01)] == [WORST, 1, 1, 1, WORST]


def test_vectorised_keeps_nan() -> None:
    out = parameter_classes("TP", np.array([np.nan, 0.2, 0.5]))
    assert np.isnan(out[0]) and out[1:].tolist() == [3.0, 6.0]


@pytest.mark.parametrize(("text", "expected"), [
    ("III类", 3), ("Ⅲ类", 3), ("Ⅲ", 3), ("3", 3), ("三类", 3), ("目标IV类", 4), ("ii", 2),
    ("劣V类", None), ("VI", None), ("", None), ("III-IV", None)])
def test_parse_class(text: str, expected: int | None) -> None:
    assert parse_class(text) == expected


def test_labels() -> None:
    assert class_label(3) == "III类" and class_label(6) == "劣V类" and class_label(None) == "—"

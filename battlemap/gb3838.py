"""GB 3838-2002 地表水环境质量标准, Table 1: the river limits, in one place.

Source: GB 3838-2002 *Environmental quality standards for surface water*
(地表水环境质量标准), 表1 地表水环境质量标准基本项目标准限值, issued by the
State Environmental Protection Administration and AQSIQ, in force since
2002-06-01. Values in mg/L unless noted; total phosphorus is the river value
(the lake and reservoir limits in brackets in the standard are not used);
total nitrogen is listed for lakes and reservoirs only and, like water
temperature and faecal coliforms, is left out of the national river
assessment (see ``[monitoring] assessed``).

Single-factor evaluation (单因子评价): a parameter is in the best class whose
limit it meets, limits inclusive (≤ for upper bounds, ≥ for dissolved
oxygen); pH meets classes I–V between 6 and 9; a value that meets no limit
is 劣Ⅴ类 (class 6). The sample's class is that of its worst assessed
parameter. A value below the detection limit meets class I for that
parameter.
"""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

import numpy as np

__all__ = ["CLASS_COLORS", "CLASS_LABELS", "LIMITS", "WORST", "Limit", "class_label",
           "parameter_class", "parameter_classes", "parse_class", "target_limit"]


class Limit(NamedTuple):
    """One parameter of Table 1: its name, unit, bound and the limits of classes I–V."""

    name: str
    unit: str
    bound: Literal["max", "min", "range"]
    limits: tuple[float, float, float, float, float]


LIMITS: dict[str, Limit] = {
    "pH": Limit("pH", "无量纲", "range", (6.0, 9.0, 0.0, 0.0, 0.0)),  # 6–9 for every class
    "DO": Limit("溶解氧", "mg/L", "min", (7.5, 6.0, 5.0, 3.0, 2.0)),
    "CODMn": Limit("高锰酸盐指数", "mg/L", "max", (2.0, 4.0, 6.0, 10.0, 15.0)),
    "COD": Limit("化学需氧量", "mg/L", "max", (15.0, 15.0, 20.0, 30.0, 40.0)),
    "BOD5": Limit("五日生化需氧量", "mg/L", "max", (3.0, 3.0, 4.0, 6.0, 10.0)),
    "NH3-N": Limit("氨氮", "mg/L", "max", (0.15, 0.5, 1.0, 1.5, 2.0)),
    "TP": Limit("总磷", "mg/L", "max", (0.02, 0.1, 0.2, 0.3, 0.4)),
    "TN": Limit("总氮", "mg/L", "max", (0.2, 0.5, 1.0, 1.5, 2.0)),
    "Cu": Limit("铜", "mg/L", "max", (0.01, 1.0, 1.0, 1.0, 1.0)),
    "Zn": Limit("锌", "mg/L", "max", (0.05, 1.0, 1.0, 2.0, 2.0)),
    "F": Limit("氟化物", "mg/L", "max", (1.0, 1.0, 1.0, 1.5, 1.5)),
    "Se": Limit("硒", "mg/L", "max", (0.01, 0.01, 0.01, 0.02, 0.02)),
    "As": Limit("砷", "mg/L", "max", (0.05, 0.05, 0.05, 0.1, 0.1)),
    "Hg": Limit("汞", "mg/L", "max", (0.00005, 0.00005, 0.0001, 0.001, 0.001)),
    "Cd": Limit("镉", "mg/L", "max", (0.001, 0.005, 0.005, 0.005, 0.01)),
    "Cr6": Limit("六价铬", "mg/L", "max", (0.01, 0.05, 0.05, 0.05, 0.1)),
    "Pb": Limit("铅", "mg/L", "max", (0.01, 0.01, 0.05, 0.05, 0.1)),
    "CN": Limit("氰化物", "mg/L", "max", (0.005, 0.05, 0.2, 0.2, 0.2)),
    "phenol": Limit("挥发酚", "mg/L", "max", (0.002, 0.002, 0.005, 0.01, 0.1)),
    "oil": Limit("石油类", "mg/L", "max", (0.05, 0.05, 0.05, 0.5, 1.0)),
    "LAS": Limit("阴离子表面活性剂", "mg/L", "max", (0.2, 0.2, 0.2, 0.3, 0.3)),
    "S": Limit("硫化物", "mg/L", "max", (0.05, 0.1, 0.2, 0.5, 1.0)),
    "FC": Limit("粪大肠菌群", "个/L", "max", (200.0, 2000.0, 10000.0, 20000.0, 40000.0)),
}
"""Parameter code -> Table 1 row. pH's limits are (low, high, unused…)."""

WORST = 6
"""劣Ⅴ类: worse than class V."""

CLASS_LABELS = {1: "I类", 2: "II类", 3: "III类", 4: "IV类", 5: "V类", 6: "劣V类"}
"""Latin capitals, not the Roman-numeral signs Ⅰ–Ⅴ: the posters' font has no Ⅴ (U+2164)."""
CLASS_COLORS = {1: "#6fc6f0", 2: "#2f7fc1", 3: "#3aa64b", 4: "#f0c419", 5: "#f08a24",
                6: "#d7191c"}
"""The colours Chinese water-quality maps use: blues for I–II, green III, yellow IV, orange V, red."""

_ROMAN = {"Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4, "Ⅴ": 5, "I": 1, "II": 2, "III": 3, "IV": 4, "V": 5,
          "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5}


def parameter_class(code: str, value: float) -> int:
    """The class (1–6) one value of one parameter meets; limits inclusive.

    >>> parameter_class("NH3-N", 1.0), parameter_class("NH3-N", 1.01), parameter_class("DO", 5.0)
    (3, 4, 3)
    """
    return int(parameter_classes(code, np.array([value], dtype=float))[0])


def parameter_classes(code: str, values: np.ndarray) -> np.ndarray:
    """The class (1.0–6.0) of each value of one parameter; NaN where the value is NaN."""
    limit = LIMITS[code]
    values = np.asarray(values, dtype=float)
    if limit.bound == "range":
        out = np.where((values >= limit.limits[0]) & (values <= limit.limits[1]), 1.0, WORST)
    else:
        out = np.full(values.shape, float(WORST))
        for k in range(5, 0, -1):  # the best class met wins: write V first, I last
            bound = limit.limits[k - 1]
            meets = values <= bound if limit.bound == "max" else values >= bound
            out = np.where(meets, float(k), out)
    return np.where(np.isnan(values), np.nan, out)


def target_limit(code: str, target: int) -> float:
    """The limit of ``code`` for class ``target`` (1–5); pH has none (NaN)."""
    limit = LIMITS[code]
    return math.nan if limit.bound == "range" else limit.limits[target - 1]


def parse_class(text: str) -> int | None:
    """A target class written as ``III类``, ``Ⅲ类``, ``Ⅲ``, ``3`` or ``三类``; None if not I–V.

    >>> parse_class("III类"), parse_class("Ⅳ"), parse_class("劣V类")
    (3, 4, None)
    """
    word = str(text).strip().removesuffix("类").removeprefix("目标").strip().upper()
    return _ROMAN.get(word)


def class_label(value: object) -> str:
    """``III类`` for 3, ``劣V类`` for 6, ``—`` when unclassified."""
    try:
        return CLASS_LABELS[int(value)]  # type: ignore[call-overload]
    except (TypeError, ValueError, KeyError):
        return "—"

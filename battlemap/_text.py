"""Text cells made safe to handle: one NaN-safe conversion used by every stage."""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["as_text", "text_series"]


def as_text(value: object, strip: bool = False) -> str:
    """A cell as a Python string: ``""`` for None, NaN, NaT and pandas' NA.

    >>> as_text(float("nan")), as_text(" 石滩镇 ", strip=True), as_text(12)
    ('', '石滩镇', '12')
    """
    if type(value) is str:
        return value.strip() if strip else value
    if value is None or value is pd.NaT or value is pd.NA:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    text = str(value)
    return text.strip() if strip else text


def text_series(values: pd.Series, strip: bool = False) -> pd.Series:
    """Every cell of ``values`` through :func:`as_text`, as an object Series on the same index."""
    array = values.to_numpy(dtype=object)
    if pd.api.types.infer_dtype(array, skipna=False) == "string":  # no blank cell: no per-cell test
        texts = list(map(str.strip if strip else str, array))
    else:
        texts = [as_text(v, strip) for v in array]
    return pd.Series(texts, index=values.index, dtype=object)

"""_text: every cell made a plain string, the same way whether a column has blanks or not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from battlemap._text import as_text, text_series


@pytest.mark.parametrize("strip", [False, True])
@pytest.mark.parametrize("cells", [
    [" 石滩镇 ", "x\t", "", "\u3000y"],                       # strings only: the quick path
    [np.str_(" a "), "b "],                                    # a str subclass is made a str
    [" 石滩镇 ", None, float("nan"), pd.NA, pd.NaT, 12, 2.5],  # blanks and numbers: cell by cell
    [],
])
def test_text_series_is_as_text_of_every_cell(cells, strip) -> None:
    values = pd.Series(cells, index=[f"r{i}" for i in range(len(cells))], dtype=object)
    texts = text_series(values, strip=strip)
    assert texts.tolist() == [as_text(v, strip) for v in cells]
    assert all(type(t) is str for t in texts)
    assert texts.dtype == object
    assert texts.index.equals(values.index)


def test_text_series_of_a_pandas_string_column_with_a_missing_value() -> None:
    values = pd.Series([" a", None], dtype="str")
    assert text_series(values, strip=True).tolist() == ["a", ""]

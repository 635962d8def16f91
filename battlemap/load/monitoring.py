"""The monitoring results (监测数据) read through the case table's reader, worded for monitoring."""

from __future__ import annotations

import pandas as pd

from battlemap._findings import note
from battlemap.config import CasesConfig, MonitoringConfig
from battlemap.errors import ConfigError, InputError
from battlemap.load.cases import _drop_blank_rows, _find_header
from battlemap.load.tables import _read_table
from battlemap.privacy import mask_columns, mask_text

__all__ = ["read_monitoring_table"]

_MONITORING_WORDS = (("the case table", "the monitoring table"), ("[cases.columns]",
                     "[monitoring.columns]"), ("[cases]", "[monitoring]"),
                     ("the case list", "the monitoring results"), ("are not cases", "are not samples"),
                     ("not cases", "not samples"), ("not a case", "not a sample"),
                     ("if the cases are", "if the results are"))


def read_monitoring_table(monitoring: MonitoringConfig) -> pd.DataFrame:
    """The monitoring results (监测数据) as text, through the case table's reader.

    The same detection of workbook or CSV, encoding, title rows above the
    header, blank and footer rows applies; the header row is the first that
    holds the ``section`` and ``sampled_at`` columns. Every other column is
    kept under its header (parameters are matched by
    :mod:`battlemap.monitoring`); ``source_row`` is the spreadsheet's row
    number. Personal numbers are masked in every column. Messages speak of
    the monitoring table and ``[monitoring]``.

    Raises
    ------
    InputError
        As :func:`read_case_table` does, worded for the monitoring table.
    """
    spec = CasesConfig.model_construct(
        path=monitoring.path, sheet=monitoring.sheet, encoding=monitoring.encoding,
        columns=dict(monitoring.columns))
    try:
        raw, header_row, notes = _read_table(spec)
        raw = _find_header(raw, header_row, spec)
        raw, source_row = _drop_blank_rows(raw, notes)
    except (InputError, ConfigError) as exc:
        raise type(exc)(_monitoring_words(str(exc.args[0])),
                        [_monitoring_words(p) for p in exc.problems]) from None
    raw.attrs = {}
    mask_columns(raw, list(raw.columns))
    raw = raw.astype(str)
    raw.insert(0, "source_row", source_row)
    raw = raw.reset_index(drop=True)
    for kind, message, column in notes:
        note(raw, kind, _monitoring_words(mask_text(message)), file=str(monitoring.path),
             column=column)
    return raw


def _monitoring_words(message: str) -> str:
    for case_words, monitoring_words in _MONITORING_WORDS:
        message = message.replace(case_words, monitoring_words)
    return message

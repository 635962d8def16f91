"""Validate: turn loaded inputs into trustworthy frames, or say exactly what is wrong.

Hard problems (ids missing or repeated, a boundary with no geometry, a
parent id that matches nothing and no parent under the unit) are collected
across every level and raised together as one :class:`InputError` before
anything is written. Soft problems become warnings in the report, each
with its file, feature or row, column and what to do; gaps, overlaps and
overhangs are given in m² with a WGS84 lon/lat to look at. A case that
cannot be placed is rejected with its reason, never dropped silently: every
row of the case table ends up either returned or in ``findings.rejected``.

The modules, one job each:

- :mod:`~battlemap.validate.boundaries`: ids, repair, parents and tiling of the levels;
- :mod:`~battlemap.validate.rivers`: rivers (reaches merged) and catchments;
- :mod:`~battlemap.validate.cases`: :func:`validate_cases`, the case table step by step,
  using :mod:`~battlemap.validate.dates` and :mod:`~battlemap.validate.coordinates`;
- ``_cells``: what the case checks share (blank words, NFKC, reject, flag).
"""

from battlemap._findings import DUPLICATE_RULE
from battlemap.validate._cells import BLANK_WORDS
from battlemap.validate.boundaries import validate_boundaries
from battlemap.validate.cases import validate_cases
from battlemap.validate.coordinates import parse_coordinates
from battlemap.validate.dates import EARLIEST_YEAR, LATEST_YEAR, parse_datetimes
from battlemap.validate.rivers import validate_catchments, validate_lines

__all__ = [
    "BLANK_WORDS", "DUPLICATE_RULE", "EARLIEST_YEAR", "LATEST_YEAR", "parse_coordinates",
    "parse_datetimes", "validate_boundaries", "validate_cases", "validate_catchments",
    "validate_lines",
]

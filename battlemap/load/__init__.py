"""Load: every input through one canonical path.

Boundary levels, rivers and the context layer go through :func:`read_layer`,
which reads Shapefile, GeoPackage (a named layer) or GeoJSON, repairs the
text encoding of the attributes (a GBK ``.dbf`` without ``.cpg`` is read
by GDAL as ISO-8859-1 and comes out as mojibake such as ``'Ôö³ÇÇø'``), fixes
the CRS (from the file, else from the config, else an error), checks that
the layer lands in China, reprojects to the analysis CRS and renames the
configured fields to the canonical ``unit_id``/``name``/… columns.

The case table goes through :func:`read_case_table`: ``.xlsx`` (first or
named sheet) or ``.csv`` in UTF-8, UTF-8 with BOM, GBK, GB18030 or UTF-16,
detected; a title row above the header is skipped; the export's Chinese
headers are mapped to canonical fields; private columns (reporter phone
numbers) are dropped at once, and personal numbers (phone, ID card, e-mail,
bank card) in every other column are masked by :mod:`battlemap.privacy`, as
they are in the text attributes of every layer.

What load notices without stopping (an encoding it had to guess, a column
it dropped) is attached to the frame (:func:`battlemap._findings.note`) and
moved into the build's findings by validate.

The modules, one job each (imports flow down this list):

- :mod:`~battlemap.load.encodings`: a layer's text encoding, mojibake found and repaired;
- :mod:`~battlemap.load.layers`: :func:`read_layer`, the CRS, China and geometry checks;
- :mod:`~battlemap.load.inputs`: each configured layer (boundaries, rivers, context,
  catchments) in its canonical columns;
- :mod:`~battlemap.load.tables`: a spreadsheet export (CSV or workbook) as raw text cells;
- :mod:`~battlemap.load.cases`: the case table: header, blank and footer rows, private columns;
- :mod:`~battlemap.load.monitoring`: the monitoring results, through the case table's reader.
"""

from battlemap.load.cases import FOOTER_WORDS, PRIVATE_HINTS, CaseTable, read_case_table
from battlemap.load.encodings import LAYER_ENCODINGS
from battlemap.load.inputs import (
    load_boundaries,
    load_catchments,
    load_context,
    load_neighbours,
    load_rivers,
)
from battlemap.load.layers import CHINA_LONLAT, GEOMETRY_KINDS, read_layer
from battlemap.load.monitoring import read_monitoring_table
from battlemap.load.tables import CSV_ENCODINGS, EXCEL_SUFFIXES

__all__ = [
    "CHINA_LONLAT", "CSV_ENCODINGS", "EXCEL_SUFFIXES", "FOOTER_WORDS", "GEOMETRY_KINDS",
    "LAYER_ENCODINGS", "PRIVATE_HINTS", "CaseTable", "load_boundaries", "load_catchments",
    "load_context", "load_neighbours", "load_rivers", "read_case_table", "read_layer",
    "read_monitoring_table",
]

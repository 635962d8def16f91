"""Bulletin (通报): the office's periodic notice on overdue and recurring cases and rankings.

One bulletin per build, for the current period (``atlas.period``, a week or
a month), written from one :class:`~battlemap.render.document.Document` as
``bulletin/<as-of>.pdf`` (A4, for printing and sending), ``.html``
(self-contained, offline, every text escaped) and ``.docx`` (editable in
Word and WPS). The package holds:

- :mod:`.data`: the figures and tables as plain frames (:func:`bulletin_data`,
  :func:`escalations`), testable without fonts;
- :mod:`.document`: the seven sections written once as blocks;
- :mod:`.charts`: the four charts, each drawing one frame.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

from battlemap._model import Atlas
from battlemap._paths import safe_stem
from battlemap.render.bulletin.data import REMINDER, WARNING, Bulletin, bulletin_data, escalations
from battlemap.render.bulletin.document import bulletin_document
from battlemap.render.document.docx import write_docx
from battlemap.render.document.html import write_html
from battlemap.render.document.pdf import write_pdf
from battlemap.render.fonts import font_for, rc_params

__all__ = ["BULLETIN_DIR", "REMINDER", "WARNING", "Bulletin", "bulletin_data",
           "bulletin_document", "escalations", "render_bulletin"]

BULLETIN_DIR = "bulletin"


def render_bulletin(atlas: Atlas, out_dir: Path) -> list[Path]:
    """Write ``out_dir/bulletin/<as-of>.pdf`` (A4), ``.html`` and ``.docx``; return the paths.

    All three come from the same document and are written atomically. The
    PDF uses the posters' font (checked for missing glyphs: a text the font
    cannot draw raises :class:`~battlemap.errors.RenderError`) and the
    configured state colours.
    """
    document = bulletin_document(bulletin_data(atlas))
    folder = Path(out_dir) / BULLETIN_DIR
    stem = safe_stem(atlas.as_of.isoformat())
    font = font_for(atlas.config)
    with matplotlib.rc_context(rc_params(font)):
        pdf = write_pdf(document, folder / f"{stem}.pdf", font)
        page = write_html(document, folder / f"{stem}.html")
        word = write_docx(document, folder / f"{stem}.docx")
    return [pdf, page, word]

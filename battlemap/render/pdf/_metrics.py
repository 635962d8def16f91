"""Advances and vertical metrics of one font, per character, from a per-process table.

Matplotlib measures every string with FreeType (load, shape, measure) each
time it is drawn. For the one poster font, the advance of a character never
changes: it is loaded once per process, ever. Public API only
(``ft2font.FT2Font``, ``load_glyph``, ``get_sfnt_table``).

A FreeType face is not safe to share between threads (loading a glyph
changes its state). The table owns its face (not the one ``get_font`` hands
to the thread that happens to build the table, which matplotlib would go on
using without our lock) and loads glyphs under its lock; reads of
characters already known take no lock.
"""

from __future__ import annotations

import os
import threading

from matplotlib import ft2font

__all__ = ["Metrics", "metrics"]

_NO_SCALE = (ft2font.LoadFlags.NO_SCALE | ft2font.LoadFlags.NO_HINTING
             if hasattr(ft2font, "LoadFlags") else ft2font.LOAD_NO_SCALE | ft2font.LOAD_NO_HINTING)


class Metrics:
    """Glyph index and advance (in ems) of each character of one font, filled lazily.

    Parameters
    ----------
    path
        The font file.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        """Held while :attr:`font` (one FreeType face) loads a glyph."""
        self.font = ft2font.FT2Font(os.path.realpath(path))
        """This table's own face: used only under :attr:`lock`."""
        units = self.font.units_per_EM
        os2 = self.font.get_sfnt_table("OS/2")
        if os2:
            self.ascent, self.descent = os2["sTypoAscender"] / units, -os2["sTypoDescender"] / units
            self.line_gap = os2["sTypoLineGap"] / units
        else:
            hhea = self.font.get_sfnt_table("hhea")
            self.ascent, self.descent = hhea["ascent"] / units, -hhea["descent"] / units
            self.line_gap = hhea["lineGap"] / units
        self.units = units
        self.glyphs: dict[str, tuple[int, float] | None] = {}

    def glyph(self, char: str) -> tuple[int, float] | None:
        """(glyph index, advance in ems), or None when the font lacks the character."""
        try:
            return self.glyphs[char]
        except KeyError:
            pass
        with self.lock:
            index = self.font.get_char_index(ord(char))
            if index or char == " ":
                advance = self.font.load_glyph(index, flags=_NO_SCALE).horiAdvance / self.units
                self.glyphs[char] = (index, advance)
            else:
                self.glyphs[char] = None
        return self.glyphs[char]

    def advances(self, s: str) -> list[tuple[int, float]] | None:
        """(glyph index, advance) of each character of ``s``; None if one is missing."""
        try:                  # every character seen before: dictionary look-ups only
            out = [self.glyphs[char] for char in s]
        except KeyError:
            out = [self.glyph(char) for char in s]
        return None if None in out else out


_METRICS: dict[str, Metrics] = {}
_LOCK = threading.Lock()


def metrics(path: str) -> Metrics:
    """The process's :class:`Metrics` of the font at ``path``."""
    found = _METRICS.get(path)
    if found is None:
        with _LOCK:
            if path not in _METRICS:
                _METRICS[path] = Metrics(path)
            found = _METRICS[path]
    return found

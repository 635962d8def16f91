"""Fonts for Chinese text on posters: find, register, check glyphs (never tofu).

Matplotlib ships no CJK font: without one every 汉字 becomes a box. The font
is ``config.style.font_path`` when set, else Noto Sans SC (OFL) from the
``pylopdf_fonts_zh_cn`` package. Only its Regular weight exists, so titles
are made big, never bold. matplotlib is set to Type 3 fonts
(``pdf.fonttype = 3``; with this CFF font, Type 42 made poppler warn); the
fast PDF path (:mod:`battlemap.render.pdf._mpl`) embeds a CID-keyed CFF font
such as this one as one composite font per file instead, and keeps Type 3
for a TrueType font.

Every text is checked against the font's character map before drawing: a
character the font lacks is drawn as a visible placeholder (□), never as an
invisible box and never as an error, since data text must not stop a build.
:func:`glyph_findings` lists each such character as a warning with its file,
row or feature and column before anything is written (build and validate).
"""

from __future__ import annotations

import importlib.resources
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

import pandas as pd
from matplotlib import font_manager

from battlemap._findings import Finding
from battlemap._model import Atlas
from battlemap._text import text_series
from battlemap.config import Config
from battlemap.errors import RenderError

__all__ = ["DEFAULT_FONT_PACKAGE", "PLACEHOLDER", "FontSpec", "check_chart", "check_text",
           "check_texts",
           "clip_to_width", "em_width", "font_for", "glyph_findings", "missing_glyphs",
           "rc_params", "wrap_to_width"]

PLACEHOLDER = "□"
"""Drawn in place of a character the font lacks ("?" when the font lacks □ too)."""
_DROPPED = frozenset(("Cc", "Cf"))
"""Control and format characters: never drawn (a line break is kept)."""

DEFAULT_FONT_PACKAGE = ("pylopdf_fonts_zh_cn", "NotoSansSC-Regular.otf")
"""The bundled fallback: (package, file name), Noto Sans SC Regular, SIL OFL."""


class FontSpec:
    """A registered font: its file, matplotlib family name and character map."""

    __slots__ = ("codepoints", "family", "line_height", "path")

    def __init__(self, path: Path, family: str, codepoints: frozenset[int],
                 line_height: float = 1.0) -> None:
        self.path = path
        self.family = family
        self.codepoints = codepoints
        self.line_height = line_height
        """Ascent + descent in ems, as matplotlib spaces lines (OS/2 typo metrics)."""

    def __repr__(self) -> str:
        return f"FontSpec({self.family!r}, {str(self.path)!r}, {len(self.codepoints)} glyphs)"


def font_for(config: Config) -> FontSpec:
    """The poster font for ``config``: its configured font, else Noto Sans SC.

    Raises
    ------
    RenderError
        When the font file cannot be found or read.
    """
    path = config.style.font_path or _bundled_font()
    return _register(Path(path).resolve())


def rc_params(font: FontSpec) -> dict[str, object]:
    """Matplotlib settings for a poster; use with ``matplotlib.rc_context``."""
    return {
        "font.family": [font.family],
        "font.weight": "normal",
        "pdf.fonttype": 3,
        "axes.unicode_minus": False,     # U+2212 may be missing in a configured font
        "svg.fonttype": "none",
        "path.simplify": True,
    }


def missing_glyphs(text: str, font: FontSpec) -> str:
    """The characters of ``text`` the font cannot draw (whitespace and controls ignored)."""
    seen: dict[str, None] = {}
    for char in text:
        if ord(char) in font.codepoints or char.isspace():
            continue
        if unicodedata.category(char) in ("Cc", "Cf"):
            continue
        seen[char] = None
    return "".join(seen)


def check_text(text: str, font: FontSpec) -> str:
    """``text`` as the font can draw it: each missing character as □, controls left out.

    Never raises: a character the font lacks was listed as a warning before
    the build wrote anything (:func:`glyph_findings`).
    """
    if all(ord(c) in font.codepoints for c in text):
        return text
    mark = PLACEHOLDER if ord(PLACEHOLDER) in font.codepoints else "?"
    drawn = []
    for char in text:
        if ord(char) in font.codepoints or char == "\n":
            drawn.append(char)
        elif char.isspace():
            drawn.append(" ")
        elif unicodedata.category(char) not in _DROPPED:
            drawn.append(mark)
    return "".join(drawn)


def check_chart(ax, font: FontSpec | None = None) -> None:
    """A chart's tick labels, annotations and legend as the font draws them (□ when missing).

    ``font`` defaults to the font matplotlib's current settings select.
    """
    from matplotlib.ticker import FuncFormatter

    if font is None:
        found = font_manager.findfont(font_manager.FontProperties(), fallback_to_default=True)
        font = _register(Path(found).resolve())
    for axis in (ax.xaxis, ax.yaxis):
        formatter = axis.get_major_formatter()
        axis.set_major_formatter(FuncFormatter(
            lambda value, pos, f=formatter: check_text(f(value, pos), font)))
    legend = ax.get_legend()
    for text in [*ax.texts, *(legend.get_texts() if legend is not None else [])]:
        text.set_text(check_text(text.get_text(), font))


def check_texts(texts: Iterable[str], font: FontSpec) -> list[str]:
    """Many labels through :func:`check_text`, in order."""
    return [check_text(text, font) for text in texts]


def glyph_findings(atlas: Atlas, font: FontSpec) -> list[Finding]:
    """A warning for every data text posters and the bulletin draw with a character the font lacks.

    Unit and river attributes name their boundary file, feature id and field;
    cases name the case file, row and column; config texts name the config key.
    """
    config = atlas.config
    found: list[Finding] = []
    for level, layer in config.boundaries.items():
        fields = {"name": layer.name_field, "chief": layer.chief_field or "chief"}
        found += _frame_findings(atlas.units[level], fields, str(layer.path), font)
    found += _frame_findings(atlas.rivers, {"name": config.rivers.name_field},
                             str(config.rivers.path), font)
    if atlas.context is not None and config.context is not None:
        fields = {"name": config.context.name_field, "label": config.context.label_field or ""}
        found += _frame_findings(atlas.context, fields, str(config.context.path), font)
    columns = config.cases.columns
    cases = atlas.cases.assign(case_id=atlas.cases.index.to_series())
    rows = "row " + cases["source_row"].astype(str)
    fields = {f: columns[f] for f in _CASE_TEXTS if f in columns and f in cases.columns}
    found += _frame_findings(cases.set_axis(rows), fields, str(config.cases.path), font)
    project = config.project
    texts = {"project.name": project.name, "project.note": project.note,
             "project.data_source": project.data_source,
             **{f"style.status_labels.{k}": v for k, v in config.style.status_labels.items()},
             **{f"style.level_labels.{k}": v for k, v in config.style.level_labels.items()}}
    for key, text in texts.items():
        found += _findings(pd.Series([text], index=[""]), str(config.source or ""), key, font)
    return found


_CASE_TEXTS = ("case_id", "channel", "problem_type", "declared_town", "declared_village")
"""Case fields posters and the bulletin PDF draw (descriptions appear only in HTML)."""


def _frame_findings(frame: pd.DataFrame, fields: dict[str, str], file: str, font: FontSpec
                    ) -> list[Finding]:
    found: list[Finding] = []
    for column, source_column in fields.items():
        if column in frame.columns:
            found += _findings(frame[column], file, source_column, font)
    return found


def _findings(values: pd.Series, file: str, column: str, font: FontSpec) -> list[Finding]:
    """One finding per value of ``values`` (indexed by feature) with a character the font lacks."""
    texts = text_series(values)
    unique = pd.unique(texts.to_numpy())
    chars = set("".join(unique))
    if not missing_glyphs("".join(chars), font):  # one pass over the distinct characters
        return []
    found = []
    for feature, text in texts.items():
        missing = missing_glyphs(text, font)
        if missing:
            codes = ", ".join(f"U+{ord(c):04X} {c}" for c in missing[:8])
            shown = text if len(text) <= 40 else text[:39] + "…"
            found.append(Finding(
                "missing_glyph",
                f"{shown!r}: the poster font {font.path.name} has no glyph for {codes}; posters "
                f"and the bulletin draw {PLACEHOLDER} instead. Fix the text, or set "
                "style.font_path to a font that has it",
                file=file, feature=str(feature), column=column))
    return found


def _bundled_font() -> Path:
    package, name = DEFAULT_FONT_PACKAGE
    try:
        path = Path(str(importlib.resources.files(package) / name))
    except ModuleNotFoundError:
        raise RenderError(f"no Chinese font: install the PyPI package {package.replace('_', '-')} "
                          "or set style.font_path in the config") from None
    if not path.is_file():
        raise RenderError(f"the font {path} is missing from the package {package}")
    return path


@lru_cache(maxsize=8)
def _register(path: Path) -> FontSpec:
    """Register the font with matplotlib once per process; read its cmap once."""
    if not path.is_file():
        raise RenderError(f"font file not found: {path}")
    try:
        font_manager.fontManager.addfont(str(path))
        family = font_manager.FontProperties(fname=str(path)).get_name()
    except (OSError, RuntimeError, ValueError) as exc:
        raise RenderError(f"cannot read the font {path}: {exc}") from None
    codepoints, line_height = _read_tables(path)
    return FontSpec(path, family, codepoints, line_height)


def _read_tables(path: Path) -> tuple[frozenset[int], float]:
    from fontTools.ttLib import TTCollection, TTFont, TTLibError

    try:
        if path.suffix.lower() in (".ttc", ".otc"):
            fonts = TTCollection(str(path), lazy=True).fonts[:1]
        else:
            fonts = [TTFont(str(path), lazy=True)]
        codes: set[int] = set()
        line_height = 1.0
        for k, font in enumerate(fonts):
            codes.update(font.getBestCmap() or {})
            if k == 0:
                line_height = _line_height(font)
            font.close()
    except (OSError, TTLibError, KeyError) as exc:
        raise RenderError(f"cannot read the character map of {path}: {exc}") from None
    return frozenset(codes), line_height


def _line_height(font) -> float:
    units = font["head"].unitsPerEm
    if "OS/2" in font:
        os2 = font["OS/2"]
        return (os2.sTypoAscender - os2.sTypoDescender) / units
    hhea = font["hhea"]
    return (hhea.ascent - hhea.descent) / units


def em_width(text: str) -> float:
    """Approximate width of ``text`` in ems: CJK full width, Latin and digits about half."""
    return sum(map(_char_em, text))


@cache
def _char_em(char: str) -> float:
    return 1.0 if unicodedata.east_asian_width(char) in "WF" else 0.56


def clip_to_width(text: str, size: float, width: float) -> str:
    """``text`` cut with "…" to fit ``width`` points at font ``size``."""
    if em_width(text) * size <= width:
        return text
    out = ""
    for char in text:
        if (em_width(out) + 2) * size > width:
            return out + "…"
        out += char
    return out


def wrap_to_width(text: str, size: float, width: float) -> list[str]:
    """Lines of at most ``width`` points; breaks after 、，；。 when one is near the end."""
    lines, line = [], ""
    for char in text:
        if em_width(line + char) * size > width:
            cut = max(line.rfind(p) for p in "、，；。 ")
            if cut >= len(line) * 0.7:
                lines.append(line[:cut + 1])
                line = line[cut + 1:]
            else:
                lines.append(line)
                line = ""
        line += char
    return [*lines, line] if line else lines

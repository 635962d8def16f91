"""One small exception tree; every error a user can cause is a BattlemapError."""

from __future__ import annotations

__all__ = ["BattlemapError", "ConfigError", "InputError", "RenderError"]


class BattlemapError(Exception):
    """Base of every error battlemap raises on purpose (CLI exit code 2)."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        super().__init__(message)

    def __str__(self) -> str:
        head = super().__str__()
        if not self.problems:
            return head
        shown = self.problems[:50]
        more = len(self.problems) - len(shown)
        lines = [head, *(f"  - {p}" for p in shown)]
        if more:
            lines.append(f"  … and {more} more")
        return "\n".join(lines)


class ConfigError(BattlemapError):
    """The configuration file is missing, malformed or names what does not exist."""


class InputError(BattlemapError):
    """An input file, column, value, geometry or CRS cannot be used."""


class RenderError(BattlemapError):
    """An output cannot be drawn, e.g. a label has a glyph missing from the font."""

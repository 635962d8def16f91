"""What a build is asked to do: the options of ``battlemap build`` (no heavy imports)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field

__all__ = ["RENDERERS", "BuildOptions"]

RENDERERS = ("web", "posters", "bulletin", "letters")


@dataclass(frozen=True)
class BuildOptions:
    """How to build: what to render, where, and how much of it."""

    only: tuple[str, ...] = RENDERERS
    levels: tuple[str, ...] | None = None   # e.g. ("town",); None = every level and the rivers
    units: tuple[str, ...] | None = None    # unit or river ids; None = all
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    executor: str = "process"               # process | dask-local | dask://HOST:PORT
    force: bool = False
    since: dt.date | None = None
    quiet: bool = True

    def selection(self) -> tuple[object, ...]:
        """The options that change what a build writes (not how fast it gets there)."""
        return (self.only, self.levels, self.units,
                None if self.since is None else self.since.isoformat())

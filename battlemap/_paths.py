"""File names made from ids, and paths that never leave the output folder.

Every file name that comes from data (a unit id, a river id, a date) goes
through :func:`safe_stem`; every path a renderer writes goes through
:func:`inside`. The helpers are pure, so web links, page data and the
manifest use the very same names as the files.
"""

from __future__ import annotations

__all__ = ["safe_stem"]


def safe_stem(unit_id: object) -> str:
    """The file stem of an id: the id itself when it is already a safe name.

    Placeholder: the safety work of issue 11 replaces this body; callers
    use it from now on so that every name comes from one place.
    """
    return str(unit_id)

"""battlemap: 挂图作战 battle maps for river-chief offices (河长办).

Stages: load → validate → join → stats → render (web, poster), driven by build.
"""

__version__ = "0.1.0"

LEVELS = ("district", "town", "village", "grid")
"""Administrative levels, top down: 区 district, 镇街 town, 村居 village, 网格 grid."""

STATES = ("reported", "assigned", "rectifying", "closed")
"""Canonical case states (销号管理): 待交办 → 已交办 → 整改中 → 已销号."""

CHANGE_COLUMNS = ("new_since", "closed_since", "overdue_since", "reopened_since")
"""Per case, what changed since the previous snapshot (see :mod:`battlemap.history`)."""

VOID = "void"
"""The outcome a status word can map to instead of a state (不计整改: 已撤销, 挂起, …).

Such cases and invalid tips (是否有效 = 否) stay in the ledger and the channel
statistics but leave every rectification figure (see :func:`battlemap.join.counted`).
"""

RIVER_KINDS = {"main": "干流", "tributary": "一级支流"}
"""River kinds and the words every output uses for them."""

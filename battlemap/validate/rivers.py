"""Rivers and catchments: :func:`validate_lines`, :func:`validate_catchments`.

Rivers without a line are left out by name, reaches sharing an id are
merged into one river, a river without an id is an error; catchments that
drain to a river the rivers layer lacks are left out with a warning.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from battlemap._findings import Findings
from battlemap.config import CatchmentsConfig
from battlemap.errors import InputError

__all__ = ["validate_catchments", "validate_lines"]


def validate_lines(frame: gpd.GeoDataFrame, path: str, findings: Findings) -> gpd.GeoDataFrame:
    """Rivers indexed by ``river_id``: empty lines left out by name, reaches merged.

    A river drawn as several features with the same id (one per reach) is
    merged into one multi-line, with a warning; a river with no id is an
    error naming the feature.
    """
    findings.absorb(frame)
    empty = (frame.geometry.isna() | frame.geometry.is_empty).to_numpy()
    for river_id, name, n in zip(frame["river_id"][empty], frame["name"][empty],
                                 frame["feature"][empty], strict=True):
        findings.warn("empty_geometry", f"river {river_id} {name} (feature {n}): empty "
                      "geometry, left out; draw its line", file=path, feature=str(river_id))
    frame = frame[~empty]
    missing = frame["river_id"] == ""
    if missing.any():
        raise InputError("rivers: fix these features, then run again", [
            f"{path}: feature {n} ({name or 'no name'}): id is empty; fill the id field"
            for n, name in zip(frame.loc[missing, "feature"], frame.loc[missing, "name"],
                               strict=True)])
    repeated = frame["river_id"].duplicated(keep=False)
    if repeated.any():
        merged = frame[repeated].dissolve("river_id", aggfunc="first", sort=False)
        for river_id, count in frame.loc[repeated, "river_id"].value_counts(sort=False).items():
            findings.warn("river_reaches_merged", f"river {river_id}: {count} features share "
                          "this id and were merged into one river", file=path,
                          feature=str(river_id))
        frame = pd.concat([frame[~repeated].set_index("river_id"), merged])
        return gpd.GeoDataFrame(frame, geometry="geometry", crs=merged.crs)
    return frame.set_index("river_id")


def validate_catchments(catchments: gpd.GeoDataFrame, rivers: gpd.GeoDataFrame,
                        layer: CatchmentsConfig, findings: Findings) -> gpd.GeoDataFrame:
    """Warn about catchments draining to a river the rivers layer lacks (they are not used)."""
    findings.absorb(catchments)
    unknown = ~catchments["river_id"].isin(rivers.index)
    for feature, river_id in zip(catchments.loc[unknown, "feature"],
                                 catchments.loc[unknown, "river_id"], strict=True):
        findings.warn("unknown_river", f"catchment feature {feature}: river {river_id!r} is not in "
                      "the rivers layer; the catchment is not used", file=str(layer.path),
                      feature=str(feature), column=layer.river_field)
    return catchments[~unknown]

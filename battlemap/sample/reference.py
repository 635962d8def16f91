"""The real reference data the sample builds on, read from the package (not the checkout).

``reference/`` holds the outline of 增城区 and its neighbours and the official
town and village codes; their sources and licences are in ``data/README.md``.
"""

from __future__ import annotations

import json
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import pandas as pd
import shapely
from shapely.geometry import Polygon

from battlemap.sample.boundaries import DISTRICT_CODE
from battlemap.sample.geometry import polygon_parts, to_xy

__all__ = ["OUTLINES", "load_reference", "neighbours", "packaged_reference"]

OUTLINES = "zengcheng_and_neighbours_wgs84.geojson"
DONGGUAN_CODE = "441900"


def packaged_reference() -> Traversable:
    """The packaged ``reference/`` folder (works from a wheel as from a checkout)."""
    return files(__package__).joinpath("reference")


def _outlines(ref: Traversable | Path) -> list[dict[str, Any]]:
    """The county-level outlines as ``{adcode, name, geometry}`` records in WGS84."""
    fc = json.loads(ref.joinpath(OUTLINES).read_text("utf-8"))
    return [{"adcode": str(f["properties"]["adcode"]), "name": str(f["properties"]["name"]),
             "geometry": shapely.geometry.shape(f["geometry"])} for f in fc["features"]]


def load_reference(ref: Traversable | Path) -> tuple[Polygon, Any, pd.DataFrame, pd.DataFrame]:
    """The projected district outline, 东莞, and the official towns and villages."""
    shapes = {o["adcode"]: o["geometry"] for o in _outlines(ref)}
    district = max(polygon_parts(to_xy(shapes[DISTRICT_CODE])), key=lambda p: p.area)
    district = Polygon(district.exterior)
    dongguan = to_xy(shapes[DONGGUAN_CODE])
    with ref.joinpath("zengcheng_towns_2023.csv").open("rb") as fh:
        towns = pd.read_csv(fh, dtype=str)
    with ref.joinpath("zengcheng_villages_2023.csv").open("rb") as fh:
        villages = pd.read_csv(fh, dtype=str)
    villages = villages.rename(columns={"streetCode": "town_code"})[["code", "name", "town_code"]]
    return district, dongguan, towns[["code", "name"]], villages


def neighbours(ref: Traversable | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The neighbouring districts' outlines as they are in the reference, 增城区 left out.

    Returns the collection's head (``name`` "neighbours" and the reference's
    ``crs``, WGS84) and its features, untouched (properties ``adcode``, ``name``).
    """
    fc = json.loads(ref.joinpath(OUTLINES).read_text("utf-8"))
    head = {"type": "FeatureCollection", "name": "neighbours"}
    if "crs" in fc:
        head["crs"] = fc["crs"]
    features = [f for f in fc["features"] if str(f["properties"]["adcode"]) != DISTRICT_CODE]
    return head, features

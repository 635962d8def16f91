"""Writing the sample: GeoJSON one feature per line on the 1e-6° grid, the case CSV with a BOM."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from battlemap.sample.geometry import polygon_parts

__all__ = ["CASE_COLUMNS", "write_cases", "write_features", "write_geojson"]

CASE_COLUMNS = ("问题编号", "上报时间", "上报渠道", "问题类型", "所属镇街", "所属村居", "河涌名称",
                "经度", "纬度", "处理状态", "整改期限", "办结时间", "问题描述", "上报人电话", "是否有效")


# --------------------------------------------------------------------------- writing


def _ring(coords: np.ndarray) -> list[list[float]]:
    return [[round(float(x), 6), round(float(y), 6)] for x, y in coords]


def _geojson_geometry(geom: Any) -> dict[str, Any]:
    """GeoJSON mapping with coordinates rounded to 6 decimals (RFC 7946 winding)."""
    if geom.geom_type == "Point":
        return {"type": "Point", "coordinates": _ring(np.asarray(geom.coords))[0]}
    if geom.geom_type == "LineString":
        return {"type": "LineString", "coordinates": _ring(np.asarray(geom.coords))}
    polys = [shapely.orient_polygons(p) for p in polygon_parts(geom)]
    rings = [[_ring(np.asarray(p.exterior.coords)), *(_ring(np.asarray(i.coords))
                                                       for i in p.interiors)] for p in polys]
    if len(rings) == 1:
        return {"type": "Polygon", "coordinates": rings[0]}
    return {"type": "MultiPolygon", "coordinates": rings}


def write_geojson(path: Path, name: str, records: Iterable[dict[str, Any]]) -> int:
    """Write records (properties + shapely geometry) as a FeatureCollection; returns the count."""
    features = [{"type": "Feature", "properties": {k: v for k, v in rec.items() if k != "geometry"},
                 "geometry": _geojson_geometry(rec["geometry"])} for rec in records]
    return write_features(path, {"type": "FeatureCollection", "name": name}, features)


def write_features(path: Path, head: dict[str, Any], features: Sequence[dict[str, Any]]) -> int:
    """Write GeoJSON features as they are under ``head`` (type, name, crs), one per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(feat, ensure_ascii=False, separators=(",", ":")) for feat in features]
    start = json.dumps(head, ensure_ascii=False)[:-1]
    path.write_text(start + ', "features": [\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")
    return len(lines)


def write_cases(path: Path, rows: Sequence[Sequence[str]]) -> None:
    """UTF-8 with BOM, the export's Chinese headers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(CASE_COLUMNS)
        writer.writerows(rows)



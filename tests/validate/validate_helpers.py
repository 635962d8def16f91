"""Shared by the tests of battlemap.validate: the tiny district with messy inputs, and the invariants."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
from conftest import X0, Y0, tiny_cases_frame, write_tiny_inputs
from pyproj import Transformer

from battlemap.build import Prepared, prepare
from battlemap.config import load_config

TO_WGS = Transformer.from_crs("EPSG:4526", "EPSG:4326", always_xy=True)


def folder_with(tmp_path: Path, cases: pd.DataFrame | None = None,
                units: dict[str, gpd.GeoDataFrame] | None = None, toml_extra: str = "",
                replace: tuple[str, str] | None = None) -> Path:
    """The tiny district, with some of its inputs swapped for messy ones."""
    folder = tmp_path / "tiny"
    config = write_tiny_inputs(folder, cases=cases)
    if units is not None:
        (folder / "boundaries.gpkg").unlink()
        for level, frame in units.items():
            frame.to_file(folder / "boundaries.gpkg", layer=level, engine="pyogrio")
    text = config.read_text(encoding="utf-8")
    if replace:
        text = text.replace(*replace)
    config.write_text(text + toml_extra, encoding="utf-8")
    return config


def run(config_path: Path) -> Prepared:
    return prepare(load_config(config_path, out_dir=config_path.parent / "output"))


def kinds(prepared: Prepared) -> list[str]:
    return [w.kind for w in prepared.findings.warnings]


def warnings_of(prepared: Prepared, kind: str) -> list:
    return [w for w in prepared.findings.warnings if w.kind == kind]


def lonlat(x: float, y: float) -> tuple[str, str]:
    """Tiny-district metres (from X0, Y0) to WGS84 text, as an export has it."""
    lon, lat = TO_WGS.transform(X0 + x, Y0 + y)
    return f"{lon:.7f}", f"{lat:.7f}"


def case(case_id: str, x: float = 500, y: float = 500, **columns: str) -> dict[str, str]:
    """One export row in grid 1-1 by default; ``columns`` override by Chinese header."""
    row = tiny_cases_frame().iloc[0].to_dict()
    row["问题编号"] = case_id
    row["处理状态"], row["办结时间"] = "已交办", ""
    row["经度"], row["纬度"] = lonlat(x, y)
    row.update(columns)
    return row


def assert_every_row_once(prepared: Prepared, table_rows: int) -> None:
    """The ledger invariant: each input row is mapped or rejected, exactly once."""
    ledger = prepared.ledger()
    assert ledger["cases_in"] == ledger["cases_mapped"] + ledger["cases_rejected"]
    rows = (list(prepared.atlas.cases["source_row"])
            + list(prepared.findings.rejected_frame()["source_row"]))
    assert sorted(rows) == list(range(2, table_rows + 2))


def assert_every_rejection_explained(prepared: Prepared) -> None:
    """The invariant: no case is rejected without a detail saying what was wrong."""
    frame = prepared.findings.rejected_frame()
    empty = frame[frame["detail"].map(lambda d: not isinstance(d, str) or not d.strip())]
    assert empty.empty, empty


def rejected(prepared: Prepared) -> dict[str, str]:
    """case id -> reason code (for ids that occur once among the rejected)."""
    frame = prepared.findings.rejected_frame()
    return dict(zip(frame["case_id"], frame["reason_code"], strict=True))


GRID_11 = "440118001001001"

"""The configuration's *what data* part: the input layers and the case export.

Each model is one table of battlemap.toml (``[boundaries.*]``, ``[rivers]``,
``[cases]``, ``[context]``, ``[monitoring]``, ``[neighbours]``, ``[catchments]``,
``[basemap]``); :mod:`battlemap.config` holds the rest and reads the file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["CANONICAL_CASE_FIELDS", "BasemapConfig", "BoundaryConfig", "CasesConfig",
           "CatchmentsConfig", "ContextConfig", "LayerConfig", "MonitoringConfig",
           "NeighboursConfig", "RiversConfig"]

Outcome = Literal["reported", "assigned", "rectifying", "closed", "void"]
"""A state, or ``void``: 不计整改 (the case leaves the rectification figures)."""
CoordSystem = Literal["GCJ-02", "BD-09", "WGS84", "CGCS2000"]

CANONICAL_CASE_FIELDS = (
    "case_id", "reported_at", "channel", "problem_type", "declared_town",
    "declared_village", "river_name", "lon", "lat", "status", "deadline",
    "closed_at", "description", "valid", "coordinate_system", "reward",
)
"""``reward``: the reward paid for a tip (有奖举报, yuan), when the export has such a column."""
REQUIRED_CASE_FIELDS = ("case_id", "reported_at", "lon", "lat", "status")



class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LayerConfig(_Model):
    """One vector input: a boundary level, the rivers or the context layer."""

    path: Path
    layer: str | None = None
    crs: str | None = Field(None, description="CRS when the file carries none, e.g. EPSG:4490")
    encoding: str | None = Field(None, description="attribute encoding, e.g. GBK for a .dbf")
    id_field: str = "code"
    name_field: str = "name"


class BoundaryConfig(LayerConfig):
    parent_field: str | None = None
    chief_field: str | None = None


class RiversConfig(LayerConfig):
    kind_field: str = "kind"
    chief_field: str | None = Field(None, description="the river chief's (河长) name, if any")
    main_kinds: tuple[str, ...] = ("main",)
    flows_into_field: str | None = Field(
        None, description="the field holding the id of the river this one flows into "
        "(blank for the outlet); upstream attribution of monitoring sections needs it")


class ContextConfig(LayerConfig):
    kind_field: str = "kind"
    label_field: str | None = None
    kinds: dict[str, str] = Field(default_factory=dict, description="kind -> legend label")
    river_field: str | None = Field(None, description="monitoring sections: the id of the "
                                    "river the section lies on")
    target_field: str | None = Field(None, description="monitoring sections: the target "
                                     "class (目标水质), e.g. III类, Ⅲ or 3")
    section_kind_field: str | None = Field(None, description="monitoring sections: 国考, 省考, "
                                           "市考 or 交接断面")
    section_kinds: tuple[str, ...] = Field(
        ("monitoring_section",), description="values of kind_field that are monitoring sections")


class MonitoringConfig(_Model):
    """The water-quality results of the monitoring sections (``[monitoring]``).

    ``columns`` maps ``section`` (the section's id or name in the context
    layer) and ``sampled_at`` to the table's headers; ``parameters`` maps a
    parameter code (pH, DO, CODMn, COD, BOD5, NH3-N, TP, … see
    :mod:`battlemap.gb3838`) to its header, matched with the unit in
    brackets ignored (``氨氮(mg/L)`` is ``氨氮``).
    """

    path: Path
    sheet: str | None = None
    encoding: str | None = None
    columns: dict[Literal["section", "sampled_at"], str]
    parameters: dict[str, str]
    assessed: tuple[str, ...] = Field(
        ("pH", "DO", "CODMn", "COD", "BOD5", "NH3-N", "TP"),
        description="the parameters that decide the class; the national assessment leaves "
                    "out water temperature, total nitrogen (rivers) and faecal coliforms")
    earliest: dt.date = Field(dt.date(2000, 1, 1), description="samples before this are "
                              "rejected as out of range (as are samples after the as-of date)")
    near_limit_share: float = Field(0.8, gt=0, le=1, description="预警: a parameter above this "
                                    "share of its target-class limit …")
    near_limit_runs: int = Field(2, ge=1, description="… this many samples running")
    warn_month_not_met: bool = Field(True, description="预警: a month not meeting the target")
    trend_parameters: tuple[str, ...] = Field(
        ("NH3-N", "TP", "DO", "CODMn"), description="drawn as trend lines on the section page")

    @field_validator("columns")
    @classmethod
    def _both_columns(cls, columns: dict[str, str]) -> dict[str, str]:
        missing = [f for f in ("section", "sampled_at") if f not in columns]
        if missing:
            raise ValueError(f"field(s) {missing} must be mapped to a column")
        return columns

    @model_validator(mode="after")
    def _known_parameters(self) -> MonitoringConfig:
        from battlemap.gb3838 import LIMITS

        unknown = [p for p in (*self.assessed, *self.trend_parameters) if p not in LIMITS]
        if unknown:
            raise ValueError(f"parameter(s) {unknown} have no GB 3838-2002 limits; "
                             f"known: {sorted(LIMITS)}")
        unmapped = [p for p in self.assessed if p not in self.parameters]
        if unmapped:
            raise ValueError(f"assessed parameter(s) {unmapped} need a header in "
                             "[monitoring.parameters]")
        return self


class NeighboursConfig(LayerConfig):
    """Neighbouring districts (polygons), drawn greyed around the district on posters.

    ``id_field`` and ``name_field`` name each district's code and name; a
    feature with the district's own code is left out, so a file of the
    district and its neighbours serves as it is.
    """


class CatchmentsConfig(LayerConfig):
    """Catchment polygons (汇水区), each draining to one river of the rivers layer."""

    river_field: str = "river_code"


class BasemapConfig(_Model):
    """An optional tile basemap, e.g. an intranet Tianditu server; none by default."""

    url: str = Field(description="tile URL template with {z}/{x}/{y}, e.g. http://gis.local/{z}/{x}/{y}.png")
    attribution: str = ""
    coordinates: Literal["WGS84", "GCJ-02"] = Field(
        "WGS84", description="GCJ-02 for Amap-style tiles: the data are shifted to match")
    max_zoom: int = Field(18, ge=1, le=22)
    subdomains: str = ""

    @field_validator("url")
    @classmethod
    def _template(cls, url: str) -> str:
        if not all(part in url for part in ("{z}", "{x}", "{y}")):
            raise ValueError("url must contain {z}, {x} and {y}")
        return url


class CasesConfig(_Model):
    """The case export and how to read it (``[cases]``).

    The coordinate system of a case is, in order: the word in the export's
    ``coordinate_system`` column when that column is mapped and the cell is
    not blank; else ``coordinates_by_channel`` for the case's channel (上报渠道);
    else ``coordinates``.
    """

    path: Path
    sheet: str | None = None
    encoding: str | None = None
    coordinates: CoordSystem = Field("GCJ-02", description="the file-wide default system")
    coordinates_by_channel: dict[str, CoordSystem] = Field(
        default_factory=dict, description="a value of the channel column -> its system, e.g. "
        "{\"河涌众采小程序\" = \"BD-09\"} for a Baidu-based mini-program")
    coordinate_words: dict[str, CoordSystem] = Field(
        default_factory=dict, description="words of the coordinate_system column beyond the "
        "built-in ones (gcj02/高德, bd09/百度, wgs84/GPS, cgcs2000/国家2000)")
    columns: dict[str, str]
    status_map: dict[str, Outcome] = Field(description="the app's status word -> a state, or "
                                           "\"void\" (不计整改: counted in no rectification figure)")
    valid_values: tuple[str, ...] = ("是", "有效", "1", "true", "True", "Y")
    private_columns: tuple[str, ...] = ()

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, columns: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(columns) - set(CANONICAL_CASE_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown canonical field(s) {unknown}; allowed: {list(CANONICAL_CASE_FIELDS)}"
            )
        missing = [f for f in REQUIRED_CASE_FIELDS if f not in columns]
        if missing:
            raise ValueError(f"required field(s) {missing} must be mapped to a column")
        return columns

    @model_validator(mode="after")
    def _channel_mapped(self) -> CasesConfig:
        if self.coordinates_by_channel and "channel" not in self.columns:
            raise ValueError("coordinates_by_channel needs the channel column: map channel in "
                             "[cases.columns]")
        return self

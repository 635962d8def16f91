"""Typed, frozen configuration, loaded once from one TOML file (battlemap.toml).

*What data* (boundaries, rivers, cases, context, neighbours) is kept apart
from *how it looks* (style). Unknown keys, wrong types and missing files are refused with
the key's dotted name and what is allowed. Relative paths are resolved
against the config file's folder.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from battlemap import LEVELS, STATES
from battlemap.errors import ConfigError

__all__ = ["CANONICAL_CASE_FIELDS", "Config", "load_config"]

State = Literal["reported", "assigned", "rectifying", "closed"]
CoordSystem = Literal["GCJ-02", "BD-09", "WGS84", "CGCS2000"]

CANONICAL_CASE_FIELDS = (
    "case_id", "reported_at", "channel", "problem_type", "declared_town",
    "declared_village", "river_name", "lon", "lat", "status", "deadline",
    "closed_at", "description", "valid", "coordinate_system",
)
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


class ContextConfig(LayerConfig):
    kind_field: str = "kind"
    label_field: str | None = None
    kinds: dict[str, str] = Field(default_factory=dict, description="kind -> legend label")


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


class PostersConfig(_Model):
    """Paper sizes per level; each size gives one poster per unit."""

    papers: dict[Literal["district", "town", "village", "grid", "river"],
                 tuple[Literal["A0", "A1", "A2", "A3", "A4"], ...]] = Field(default_factory=lambda: {
        "district": ("A0", "A3"), "town": ("A1", "A3"), "village": ("A3",), "grid": ("A4",),
        "river": ("A3",)})
    meeting_atlas: bool = True


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
    status_map: dict[str, State]
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


class JoinConfig(_Model):
    gap_tolerance_m: float = Field(50.0, ge=0)
    river_distance_m: float = Field(2000.0, ge=0)
    authority: Literal["location", "declared"] = "location"


class ChecksConfig(_Model):
    """How strict validation is about boundary geometry (``[checks]``)."""

    area_tolerance_m2: float = Field(
        100.0, ge=0,
        description="gaps, overlaps and overhangs between boundary units smaller than this "
                    "(m²) are digitising noise and not reported; 100 m² is a 10 m square")


class LifecycleConfig(_Model):
    recurring_distance_m: float = Field(30.0, ge=0)
    recurring_window_days: int = Field(365, ge=1)
    period: Literal["week", "month"] = "week"
    age_bands_days: tuple[int, ...] = (30, 90, 180, 365)


class EscalationConfig(_Model):
    """The office's escalation rule for overdue cases (督办)."""

    reminder_days: int = Field(7, ge=0, description="overdue ≥ N days: 提醒 to the town's chief, "
                               "copied to the district chief")
    warning_days: int = Field(30, ge=0, description="overdue ≥ M days: 预警 warning")

    @model_validator(mode="after")
    def _ordered(self) -> EscalationConfig:
        if self.warning_days < self.reminder_days:
            raise ValueError("warning_days must be ≥ reminder_days")
        return self


class StyleConfig(_Model):
    status_colors: dict[str, str] = Field(default_factory=lambda: {
        "reported": "#f0a30a", "assigned": "#1f78b4", "rectifying": "#8e44ad",
        "closed": "#7fbf7b", "overdue": "#e31a1c",
    })
    status_labels: dict[str, str] = Field(default_factory=lambda: {
        "reported": "待交办", "assigned": "已交办", "rectifying": "整改中",
        "closed": "已销号", "overdue": "超期", "recurring": "反复",
    })
    level_labels: dict[str, str] = Field(default_factory=lambda: {
        "district": "区", "town": "镇街", "village": "村居", "grid": "网格",
        "tributary": "流域",
    })
    font_path: Path | None = Field(None, description="a system font, e.g. simhei.ttf")

    @model_validator(mode="after")
    def _every_state_styled(self) -> StyleConfig:
        for key in (*STATES, "overdue"):
            if key not in self.status_colors:
                raise ValueError(f"status_colors needs a colour for '{key}'")
            if key not in self.status_labels:
                raise ValueError(f"status_labels needs a label for '{key}'")
        return self


class ProjectConfig(_Model):
    name: str
    as_of: dt.date | None = Field(None, description="build date; default: today")
    sample: bool = False
    analysis_crs: str = "EPSG:4526"
    note: str = "内部资料"
    data_source: str = ""


class OutputConfig(_Model):
    dir: Path = Path("output")


class Config(_Model):
    """The whole configuration, as read from battlemap.toml."""

    project: ProjectConfig
    output: OutputConfig = OutputConfig()
    boundaries: dict[Literal["district", "town", "village", "grid"], BoundaryConfig]
    rivers: RiversConfig
    cases: CasesConfig
    context: ContextConfig | None = None
    neighbours: NeighboursConfig | None = None
    catchments: CatchmentsConfig | None = None
    basemap: BasemapConfig | None = None
    posters: PostersConfig = PostersConfig()
    join: JoinConfig = JoinConfig()
    checks: ChecksConfig = ChecksConfig()
    lifecycle: LifecycleConfig = LifecycleConfig()
    escalation: EscalationConfig = EscalationConfig()
    style: StyleConfig = StyleConfig()
    source: Annotated[Path | None, Field(exclude=True)] = None

    @field_validator("boundaries")
    @classmethod
    def _all_levels(cls, boundaries: dict[str, BoundaryConfig]) -> dict[str, BoundaryConfig]:
        missing = [level for level in LEVELS if level not in boundaries]
        if missing:
            raise ValueError(f"missing level(s) {missing}; each of {list(LEVELS)} needs a table")
        for level in LEVELS[1:]:
            if boundaries[level].parent_field is None:
                raise ValueError(f"boundaries.{level}.parent_field is required below the district")
        return boundaries

    @property
    def as_of(self) -> dt.date:
        """The build's as-of date: the configured one, or today."""
        return self.project.as_of or dt.date.today()


def load_config(path: str | Path, *, out_dir: str | Path | None = None) -> Config:
    """Read, check and freeze the configuration.

    Parameters
    ----------
    path
        The TOML file, usually ``battlemap.toml``.
    out_dir
        Overrides ``output.dir`` (the CLI's ``--out``).

    Raises
    ------
    ConfigError
        Naming each bad key and what is allowed, or the missing file.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found; pass --config with an existing file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid configuration", _describe(exc)) from None
    return _resolve_paths(config, path.resolve().parent, path, out_dir)


def _describe(exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"])
        if err["type"] == "extra_forbidden":
            problems.append(f"{key}: unknown key; check its spelling against README's config keys")
        elif err["type"] == "missing":
            problems.append(f"{key}: required key is missing")
        else:
            problems.append(f"{key}: {err['msg']} (got {err.get('input')!r})")
    return problems


def _resolve_paths(config: Config, base: Path, source: Path, out_dir: str | Path | None) -> Config:
    def fix(layer: Any) -> Any:
        resolved = layer.path if layer.path.is_absolute() else base / layer.path
        if not resolved.exists():
            missing.append(f"{resolved}: file not found")
        return layer.model_copy(update={"path": resolved})

    missing: list[str] = []
    boundaries = {level: fix(layer) for level, layer in config.boundaries.items()}
    update: dict[str, Any] = {
        "boundaries": boundaries,
        "rivers": fix(config.rivers),
        "cases": fix(config.cases),
        "context": fix(config.context) if config.context else None,
        "neighbours": fix(config.neighbours) if config.neighbours else None,
        "catchments": fix(config.catchments) if config.catchments else None,
        "source": source,
    }
    out = Path(out_dir) if out_dir is not None else config.output.dir
    update["output"] = OutputConfig(dir=out if out.is_absolute() else (
        Path.cwd() / out if out_dir is not None else base / out))
    if config.style.font_path is not None:
        font = config.style.font_path
        font = font if font.is_absolute() else base / font
        if not font.exists():
            missing.append(f"style.font_path: {font}: font file not found")
        update["style"] = config.style.model_copy(update={"font_path": font})
    if missing:
        raise ConfigError(f"{source}: the config names file(s) that do not exist", missing)
    return config.model_copy(update=update)

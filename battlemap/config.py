"""Typed, frozen configuration, loaded once from one TOML file (battlemap.toml).

*What data* (boundaries, rivers, cases, context, neighbours: their models are
in :mod:`battlemap.config_data`) is kept apart from *how it looks* (style).
Unknown keys, wrong types and missing files are refused with the key's dotted
name and what is allowed. Relative paths are resolved against the config
file's folder.
"""

from __future__ import annotations

import datetime as dt
import string
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from battlemap import LEVELS, STATES
from battlemap.config_data import (
    CANONICAL_CASE_FIELDS,
    BasemapConfig,
    BoundaryConfig,
    CasesConfig,
    CatchmentsConfig,
    ContextConfig,
    LayerConfig,
    MonitoringConfig,
    NeighboursConfig,
    RiversConfig,
    _Model,
)
from battlemap.errors import ConfigError

__all__ = ["CANONICAL_CASE_FIELDS", "LETTER_KINDS", "BasemapConfig", "BoundaryConfig", "CasesConfig",
           "CatchmentsConfig", "Config", "ContextConfig", "LayerConfig", "LettersConfig",
           "MonitoringConfig", "NeighboursConfig", "RiversConfig", "load_config"]


class PostersConfig(_Model):
    """Paper sizes per level; each size gives one poster per unit."""

    papers: dict[Literal["district", "town", "village", "grid", "river"],
                 tuple[Literal["A0", "A1", "A2", "A3", "A4"], ...]] = Field(default_factory=lambda: {
        "district": ("A0", "A3"), "town": ("A1", "A3"), "village": ("A3",), "grid": ("A4",),
        "river": ("A3",)})
    meeting_atlas: bool = True


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


LETTER_KINDS = ("assign", "reminder", "warning")
"""Letter kinds: 交办函 (new cases), 提醒函 and 预警函 (overdue and recurring cases)."""
NUMBER_PLACEHOLDERS = ("year", "n", "kind")
"""What a document-number template may name: {year}, {n} (the sequence), {kind} (交/提/预)."""


class LettersConfig(_Model):
    """The office's letters (``[letters]``): 交办函, 提醒函, 预警函, numbered and registered."""

    office: str = Field("区河长制办公室", description="the issuing office, printed red on top")
    number_template: str = Field("河长办〔{year}〕{n}号",
                                 description="document number; placeholders {year} {n} {kind}")
    sequences: Literal["per_kind", "shared"] = Field(
        "shared", description="one number sequence shared by all kinds, or one per kind (then "
        "the template needs {kind}: 交, 提 or 预)")
    cc: dict[str, str] = Field(default_factory=dict, description=(
        "town id -> the district-level chief (区级河长) copied on that town's letters; "
        "towns left out are copied to the district's chief"))
    deadline_days: dict[str, int] = Field(default_factory=dict, description=(
        "problem type -> days from report to deadline, for cases the export gives none"))
    default_deadline_days: int = Field(30, ge=1)
    reply_days: int = Field(7, ge=1, description="提醒/预警: rectify and report back within N days")
    signature: str = Field("", description="signature text; default: the office's name")
    accountability_warnings: int = Field(
        3, ge=1, description="a village chief with ≥ N open 预警 cases is listed for 责任追究")
    reward_channel: str | None = Field(
        None, description="the channel (上报渠道) of reward tips (有奖举报); with a reward column "
        "mapped in [cases.columns], the bulletin reports its valid-tip rate and rewards paid")

    @field_validator("number_template")
    @classmethod
    def _placeholders(cls, template: str) -> str:
        try:
            fields = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
        except ValueError as exc:
            raise ValueError(f"number_template {template!r} is not a template: {exc}") from None
        unknown = sorted({f for f in fields if f not in NUMBER_PLACEHOLDERS})
        if unknown:
            raise ValueError(f"number_template names unknown placeholder(s) "
                             f"{['{' + f + '}' for f in unknown]}; allowed: {{year}} {{n}} {{kind}}")
        if "n" not in fields:
            raise ValueError("number_template needs {n}, the letter's sequence number")
        try:
            template.format(year=2026, n=1, kind="交")
        except (ValueError, IndexError) as exc:
            raise ValueError(f"number_template {template!r} cannot be filled in: {exc}") from None
        return template


    @model_validator(mode="after")
    def _distinct_numbers(self) -> LettersConfig:
        if self.sequences == "per_kind" and "{kind}" not in self.number_template:
            raise ValueError("sequences = \"per_kind\" numbers each kind from 1: the "
                             "number_template needs {kind} (交, 提 or 预), or two letters would "
                             "share a number; or set sequences = \"shared\"")
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
    monitoring: MonitoringConfig | None = None
    basemap: BasemapConfig | None = None
    posters: PostersConfig = PostersConfig()
    join: JoinConfig = JoinConfig()
    checks: ChecksConfig = ChecksConfig()
    lifecycle: LifecycleConfig = LifecycleConfig()
    escalation: EscalationConfig = EscalationConfig()
    letters: LettersConfig = LettersConfig()
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
        "monitoring": fix(config.monitoring) if config.monitoring else None,
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

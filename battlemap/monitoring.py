"""Monitoring (监控): the sections' water-quality samples, classed and attained (stats stage).

The table read by :func:`battlemap.load.read_monitoring_table` becomes one
row per usable sample (:func:`read_samples`): the section matched by id or
name against the context layer's monitoring sections, the sampling date, and
each parameter's value parsed from the station's text (``0.035``, ``<0.01``,
``0.01L``, ``ND``, ``未检出``: below the detection limit; blank, ``-``, ``/``:
not measured). Rows that cannot be used are rejected with a reason, never
dropped; cells that cannot be read become warnings naming the row and column.

:func:`monitoring_statistics` then classes each sample after GB 3838-2002
(:mod:`battlemap.gb3838`, single-factor, the worst assessed parameter
decides), tells attainment (达标: class no worse than the section's target)
per sample and per month (a month is as bad as its worst sample), per year,
year to date and over the last twelve months, the exceeding parameters
(超标因子) with their exceedance multiple, the warnings (预警) and the
rivers and towns upstream ranked by their open and overdue cases
(:mod:`battlemap.upstream`). Renderers draw the resulting
:class:`Monitoring`; they never count.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from battlemap._findings import Findings
from battlemap._text import as_text, text_series
from battlemap.attainment import month_warnings, monthly, near_limit_warnings, section_figures
from battlemap.config import Config, MonitoringConfig
from battlemap.errors import InputError
from battlemap.gb3838 import LIMITS, class_label, parameter_classes, parse_class, target_limit
from battlemap.upstream import upstream_rivers, upstream_units

__all__ = ["REJECT_REASONS", "Monitoring", "monitoring_statistics", "parse_value",
           "read_samples", "sections_of"]

REJECT_REASONS = {
    "unknown_section": "断面不存在 section not in the context layer",
    "bad_date": "采样时间无法识别 sampling date not understood",
    "date_out_of_range": "采样时间超出范围 sampling date out of range",
    "no_values": "无可评价指标 no assessed parameter readable",
}
BLANK_WORDS = frozenset({"", "-", "--", "—", "——", "/", "nan", "none", "null", "未测", "未监测"})
BELOW_DETECTION_WORDS = frozenset({"nd", "n.d.", "n.d", "未检出", "未检测到", "低于检出限", "bdl",
                                   "<dl", "检出限以下"})
UNIT_SCALE = {"mg/l": 1.0, "μg/l": 0.001, "ug/l": 0.001, "µg/l": 0.001}
UNIT_WORDS = frozenset({*UNIT_SCALE, "无量纲", "dimensionless", "个/l", "mpn/l", "℃", "°c", "单位",
                        "ph单位", "无", "/"})
_BRACKET = re.compile(r"\s*\(([^()]*)\)\s*$")
_LESS = re.compile(r"^[<≤]\s*(\d+(?:\.\d+)?)\s*(?:mg/l)?$")
_L_SUFFIX = re.compile(r"^(\d+(?:\.\d+)?)\s*l$")
_NUMBER = re.compile(r"^([+-]?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*(?:mg/l|个/l)?$")


@dataclass(frozen=True)
class Monitoring:
    """Everything the renderers draw about water quality; frames described per field."""

    sections: pd.DataFrame   # index section_id: name, river_id, river, kind, target (Int64),
    # target_label, samples, first, last, latest_class, latest_label, latest_met, ytd_months,
    # ytd_met, last12_months, last12_met, met_since (month text or ""), main_exceeding
    samples: pd.DataFrame    # section_id, sampled_at, month, source_row, <code> (float),
    # <code>_nd (bool), class (Int64), class_label, met (boolean), exceeding (text)
    exceedances: pd.DataFrame  # section_id, sampled_at, parameter, name, value, limit, multiple
    months: pd.DataFrame     # section_id, month ("YYYY-MM"), class, class_label, met, samples
    years: pd.DataFrame      # section_id, year, months, met
    warnings: pd.DataFrame   # section_id, date, rule, parameter, message, recent
    rivers: pd.DataFrame     # upstream: section_id, river_id, name, kind, open, overdue, rank,
    # own (the section's river), counted (positions of the cases counted upstream)
    units: pd.DataFrame      # upstream: section_id, level, unit_id, name, open, overdue, rank
    rejected: pd.DataFrame   # source_row, section, reason_code, reason, detail
    samples_in: int
    parameters: tuple[str, ...]   # parameter codes found in the table, in the config's order
    assessed: tuple[str, ...]     # those that decide the class

    def ledger(self) -> dict[str, object]:
        """Samples in, used and rejected, for the build report."""
        return {"samples_in": self.samples_in, "samples_used": len(self.samples),
                "samples_rejected": len(self.rejected),
                "rejected_by_reason": {str(k): int(v) for k, v in
                                       self.rejected["reason_code"].value_counts().items()},
                "rejected": self.rejected.to_dict(orient="records")}


def monitoring_statistics(table: pd.DataFrame, config: Config, context: pd.DataFrame | None,
                          rivers: pd.DataFrame, cases: pd.DataFrame,
                          stretches: pd.DataFrame | None, findings: Findings,
                          units: dict[str, pd.DataFrame] | None = None) -> Monitoring:
    """The water-quality figures of every monitored section (see the module's docstring).

    Parameters
    ----------
    table
        The monitoring table as read by :func:`battlemap.load.read_monitoring_table`.
    config
        The configuration; ``config.monitoring`` must be set.
    context, rivers, cases
        The context layer (the sections are its points of ``section_kinds``),
        the rivers (``flows_into``) and the joined cases (``river_id``,
        ``state``, ``overdue``, ``town_id``, ``village_id``).
    stretches
        ``Atlas.extra["river_stretches"]``: which rivers cross which towns and villages.
    findings
        Receives the warnings (unreadable cells, unit rows, bad targets, rejected rows).
    units
        The boundary levels (``Atlas.units``), for the names of the towns and villages upstream.

    Raises
    ------
    InputError
        When no sample can be used.
    """
    monitoring = config.monitoring
    if monitoring is None:
        raise ValueError("monitoring_statistics needs [monitoring] in the config")
    sections = sections_of(config, context, rivers, findings)
    samples, rejected, samples_in = read_samples(table, sections, monitoring, config.as_of,
                                                 findings)
    parameters = tuple(c for c in monitoring.parameters if c in samples.columns)
    assessed = tuple(c for c in monitoring.assessed if c in samples.columns)
    classes = _classify(samples, sections, list(assessed))
    exceedances = _exceedances(samples, classes)
    samples["exceeding"] = _exceeding_text(samples, exceedances)
    months = monthly(samples)
    rules = [near_limit_warnings(samples, assessed, monitoring, config.as_of)]
    if monitoring.warn_month_not_met:
        rules.insert(0, month_warnings(months, config.as_of))
    warnings = pd.concat(rules, ignore_index=True).sort_values(["section_id", "date"],
                                                               ignore_index=True)
    figures, years = section_figures(sections, samples, months, exceedances, config.as_of)
    monitored = figures[figures["samples"] > 0]
    up_rivers = upstream_rivers(monitored, rivers, cases)
    names = {lv: units[lv]["name"] for lv in ("town", "village") if lv in (units or {})}
    up_units = upstream_units(up_rivers, cases, stretches, names=names)
    return Monitoring(monitored, samples, exceedances, months, years, warnings, up_rivers,
                      up_units, rejected, samples_in, parameters, assessed)


def parse_value(text: object) -> tuple[float, bool, bool]:
    """(value, below detection, unreadable) of one cell as a station writes it.

    >>> parse_value("0.35"), parse_value("<0.01"), parse_value("ND"), parse_value(""), parse_value("x")
    ((0.35, False, False), (0.01, True, False), (nan, True, False), (nan, False, False), (nan, False, True))
    """
    word = unicodedata.normalize("NFKC", as_text(text, strip=True)).lower().replace(" ", "")
    if word in BLANK_WORDS:
        return np.nan, False, False
    if word in BELOW_DETECTION_WORDS:
        return np.nan, True, False
    for pattern, below in ((_LESS, True), (_L_SUFFIX, True), (_NUMBER, False)):
        match = pattern.match(word)
        if match:
            return float(match.group(1)), below, False
    return np.nan, False, True


def sections_of(config: Config, context: pd.DataFrame | None, rivers: pd.DataFrame,
                findings: Findings) -> pd.DataFrame:
    """The monitoring sections of the context layer, with their parsed target class.

    A target that is not I–V and a river id not in the rivers layer are
    warnings naming the context file, feature and field; such a section is
    still classed, its attainment is not told (target NA).
    """
    columns = ["name", "river_id", "river", "kind", "target", "target_label", "geometry"]
    if context is None or config.context is None:
        return pd.DataFrame(columns=columns).rename_axis("section_id")
    layer = config.context
    frame = context[context["kind"].isin(layer.section_kinds)]
    targets = [parse_class(t) for t in frame["target"]]
    where = str(layer.path)
    for feature, text, value in zip(frame["feature"], frame["target"], targets, strict=True):
        if value is None:
            findings.warn("monitoring_target", f"target class {text!r} is not one of Ⅰ–Ⅴ类 "
                          "(write e.g. III类 or Ⅲ); attainment is not told for this section",
                          file=where, feature=str(feature), column=layer.target_field or "")
    names = rivers["name"].astype(str)
    for feature, river in zip(frame["feature"], frame["river_id"], strict=True):
        if river and river not in names.index:
            findings.warn("monitoring_river", f"river {river!r} is not in the rivers layer; "
                          "nothing is attributed upstream of this section", file=where,
                          feature=str(feature), column=layer.river_field or "")
    out = pd.DataFrame({
        "name": frame["name"].to_numpy(), "river_id": frame["river_id"].to_numpy(),
        "river": frame["river_id"].map(names).fillna("").to_numpy(),
        "kind": frame["section_kind"].to_numpy(),
        "target": pd.array(targets, dtype="Int64"),
        "target_label": [class_label(t) if t else "—" for t in targets],
        "geometry": frame.geometry.to_numpy()}, index=frame["context_id"].to_numpy())
    return gpd.GeoDataFrame(out.rename_axis("section_id"), geometry="geometry", crs=context.crs)


def read_samples(table: pd.DataFrame, sections: pd.DataFrame, monitoring: MonitoringConfig,
                 as_of: dt.date, findings: Findings) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """One row per usable sample, the rejected rows, and how many rows went in.

    Raises
    ------
    InputError
        When no parameter column is found, or not one sample can be used.
    """
    where = str(monitoring.path)
    findings.absorb(table)
    found = _parameter_columns(table, monitoring, findings)
    table = _without_unit_rows(table, monitoring, found, findings)
    samples_in = len(table)
    section_text = text_series(table[monitoring.columns["section"]], strip=True)
    section_id = section_text.map(_section_lookup(sections))
    dates = _dates(text_series(table[monitoring.columns["sampled_at"]], strip=True))
    early = pd.Timestamp(monitoring.earliest)
    late = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    reasons = pd.Series("", index=table.index, dtype=object)
    details = pd.Series("", index=table.index, dtype=object)
    _flag(reasons, details, section_id.isna(), "unknown_section",
          "'" + section_text + f"' in column {monitoring.columns['section']!r}: not a section "
          "id or name of the context layer")
    date_text = table[monitoring.columns["sampled_at"]].astype(str)
    _flag(reasons, details, dates.isna(), "bad_date", "'" + date_text + "' in column "
          f"{monitoring.columns['sampled_at']!r}")
    _flag(reasons, details, dates.notna() & ((dates < early) | (dates >= late)),
          "date_out_of_range", "'" + date_text + f"' is before {monitoring.earliest} or after "
          f"the as-of date {as_of}")
    values = pd.DataFrame(index=table.index)
    for code, (column, scale) in found.items():
        parsed = [parse_value(v) for v in table[column]]
        values[code] = [v * scale for v, _, _ in parsed]
        values[f"{code}_nd"] = [nd for _, nd, _ in parsed]
        for row, text, (_, _, bad) in zip(table["source_row"], table[column], parsed, strict=True):
            if bad:
                findings.warn("monitoring_value", f"value {text!r} is not a number, blank or a "
                              "below-detection mark (<0.01, 0.01L, ND, 未检出); read as not "
                              "measured", file=where, feature=f"row {row}", column=column)
    assessed = [c for c in monitoring.assessed if c in found]
    readable = np.zeros(len(table), dtype=bool)
    for code in assessed:
        readable |= (values[code].notna() | values[f"{code}_nd"]).to_numpy()
    _flag(reasons, details, pd.Series(~readable, index=table.index), "no_values",
          f"none of {assessed} has a value")
    bad = reasons != ""
    rejected = pd.DataFrame({"source_row": table["source_row"][bad].astype(int),
                             "section": section_text[bad], "reason_code": reasons[bad],
                             "reason": reasons[bad].map(REJECT_REASONS),
                             "detail": details[bad]}).reset_index(drop=True)
    for row in rejected.itertuples():
        findings.warn("monitoring_rejected", f"sample rejected: {row.reason}: {row.detail}",
                      file=where, feature=f"row {row.source_row}")
    samples = pd.concat([pd.DataFrame({"section_id": section_id, "sampled_at": dates,
                                       "source_row": table["source_row"].astype(int)}),
                         values], axis=1)[~bad]
    if samples.empty:
        raise InputError(f"{where}: not one sample of the monitoring table can be used "
                         f"({samples_in} row(s) in)", [f"row {r.source_row}: {r.reason}: {r.detail}"
                                                       for r in rejected.head(20).itertuples()])
    samples = samples.sort_values(["section_id", "sampled_at", "source_row"])
    samples["month"] = samples["sampled_at"].dt.strftime("%Y-%m")
    return samples.reset_index(drop=True), rejected, samples_in


def _flag(reasons: pd.Series, details: pd.Series, mask: pd.Series, code: str,
          detail: pd.Series | str) -> None:
    """Give rows of ``mask`` without a reason yet this one (the first reason wins)."""
    take = mask.fillna(False).astype(bool) & (reasons == "")
    reasons[take] = code
    details[take] = detail[take] if isinstance(detail, pd.Series) else detail


def _header_key(header: object) -> tuple[str, str]:
    """(name, unit) of a header such as ``氨氮(mg/L)`` or ``氨氮（mg/L）``, NFKC, no spaces."""
    text = unicodedata.normalize("NFKC", as_text(header, strip=True)).replace(" ", "")
    match = _BRACKET.search(text)
    if not match:
        return text.lower(), ""
    return text[:match.start()].lower(), match.group(1).lower()


def _parameter_columns(table: pd.DataFrame, monitoring: MonitoringConfig,
                       findings: Findings) -> dict[str, tuple[str, float]]:
    """Parameter code -> (the table's column, unit scale to mg/L), matched without units."""
    keys = {column: _header_key(column) for column in table.columns if column != "source_row"}
    found: dict[str, tuple[str, float]] = {}
    for code, header in monitoring.parameters.items():
        wanted = _header_key(header)[0]
        column = next((c for c, (name, _) in keys.items() if name == wanted), None)
        if column is None:
            if code in monitoring.assessed:
                findings.warn("monitoring_parameter", f"assessed parameter {code} (header "
                              f"{header!r}) is not in the table; it is not assessed",
                              file=str(monitoring.path), column=header)
            continue
        found[code] = (column, UNIT_SCALE.get(keys[column][1], 1.0))
    if not any(code in found for code in monitoring.assessed):
        raise InputError(f"{monitoring.path}: none of the assessed parameters' headers "
                         f"{[monitoring.parameters[c] for c in monitoring.assessed]} is in the "
                         f"table. It has: {[c for c in table.columns if c != 'source_row']}. "
                         "Fix [monitoring.parameters] in the config.")
    return found


def _without_unit_rows(table: pd.DataFrame, monitoring: MonitoringConfig,
                       found: dict[str, tuple[str, float]], findings: Findings) -> pd.DataFrame:
    """Leave out unit rows (mg/L, 无量纲 under the header), taking their μg/L scales, with a note."""
    columns = [column for column, _ in found.values()]
    words = table[columns].map(lambda v: as_text(v, strip=True).lower().replace(" ", ""))
    units = (words.isin(UNIT_WORDS) | (words == "")).all(axis=1) & words.isin(UNIT_WORDS).any(axis=1)
    for position in np.flatnonzero(units.to_numpy()):
        row = words.iloc[position]
        for code, (column, scale) in list(found.items()):
            found[code] = (column, UNIT_SCALE.get(row[column], scale))
        findings.warn("monitoring_unit_row", f"row {table['source_row'].iloc[position]}: a unit "
                      "row (mg/L, 无量纲, …) left out; it is not a sample",
                      file=str(monitoring.path), feature=f"row {table['source_row'].iloc[position]}")
    return table[~units.to_numpy()]


def _section_lookup(sections: pd.DataFrame) -> dict[str, str]:
    """Id, name, and name without brackets or 断面 -> section id (ids win over names)."""
    lookup: dict[str, str] = {}
    for section_id, name in zip(sections.index, sections["name"], strict=True):
        plain = re.sub(r"[（(][^）)]*[）)]", "", unicodedata.normalize("NFKC", str(name))).strip()
        for key in (plain.removesuffix("断面"), plain, str(name)):
            lookup.setdefault(key, str(section_id))
    for section_id in sections.index:
        lookup[str(section_id)] = str(section_id)
    return lookup


def _dates(text: pd.Series) -> pd.Series:
    """Sampling dates: ISO, 2019/1/5, 2019年1月5日, 2019.01.05, with or without a time."""
    plain = (text.str.replace(r"[年月.]", "-", regex=True).str.replace("日", "", regex=False)
             .str.replace("/", "-", regex=False).str.strip("-"))
    return pd.to_datetime(plain, errors="coerce", format="mixed")


def _classify(samples: pd.DataFrame, sections: pd.DataFrame, assessed: list[str]) -> pd.DataFrame:
    """Each sample's class (the worst assessed parameter), target, attainment and exceedances."""
    classes = pd.DataFrame(index=samples.index)
    for code in assessed:
        found = parameter_classes(code, samples[code].to_numpy(float))
        classes[code] = np.where(samples[f"{code}_nd"].to_numpy(bool), 1.0, found)
    worst = classes.max(axis=1, skipna=True)
    samples["class"] = pd.array(worst.round(), dtype="Int64")
    samples["class_label"] = samples["class"].map(class_label)
    samples["target"] = samples["section_id"].map(sections["target"]).astype("Int64")
    samples["met"] = (samples["class"] <= samples["target"]).astype("boolean")
    return classes


def _exceedances(samples: pd.DataFrame, classes: pd.DataFrame) -> pd.DataFrame:
    """One row per (sample, parameter) worse than the section's target, with its multiple."""
    rows = []
    for code in classes.columns:
        worse = (classes[code] > samples["target"].astype(float)).fillna(False).to_numpy(bool)
        for i in np.flatnonzero(worse):
            value, target = float(samples[code].iat[i]), int(samples["target"].iat[i])
            limit = target_limit(code, target)
            multiple = ((limit - value) if LIMITS[code].bound == "min" else (value - limit)) / limit
            rows.append((samples["section_id"].iat[i], samples["sampled_at"].iat[i], code,
                         LIMITS[code].name, value, limit, round(multiple, 2)))
    frame = pd.DataFrame(rows, columns=["section_id", "sampled_at", "parameter", "name", "value",
                                        "limit", "multiple"])
    return frame.sort_values(["section_id", "sampled_at", "multiple"],
                             ascending=[True, True, False], ignore_index=True)


def _exceeding_text(samples: pd.DataFrame, exceedances: pd.DataFrame) -> pd.Series:
    """``氨氮 0.35倍、总磷 0.12倍`` per sample (pH, without a multiple, by name only)."""
    def words(group: pd.DataFrame) -> str:
        return "、".join(name if pd.isna(m) else f"{name} {m:.2f}倍"
                         for name, m in zip(group["name"], group["multiple"], strict=True))

    if exceedances.empty:
        return pd.Series("", index=samples.index, dtype=object)
    text = exceedances.groupby(["section_id", "sampled_at"], sort=False).apply(
        words, include_groups=False)
    keys = pd.MultiIndex.from_frame(samples[["section_id", "sampled_at"]])
    return pd.Series(text.reindex(keys).fillna("").to_numpy(), index=samples.index, dtype=object)


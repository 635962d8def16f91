"""Attainment (达标) of the monitoring sections and the water-quality warnings (预警); stats stage.

Pure functions on the classed samples of :mod:`battlemap.monitoring`:

- :func:`monthly`: a month's class is that of its worst sample (with the
  national network's monthly sampling that is the sample itself; with more
  samples it is the conservative reading), and the month meets the target
  when that class is no worse than the target;
- :func:`section_figures`: per section the latest class, the months met
  per year, year to date and in the last twelve months (the as-of month and
  the eleven before it, months without a sample left out of both counts),
  since when the section has met its target (the month after the last month
  that did not), and its main exceeding parameters (主要超标因子: the
  parameters worse than the target, by how often, over the whole record);
- :func:`month_warnings` and :func:`near_limit_warnings`: the two warning
  rules of ``[monitoring]``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from battlemap.config import MonitoringConfig
from battlemap.gb3838 import LIMITS, class_label, target_limit

__all__ = ["month_warnings", "monthly", "near_limit_warnings", "section_figures",
           "twelve_months"]

WARNING_COLUMNS = ["section_id", "date", "rule", "parameter", "message", "recent"]


def twelve_months(as_of: dt.date) -> list[str]:
    """The as-of month and the eleven before it, ``YYYY-MM``, oldest first.

    >>> twelve_months(dt.date(2026, 11, 27))[0], twelve_months(dt.date(2026, 11, 27))[-1]
    ('2025-12', '2026-11')
    """
    end = pd.Period(as_of, freq="M")
    return [str(end - k) for k in range(11, -1, -1)]


def monthly(samples: pd.DataFrame) -> pd.DataFrame:
    """One row per (section, month): the worst sample's class, attainment, how many samples."""
    classed = samples.dropna(subset=["class"])
    grouped = classed.groupby(["section_id", "month"], sort=True)
    months = grouped.agg(cls=("class", "max"), target=("target", "first"),
                         samples=("class", "size")).reset_index()
    months = months.rename(columns={"cls": "class"})
    months["class"] = months["class"].astype("Int64")
    months["class_label"] = months["class"].map(class_label)
    months["met"] = (months["class"] <= months["target"].astype("Int64")).astype("boolean")
    return months


def section_figures(sections: pd.DataFrame, samples: pd.DataFrame, months: pd.DataFrame,
                    exceedances: pd.DataFrame, as_of: dt.date
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The sections with their figures, and the months met per section and year."""
    out = sections.copy()
    by_section = samples.groupby("section_id")
    out["samples"] = by_section.size().reindex(out.index).fillna(0).astype(int)
    out["first"] = by_section["sampled_at"].min().reindex(out.index)
    out["last"] = by_section["sampled_at"].max().reindex(out.index)
    latest = samples.dropna(subset=["class"]).groupby("section_id").tail(1).set_index("section_id")
    out["latest_class"] = latest["class"].reindex(out.index).astype("Int64")
    out["latest_label"] = out["latest_class"].map(class_label)
    out["latest_met"] = latest["met"].reindex(out.index).astype("boolean")
    out["latest_exceeding"] = latest["exceeding"].reindex(out.index).fillna("")
    recent = months[months["month"].isin(twelve_months(as_of))]
    this_year = months[months["month"].str.startswith(f"{as_of.year}-")]
    for name, frame in (("ytd", this_year), ("last12", recent)):
        judged = frame.dropna(subset=["met"]).groupby("section_id")["met"]
        out[f"{name}_months"] = judged.size().reindex(out.index).fillna(0).astype(int)
        out[f"{name}_met"] = judged.sum().reindex(out.index).fillna(0).astype(int)
    out["met_since"] = [_met_since(months[months["section_id"] == s]) for s in out.index]
    out["main_exceeding"] = [_main_exceeding(exceedances[exceedances["section_id"] == s])
                             for s in out.index]
    years = months.dropna(subset=["met"]).assign(year=months["month"].str[:4].astype(int))
    years = (years.groupby(["section_id", "year"])["met"].agg(months="size", met="sum")
             .reset_index())
    years["met"] = years["met"].astype(int)
    return out, years


def _met_since(months: pd.DataFrame) -> str:
    """The first month of the current run of months meeting the target; "" if the last did not."""
    judged = months.dropna(subset=["met"]).sort_values("month")
    if judged.empty or not bool(judged["met"].iloc[-1]):
        return ""
    missed = judged.index[~judged["met"].astype(bool)]
    after = judged.loc[missed[-1]:].iloc[1:] if len(missed) else judged
    return str(after["month"].iloc[0])


def _main_exceeding(exceedances: pd.DataFrame, top: int = 3) -> str:
    """``氨氮 (12次, 最高0.60倍)、总磷 (9次, …)``: the most frequent exceeding parameters."""
    if exceedances.empty:
        return ""
    counts = exceedances.groupby("name").agg(n=("multiple", "size"), worst=("multiple", "max"))
    counts = counts.sort_values(["n", "worst"], ascending=False).head(top)
    return "、".join(f"{row.Index}（{int(row.n)}次" + ("" if pd.isna(row.worst) else
                                                    f"，最高{row.worst:.2f}倍") + "）"
                     for row in counts.itertuples())


def month_warnings(months: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """预警: each month whose class is worse than the section's target."""
    missed = months[(months["met"] == False).fillna(False)]  # noqa: E712 (boolean with NA)
    recent = set(twelve_months(as_of))
    rows = [(s, f"{m}", "month_not_met", "",
             f"{m} 月度水质{label}，未达目标{class_label(t)}", m in recent)
            for s, m, label, t in zip(missed["section_id"], missed["month"],
                                      missed["class_label"], missed["target"], strict=True)]
    return pd.DataFrame(rows, columns=WARNING_COLUMNS)


def near_limit_warnings(samples: pd.DataFrame, assessed: tuple[str, ...],
                        monitoring: MonitoringConfig, as_of: dt.date) -> pd.DataFrame:
    """预警: a parameter past ``near_limit_share`` of its target limit ``near_limit_runs`` samples running.

    For an upper bound that is value > share × limit; for dissolved oxygen
    (a lower bound) value < limit / share. A run is counted over the samples
    in which the parameter was measured; it warns once, at the sample that
    makes it long enough, dated by that sample.
    """
    share, runs = monitoring.near_limit_share, monitoring.near_limit_runs
    recent = set(twelve_months(as_of))
    rows = []
    for code in assessed:
        limit = LIMITS[code]
        if limit.bound == "range":
            continue
        for section_id, group in samples.dropna(subset=["target"]).groupby("section_id"):
            measured = group[group[code].notna() | group[f"{code}_nd"]]
            if measured.empty:
                continue
            bound = target_limit(code, int(measured["target"].iloc[0]))
            values = measured[code].to_numpy(float)
            near = (values < bound / share) if limit.bound == "min" else (values > share * bound)
            near &= ~measured[f"{code}_nd"].to_numpy(bool)
            run = 0
            for i, flag in enumerate(near):
                run = run + 1 if flag else 0
                if run == runs:
                    when = measured["sampled_at"].iat[i]
                    start = measured["sampled_at"].iat[i - runs + 1]
                    rows.append((section_id, when.strftime("%Y-%m-%d"), "near_limit", code,
                                 f"{limit.name}连续{runs}次{'低于' if limit.bound == 'min' else '超过'}"
                                 f"目标限值的{share:.0%}（{start:%Y-%m-%d}起，最近 "
                                 f"{values[i]:g} {limit.unit}，限值 {bound:g}）",
                                 when.strftime("%Y-%m") in recent))
    frame = pd.DataFrame(rows, columns=WARNING_COLUMNS)
    frame["recent"] = frame["recent"].astype(bool) if len(frame) else np.array([], dtype=bool)
    return frame

"""The sample's monitoring series: deterministic, committed as generated, and telling the seed's story."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from battlemap._findings import Findings
from battlemap.config import load_config
from battlemap.load import load_context, load_rivers, read_monitoring_table
from battlemap.monitoring import monitoring_statistics
from battlemap.sample.geometry import random_stream
from battlemap.sample.monitoring import monitoring_rows, write_monitoring

ROOT = Path(__file__).resolve().parents[1]
END = dt.date(2026, 11, 27)


def test_committed_file_is_the_generated_one(tmp_path: Path) -> None:
    path = tmp_path / "monitoring.csv"
    write_monitoring(path, monitoring_rows(END, random_stream(20261127, 15)))
    assert path.read_bytes() == (ROOT / "data" / "monitoring" / "monitoring.csv").read_bytes()
    assert "示例数据" in path.read_text(encoding="utf-8-sig").splitlines()[0]


@pytest.fixture(scope="module")
def sample():
    config = load_config(ROOT / "battlemap.toml")
    rivers = load_rivers(config).set_index("river_id", drop=False)
    cases = pd.DataFrame(columns=["river_id", "state", "overdue", "town_id", "village_id"])
    findings = Findings()
    return monitoring_statistics(read_monitoring_table(config.monitoring), config,
                                 load_context(config), rivers, cases, None, findings), findings


def test_dadun_story(sample) -> None:
    m, _ = sample
    months = m.months[m.months["section_id"] == "GK001"].set_index("month")
    before = months.loc[:"2019-10"]
    after = months.loc["2019-11":]
    assert not before["met"].any() and len(before) == 10
    assert after["met"].mean() > 0.95 and not after["met"].all()
    row = m.sections.loc["GK001"]
    assert row["target_label"] == "III类" and row["latest_met"]
    assert row["main_exceeding"].split("、")[0][:2] in {"氨氮", "总磷"}
    recent = m.warnings[(m.warnings["section_id"] == "GK001") & m.warnings["recent"]]
    assert set(recent["parameter"]) == {"NH3-N", "TP"}


def test_sample_dirt_is_accounted_for(sample) -> None:
    m, findings = sample
    ledger = m.ledger()
    assert ledger["samples_used"] + ledger["samples_rejected"] == ledger["samples_in"]
    assert ledger["rejected_by_reason"] == {"unknown_section": 1}
    kinds = {w.kind for w in findings.warnings}
    assert {"monitoring_unit_row", "monitoring_value"} <= kinds
    assert m.samples["TP_nd"].sum() > 0 and m.samples["NH3-N_nd"].sum() > 0
    assert len(m.sections) == 5 and (m.sections["samples"] == 95).all()

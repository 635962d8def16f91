"""What a real weekly round changes: units whose outputs change beyond the as-of date.

    python bench/weekly_stale.py [--workdir /tmp/weekly-stale] [--days 7]

Writes the sample, prepares it (load → stats), applies the bench's weekly round
(1 % of the cases closed, 1 % new, in the week ending the new as-of date; see
``run.py``), moves the as-of date ``--days`` on and prepares again. Every poster and
page shows the as-of date, and overdue is counted to it, so every unit's fingerprint
changes when the date moves; this counts, per level, the units whose fingerprint
changes even with the date left out of it (their content changes), and the columns
of the case and grid tables that changed. Those left over would need only their date
written again: the floor of a weekly round that re-renders only changed content.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import run as bench  # noqa: E402  (the weekly round of the bench itself)

import battlemap._manifest as manifest  # noqa: E402
from battlemap.build import prepare  # noqa: E402
from battlemap.config import load_config  # noqa: E402
from battlemap.sample import write_sample  # noqa: E402


def _without_date(shared):
    """``_shared_hash`` with the as-of date (the atlas's and the config's) left out."""
    def hashed(atlas, wkb):
        class Dateless:
            pass
        copy = Dateless()
        copy.__dict__.update(atlas.__dict__)
        copy.as_of = "-"
        copy.config = atlas.config.model_copy(update={"project": atlas.config.project.model_copy(
            update={"as_of": None})})
        return shared(copy, wkb)
    return hashed


def _changed(before, after, columns) -> dict[str, int]:
    common = before.index.intersection(after.index)
    counts = {}
    for column in columns:
        if column in before.columns and column != "geometry":
            x, y = before.loc[common, column], after.loc[common, column]
            n = int((~((x == y) | (x.isna() & y.isna()))).sum())
            if n:
                counts[column] = n
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/weekly-stale"))
    parser.add_argument("--days", type=int, default=7)
    args = parser.parse_args()
    shutil.rmtree(args.workdir, ignore_errors=True)
    write_sample(args.workdir / "data")
    config = args.workdir / "battlemap.toml"
    shutil.copy(REPO / "battlemap.toml", config)
    manifest._shared_hash = _without_date(manifest._shared_hash)

    before = prepare(load_config(config)).atlas
    as_of = before.as_of + dt.timedelta(days=args.days)
    bench._weekly_round(args.workdir / "data" / "cases" / "cases.csv", share=0.01, seed=0,
                        as_of=as_of)
    bench._set_as_of(config, as_of)
    after = prepare(load_config(config)).atlas
    old, new = manifest.fingerprints(before), manifest.fingerprints(after)

    changed, total = collections.Counter(), collections.Counter()
    for key, value in new.items():
        total[key[0]] += 1
        changed[key[0]] += old.get(key) != value
    print(f"as-of {before.as_of} → {as_of}; cases {len(before.cases)} → {len(after.cases)}")
    for level in total:
        print(f"  {level:8} content changed {changed[level]:5} of {total[level]:5}")
    print(f"  {'all':8} content changed {sum(changed.values()):5} of {sum(total.values()):5}")
    print("case columns changed:", _changed(before.cases, after.cases, after.cases.columns))
    grids = before.units["grid"], after.units["grid"]
    print("grid columns changed:", _changed(*grids, grids[1].columns))


if __name__ == "__main__":
    main()

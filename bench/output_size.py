"""Output sizes: the meeting atlases with shared objects against copied pages, and the folder.

    python bench/output_size.py --out /tmp/x-out              # every town
    python bench/output_size.py --out /tmp/x-out --towns 440118102 440118105

``--out`` is an output folder whose town, village and grid posters are
written (``battlemap build --only posters``). For each town the atlas is
joined twice from those posters: as the naive baseline with every page's
objects copied (the joiner before issue 16), then as battlemap writes it,
each object the pages share written once; the second one is left in place.
Then the whole folder is measured per kind of file
(:func:`battlemap.report.output_sizes`, the figures report.json gives).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from unittest import mock

from battlemap.build import prepare
from battlemap.config import load_config
from battlemap.render.pdf import join
from battlemap.render.pdf.objects import _REF, split_stream
from battlemap.render.poster import render_meeting_atlases
from battlemap.report import output_sizes


def copied(objects, keep=()):
    """``objects.share`` without the sharing: every object kept, numbers made consecutive."""
    renum = {num: k for k, num in enumerate(objects, start=1)}
    out = {}
    for num, body in objects.items():
        head, tail = split_stream(body)
        out[renum[num]] = _REF.sub(lambda m: b"%d 0 R" % renum.get(int(m[1]), 0), head) + tail
    return out, renum


def atlas_sizes(config: Path, out: Path, towns: list[str] | None) -> dict[str, dict[str, float]]:
    """Town → MB and seconds of its atlas, copied and shared."""
    atlas = prepare(load_config(config, out_dir=out)).atlas
    towns = towns or list(atlas.units["town"].index)
    rows: dict[str, dict[str, float]] = {}
    for town in towns:
        row = rows[town] = {}
        for mode in ("copied", "shared"):
            start = time.perf_counter()
            if mode == "copied":
                with mock.patch.object(join, "share", copied):
                    [path] = render_meeting_atlases(atlas, out, [town])
            else:
                [path] = render_meeting_atlases(atlas, out, [town])
            row[f"{mode} (s)"] = round(time.perf_counter() - start, 2)
            row[f"{mode} (MB)"] = round(path.stat().st_size / 1e6, 2)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("battlemap.toml"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--towns", nargs="*")
    args = parser.parse_args()
    rows = atlas_sizes(args.config, args.out, args.towns)
    print("| town | copied (MB) | shared (MB) | ratio | copied (s) | shared (s) |")
    print("|---|---|---|---|---|---|")
    for town, row in rows.items():
        print(f"| {town} | {row['copied (MB)']} | {row['shared (MB)']} | "
              f"{row['copied (MB)'] / row['shared (MB)']:.1f} | {row['copied (s)']} | "
              f"{row['shared (s)']} |")
    copied_mb = sum(r["copied (MB)"] for r in rows.values())
    shared_mb = sum(r["shared (MB)"] for r in rows.values())
    print(f"| all {len(rows)} | {copied_mb:.1f} | {shared_mb:.1f} | {copied_mb / shared_mb:.1f} "
          f"| | |")
    print(f"largest atlas: {max(r['shared (MB)'] for r in rows.values())} MB")
    sizes = {kind: round(size / 1e6, 1) for kind, size in output_sizes(args.out).items()}
    print("output folder (MB):", json.dumps(sizes))


if __name__ == "__main__":
    main()

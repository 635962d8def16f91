"""The command line: a thin shell over build, validate and sample.

Every user error ends with a message and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from pathlib import Path

from battlemap import __version__
from battlemap.errors import BattlemapError, ConfigError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``battlemap``; return the exit code (0 ok, 2 user error)."""
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except BattlemapError as exc:
        print(f"battlemap: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("battlemap: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="battlemap", description=(
        "挂图作战 battle maps for river-chief offices: offline HTML atlas, PDF posters, report."))
    parser.add_argument("--version", action="version", version=f"battlemap {__version__}")
    commands = parser.add_subparsers(title="commands", required=True)

    build = commands.add_parser("build", help="rebuild every map, poster and the report")
    _common(build)
    build.add_argument("--only", action="append", choices=["web", "posters", "bulletin", "letters"],
                       help="render only this output kind (repeatable)")
    build.add_argument("--level", action="append",
                       choices=["district", "town", "village", "grid", "river"],
                       help="render only this level's maps and posters (repeatable)")
    build.add_argument("--unit", action="append", metavar="ID",
                       help="render only this unit or river id (repeatable)")
    build.add_argument("--workers", type=int, default=None,
                       help="processes rendering in parallel (default: the number of cores)")
    build.add_argument("--executor", default="process",
                       help="process (default), dask-local, or dask://HOST:PORT")
    build.add_argument("--force", action="store_true",
                       help="render everything, even outputs whose inputs did not change")
    build.add_argument("--since", type=_date, default=None, metavar="YYYY-MM-DD",
                       help="report changes since the snapshot on or before this date")
    build.set_defaults(run=_build)

    validate = commands.add_parser(
        "validate", help="load, validate and join without rendering; write the report")
    _common(validate)
    validate.set_defaults(run=_validate)

    sample = commands.add_parser("sample", help="write the deterministic 增城区 sample dataset")
    sample.add_argument("--out", type=Path, default=Path("data"), help="folder (default: data)")
    sample.add_argument("--seed", type=int, default=None, help="random seed (default: 20261127)")
    sample.add_argument("--scale", type=float, default=1.0,
                        help="multiply grids and cases (3 ≈ Guangzhou, 10 = stress)")
    sample.set_defaults(run=_sample)
    return parser


def _common(command: argparse.ArgumentParser) -> None:
    command.add_argument("--config", type=Path, default=Path("battlemap.toml"),
                         help="config file (default: battlemap.toml)")
    command.add_argument("--out", type=Path, default=None,
                         help="output folder (default: output.dir of the config)")
    command.add_argument("--quiet", action="store_true", help="print nothing but errors")


def _say(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(message, flush=True)


def _build(args: argparse.Namespace) -> int:
    from battlemap._options import RENDERERS, BuildOptions
    from battlemap._uptodate import skip_unchanged
    from battlemap.config import load_config

    config = load_config(args.config, out_dir=args.out)
    options = BuildOptions(
        only=tuple(args.only) if args.only else RENDERERS,
        levels=tuple(args.level) if args.level else None,
        units=tuple(args.unit) if args.unit else None,
        workers=BuildOptions().workers if args.workers is None else args.workers,
        executor=args.executor, force=args.force, since=args.since, quiet=args.quiet)
    if options.workers < 1:
        raise ConfigError(f"--workers {options.workers}: give 1 or more")
    unchanged = skip_unchanged(config, options)  # before pandas and the pipeline load (issue 16)
    if unchanged is not None:
        _say(args, f"{config.output.dir}: {unchanged.message()}")
        return 0
    from battlemap.build import build

    report = build(config, options)
    if "up_to_date" in report:  # another build finished meanwhile
        _say(args, f"{config.output.dir}: {report['up_to_date']['message']}")
        return 0
    _summary(args, report, config.output.dir)
    return 0


def _validate(args: argparse.Namespace) -> int:
    from battlemap.build import validate_only
    from battlemap.config import load_config

    config = load_config(args.config, out_dir=args.out)
    report = validate_only(config)
    _summary(args, report, config.output.dir)
    return 0


def _sample(args: argparse.Namespace) -> int:
    from battlemap.sample import write_sample

    kwargs = {"scale": args.scale} | ({"seed": args.seed} if args.seed is not None else {})
    summary = write_sample(args.out, **kwargs)
    print(f"sample data written to {args.out}: {summary}")
    return 0


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-20") from None


def _summary(args: argparse.Namespace, report: dict, out: Path) -> None:
    if report["nothing_mapped"]:
        print(f"battlemap: warning: {report['nothing_mapped']}", file=sys.stderr)
    rejected = ", ".join(f"{k} {v}" for k, v in report["rejected_by_reason"].items()) or "none"
    outputs = "; ".join(f"{kind}: {n['rendered']} rendered, {n['skipped']} unchanged, "
                        f"{n['removed']} removed" for kind, n in report["outputs"].items())
    stages = ", ".join(f"{stage} {sec:.1f} s" for stage, sec in report["timings_s"].items())
    letters = report.get("letters") or []
    kinds = {k: sum(x["kind"] == k for x in letters) for k in ("assign", "reminder", "warning")}
    _say(args, (
        f"{report['district']} as of {report['as_of']}: {report['cases_in']} cases in, "
        f"{report['cases_mapped']} mapped, {report['cases_rejected']} rejected ({rejected}); "
        f"{sum(report['warnings_by_kind'].values())} warnings.\n"
        + (f"{outputs}\n" if outputs else "")
        + (f"Letters of {report['as_of']}: {len(letters)} (交办函 {kinds['assign']}, 提醒函 "
           f"{kinds['reminder']}, 预警函 {kinds['warning']}) in {out / 'letters'}\n"
           if letters else "")
        + f"Time: {stages}\n"
        f"Open {out / 'index.html'} — report: {out / 'report.html'}"))


if __name__ == "__main__":
    raise SystemExit(main())

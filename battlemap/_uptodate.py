"""The no-change rebuild (issue 16): skip a build whose inputs are the last complete build's.

Before anything is loaded, a build hashes everything it reads: battlemap's
version and code, the resolved config (with its as-of date: without
``project.as_of`` that is today, so a new day builds again), the bytes of
every input file the config names (a Shapefile's sidecar files too), the
options that select what is rendered, and what the build reads back from its
own output folder (the history snapshots, the letter register, the
manifest). A build that finishes complete stores that fingerprint in
:data:`STAMP` with digests of the report files it wrote; every other build
and validate removes the stamp before it changes anything.

The next build is skipped when the fingerprint is equal, ``--force`` is not
given, the report files are the ones that build wrote and every file the
manifest lists is on disk. The letter register and the snapshots are then
exactly what the same build would write again (a rebuild with the same
inputs and as-of date renumbers the same letters), so the folder is up to
date. Whenever anything is unsure (a file unreadable, the stamp damaged) the
build runs as usual.

This module imports neither pandas nor geopandas: the CLI answers a
no-change build before they load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from battlemap import __version__
from battlemap._io import write_text
from battlemap._manifest import MANIFEST, code_digest, load_manifest
from battlemap._options import BuildOptions
from battlemap._output import claim_output
from battlemap.config import Config

__all__ = ["STAMP", "UpToDate", "check", "forget", "input_fingerprint", "last_report",
           "remember", "skip_unchanged"]

STAMP = ".battlemap-uptodate.json"
FORMAT = 1
REPORT_FILES = ("report.json", "report.html", "rejected_cases.csv")
"""Written by the build at its end: the stamp holds their digests."""
_REGISTER = "letters/register.sqlite"
"""battlemap.register's file (named here: that module loads pandas)."""
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf")


@dataclass(frozen=True)
class UpToDate:
    """A skipped build: when the build it repeats finished and how many files it lists."""

    finished: str
    outputs: int

    def message(self) -> str:
        """The one line the CLI prints."""
        return (f"nothing changed since the build of {self.finished} "
                f"({self.outputs:,} outputs up to date)")


def skip_unchanged(config: Config, options: BuildOptions) -> UpToDate | None:
    """Hold the output folder and :func:`check` it (the CLI's fast path, no pandas loaded)."""
    if options.force:
        return None
    with claim_output(config) as out:
        return check(out, input_fingerprint(config, options), options)


def input_fingerprint(config: Config, options: BuildOptions) -> str | None:
    """The digest of battlemap, the config, the input files and the options; None if unsure."""
    digest = hashlib.blake2b(digest_size=20)
    _feed(digest, "config", config.model_dump_json(), config.as_of.isoformat())
    _feed(digest, "options", repr(options.selection()))
    try:
        _feed(digest, "battlemap", __version__, code_digest())
        for path in _input_files(config):
            _feed(digest, str(path), _file_digest(path))
    except OSError:
        return None
    return digest.hexdigest()


def check(out: Path, inputs: str | None, options: BuildOptions) -> UpToDate | None:
    """The last build when it is still up to date for these inputs; None to build."""
    if inputs is None or options.force:
        return None
    try:
        stamp = json.loads((out / STAMP).read_text(encoding="utf-8"))
        if (not isinstance(stamp, dict) or stamp.get("format") != FORMAT
                or stamp.get("inputs") != inputs or stamp.get("state") != _state_digest(out)
                or stamp.get("reports") != _report_digests(out)):
            return None
        files = _listed_files(out)
        if files is None or not all((out / name).is_file() for name in files):
            return None
        return UpToDate(str(stamp["finished"]), len(files))
    except (OSError, ValueError, KeyError):
        return None


def remember(out: Path, inputs: str | None) -> None:
    """After a build that finished complete: store its fingerprint (nothing when unsure)."""
    if inputs is None:
        return
    try:
        stamp = {"format": FORMAT, "inputs": inputs, "state": _state_digest(out),
                 "reports": _report_digests(out),
                 "finished": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M:%S %z")}
    except OSError:
        return
    write_text(out / STAMP, json.dumps(stamp, indent=1))


def last_report(out: Path, unchanged: UpToDate) -> dict[str, object]:
    """The report of the build that is still up to date, as the answer of this one.

    Its figures are this build's; what this build did is nothing: no output
    rendered, replaced or removed, and ``up_to_date`` says since when. The
    files report.json and report.html are left as they are.
    """
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    outputs = {kind: {"rendered": 0, "skipped": counts["rendered"] + counts["skipped"],
                      "removed": 0} for kind, counts in (report.get("outputs") or {}).items()}
    return {**report, "outputs": outputs,
            "build": {"status": "complete", "stage": "up to date", "files_replaced": 0,
                      "files_removed": 0, "replaced": [], "removed": []},
            "up_to_date": {"since": unchanged.finished, "outputs": unchanged.outputs,
                           "message": unchanged.message()}}


def forget(out: Path) -> None:
    """Before a build or validate changes the folder: the last build's stamp no longer holds."""
    (out / STAMP).unlink(missing_ok=True)


def _feed(digest: hashlib.blake2b, *parts: str) -> None:
    """Add length-prefixed parts, so that no two sequences of parts hash alike."""
    for part in parts:
        data = part.encode("utf-8", "surrogateescape")
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)


def _file_digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=20)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _input_files(config: Config) -> list[Path]:
    """Every file the config names, with a Shapefile's sidecars and a GeoPackage's -wal."""
    layers = [*config.boundaries.values(), config.rivers, config.context, config.neighbours,
              config.catchments, config.cases, config.monitoring]
    named = [layer.path for layer in layers if layer is not None]
    if config.style.font_path is not None:
        named.append(config.style.font_path)
    files: dict[Path, None] = {}
    for path in named:
        for file in _files_of(Path(path).resolve()):
            files.setdefault(file)
    return list(files)


def _files_of(path: Path) -> list[Path]:
    if path.is_dir():  # e.g. a File Geodatabase
        return sorted(p for p in path.rglob("*") if p.is_file())
    files = [path]
    if path.suffix.lower() in _SHAPEFILE_PARTS:  # .shp .shx .dbf .prj .cpg .shp.xml .qix …
        stem = path.stem.lower() + "."
        files += sorted(p for p in path.parent.iterdir()
                        if p != path and p.name.lower().startswith(stem) and p.is_file())
    wal = path.with_name(path.name + "-wal")
    return [*files, wal] if wal.is_file() else files


def _state_digest(out: Path) -> str:
    """What a build reads back from its folder: snapshots, letter register, manifest."""
    names = [MANIFEST, _REGISTER, f"{_REGISTER}-wal"]
    history = out / "history"
    if history.is_dir():
        names += sorted(f"history/{p.name}" for p in history.iterdir())
    digest = hashlib.blake2b(digest_size=20)
    for name in names:
        path = out / name
        _feed(digest, name, _file_digest(path) if path.is_file() else "-")
    return digest.hexdigest()


def _report_digests(out: Path) -> dict[str, str]:
    return {name: _file_digest(out / name) for name in REPORT_FILES}


def _listed_files(out: Path) -> set[str] | None:
    """Every file the manifest lists; None when a job's files are unknown or none is listed."""
    manifest = load_manifest(out)
    files: set[str] = set()
    for entry in manifest.values():
        listed = entry.get("files")
        if not isinstance(listed, list):
            return None
        files.update(listed)
    return files or None

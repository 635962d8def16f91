"""A build on a real Dask cluster, started the way an office's IT would start one.

A ``dask scheduler`` and two ``dask worker`` processes on loopback only
(127.0.0.1, no dashboard), the tiny district built through
``battlemap build --executor dask://127.0.0.1:PORT``, and every output
compared byte for byte with a build in one process; only the PDF timestamps
and the report's timings may differ. Every wait has a timeout and the
processes are killed in a ``finally``.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import zipfile
from contextlib import closing
from pathlib import Path

import pytest
from conftest import write_tiny_inputs

import battlemap
from battlemap._uptodate import STAMP

pytestmark = pytest.mark.cluster

_BIN = Path(sys.executable).parent
_REPO = Path(battlemap.__file__).resolve().parent.parent
_PDF_DATES = re.compile(rb"/(CreationDate|ModDate) *\(D:[0-9+\-Z' ]*\)")
_STAMP = re.compile(rb"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?Z?")
_START_TIMEOUT = 60.0
_BUILD_TIMEOUT = 300


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env() -> dict[str, str]:
    """The workers import battlemap from this tree (as a shared install would give them)."""
    path = os.pathsep.join(p for p in (str(_REPO), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}


def _start(args: list[str], log: Path) -> subprocess.Popen:
    with log.open("wb") as sink:
        return subprocess.Popen([str(_BIN / "dask"), *args], stdout=sink, stderr=subprocess.STDOUT,
                                env=_env(), start_new_session=True)


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


def _wait_for_workers(address: str, count: int, procs: list[subprocess.Popen], logs: Path) -> None:
    from distributed import Client

    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        dead = [p for p in procs if p.poll() is not None]
        if dead:
            pytest.fail(f"a dask process exited: {dead[0].args}\n" + _logs(logs))
        try:
            with Client(address, timeout="5s") as client:
                client.wait_for_workers(count, timeout=max(1.0, deadline - time.monotonic()))
                return
        except (OSError, TimeoutError):
            time.sleep(0.5)
    pytest.fail(f"{count} dask workers did not join {address} in {_START_TIMEOUT:.0f} s\n"
                + _logs(logs))


def _rendered_on(address: str) -> dict[str, int]:
    """How many render batches each worker ran (from the workers' own transition logs)."""
    from distributed import Client

    def count(dask_worker) -> int:  # the name dask passes
        return len({str(entry[0]) for entry in dask_worker.state.log
                    if "_on_dask_worker" in str(entry[0])})

    with Client(address, timeout="10s") as client:
        return client.run(count)


def _logs(folder: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                     for p in sorted(folder.glob("*.log")))


def _build(config: Path, out: Path, *extra: str) -> None:
    done = subprocess.run([sys.executable, "-m", "battlemap.cli", "build", "--config", str(config),
                           "--out", str(out), "--quiet", *extra], env=_env(), capture_output=True,
                          text=True, timeout=_BUILD_TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def _normalised(path: Path) -> bytes:
    """The file's content, with build times blanked: PDF dates, zip and gzip member times,
    the office documents' and GeoPackage's time stamps, the report's timings."""
    data = path.read_bytes()
    if path.suffix == ".pdf":
        return _PDF_DATES.sub(rb"/\1 ()", data)
    if path.suffix == ".gz":
        return gzip.decompress(data)
    if path.suffix in (".xlsx", ".docx"):
        with zipfile.ZipFile(path) as archive:
            return b"\0".join(name.encode() + _STAMP.sub(b"", archive.read(name))
                               for name in sorted(archive.namelist()))
    if path.suffix == ".gpkg":
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            return _STAMP.sub(b"", "\n".join(db.iterdump()).encode())
    if path.name == "report.html":
        return re.sub(rb"<h2>[^<]*Timings.*?</table>", b"", data, flags=re.S)
    if path.name == "report.json":
        report = json.loads(data)
        report.pop("timings_s", None)
        report.pop("output_sizes", None)   # bytes of files with time stamps in them
        build = report.get("build", {})
        build["replaced"] = sorted(build.get("replaced", []))  # in the order they finished
        return json.dumps(report, sort_keys=True).encode()
    return data


def _files(out: Path) -> dict[str, Path]:
    """The outputs; the lock and the up-to-date stamp (it holds digests of the report,
    whose timings differ) are the build's bookkeeping, not outputs."""
    return {p.relative_to(out).as_posix(): p for p in sorted(out.rglob("*"))
            if p.is_file() and p.name not in (".battlemap.lock", STAMP)}


def test_build_on_a_dask_cluster_matches_a_local_build(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    config = write_tiny_inputs(tmp_path / "in")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path / "logs"
    logs.mkdir()
    procs: list[subprocess.Popen] = []
    try:
        procs.append(_start(["scheduler", "--host", "127.0.0.1", "--port", str(port),
                             "--no-dashboard"], logs / "scheduler.log"))
        for n in (1, 2):
            procs.append(_start(["worker", address, "--host", "127.0.0.1", "--nworkers", "1",
                                 "--nthreads", "1", "--no-dashboard",
                                 "--local-directory", str(tmp_path / f"worker{n}")],
                                logs / f"worker{n}.log"))
        _wait_for_workers(address, 2, procs, logs)
        _build(config, tmp_path / "cluster", "--executor", f"dask://127.0.0.1:{port}")
        assert sum(_rendered_on(address).values()) >= 3  # exports, web and posters went through the cluster
    finally:
        _stop(procs)
    _build(config, tmp_path / "local", "--workers", "1")

    cluster, local = _files(tmp_path / "cluster"), _files(tmp_path / "local")
    assert sorted(cluster) == sorted(local)
    assert any(name.endswith(".pdf") for name in local) and "index.html" in local
    differ = [name for name in local if _normalised(local[name]) != _normalised(cluster[name])]
    assert differ == []

"""The remote entry point, run from the zipapp on loopback addresses of this machine."""

from __future__ import annotations

import json
import random
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from fleet.conftest import write_site
from fleet.test_fleet_bundle import _interpreters
from flowmatrix.api import load_plan
from flowmatrix.fleet.bundle import REMOTE_MIN_PYTHON
from flowmatrix.fleet.export_folder import FleetExport, export_fleet


@dataclass
class Loopback:
    site: Path
    app: str
    db: str
    export: FleetExport

    def probe(
        self, *args: str, python: Sequence[str] = (sys.executable,)
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*python, str(self.export.probe), *args], capture_output=True, text=True, timeout=60
        )

    def plan_of(self, host: str) -> str:
        return str(self.export.folder / "files" / "plans" / f"{host}.json")


def _listen(address: str, port: int) -> socket.socket:
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((address, port))
    server.listen(16)

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    return server


@pytest.fixture
def loopback(tmp_path: Path) -> Iterator[Loopback]:
    """app1 and db1 on two random 127/8 addresses; db1 listens on 5432, not on 5433."""
    prefix = f"127.{random.randrange(1, 255)}.{random.randrange(1, 255)}"
    app, db = f"{prefix}.2", f"{prefix}.3"
    site = write_site(tmp_path, app, db, "127.0.0.0/8")
    server = _listen(db, 5432)
    try:
        yield Loopback(site, app, db, export_fleet(load_plan(site), tmp_path / "fleet"))
    finally:
        server.close()


def _results(path: Path) -> list[tuple[str, int, str]]:
    document = json.loads(path.read_text())
    return [(r["flow"], r["destination"]["port"], r["state"]) for r in document["results"]]


def test_probe_without_site_packages(loopback: Loopback, tmp_path: Path) -> None:
    out = tmp_path / "app1.json"
    done = loopback.probe(
        "--plan",
        loopback.plan_of("app1"),
        "--from",
        "app1",
        "--output",
        str(out),
        "--timeout",
        "0.5",
        python=(sys.executable, "-I", "-S"),
    )
    assert done.returncode == 1, done.stderr  # 5433 is closed: a failed required flow
    assert _results(out) == [
        ("SITE-app-to-db.1", 5432, "open"),
        ("SITE-app-to-db.1", 5433, "closed"),
    ]
    document = json.loads(out.read_text())
    assert document["format"] == "flowmatrix-verify/1"
    assert document["source"] == "host app1"
    assert document["probe"]["tls_engine"] == "standard library"
    result = document["results"][0]
    assert result["source"] == {"role": "app-server", "host": "app1", "address": loopback.app}


def test_probe_uses_cryptography_when_the_host_has_it(loopback: Loopback) -> None:
    done = loopback.probe("--plan", loopback.plan_of("app1"), "--from", "app1", "--timeout", "0.5")
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    assert document["probe"]["tls_engine"] == "cryptography"


def test_other_pythons_run_the_probe(loopback: Loopback, tmp_path: Path) -> None:
    pythons = {v: p for v, p in _interpreters().items() if v >= REMOTE_MIN_PYTHON}
    if not pythons:
        pytest.skip("no other Python 3.11+ on this machine")
    for version, python in sorted(pythons.items()):
        out = tmp_path / f"{version}.json"
        done = loopback.probe(
            "--plan",
            loopback.plan_of("app1"),
            "--from",
            "app1",
            "-o",
            str(out),
            "--timeout",
            "0.5",
            python=(python,),
        )
        assert done.returncode == 1, (python, done.stderr)
        assert [s for _, _, s in _results(out)] == ["open", "closed"], python


def test_the_probe_carries_the_one_document_builder() -> None:
    # the remote probe writes the verify document with the module the CLI uses
    from flowmatrix.fleet.bundle import build_bundle

    assert "flowmatrix.probe.document" in build_bundle().modules


PLAN = "{plan}"  # replaced by app1's plan file


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "app1"), "--plan and --from are required"),
        (("--plan", "/nonexistent/plan.json", "--from", "app1"), "cannot read /nonexistent"),
        (("--plan", PLAN, "--from", "app1", "--timeout", "0"), "--timeout must be"),
        (("--plan", PLAN, "--from", "app1", "--rate", "0"), "--rate must be"),
    ],
)
def test_bad_input_exits_2_without_traceback(
    loopback: Loopback, args: tuple[str, ...], message: str
) -> None:
    done = loopback.probe(*(loopback.plan_of("app1") if a == PLAN else a for a in args))
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_the_plan_of_another_host_is_refused(loopback: Loopback, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    out.write_text("stale results of an earlier run")
    done = loopback.probe("--plan", loopback.plan_of("db1"), "--from", "app1", "-o", str(out))
    assert done.returncode == 2
    assert "is the plan of 'db1', not of 'app1'" in done.stderr
    assert not out.exists()  # a failed run leaves no earlier results to be fetched


def test_a_corrupt_plan_is_refused(loopback: Loopback, tmp_path: Path) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text('{"format": "flowmatrix-fleet-plan", "format_version": 1, "flows": [{}]}')
    done = loopback.probe("--plan", str(bad), "--from", "app1")
    assert done.returncode == 2
    assert "flows[0]: expected" in done.stderr or "missing key" in done.stderr

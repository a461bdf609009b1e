"""``verify --concurrency`` against the open-files limit, in a child process whose
``RLIMIT_NOFILE`` is lowered: the soft limit is raised up to the hard one, and what the
hard limit cannot hold is refused in one line (exit 2), never probes failing with EMFILE."""

from __future__ import annotations

import json
import resource
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from probe.conftest import QUIET_FEATURES
from probe.responders import free_port

PORTS = 300


def _free_range(count: int, address: str) -> int:
    """The first of ``count`` ports in a row that nothing listens on (a bind to each
    succeeds), so that every probe of the range finds a closed port."""
    for _ in range(50):
        first = free_port(address=address)
        if first + count > 65536:
            continue
        try:
            for port in range(first, first + count):
                with socket.socket() as probe:
                    probe.bind((address, port))
        except OSError:
            continue  # a listener (of this machine, or of another test) in the range
        return first
    raise AssertionError(f"no {count} free ports in a row on {address}")


def many_ports_site(folder: Path) -> Path:
    first = _free_range(PORTS, "127.0.0.2")
    ports = ", ".join(str(p) for p in range(first, first + PORTS))
    site = folder / "site.yaml"
    site.write_text(
        "\n".join(
            [
                "version: 1",
                "name: open files",
                "zones:",
                "  - {name: lab, cidrs: [127.0.0.0/17]}",
                "  - {name: lab-clients, cidrs: [127.0.128.0/17]}",
                "firewalls:",
                "  - {name: fw-lab, zones: [lab, lab-clients]}",
                "hosts:",
                "  - {name: xms1, role: xenmobile, addresses: [127.0.0.1]}",
                "  - {name: svc, role: sql-server, addresses: [127.0.0.2]}",
                "features:",
                *(f"  {k}: {str(v).lower()}" for k, v in QUIET_FEATURES.items()),
                "flows:",
                f"  - {{name: many, source: xms1, destination: svc, ports: [{ports}]}}",
            ]
        )
        + "\n"
    )
    return site


def verify_with_limit(
    site: Path, out: Path, limit: tuple[int, int], *extra: str
) -> subprocess.CompletedProcess[str]:
    def lower() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, limit)

    command = [sys.executable, "-m", "flowmatrix", "verify", str(site), "--flow", "SITE-many"]
    return subprocess.run(
        [*command, "--timeout", "0.5", *extra, "-f", "json", "-o", str(out)],
        capture_output=True,
        text=True,
        preexec_fn=lower,
        timeout=120,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return many_ports_site(tmp_path_factory.mktemp("limits"))


def states(out: Path) -> set[str]:
    return {r["state"] for r in json.loads(out.read_text())["results"]}


def test_a_concurrency_above_the_hard_limit_is_refused_with_the_numbers(
    site: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.json"
    done = verify_with_limit(site, out, (128, 256), "--concurrency", "300")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr  # one line, no traceback
    assert "--concurrency 300 needs" in lines[0]
    assert "may open 256 (hard limit 256)" in lines[0]
    assert "hint: lower --concurrency to" in lines[0]
    assert "ulimit -Hn" in lines[0]
    assert not out.exists()


def test_the_soft_limit_is_raised_up_to_the_hard_limit(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    # 100 probes x 2 attempts need ~270 files: more than the soft 128, within the hard 1024
    done = verify_with_limit(site, out, (128, 1024), "--concurrency", "100")
    assert done.returncode == 1, done.stderr  # every port is closed: a finding, not an error
    assert states(out) == {"closed"}


def test_the_default_concurrency_fits_itself_into_a_low_limit(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    done = verify_with_limit(site, out, (128, 128))
    assert done.returncode == 1, done.stderr
    assert states(out) == {"closed"}  # no probe failed with EMFILE


def test_the_limit_check_counts_only_the_probes_there_are(tmp_path: Path) -> None:
    site = many_ports_site(tmp_path)
    out = tmp_path / "out.json"
    # --concurrency far above the limit, but only 300 probes to run: 300 x 2 fit in 1024
    done = verify_with_limit(site, out, (128, 1024), "--concurrency", "100000")
    assert done.returncode == 1, done.stderr
    assert states(out) == {"closed"}

"""The real thing: ``flowmatrix fleet run`` -> real ansible-playbook -> real sshd in namespaces.

Three hosts on a lab bridge: h1 (app1) and h2 (db1) run sshd, h3 (web1) does not.
db1 listens on 5432 and drops 5433 with nftables; app1 listens on 8443. The merged
matrix must say: app1 -> db1 failed on 5433 only (5432 passed), db1 -> app1 passed,
web1 -> app1 not tested (unreachable), admins -> app1 not tested (a network, not in the
inventory). The probe travels as the zipapp and runs on this machine's python3.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fleet.conftest import write_site
from fleet.sshlab import SshLab
from flowmatrix.netns import leftover_namespaces

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("ssh_lab_support")]


def fleet_run(
    lab: SshLab, site: Path, workdir: Path, *extra: str, output: Path | None = None
) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "flowmatrix",
        "fleet",
        "run",
        str(site),
        "--workdir",
        str(workdir),
    ]
    if output is not None:
        command += ["-o", str(output)]
    command += [
        "--",
        "-i",
        str(lab.connection_inventory()),
        "-e",
        json.dumps({"flowmatrix_probe_args": ["--timeout", "1"]}),
        *extra,
    ]
    return subprocess.run(
        command, capture_output=True, text=True, env=lab.ansible_env(), timeout=240
    )


def recap(stderr: str) -> dict[str, dict[str, int]]:
    """PLAY RECAP counters per host."""
    found: dict[str, dict[str, int]] = {}
    for line in stderr.splitlines():
        match = re.match(r"^(\S+)\s+:\s+(ok=.*)$", line)
        if match:
            found[match.group(1)] = {
                k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(2))
            }
    return found


def flows_by_id(matrix: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["flow"]: f for f in matrix["flows"]}


def test_fleet_run_through_ssh(tmp_path: Path) -> None:
    with SshLab(count=3, without_sshd=frozenset({"h3"})) as lab:
        app, db, web = lab.hosts
        site = write_site(tmp_path, app.address, db.address, str(lab.subnet), web=web.address)
        lab.listen(db, 5432)
        lab.drop(db, 5433)
        lab.listen(app, 8443)
        workdir = tmp_path / "fleet"

        first = fleet_run(lab, site, workdir, output=tmp_path / "matrix.json")
        assert first.returncode == 1, first.stderr
        assert "Traceback" not in first.stderr
        matrix = json.loads((tmp_path / "matrix.json").read_text())
        flows = flows_by_id(matrix)
        assert {k: v["status"] for k, v in flows.items()} == {
            "SITE-app-to-db.1": "failed",
            "SITE-db-to-app.1": "passed",
            "SITE-admin-to-app.1": "not_tested",
            "SITE-web-to-app.1": "not_tested",
        }
        failed = flows["SITE-app-to-db.1"]
        assert [(f["host"], f["port"], f["address"], f["state"]) for f in failed["failures"]] == [
            ("app1", 5433, db.address, "filtered")
        ]
        ports = {p["port"]: p["status"] for p in failed["checks"][0]["ports"]}
        assert ports == {5432: "passed", 5433: "failed"}
        assert flows["SITE-db-to-app.1"]["tested_from"] == ["db1"]
        assert flows["SITE-web-to-app.1"]["reason"] == "no results from web1"
        assert matrix["summary"] == {
            "flows": 4,
            "passed": 1,
            "failed": 1,
            "incomplete": 0,
            "not_tested": 2,
            "failed_required": 1,
        }
        results = sorted(p.name for p in (workdir / "results").glob("*.json"))
        assert results == ["app1.json", "db1.json"]
        shipped = json.loads((workdir / "results" / "app1.json").read_text())
        assert shipped["format"] == "flowmatrix-verify/1"
        assert shipped["probe"]["python"] == sys.version.split()[0]
        counters = recap(first.stderr)
        assert counters["web1"]["unreachable"] == 1
        assert counters["app1"]["failed"] == 0 and counters["db1"]["failed"] == 0
        assert "some hosts failed or were unreachable" in first.stderr

        # Check mode on the same plan: nothing to copy (idempotent shipping), no probe runs,
        # nothing is fetched, and it says what would run.
        before = {p.name: p.stat().st_mtime_ns for p in (workdir / "results").glob("*.json")}
        probe = workdir / "files" / "flowmatrix-probe.pyz"
        shipped_probe = probe.read_bytes()
        checked = fleet_run(lab, site, workdir, "--check")
        # the probe is rebuilt from the installed code: only a code change may ship it again
        expected = 0 if probe.read_bytes() == shipped_probe else 1
        assert checked.returncode == 1, checked.stderr  # web1 is still unreachable
        counters = recap(checked.stderr)
        assert counters["app1"]["changed"] == expected
        assert counters["db1"]["changed"] == expected
        assert f"would probe 1 flow(s) from app1 with {sys.executable}" in checked.stderr
        assert "--check: no probe ran" in checked.stderr
        assert checked.stdout == ""
        fetched = {p.name: p.stat().st_mtime_ns for p in (workdir / "results").glob("*.json")}
        assert fetched == before  # check mode fetches nothing and keeps the last results
        prefix = lab.prefix
        root_link = lab.root_link
    assert leftover_namespaces(prefix) == []
    assert subprocess.run(["ip", "link", "show", root_link], capture_output=True).returncode != 0

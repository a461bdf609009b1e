"""The proof: a real Prometheus scrapes a watch running in a network namespace.

    src (10.77.0.1: watch, Prometheus) ── veth ── dst (10.77.0.2: LDAP, SCP, app ports)

Every planned flow of the source is up; an nftables rule in the destination namespace
drops the LDAP port and Prometheus shows exactly that flow, and its journey (users log
on), at 0 within three cycles, the others still at 1; the rule goes and they come back.
The namespaces are deleted at the end, also on failure.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import urllib.error
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flowmatrix.netns import Namespace, NamespaceSet, leftover_namespaces
from flowmatrix.probe.netns_thread import run_in_netns
from probe.conftest import QUIET_FEATURES
from watch.running import DIRECT, RunningWatch

pytestmark = pytest.mark.kernel

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
SRC, DST = "10.77.0.1", "10.77.0.2"
WATCH_PORT, PROMETHEUS_PORT = 9742, 19090
DROP_LDAP = """
table inet fmwatch {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 389 drop
  }
}
"""
SITE = f"""version: 1
name: watch proof
zones:
  - {{name: apps, cidrs: [{SRC}/32]}}
  - {{name: servers, cidrs: [{DST}/32]}}
firewalls:
  - {{name: fw-core, zones: [apps, servers]}}
hosts:
  - {{name: xms1, role: xenmobile, addresses: [{SRC}]}}
  - {{name: dc1, role: ldap-server, addresses: [{DST}]}}
  - {{name: files1, role: ftp-scp-server, addresses: [{DST}]}}
features:
{chr(10).join(f"  {k}: {str(v).lower()}" for k, v in {**QUIET_FEATURES, "ldap": True, "support-bundles": True}.items())}
flows:
  - {{name: app, source: xms1, destination: files1, protocols: [tcp], ports: [7001]}}
"""
PROMETHEUS_CONFIG = f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: flowmatrix-watch
    static_configs:
      - targets: ['{SRC}:{WATCH_PORT}']
"""


@dataclass
class Proof:
    src: Namespace
    dst: Namespace
    watch: RunningWatch

    def query(self, expr: str) -> dict[str, float]:
        """Prometheus's instant query, asked from inside the source namespace:
        the ``flow`` (or ``journey``) label -> value."""
        url = f"http://127.0.0.1:{PROMETHEUS_PORT}/api/v1/query?" + urllib.parse.urlencode(
            {"query": expr}
        )

        def ask() -> Any:
            try:
                with DIRECT.open(url, timeout=5) as reply:
                    return json.load(reply)
            except (urllib.error.URLError, ConnectionError):  # Prometheus still starting
                return {"status": "success", "data": {"result": []}}

        answer = run_in_netns(self.src.name, ask)
        assert answer["status"] == "success", answer
        found = {}
        for item in answer["data"]["result"]:
            labels = item["metric"]
            key = labels.get("flow") or labels.get("journey") or labels["__name__"]
            found[key] = float(item["value"][1])
        return found

    def scrape(self) -> str:
        return run_in_netns(self.src.name, lambda: self.watch.metrics(f"{SRC}:{WATCH_PORT}"))


def _listen(stack: ExitStack, ports: tuple[int, ...]) -> None:
    for port in ports:
        listener = stack.enter_context(socket.socket())
        listener.bind((DST, port))
        listener.listen(64)


@pytest.fixture
def proof(tmp_path: Path) -> Iterator[Proof]:
    if PROMETHEUS is None or PROMTOOL is None:
        reason = "prometheus is not installed (scripts/test installs the Debian package)"
        if os.environ.get("FLOWMATRIX_REQUIRE_KERNEL_TESTS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    site = tmp_path / "site.yaml"
    site.write_text(SITE)
    (tmp_path / "prometheus.yml").write_text(PROMETHEUS_CONFIG)
    nss = NamespaceSet(prefix=f"fmw{os.getpid()}", purpose="watch proof test")
    with nss, ExitStack() as stack:
        src, dst = nss.add("src"), nss.add("dst")
        nss.link(src, "eth0", dst, "eth0")
        src.ip("addr", "add", f"{SRC}/24", "dev", "eth0")
        dst.ip("addr", "add", f"{DST}/24", "dev", "eth0")
        run_in_netns(dst.name, lambda: _listen(stack, (22, 389, 7001)))
        server = src.popen(
            [
                PROMETHEUS,
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{PROMETHEUS_PORT}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "prometheus.log").open("w"),
        )
        stack.callback(server.wait)
        stack.callback(server.kill)
        args = [str(site), "--from", "auto", "--interval", "1s"]
        args += ["--listen", f"{SRC}:{WATCH_PORT}", "--timeout", "0.3", "--retries", "0"]
        watch = stack.enter_context(
            RunningWatch(args, tmp_path / "watch.log", prefix=src.exec_args([]))
        )
        yield Proof(src, dst, watch)
    assert leftover_namespaces(nss.prefix) == []


def _cycles(text: str) -> float:
    (line,) = [x for x in text.splitlines() if x.startswith("flowmatrix_cycles_total ")]
    return float(line.split()[1])


def _until(proof: Proof, expr: str, expected: dict[str, float], what: str) -> None:
    proof.watch.wait_for(lambda: proof.query(expr) == expected, what, limit=60)


def test_prometheus_sees_exactly_the_dropped_flow_and_its_journey_go_down(proof: Proof) -> None:
    everything_up = {"XM-APP-01.1": 1.0, "XM-APP-06.1": 1.0, "SITE-app.1": 1.0}
    journeys_up = {"user-logon": 1.0, "support-bundles-logs": 1.0}
    _until(proof, "flowmatrix_flow_up", everything_up, "every planned flow up in Prometheus")
    _until(proof, "flowmatrix_journey_up", journeys_up, "every journey up in Prometheus")

    text = proof.scrape()
    assert PROMTOOL is not None
    checked = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True
    )
    assert checked.returncode == 0, checked.stderr

    before = _cycles(proof.scrape())  # exact: the watch's own count
    proof.dst.run(["nft", "-f", "-"], input_text=DROP_LDAP)
    ldap_down = {**everything_up, "XM-APP-06.1": 0.0}

    def down() -> dict[str, float] | None:
        # one query, one scrape: the flows and the cycle count that came with them
        found = proof.query("flowmatrix_flow_up or flowmatrix_cycles_total")
        return found if found.get("XM-APP-06.1") == 0.0 else None

    seen = proof.watch.wait_for(down, "the LDAP flow down in Prometheus", limit=60)
    assert seen.pop("flowmatrix_cycles_total") - before <= 3, "not within three cycles"
    assert seen == ldap_down
    assert proof.query("flowmatrix_journey_up") == {"user-logon": 0.0, "support-bundles-logs": 1.0}
    states = proof.query('flowmatrix_flow_state{state="filtered"}')
    assert states == {"XM-APP-06.1": 1.0}
    change = next(e for e in proof.watch.events() if e.get("flow", "").startswith("XM-APP-06.1"))
    assert (change["old"], change["new"]) == ("open", "filtered")
    journey = next(e for e in proof.watch.events() if e.get("journey") == "user-logon")
    assert journey["new"] == "blocked" and "XM-APP-06.1 tcp/389" in journey["reason"]
    assert "at fw-core" in journey["reason"]

    proof.dst.run(["nft", "delete", "table", "inet", "fmwatch"])
    _until(proof, "flowmatrix_flow_up", everything_up, "the LDAP flow up again")
    _until(proof, "flowmatrix_journey_up", journeys_up, "the journey up again")

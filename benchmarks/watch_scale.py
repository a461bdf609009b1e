"""``flowmatrix watch`` at scale: the CPU of a cycle, and serving ``/metrics``.

Run: python benchmarks/watch_scale.py [--cycle-ports 1000] [--metrics-ports 10000] [--pairs 5]

On loopback (no root needed): a site whose one flow ``SITE-bench`` holds the ports, on
127.0.0.2, with a listener on every tenth port (open) and nothing on the others (closed:
the kernel resets). Printed, with the load average:

- cycle: CPU-seconds of one watch cycle of --cycle-ports flow ports (verify engine, the
  journeys, the state, the exposition rendered), median of ``--cycles`` cycles measured
  in one watch process as it runs for months (target < 0.5 CPU-s); beside it the whole
  process ``flowmatrix watch --once --textfile`` against ``nmap -sT`` on the same ports,
  alternating, >= 5 pairs (wall time, CPU-seconds of the process);
- /metrics: --metrics-ports flow ports: the exposition rendered once per cycle, and a
  scrape by ``curl`` of a running ``flowmatrix watch``'s /metrics against a scrape of the
  stock way (one labelled ``prometheus_client`` Gauge set per flow port, served by
  ``start_http_server``, which renders at every scrape), alternating, >= 5 pairs
  (target < 100 ms a scrape).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

from harness import Side, compare, load_average, print_comparison

from flowmatrix.api import load_plan
from flowmatrix.probe.scheduler import ProbeOptions
from flowmatrix.probe.targets import Selection
from flowmatrix.watch.cycle import Watcher, WatchSettings
from flowmatrix.watch.metrics import FLOW_LABELS, exposition, flow_labels

DESTINATION = "127.0.0.2"
BASE_PORT = 30000
CYCLE_BUDGET_CPU_S = 0.5
SCRAPE_BUDGET_S = 0.100
SERVE = ("--interval", "600s", "--listen", "127.0.0.1:0")


def site_text(ports: int) -> str:
    listed = ", ".join(str(BASE_PORT + i) for i in range(ports))
    return f"""version: 1
name: watch scale
zones:
  - {{name: lab, cidrs: [127.0.0.0/17]}}
hosts:
  - {{name: xms1, role: xenmobile, addresses: [127.0.0.1]}}
  - {{name: app1, role: intranet-web, addresses: [{DESTINATION}]}}
features: {{ios: false, apns: false, android: false, fcm: false, app-stores: false, sms-relay: false, ads: false, windows-phone: false}}
flows:
  - {{name: bench, source: xms1, destination: app1, protocols: [tcp], ports: [{listed}]}}
"""


def listen_on_every_tenth(stack: ExitStack, ports: int) -> None:
    for index in range(0, ports, 10):
        listener = stack.enter_context(socket.socket())
        listener.bind((DESTINATION, BASE_PORT + index))
        listener.listen(64)


def cycle_cpu(site: Path, cycles: int) -> tuple[list[float], list[float], int]:
    """CPU-seconds and wall seconds of each cycle (engine + state + exposition)."""
    settings = WatchSettings(
        Selection(flows=("SITE-bench",)), ProbeOptions(check_tls=False), interval=60.0
    )
    watcher = Watcher(lambda: load_plan(str(site)), settings)
    cpu, wall = [], []
    size = 0
    for _ in range(cycles + 1):
        started_cpu, started = time.process_time(), time.perf_counter()
        cycle = watcher.cycle_or_log()
        size = len(exposition(watcher.state))
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
        assert cycle is not None
        opened = sum(1 for r in cycle.report.results if r.state == "open")
        assert opened == len(cycle.report.results) // 10, opened
    return cpu[1:], wall[1:], size  # the first cycle warms the caches


def _process_cpu(argv: list[str]) -> float:
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    return usage.ru_utime + usage.ru_stime


def _median_cpu(argv: list[str]) -> float:
    return statistics.median(_process_cpu(argv) for _ in range(3))


def stock_gauges_server(ports: int) -> int:
    """The stock way: one labelled Gauge child per flow port, ``start_http_server``."""
    from prometheus_client import CollectorRegistry, Gauge, start_http_server

    from flowmatrix.probe.results import ProbeResult

    registry = CollectorRegistry()
    up = Gauge("flowmatrix_flow_up", "stock", FLOW_LABELS, registry=registry)
    state = Gauge("flowmatrix_flow_state", "stock", (*FLOW_LABELS, "state"), registry=registry)
    latency = Gauge(
        "flowmatrix_flow_probe_duration_seconds", "stock", FLOW_LABELS, registry=registry
    )
    changed = Gauge(
        "flowmatrix_flow_last_change_timestamp_seconds", "stock", FLOW_LABELS, registry=registry
    )
    for index in range(ports):
        result = ProbeResult(
            flow="SITE-bench.1",
            requirement="SITE-bench",
            required=True,
            source_role="xenmobile",
            source_host="xms1",
            source_address=None,
            destination_role="intranet-web",
            destination_host="app1",
            fqdn=None,
            address=DESTINATION,
            port=BASE_PORT + index,
            protocol="tcp",
            service=None,
            state="closed",
            reason="reset",
        )
        labels = flow_labels(result)
        up.labels(*labels).set(0)
        state.labels(*labels, "closed").set(1)
        latency.labels(*labels).set(0.00002)
        changed.labels(*labels).set(time.time())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    start_http_server(port, addr="127.0.0.1", registry=registry)
    return port


def _wait_listening(log: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if line.startswith("{") and json.loads(line).get("event") == "started":
                return str(json.loads(line)["listen"])
        if process.poll() is not None:
            raise SystemExit(f"watch exited: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    raise SystemExit("watch did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycle-ports", type=int, default=1000)
    parser.add_argument("--metrics-ports", type=int, default=10000)
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()
    flowmatrix = [sys.executable, "-m", "flowmatrix"]
    failed = False
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        listen_on_every_tenth(stack, max(args.cycle_ports, args.metrics_ports))
        small, large = Path(folder, "small.yaml"), Path(folder, "large.yaml")
        small.write_text(site_text(args.cycle_ports))
        large.write_text(site_text(args.metrics_ports))

        cpu, wall, size = cycle_cpu(small, args.cycles)
        median_cpu = statistics.median(cpu)
        print(f"== cycle of {args.cycle_ports} flow ports, in a running watch ({load_average()})")
        print(
            f"  CPU median {median_cpu:.3f} s (min {min(cpu):.3f}, max {max(cpu):.3f}, "
            f"n={len(cpu)}); wall median {statistics.median(wall):.3f} s; exposition "
            f"{size / 1024:.0f} KiB; target < {CYCLE_BUDGET_CPU_S} CPU-s: "
            + ("met" if median_cpu < CYCLE_BUDGET_CPU_S else "NOT MET")
        )
        failed |= median_cpu >= CYCLE_BUDGET_CPU_S
        textfile = Path(folder, "out.prom")
        once = [*flowmatrix, "watch", str(small), "--flow", "SITE-bench", "--no-tls", "--once"]
        once += ["--textfile", str(textfile)]
        ports = f"{BASE_PORT}-{BASE_PORT + args.cycle_ports - 1}"
        nmap = shutil.which("nmap")
        peer = None
        if nmap is not None:
            peer = Side("nmap -sT", [nmap, "-sT", "-Pn", "-n", "-T4", "-p", ports, DESTINATION])
        result = compare(Side("flowmatrix watch --once", once), peer, pairs=args.pairs)
        print_comparison(result, f"whole process, {args.cycle_ports} flow ports")
        line = f"  process CPU: flowmatrix watch --once {_median_cpu(once):.3f} CPU-s"
        if peer is not None and peer.command is not None:
            line += f"; nmap {_median_cpu(list(peer.command)):.3f} CPU-s"
        print(line + " (median of 3)")

        log = Path(folder, "watch.log")
        watch = subprocess.Popen(
            [*flowmatrix, "watch", str(large), "--flow", "SITE-bench", "--no-tls", *SERVE],
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
        stack.callback(watch.wait)
        stack.callback(watch.terminate)
        address = _wait_listening(log, watch)
        stock = stock_gauges_server(args.metrics_ports)
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        body = direct.open(f"http://{address}/metrics").read()
        assert body.count(b"flowmatrix_flow_up{") == args.metrics_ports
        curl = shutil.which("curl") or "curl"
        scrape = [curl, "-s", "--noproxy", "*", "-o", os.devnull]
        result = compare(
            Side("curl flowmatrix /metrics", [*scrape, f"http://{address}/metrics"]),
            Side("curl stock Gauges", [*scrape, f"http://127.0.0.1:{stock}/metrics"]),
            pairs=args.pairs,
        )
        print_comparison(
            result, f"/metrics, {args.metrics_ports} flow ports ({len(body) / 1e6:.1f} MB)"
        )
        state_render = _render_time(large)
        print(f"  exposition rendered once per cycle: {state_render:.3f} s (in the cycle's cost)")
        median_scrape = result.flowmatrix.median
        print(
            f"  scrape target < {SCRAPE_BUDGET_S * 1000:.0f} ms: "
            + ("met" if median_scrape < SCRAPE_BUDGET_S else "NOT MET")
        )
        failed |= median_scrape >= SCRAPE_BUDGET_S
    return 1 if failed else 0


def _render_time(site: Path) -> float:
    settings = WatchSettings(
        Selection(flows=("SITE-bench",)), ProbeOptions(check_tls=False), interval=600.0
    )
    watcher = Watcher(lambda: load_plan(str(site)), settings)
    watcher.cycle_or_log()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        exposition(watcher.state)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


if __name__ == "__main__":
    raise SystemExit(main())

"""Fan-out of ``flowmatrix fleet run``: how long Ansible takes to probe from N hosts at once.

Builds the SSH lab of the fleet tests (network namespaces with a real sshd each, see
tests/fleet/sshlab.py), gives every host one flow to the next host with P ports (one
listens, the others answer with a reset), then times the whole ``fleet run`` for each
host count and Ansible fork count. Needs root; all traffic stays inside the namespaces.

    sudo python3 benchmarks/fleet_fanout.py --hosts 2,5,10 --ports 20
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fleet.conftest import CATALOG  # noqa: E402
from fleet.sshlab import SshLab, lab_support  # noqa: E402
from flowmatrix.netns import kernel_support  # noqa: E402


def write_mesh_site(folder: Path, lab: SshLab, ports: int) -> Path:
    """Host i is the source of one flow to host i+1 (wrapping) on ``ports`` ports."""
    hosts = [
        f"  - {{name: {h.name}, role: app-server, addresses: [{h.address}]}}" for h in lab.hosts
    ]
    count = len(lab.hosts)
    port_list = ", ".join(str(8443 + p) for p in range(ports))
    flows = [
        f"  - {{name: {h.name}-next, source: {h.name}, "
        f"destination: {lab.hosts[(i + 1) % count].name}, ports: [{port_list}]}}"
        for i, h in enumerate(lab.hosts)
    ]
    text = (
        "\n".join(
            [
                "version: 1",
                "name: fan-out",
                f"catalog: {CATALOG}",
                "zones:",
                f"  - {{name: lab, cidrs: [{lab.subnet}]}}",
                "hosts:",
                *hosts,
                "flows:",
                *flows,
            ]
        )
        + "\n"
    )
    path = folder / "site.yaml"
    path.write_text(text)
    return path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(
    lab: SshLab, site: Path, workdir: Path, forks: int, pipelining: bool
) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall time, and CPU time of the control node's side (flowmatrix, ansible-playbook,
    ssh clients: the processes this script waits for; the hosts' side is not counted)."""
    env = lab.ansible_env()
    env["ANSIBLE_PIPELINING"] = "1" if pipelining else "0"
    command = [
        sys.executable,
        "-m",
        "flowmatrix",
        "fleet",
        "run",
        str(site),
        "--workdir",
        str(workdir),
        "-o",
        str(workdir / "matrix.json"),
        "--",
        "-i",
        str(lab.connection_inventory()),
        "--forks",
        str(forks),
        "-e",
        json.dumps({"flowmatrix_probe_args": ["--timeout", "1"]}),
    ]
    cpu = _children_cpu()
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    return time.monotonic() - started, _children_cpu() - cpu, done


def bench_merge(hosts: int, ports: int, folder: Path) -> None:
    """Merge cost on synthetic results: ``hosts`` hosts, one flow each with ``ports`` ports."""
    from flowmatrix.api import load_plan
    from flowmatrix.fleet.merge import merge
    from flowmatrix.fleet.resultfile import read_result_file

    network = "10.64.0.0/16"
    site = folder / "merge-site.yaml"
    names = [f"h{i}" for i in range(hosts)]
    address = [f"10.64.{i // 250}.{i % 250 + 1}" for i in range(hosts)]
    port_list = ", ".join(str(8443 + p) for p in range(ports))
    lines = [
        "version: 1",
        "name: merge",
        f"catalog: {CATALOG}",
        "zones:",
        f"  - {{name: lab, cidrs: [{network}]}}",
        "hosts:",
    ]
    lines += [
        f"  - {{name: {n}, role: app-server, addresses: [{a}]}}"
        for n, a in zip(names, address, strict=True)
    ]
    lines += ["flows:"]
    lines += [
        f"  - {{name: {n}-next, source: {n}, destination: {names[(i + 1) % hosts]}, "
        f"ports: [{port_list}]}}"
        for i, n in enumerate(names)
    ]
    site.write_text("\n".join(lines) + "\n")
    plan = load_plan(site)
    files = []
    for i, name in enumerate(names):
        target = names[(i + 1) % hosts]
        results = [
            {
                "flow": f"SITE-{name}-next.1",
                "requirement": f"SITE-{name}-next",
                "required": True,
                "source": {"role": "app-server", "host": name, "address": address[i]},
                "destination": {
                    "role": "app-server",
                    "host": target,
                    "fqdn": None,
                    "address": address[(i + 1) % hosts],
                    "port": 8443 + p,
                    "protocol": "tcp",
                    "service": None,
                },
                "state": "open",
                "reason": "TCP handshake completed",
                "latency_ms": 0.4,
                "attempts": 1,
                "two_ended": False,
                "tls": None,
                "dns": None,
                "reply": None,
                "findings": [],
                "notes": [],
            }
            for p in range(ports)
        ]
        path = folder / f"{name}.json"
        path.write_text(
            json.dumps(
                {
                    "format": "flowmatrix-verify/1",
                    "site": "merge",
                    "source": f"host {name}",
                    "options": {},
                    "summary": {},
                    "warnings": [],
                    "results": results,
                },
                indent=1,
            )
        )
        files.append(path)
    started = time.monotonic()
    matrix = merge(plan, [read_result_file(p) for p in files])
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = sum(p.stat().st_size for p in files)
    print(
        f"merge: {hosts} hosts x {ports} results = {hosts * ports} results "
        f"({total / 1e6:.1f} MB of JSON): {seconds:.2f} s, peak RSS {peak:.0f} MiB, "
        f"{matrix.count('passed')} flows passed"
    )


def sizes(workdir: Path) -> tuple[int, float, float]:
    probe = (workdir / "files" / "flowmatrix-probe.pyz").stat().st_size
    plans = [p.stat().st_size for p in (workdir / "files" / "plans").glob("*.json")]
    results = [p.stat().st_size for p in (workdir / "results").glob("*.json")]
    return probe, statistics.mean(plans), statistics.mean(results) if results else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", default="2,5,10", help="host counts, comma-separated")
    parser.add_argument("--ports", type=int, default=20, help="ports per flow")
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration")
    parser.add_argument(
        "--merge-hosts",
        type=int,
        default=0,
        help="only time the merge of this many synthetic hosts' results",
    )
    parser.add_argument(
        "--no-pipelining", action="store_true", help="also measure with Ansible pipelining off"
    )
    args = parser.parse_args()
    if args.merge_hosts:
        with tempfile.TemporaryDirectory() as scratch:
            bench_merge(args.merge_hosts, args.ports, Path(scratch))
        return 0
    reason = kernel_support() or lab_support()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    print(f"cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f} python={sys.version.split()[0]}")
    print(
        f"{'hosts':>5} {'forks':>5} {'pipe':>4} {'probes':>6} {'seconds':>8} "
        f"{'ctl cpu s':>9} {'cpu s/host':>10} {'plan B/host':>11} {'result B/host':>13} "
        f"{'B/result':>8}"
    )
    for count in (int(n) for n in args.hosts.split(",")):
        with SshLab(count=count) as lab, tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch)
            site = write_mesh_site(folder, lab, args.ports)
            for host in lab.hosts:
                lab.listen(host, 8443)
            settings = [(5, True), (count, True)]
            if args.no_pipelining:
                settings.append((count, False))
            for forks, pipelining in dict.fromkeys(settings):
                runs = []
                for _ in range(args.repeat):
                    seconds, cpu, done = run_once(lab, site, folder / "fleet", forks, pipelining)
                    if done.returncode not in (0, 1):
                        print(done.stderr[-3000:], file=sys.stderr)
                        return 1
                    runs.append((seconds, cpu))
                seconds, cpu = min(runs)
                probe, plan, result = sizes(folder / "fleet")
                print(
                    f"{count:>5} {forks:>5} {'on' if pipelining else 'off':>4} "
                    f"{count * args.ports:>6} {seconds:>8.1f} {cpu:>9.1f} {cpu / count:>10.2f} "
                    f"{plan:>11.0f} {result:>13.0f} {result / args.ports:>8.0f}"
                )
    print(f"probe zipapp: {probe} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

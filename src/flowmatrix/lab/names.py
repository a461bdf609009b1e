"""Names in the lab, served and resolved the way production does it.

* A DNS server (dnsmasq) in the namespace of the names' zone (the Internet) answers
  every name of the lab with its lab address (``host-record=``, exact names only) and
  nothing else: a name it does not know does not exist.
* Every firewall namespace runs a dnsmasq with the lines ``rules --dnsmasq`` writes for
  that firewall (``nftset=/NAME/4#inet#TABLE#SET,...``): each answer it passes on is
  added to the rules' name sets. Its upstream is the next firewall towards the names'
  zone, the last one asks the DNS server: a query at the first firewall of a path fills
  the sets of every firewall on it.
* Before the probes, every case to a name resolves it from its source zone through the
  first firewall on its way, with the resolver of ``rules --resolve``; a case whose name
  did not resolve to its lab address is an error, not a probe.

The processes die with the lab (``PR_SET_PDEATHSIG``), and are stopped before its
namespaces are deleted.
"""

from __future__ import annotations

import ctypes
import functools
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flowmatrix.errors import UserError
from flowmatrix.lab.addressing import AddressPlan
from flowmatrix.lab.cases import Case
from flowmatrix.lab.topology import LabTopology
from flowmatrix.namesets import Family
from flowmatrix.netns import Namespace, each_at_once
from flowmatrix.probe.netns_thread import run_in_netns
from flowmatrix.site import Site
from flowmatrix.topology import FirewallGraph

DNS_PORT = 53
#: TTL of the lab DNS server's answers (dnsmasq's default for local records is 0).
LOCAL_TTL = 300
#: Seconds a dnsmasq gets to listen.
START_TIMEOUT = 5.0
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _listening_udp(pid: int, port: int) -> bool:
    """Whether process ``pid``'s network namespace has a UDP socket bound to ``port``."""
    wanted = f":{port:04X} "
    for table in ("udp", "udp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            return False
        if any(wanted in line.split(None, 2)[1] + " " for line in lines if line.strip()):
            return True
    return False


@dataclass
class NameService:
    """The lab's DNS server and the firewalls' dnsmasq, started and stopped together."""

    processes: list[tuple[str, subprocess.Popen[str]]] = field(default_factory=list)
    directory: tempfile.TemporaryDirectory[str] | None = None
    server: str | None = None
    """The lab DNS server's address."""
    resolvers: dict[tuple[str, str], str] = field(default_factory=dict)
    """(firewall, zone) -> the address a client of the zone asks that firewall's dnsmasq."""

    def _start(self, label: str, namespace: Namespace, config: str) -> None:
        assert self.directory is not None
        path = Path(self.directory.name) / f"{label}.conf"
        path.write_text(config, "utf-8")
        log = (Path(self.directory.name) / f"{label}.log").open("w")
        process = namespace.popen(
            [
                "dnsmasq",
                "--keep-in-foreground",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                "--pid-file=",
                "--log-facility=-",
                f"--conf-file={path}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            preexec_fn=_die_with_parent,
        )
        log.close()
        self.processes.append((label, process))

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        for label, process in self.processes:
            while not _listening_udp(process.pid, DNS_PORT):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise UserError(
                        f"the lab's dnsmasq for {label} did not start: {self.log(label)}"
                    )
                time.sleep(0.005)

    def log(self, label: str) -> str:
        if self.directory is None:
            return ""
        path = Path(self.directory.name) / f"{label}.log"
        try:
            lines = path.read_text("utf-8", "replace").strip().splitlines()
        except OSError:
            return ""
        return " / ".join(lines[-3:])

    def stop(self) -> None:
        for _, process in self.processes:
            if process.poll() is None:
                process.terminate()
        for _, process in self.processes:
            try:
                process.wait(2.0)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes.clear()
        if self.directory is not None:
            self.directory.cleanup()
            self.directory = None


def names_zone(site: Site, addresses: AddressPlan) -> str | None:
    """Where the lab's DNS server runs: the Internet zone, else the zone of a name."""
    internet = next((z.name for z in site.zones if z.internet), None)
    return internet or next(iter(addresses.name_zones.values()), None)


def start_name_service(
    site: Site,
    lab: LabTopology,
    addresses: AddressPlan,
    dnsmasq_lines: Mapping[str, str],
    service: NameService,
) -> None:
    """Start the DNS server and every firewall's dnsmasq (``dnsmasq_lines``: firewall ->
    the lines ``rules --dnsmasq`` writes for it); wait until all of them listen."""
    zone = names_zone(site, addresses)
    if zone is None or not addresses.names:
        return
    service.directory = tempfile.TemporaryDirectory(prefix="flowmatrix-lab-dns-")
    server = addresses.transit[zone].zone_address(4)
    service.server = server
    by_name: dict[str, list[str]] = {}
    for (name, _), address in sorted(addresses.names.items(), key=lambda item: item[0][1]):
        by_name.setdefault(name, []).append(address)
    records = [f"host-record={name},{','.join(found)}" for name, found in by_name.items()]
    service._start(
        "dns-server",
        lab.zones[zone],
        "\n".join([f"listen-address={server}", f"local-ttl={LOCAL_TTL}", *records]) + "\n",
    )
    graph = FirewallGraph(site)
    index = {f.name: i for i, f in enumerate(site.firewalls)}
    for firewall in site.firewalls:
        upstream = _upstream(graph, firewall.name, firewall.zones, zone, addresses, index)
        if upstream is None:
            continue
        listen = []
        for attached in firewall.zones:
            address = addresses.transit[attached].firewall_address(4, index[firewall.name])
            service.resolvers[(firewall.name, attached)] = address
            listen.append(f"listen-address={address}")
        lines = dnsmasq_lines.get(firewall.name, "")
        service._start(
            f"firewall-{firewall.name}",
            lab.firewalls[firewall.name],
            "\n".join([*listen, f"server={upstream}", lines]) + "\n",
        )
    service._wait_ready()


def _upstream(
    graph: FirewallGraph,
    firewall: str,
    zones: Sequence[str],
    names_zone_: str,
    addresses: AddressPlan,
    index: Mapping[str, int],
) -> str | None:
    """The DNS server when ``firewall`` is in the names' zone, else the next firewall's
    dnsmasq on the shortest way there (the route the lab's packets take)."""
    if names_zone_ in zones:
        return addresses.transit[names_zone_].zone_address(4)
    best: tuple[int, str, str] | None = None
    for attached in zones:
        path = graph.path(attached, names_zone_)
        if path and path[0] != firewall and (best is None or len(path) < best[0]):
            best = (len(path), attached, path[0])
    if best is None:
        return None
    return addresses.transit[best[1]].firewall_address(4, index[best[2]])


def _family(case: Case) -> Family:
    return 6 if case.family == 6 else 4


def resolve_cases(lab: LabTopology, cases: Sequence[Case], service: NameService) -> dict[int, str]:
    """Resolve the name of every case that has one, from its source zone through the
    first firewall on its way; index of a case -> why it cannot be probed."""
    from flowmatrix.rules.resolve import resolve

    wanted: dict[tuple[str, str], dict[str, set[int]]] = {}
    for position, case in enumerate(cases):
        if case.name is None:
            continue
        key = (case.source_zone, case.firewalls[0])
        wanted.setdefault(key, {}).setdefault(case.name, set()).add(position)
    problems: dict[int, str] = {}

    def ask(zone: str, firewall: str, names: dict[str, set[int]]) -> None:
        resolver = service.resolvers.get((firewall, zone))
        if resolver is None:
            for positions in names.values():
                problems.update(dict.fromkeys(positions, f"no dnsmasq of {firewall} in {zone}"))
            return
        needs = {n: {_family(cases[p]) for p in positions} for n, positions in names.items()}
        answers, failures = run_in_netns(lab.zones[zone].name, lambda: resolve(needs, resolver))
        for failure in failures:
            why = f"{failure.name} did not resolve through {firewall}'s dnsmasq: {failure.reason}"
            problems.update(dict.fromkeys(names[failure.name], why))
        for name, answer in answers.items():
            for position in names[name]:
                case = cases[position]
                got = answer.addresses(_family(case))
                if case.destination_address not in got:
                    problems[position] = (
                        f"{name} resolved through {firewall}'s dnsmasq to "
                        f"{', '.join(got) or 'no address'}, not its lab address "
                        f"{case.destination_address}"
                    )

    each_at_once([functools.partial(ask, *key, names) for key, names in wanted.items()])
    return problems

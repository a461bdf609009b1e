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
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flowmatrix.i18n import _
from flowmatrix.lab.addressing import AddressPlan
from flowmatrix.lab.cases import Case
from flowmatrix.lab.daemons import Daemons
from flowmatrix.lab.namespaces import LabTopology
from flowmatrix.namesets import Family
from flowmatrix.netns import Namespace, each_at_once
from flowmatrix.probe.netns_thread import run_in_netns
from flowmatrix.site_view import SiteView
from flowmatrix.topology import FirewallGraph

DNS_PORT = 53
#: TTL of the lab DNS server's answers (dnsmasq's default for local records is 0).
LOCAL_TTL = 300


@dataclass
class NameService:
    """Where the lab's names are resolved: filled by :func:`start_name_service`."""

    server: str | None = None
    """The lab DNS server's address."""
    resolvers: dict[tuple[str, str], str] = field(default_factory=dict)
    """(firewall, zone) -> the address a client of the zone asks that firewall's dnsmasq."""

    def resolver(self, graph: FirewallGraph, zone: str, names_zone_: str) -> str | None:
        """The dnsmasq a client of ``zone`` asks: the first firewall towards the names."""
        path = graph.path(zone, names_zone_)
        if not path:
            return self.server if zone == names_zone_ else None
        return self.resolvers.get((path[0], zone))


def _dnsmasq(daemons: Daemons, label: str, namespace: Namespace, config: str) -> None:
    path = daemons.path(f"{label}.conf")
    path.write_text(config, "utf-8")
    daemons.start(
        label,
        namespace,
        [
            "dnsmasq",
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            "--bind-interfaces",
            "--pid-file=",
            # no switch of user or group: the kernel would drop the lab's PDEATHSIG
            "--user=root",
            "--group=root",
            "--log-facility=-",
            f"--conf-file={path}",
        ],
        listens=("udp", DNS_PORT),
    )


def names_zone(site: SiteView, addresses: AddressPlan) -> str | None:
    """Where the lab's DNS server runs: the Internet zone, else the zone of a name."""
    internet = site.internet
    return internet or next(iter(addresses.name_zones.values()), None)


def start_name_service(
    site: SiteView,
    lab: LabTopology,
    addresses: AddressPlan,
    dnsmasq_lines: Mapping[str, str],
    daemons: Daemons,
) -> NameService:
    """Start the DNS server and every firewall's dnsmasq (``dnsmasq_lines``: firewall ->
    the lines ``rules --dnsmasq`` writes for it); the caller waits until they listen."""
    service = NameService()
    zone = names_zone(site, addresses)
    if zone is None or not addresses.names:
        return service
    server = addresses.transit[zone].zone_address(4)
    service.server = server
    by_name: dict[str, list[str]] = {}
    for (name, _family_of), address in sorted(addresses.names.items(), key=lambda item: item[0][1]):
        by_name.setdefault(name, []).append(address)
    records = [f"host-record={name},{','.join(found)}" for name, found in by_name.items()]
    _dnsmasq(
        daemons,
        "dns-server",
        lab.zones[zone],
        "\n".join([f"listen-address={server}", f"local-ttl={LOCAL_TTL}", *records]) + "\n",
    )
    graph = site.topology.graph
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
        _dnsmasq(
            daemons,
            f"dnsmasq-{firewall.name}",
            lab.firewalls[firewall.name],
            "\n".join([*listen, f"server={upstream}", lines]) + "\n",
        )
    return service


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
    from flowmatrix.rules.dns_pins import resolve

    wanted: dict[tuple[str, str], dict[str, set[int]]] = {}
    for position, case in enumerate(cases):
        if case.name is None or case.via is not None:
            continue  # through the proxy: the proxy resolves it
        key = (case.source_zone, case.firewalls[0])
        wanted.setdefault(key, {}).setdefault(case.name, set()).add(position)
    problems: dict[int, str] = {}

    def ask(zone: str, firewall: str, names: dict[str, set[int]]) -> None:
        resolver = service.resolvers.get((firewall, zone))
        if resolver is None:
            for positions in names.values():
                why = _("no dnsmasq of {firewall} in {zone}").format(firewall=firewall, zone=zone)
                problems.update(dict.fromkeys(positions, why))
            return
        needs = {n: {_family(cases[p]) for p in positions} for n, positions in names.items()}
        answers, failures = run_in_netns(lab.zones[zone].name, lambda: resolve(needs, resolver))
        for failure in failures:
            why = _("{name} did not resolve through {firewall}'s dnsmasq: {reason}").format(
                name=failure.name, firewall=firewall, reason=failure.reason
            )
            problems.update(dict.fromkeys(names[failure.name], why))
        for name, answer in answers.items():
            for position in names[name]:
                case = cases[position]
                got = answer.addresses(_family(case))
                if case.destination_address not in got:
                    problems[position] = _(
                        "{name} resolved through {firewall}'s dnsmasq to "
                        "{addresses}, not its lab address {address}"
                    ).format(
                        name=name,
                        firewall=firewall,
                        addresses=", ".join(got) or _("no address"),
                        address=case.destination_address,
                    )

    each_at_once([functools.partial(ask, *key, names) for key, names in wanted.items()])
    return problems

"""The site's address translations in the lab: what a probe sends to, and the source
address its destination sees.

* A flow through a published address (destination NAT) is probed at the address its
  source sends to (``Flow.sent``: the public one); its listener stays on the host's own
  address, which only the firewall's ``dnat`` rule leads to. The public addresses are on
  no bridge: the outside zone routes them to the firewall (``AddressPlan.routed``).
* Through a source NAT, the destination sees the translated source: the public address,
  or for a masquerade the firewall's own (transit) address on the outside. Every case
  gets it from its path, the translations applying as the rules apply them.
* A case probing a public address is recognised at its listener by its marker: its
  source does not tell it from the other cases to the same host and port.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from flowmatrix.lab.addressing import AddressPlan
from flowmatrix.model import Flow, Nat, Plan
from flowmatrix.rules.natrules import in_rule_order

if TYPE_CHECKING:  # the cases ask this module what their probes send to
    from flowmatrix.lab.cases import Case


def sent_addresses(flow: Flow, addresses: AddressPlan) -> dict[str, str]:
    """Lab address of a destination host -> the address the flow's source sends to,
    where a translation on the way publishes it."""
    found: dict[str, str] = {}
    if not flow.nat:
        return found
    for own, sent in zip(flow.destination.hosts, flow.sent().hosts, strict=True):
        for address, public in zip(own.addresses, sent.addresses, strict=True):
            if address != public:
                found[addresses.representative.get(address, address)] = public
    return found


def _single(text: str) -> str:
    """An address as the kernel writes it ("" stays "": a masquerade)."""
    return str(ipaddress.ip_network(text, strict=False).network_address) if text else ""


def _translates(nat: Nat, source: str) -> bool:
    """Whether the source translation ``nat`` matches packets from ``source``."""
    address = ipaddress.ip_address(source)
    if not nat.masquerade and ipaddress.ip_address(_single(nat.public)).version != address.version:
        return False  # its rule is of the public address's family
    for text in nat.private:
        network = ipaddress.ip_network(text, strict=False)
        if network.version == address.version and address in network:
            return True
    return False


def with_translated_sources(
    plan: Plan, addresses: AddressPlan, cases: Sequence[Case]
) -> list[Case]:
    """``cases``, each with the source its destination sees when a translation on its
    path changes it (``seen_from``). The transit networks must be planned: a masquerade
    leaves as the firewall's transit address on the outside."""
    site = plan.site
    leaving: dict[str, list[Nat]] = {}
    for nat in in_rule_order(site, plan.nat):
        if nat.kind == "source":
            leaving.setdefault(nat.firewall, []).append(nat)
    if not leaving:
        return list(cases)
    index = {f.name: i for i, f in enumerate(site.firewalls)}
    found: list[Case] = []
    for case in cases:
        source = case.source_address
        zones = None
        if case.via is None and any(f in leaving for f in case.firewalls):
            zones = site.topology.walk(case.source_zone, case.destination_zone, case.firewalls)
        for at, firewall in enumerate(case.firewalls if zones else ()):
            assert zones is not None
            applied = next(
                (
                    n
                    for n in leaving.get(firewall, ())
                    if n.outside == zones[at + 1] and _translates(n, source)
                ),
                None,
            )
            if applied is not None:
                transit = addresses.transit[applied.outside]
                own = transit.firewall_address(6 if ":" in source else 4, index[firewall])
                source = _single(applied.public) or own
        found.append(case if source == case.source_address else replace(case, seen_from=source))
    return found

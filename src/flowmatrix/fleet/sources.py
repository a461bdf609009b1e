"""Which site hosts must run probes: the sources of planned flows, and how to reach them."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from flowmatrix.i18n import _
from flowmatrix.model import Flow, Plan
from flowmatrix.site_view import Host


@dataclass(frozen=True, slots=True)
class SourceHost:
    """A site host that is the source of at least one planned flow."""

    name: str
    """The site's host name: the inventory host name and ``flowmatrix_host``."""
    roles: tuple[str, ...]
    """Its roles: it is in the inventory group of each."""
    connect_to: str | None
    """``ansible_host``: the first single address, else the FQDN; None if neither."""
    flows: tuple[Flow, ...]
    """The planned flows this host is a source of, in plan order."""

    @property
    def reachable(self) -> bool:
        return self.connect_to is not None

    @property
    def why_not(self) -> str:
        """Why the host cannot be in the inventory (empty when it can)."""
        if self.reachable:
            return ""
        return _("its addresses are networks and it has no fqdn: no single machine to run on")


def _single_address(text: str) -> str | None:
    network = ipaddress.ip_network(text, strict=False)
    if network.num_addresses == 1:
        return str(network.network_address)
    return None


def connect_address(host: Host) -> str | None:
    """The first single address of ``host`` (plain addresses, then NSIP, VIP, SNIP), or its FQDN."""
    for address in host.all_addresses():
        single = _single_address(address)
        if single is not None:
            return single
    return host.fqdn


def source_hosts(plan: Plan) -> tuple[SourceHost, ...]:
    """Every site host that sources a planned flow, in site order."""
    by_name: dict[str, list[Flow]] = {}
    for flow in plan.flows:
        for ref in flow.source.hosts:
            by_name.setdefault(ref.name, []).append(flow)
    return tuple(
        SourceHost(host.name, host.role_ids, connect_address(host), tuple(by_name[host.name]))
        for host in plan.site.hosts
        if host.name in by_name
    )

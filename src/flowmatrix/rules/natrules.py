"""A firewall's address translations as the Linux targets write them (nftables and
iptables both render from here): one rule per translation and address family.

* a published address (static destination NAT): packets that enter by the outside
  interface to the public address, on the published ports (TCP and UDP: the site names
  ports, not protocols) or on every port, go to the host's address;
* a source NAT: packets from the translated networks (the zone's, or the host's
  addresses) that leave by the outside interface leave as the public address, or as the
  firewall's own address there (masquerade, in every family the networks have);
* without the outside interface (the site does not name it), a translation matches its
  addresses only, on every interface; the output says so.

The forward filter sees the private addresses (after destination NAT, before source
NAT), as its rules already expect.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from flowmatrix.model import Nat, NatKind
from flowmatrix.rules.firewall_view import FAMILIES, Family, NatSpec, Selection
from flowmatrix.rules.grouping import PortRanges
from flowmatrix.rules.text import clean_text
from flowmatrix.site_view import SiteView

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network
#: Protocols a published port list is translated for.
PROTOCOLS = ("tcp", "udp")


@dataclass(frozen=True, slots=True)
class Translation:
    """One translation in one address family, as a rule matches and rewrites it."""

    kind: NatKind
    family: Family
    interface: str | None
    """The outside interface: ``iifname`` (destination) or ``oifname`` (source)."""
    public: str
    """destination: the public address; source: the address it leaves as ("" for a
    masquerade)."""
    to: str = ""
    """destination: the host's address."""
    sources: tuple[IPNet, ...] = ()
    """source: the networks translated."""
    ports: PortRanges | None = None
    """destination: the published ports (None: every port)."""
    text: str = ""
    """What the translation is (``Nat.describe``), safe for a comment."""

    @property
    def masquerade(self) -> bool:
        return self.kind == "source" and not self.public


@dataclass(frozen=True)
class NatRules:
    """What the translations of a selection become."""

    translations: tuple[Translation, ...] = ()
    """Destination translations first, then source ones, in the selection's order."""
    not_rendered: tuple[str, ...] = ()
    """One line per translation no rule can express, and why."""
    address_only: tuple[str, ...] = ()
    """Outside zones the site gives no interface of the firewall on."""
    count: int = 0
    """Translations of the selection that have a rule."""

    def of(self, kind: NatKind, family: Family | None = None) -> list[Translation]:
        return [
            t
            for t in self.translations
            if t.kind == kind and (family is None or t.family == family)
        ]

    @property
    def note(self) -> str | None:
        """The comment for translations that match addresses only, if any do."""
        if not self.address_only:
            return None
        zones = ", ".join(self.address_only)
        return (
            f"no interface on the outside ({zones}) in the site: these translations match "
            "addresses only, on every interface"
        )


def in_rule_order(site: SiteView, translations: Iterable[Nat]) -> list[Nat]:
    """``translations`` in the order the rules apply them: site order, the source
    translations of zones after those of hosts (the first one that matches a packet
    applies, and a host's is the more specific)."""
    zones = {z.name for z in site.zones}
    return sorted(translations, key=lambda n: n.kind == "source" and n.subject in zones)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_network(text, strict=False).network_address


def _collapsed(texts: tuple[str, ...]) -> dict[Family, tuple[IPNet, ...]]:
    v4: list[ipaddress.IPv4Network] = []
    v6: list[ipaddress.IPv6Network] = []
    for text in texts:
        net = ipaddress.ip_network(text, strict=False)
        if isinstance(net, ipaddress.IPv4Network):
            v4.append(net)
        else:
            v6.append(net)
    return {
        4: tuple(ipaddress.collapse_addresses(v4)),
        6: tuple(ipaddress.collapse_addresses(v6)),
    }


def _of(spec: NatSpec) -> tuple[list[Translation], str | None]:
    """The translations of ``spec`` (one per family), or why there is none."""
    nat = spec.nat
    text = clean_text(nat.describe())
    if nat.kind == "destination":
        public, private = _address(nat.public), _address(nat.private[0])
        if public.version != private.version:
            return [], f"{text}: not rendered: the two addresses are of different families"
        ports = nat.ports.ranges if nat.ports is not None else None
        family: Family = 4 if public.version == 4 else 6
        made = Translation(
            "destination", family, spec.interface, str(public), str(private), ports=ports, text=text
        )
        return [made], None
    networks = _collapsed(nat.private)
    families = FAMILIES if nat.masquerade else ((4 if _address(nat.public).version == 4 else 6),)
    leaves_as = str(_address(nat.public)) if nat.public else ""
    found = [
        Translation(
            "source", family, spec.interface, leaves_as, sources=networks[family], text=text
        )
        for family in families
        if networks[family]
    ]
    if not found:
        where = " or ".join(f"IPv{f}" for f in families)
        return [], f"{text}: not rendered: {nat.subject} has no {where} address to match"
    return found, None


def nat_rules(selection: Selection) -> NatRules:
    """The rules of the selection's translations (none for a host or a firewall
    without translations)."""
    if not selection.nat:
        return NatRules()
    made: list[Translation] = []
    skipped: list[str] = []
    count = 0
    for spec in selection.nat:
        found, problem = _of(spec)
        made.extend(found)
        count += bool(found)
        if problem is not None:
            skipped.append(problem)
    made.sort(key=lambda t: t.kind == "source")  # stable: the selection's order within a kind
    unknown = tuple(dict.fromkeys(s.nat.outside for s in selection.nat if s.interface is None))
    return NatRules(tuple(made), tuple(skipped), unknown, count)

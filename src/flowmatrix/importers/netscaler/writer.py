"""Deployment -> a commented site file (format 2; ``--merge`` writes the form of the
site it fills, format 1 or 2).

Every inferred item carries an end-of-line comment naming the ns.conf line it came
from; what ns.conf cannot know is a ``TODO`` comment (with a commented-out example).
XenMobile published through NetScaler load balancing becomes ``publish: {xenmobile:
netscaler-lb}``; what no site format says (where syslog leaves from...) is written as
comments (``notes``).
"""

from __future__ import annotations

import io
import ipaddress
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from flowmatrix.i18n import N_, _
from flowmatrix.importers.netscaler.deployment import (
    BackEnd,
    Deployment,
    Network,
    Origin,
    site_name,
)
from flowmatrix.site import SITE_VERSION, IPNetwork

NETSCALER_ROLE = "netscaler-gateway"
#: Roles XenMobile needs that an ns.conf cannot show, with a commented-out example each.
TODO_ROLES: tuple[tuple[str, str], ...] = (
    ("sql-server", N_("XenMobile's database (feature remote-sql)")),
    ("smtp-server", N_("e-mail notifications (feature smtp)")),
    ("devices-lan", N_("the internal device networks (LAN and Wi-Fi)")),
    ("admin-browser", N_("the administrators' workstations (console on 4443)")),
    ("license-server", N_("an external Citrix license server (feature license-server)")),
)
_PLACEHOLDER_ZONE = "192.0.2.0/24"


def _collapse(networks: list[IPNetwork]) -> list[str]:
    v4 = [n for n in networks if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in networks if isinstance(n, ipaddress.IPv6Network)]
    return [str(n) for n in (*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6))]


def _flow_list(items: list[str]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


def _comment(origins: list[Origin]) -> str:
    shown = "; ".join(o.text() for o in origins[:3])
    more = _(" (+{n} more)").format(n=len(origins) - 3) if len(origins) > 3 else ""
    return shown + more


class _Zones:
    """The zones of the draft: the Internet, the NetScaler's subnets, routed networks, and a
    guessed zone for back-end addresses no route covers."""

    def __init__(self, deployment: Deployment) -> None:
        self.items: list[tuple[str, list[str], str, str]] = []  # name, cidrs, kind, comment
        self.networks: list[tuple[IPNetwork, str]] = []
        self.default_route: Network | None = None
        own = routed = 0
        for network in deployment.networks:
            if network.kind == "default":
                self.default_route = self.default_route or network
                continue
            if network.kind == "own":
                own += 1
                name = "dmz" if own == 1 else f"dmz-{own}"
                note = _("{origin}: the NetScaler's subnet").format(origin=network.origin.text())
            else:
                routed += 1
                name = site_name(f"via-{network.gateway}", f"routed-{routed}")
                note = _("{origin}: networks routed through {gateway}").format(
                    origin=network.origin.text(), gateway=network.gateway
                )
            self._add(name, list(network.cidrs), network.kind, note)
        self.guessed: list[str] = []

    def _add(self, name: str, cidrs: list[str], kind: str, note: str) -> None:
        self.items.append((name, cidrs, kind, note))
        for cidr in cidrs:
            self.networks.append((ipaddress.ip_network(cidr), name))

    def zone_of(self, address: str) -> str | None:
        net = ipaddress.ip_network(address)
        for candidate, name in self.networks:
            if candidate.version == net.version and net.subnet_of(candidate):  # type: ignore[arg-type]
                return name
        return None

    def cover(self, addresses: list[str]) -> None:
        """Put back-end addresses no zone holds into a guessed zone (a /24 or /64 each)."""
        guesses: list[IPNetwork] = []
        for address in addresses:
            if self.zone_of(address) is not None:
                continue
            ip = ipaddress.ip_address(address)
            wide = ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 64}", strict=False)
            clash = any(wide.version == n.version and wide.overlaps(n) for n, _ in self.networks)
            guesses.append(ipaddress.ip_network(ip) if clash else wide)
        if guesses:
            collapsed = _collapse(guesses)
            self._add(
                "internal",
                collapsed,
                "guessed",
                _("TODO: guessed networks around back-end servers that no route covers"),
            )

    def cover_netscaler(self, addresses: list[str]) -> None:
        """The NetScaler's addresses that no subnet of ns.conf holds: a guessed /24 each."""
        guesses = []
        for address in addresses:
            if self.zone_of(address) is None:
                ip = ipaddress.ip_address(address)
                guesses.append(
                    ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 64}", strict=False)
                )
        if guesses:
            collapsed = _collapse(guesses)
            name = "dmz" if not self.own() else f"dmz-{len(self.own()) + 1}"
            self._add(
                name,
                collapsed,
                "own",
                _("TODO: guessed from the NetScaler's addresses (no netmask)"),
            )

    def internal(self) -> list[str]:
        return [name for name, _, kind, _ in self.items if kind != "own"]

    def own(self) -> list[str]:
        return [name for name, _, kind, _ in self.items if kind == "own"]

    def placeholder(self) -> str:
        """A zone for hosts known only by name: the first internal zone, or a new one."""
        internal = self.internal()
        if internal:
            return internal[0]
        self._add(
            "internal",
            [_PLACEHOLDER_ZONE],
            "guessed",
            _("TODO: placeholder network (documentation range): put the real one here"),
        )
        return "internal"


def set_role(entry: CommentedMap, role: str, version: int) -> None:
    """The host's role in the form of site format ``version``: ``role: X`` (1) or
    ``roles: [X]`` (2)."""
    if version >= 2:
        entry["roles"] = _flow_list([role])
    else:
        entry["role"] = role


def has_role(host: object, role: str) -> bool:
    """Whether a host entry of either format has ``role``."""
    if not isinstance(host, dict):
        return False
    roles = host.get("roles")
    return host.get("role") == role or (isinstance(roles, list) and role in roles)


def _host_entry(host: BackEnd, placeholder: _Zones, version: int) -> CommentedMap:
    entry = CommentedMap()
    entry["name"] = host.name
    set_role(entry, host.role, version)
    if host.endpoint.address:
        entry["addresses"] = _flow_list([host.endpoint.address])
        entry.yaml_add_eol_comment(_comment(host.origins), "addresses")
    else:
        entry["fqdn"] = host.endpoint.fqdn
        entry["zone"] = placeholder.placeholder()
        entry.yaml_add_eol_comment(_comment(host.origins), "fqdn")
        entry.yaml_add_eol_comment(_("TODO: ns.conf names it only; add 'addresses:'"), "zone")
    return entry


def netscaler_entry(deployment: Deployment, name: str, version: int = SITE_VERSION) -> CommentedMap:
    """The NetScaler host: its NSIP, VIPs, SNIPs and AAA address, each commented."""
    ns = CommentedMap()
    ns["nsip"] = deployment.nsip.address
    ns.yaml_add_eol_comment(deployment.nsip.origin.text(), "nsip")
    if deployment.vips:
        ns["vip"] = _flow_list([v.address for v in deployment.vips])
        ns.yaml_add_eol_comment(_comment([v.origin for v in deployment.vips]), "vip")
    if deployment.snips:
        ns["snip"] = _flow_list([s.address for s in deployment.snips])
        ns.yaml_add_eol_comment(_comment([s.origin for s in deployment.snips]), "snip")
    if deployment.aaa is not None:
        ns["aaa"] = deployment.aaa.address
        ns.yaml_add_eol_comment(deployment.aaa.origin.text(), "aaa")
    entry = CommentedMap()
    entry["name"] = name
    set_role(entry, NETSCALER_ROLE, version)
    entry["netscaler"] = ns
    return entry


def netscaler_addresses(deployment: Deployment) -> list[str]:
    found = [deployment.nsip.address, *(v.address for v in deployment.vips)]
    found += [s.address for s in deployment.snips]
    if deployment.aaa is not None:
        found.append(deployment.aaa.address)
    return list(dict.fromkeys(found))


def netscaler_name(deployment: Deployment, taken: set[str]) -> str:
    base = site_name(deployment.hostname or "netscaler", "netscaler")
    name, number = base, 1
    while name in taken:
        number += 1
        name = f"{base[:58]}-{number}"
    return name


def host_entries(
    deployment: Deployment, zones: _Zones, version: int = SITE_VERSION
) -> list[CommentedMap]:
    return [_host_entry(h, zones, version) for h in deployment.hosts]


def publication_text(deployment: Deployment) -> list[str]:
    """Each lb vserver that publishes XenMobile, with its line."""
    return [
        _(
            "lb vserver {vserver} {protocol} {address}:{port} -> XenMobile port(s) "
            "{ports} ({origin})"
        ).format(
            vserver=p.vserver,
            protocol=p.protocol,
            address=p.address,
            port=p.port,
            ports=", ".join(map(str, p.backend_ports)),
            origin=p.origin.text(),
        )
        for p in deployment.publications
    ]


def publish_map(deployment: Deployment) -> CommentedMap:
    """``publish: {xenmobile: netscaler-lb}`` when ns.conf publishes XenMobile through an
    lb vserver (empty otherwise), the vservers in its comment."""
    publish = CommentedMap()
    if deployment.publications:
        publish["xenmobile"] = "netscaler-lb"
        publish.yaml_add_eol_comment("; ".join(publication_text(deployment)), "xenmobile")
    return publish


def notes_text(deployment: Deployment, version: int = SITE_VERSION) -> list[str]:
    """What the site file cannot say, as comment lines."""
    lines: list[str] = []
    if version < 2 and deployment.publications:
        lines += [
            _("XenMobile is published through NetScaler load balancing: {vservers}.").format(
                vservers=text
            )
            for text in publication_text(deployment)
        ]
        lines.append(
            _(
                "Site format 1 cannot say so: the plan shows devices reaching XenMobile "
                "directly; format 2 does ({publish}, {upgrade})."
            ).format(
                publish="'publish: {xenmobile: netscaler-lb}'", upgrade="'flowmatrix site upgrade'"
            )
        )
    for text, origin in deployment.notes:
        lines.append(f"{text}" + (f" ({origin.text()})" if origin else "") + ".")
    return lines


def features_map(deployment: Deployment) -> CommentedMap:
    features = CommentedMap()
    for feature, (value, origin) in sorted(deployment.features.items()):
        features[feature] = value
        features.yaml_add_eol_comment(
            origin.text() if origin is not None else _("no such action in ns.conf"), feature
        )
    return features


def choices_map(deployment: Deployment) -> CommentedMap:
    choices = CommentedMap()
    for requirement, (port, origin) in sorted(deployment.choices.items()):
        choices[requirement] = port
        choices.yaml_add_eol_comment(origin.text(), requirement)
    return choices


def _todo_block(deployment: Deployment) -> str:
    present = {h.role for h in deployment.hosts}
    lines = [_("TODO: what ns.conf cannot know (XenMobile's own dependencies, devices):")]
    for role, why in TODO_ROLES:
        if role not in present:
            lines.append(
                f"  - {{name: {role.split('-')[0]}1, roles: [{role}], addresses: [ADDRESS]}}"
                f"  # {_(why)}"
            )
    lines.append(_("APNs, FCM and the app stores need no host: they come from the catalog."))
    return "\n".join(lines)


def draft_document(deployment: Deployment) -> CommentedMap:
    """The site draft as a ruamel round-trip tree (comments attached)."""
    zones = _Zones(deployment)
    zones.cover_netscaler(netscaler_addresses(deployment))
    zones.cover([h.endpoint.address for h in deployment.hosts if h.endpoint.address])
    host_list = host_entries(deployment, zones)  # may add the placeholder zone
    ns_name = netscaler_name(deployment, {h.name for h in deployment.hosts})
    doc = CommentedMap()
    doc["version"] = SITE_VERSION
    doc["name"] = f"{deployment.hostname or 'NetScaler'} (imported from ns.conf)"
    doc["catalog"] = "xenmobile-10"
    zone_seq = CommentedSeq()
    internet = CommentedMap([("name", "internet"), ("internet", True)])
    if zones.default_route is not None:
        internet.yaml_add_eol_comment(
            _("{origin} (default route via {gateway})").format(
                origin=zones.default_route.origin.text(), gateway=zones.default_route.gateway
            ),
            "internet",
        )
    zone_seq.append(internet)
    for name, cidrs, _kind, note in zones.items:
        zone = CommentedMap([("name", name), ("cidrs", _flow_list(cidrs))])
        zone.yaml_add_eol_comment(note, "cidrs")
        zone_seq.append(zone)
    doc["zones"] = zone_seq
    doc["firewalls"] = _firewalls(zones)
    publish = publish_map(deployment)
    if publish:
        doc["publish"] = publish
    hosts = CommentedSeq([netscaler_entry(deployment, ns_name), *host_list])
    doc["hosts"] = hosts
    doc["features"] = features_map(deployment)
    if deployment.choices:
        doc["choices"] = choices_map(deployment)
    doc.yaml_set_start_comment(
        _(
            "Site drafted by 'flowmatrix import netscaler' from {file}.\n"
            "Each item names the ns.conf line it comes from; TODO marks what ns.conf cannot know."
        ).format(file=deployment.file)
    )
    doc.yaml_set_comment_before_after_key("firewalls", before=_firewall_note(), indent=0)
    doc.yaml_set_comment_before_after_key("features", before=_todo_block(deployment), indent=0)
    notes = notes_text(deployment)
    if notes:
        doc.yaml_set_comment_before_after_key(
            "hosts",
            before="\n".join([_("Read from ns.conf, not expressible in the site file:"), *notes]),
            indent=0,
        )
    return doc


def _firewall_note() -> str:
    return _(
        "TODO: ns.conf does not know the firewalls: fw-front stands for the one between the\n"
        "Internet and the NetScaler, fw-back for the one behind it. Rename, add interfaces."
    )


def _firewalls(zones: _Zones) -> CommentedSeq:
    own = zones.own() or ["dmz"]
    firewalls = CommentedSeq()
    firewalls.append(
        CommentedMap([("name", "fw-front"), ("zones", _flow_list(["internet", *own]))])
    )
    internal = zones.internal()
    if internal:
        firewalls.append(
            CommentedMap([("name", "fw-back"), ("zones", _flow_list([*own, *internal]))])
        )
    return firewalls


def dump(document: Any) -> str:
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(document, out)
    text = out.getvalue()
    return text if text.endswith("\n") else text + "\n"


def write_site(deployment: Deployment) -> str:
    """The site draft's text."""
    return dump(draft_document(deployment))

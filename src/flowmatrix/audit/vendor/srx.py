"""Juniper SRX (Junos ``show configuration``, hierarchical or ``display set``) as IR.

A packet from zone A to zone B meets the policies of the context ``from-zone A to-zone
B`` in order, then the global policies, then the default policy (``deny-all`` unless
``permit-all`` is set); traffic within a zone needs a policy ``from-zone A to-zone A``
too. Addresses come from the global and the zones' address books (``address-set``
nested, ``dns-name`` as an FQDN, ``wildcard-address``); applications from custom ones
(terms included), application sets and the predefined ``junos-*`` ones. Static and
destination NAT happen before the policies, which see the translated destination;
source NAT after them (see ``docs/audit.md``).

Size: one vendor's configuration in its two forms (hierarchical, ``display set``) read
into one tree, then its zones, address books, applications, policies and NAT.
"""

from __future__ import annotations

import ipaddress

from flowmatrix.audit.device import ZONE_PREFIX, Device, DeviceInterface, Translation
from flowmatrix.audit.ir import IfaceMatch, Match, Origin, Ruleset
from flowmatrix.audit.ranges import Ivs
from flowmatrix.audit.vendor import wildcard
from flowmatrix.audit.vendor.build import Assembly
from flowmatrix.audit.vendor.policy import Addresses, Policy, Service
from flowmatrix.audit.vendor.shared import (
    Nesting,
    Notes,
    address_range,
    interface_network,
    network,
    other_family,
    port_range,
)
from flowmatrix.audit.vendor.tree import Node, read_braces, read_set
from flowmatrix.i18n import _

TABLE = "srx"
_PROTOS = {
    "tcp": 6,
    "udp": 17,
    "icmp": 1,
    "icmp6": 58,
    "sctp": 132,
    "gre": 47,
    "esp": 50,
    "ah": 51,
    "ospf": 89,
}
_PORT_NAMES = {
    "ftp": 21,
    "ssh": 22,
    "telnet": 23,
    "smtp": 25,
    "domain": 53,
    "dns": 53,
    "tftp": 69,
    "http": 80,
    "pop3": 110,
    "ntp": 123,
    "imap": 143,
    "snmp": 161,
    "ldap": 389,
    "https": 443,
    "syslog": 514,
    "ldaps": 636,
    "radius": 1812,
    "radacct": 1813,
    "ms-sql": 1433,
}


def _app(proto: str, port: str | None = None) -> tuple[Service, ...]:
    number = _PROTOS[proto]
    dport = port_range(port) if port else None
    return (Service(frozenset({number}), None, dport),)


#: The predefined applications a XenMobile site uses most (Junos ``junos-*``).
PREDEFINED: dict[str, tuple[Service, ...]] = {
    "any": (Service(),),
    "junos-http": _app("tcp", "80"),
    "junos-https": _app("tcp", "443"),
    "junos-ssh": _app("tcp", "22"),
    "junos-telnet": _app("tcp", "23"),
    "junos-ftp": _app("tcp", "21"),
    "junos-smtp": _app("tcp", "25"),
    "junos-dns-udp": _app("udp", "53"),
    "junos-dns-tcp": _app("tcp", "53"),
    "junos-ldap": _app("tcp", "389"),
    "junos-ntp": _app("udp", "123"),
    "junos-radius": _app("udp", "1812"),
    "junos-radacct": _app("udp", "1813"),
    "junos-ms-sql": _app("tcp", "1433"),
    "junos-pop3": _app("tcp", "110"),
    "junos-imap": _app("tcp", "143"),
    "junos-imaps": _app("tcp", "993"),
    "junos-syslog": _app("udp", "514"),
    "junos-snmp-get": _app("udp", "161"),
    "junos-tftp": _app("udp", "69"),
    "junos-ike": _app("udp", "500"),
    "junos-icmp-all": _app("icmp"),
    "junos-icmp-ping": (Service(frozenset({1}), depends="ICMP type echo-request"),),
    "junos-icmp6-all": _app("icmp6"),
    "junos-gre": _app("gre"),
}


def _tree(text: str, notes: Notes) -> Node:
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", "/*", "*")):
            continue
        if line.split()[0] in ("set", "deactivate", "delete", "activate"):
            return read_set(text, notes)[0]
        break
    return read_braces(text, notes)


def _ports(text: str | None) -> Ivs | None:
    if text is None:
        return None
    text = text.strip()
    if text.isdigit() or "-" in text:
        return port_range(text)
    value = _PORT_NAMES.get(text)
    return ((value, value),) if value is not None else None


class _Reader:
    def __init__(self, root: Node, notes: Notes) -> None:
        self.root = root
        self.notes = notes
        self.interfaces: dict[str, DeviceInterface] = {}
        self.zones: dict[str, tuple[str, ...]] = {}
        self.books: dict[str | None, dict[str, Addresses]] = {None: {}}
        self.applications: dict[str, tuple[Service, ...]] = dict(PREDEFINED)
        self.applications["junos-icmp-ping"] = (
            Service(frozenset({1}), depends=_("ICMP type {type}").format(type="echo-request")),
        )

    # -- interfaces, zones ----------------------------------------------------------------

    def read_interfaces(self) -> None:
        for name, node in self.root.items("interfaces"):
            for unit, spec in node.items("unit"):
                addresses = []
                for family in ("inet", "inet6"):
                    for value in spec.names("family", family, "address"):
                        found = interface_network(value)
                        if found:
                            addresses.append(found)
                logical = f"{name}.{unit}"
                self.interfaces[logical] = DeviceInterface(
                    logical, None, tuple(addresses), None, spec.line
                )
        for zone, node in self.root.items("security", "zones", "security-zone"):
            members = node.names("interfaces")
            self.zones[zone] = (*members, ZONE_PREFIX + zone)
            for member in members:
                known = self.interfaces.get(member, DeviceInterface(member))
                self.interfaces[member] = DeviceInterface(
                    member, zone, known.addresses, None, known.line
                )

    def zone(self, name: str) -> IfaceMatch:
        members = self.zones.setdefault(name, (ZONE_PREFIX + name,))
        return IfaceMatch(frozenset(members))

    def default_route(self) -> str | None:
        for prefix, node in self.root.items("routing-options", "static", "route"):
            if prefix not in ("0.0.0.0/0", "::/0"):
                continue
            hop = node.value("next-hop")
            if hop is None:
                continue
            if hop in self.interfaces:
                return hop
            try:
                address = ipaddress.ip_address(hop)
            except ValueError:
                continue
            for iface in self.interfaces.values():
                for text in iface.addresses:
                    if address in ipaddress.ip_interface(text).network:
                        return iface.name
        return None

    # -- address books, applications ------------------------------------------------------

    def read_books(self) -> None:
        books: list[tuple[str | None, Node]] = []
        for _ignored, node in self.root.items("security", "address-book"):
            attached: list[str | None] = list(node.names("attach", "zone")) or [None]
            for zone in attached:
                books.append((zone, node))
        for zone, node in self.root.items("security", "zones", "security-zone"):
            book = node.get("address-book")
            if book is not None:
                books.append((zone, book))
        for scope, node in books:
            table = self.books.setdefault(scope, {})
            for name, spec in node.items("address"):
                table[name] = self._address(name, spec)
            sets = dict(node.items("address-set"))
            for name, spec in sets.items():
                self._set(name, sets, table, Nesting(), spec.line)

    def _address(self, name: str, spec: Node) -> Addresses:
        for key, value in spec.items():
            if key == "wildcard-address":
                text = next(iter(value.kids), "")
                address, _ignored, mask = text.partition("/")
                ivs = wildcard.intervals(address, mask)
                return (
                    Addresses.of(4, ivs)
                    if ivs
                    else Addresses(depends=(_("wildcard address {name!r}").format(name=name),))
                )
            if key == "dns-name":
                return Addresses(names=frozenset({next(iter(value.kids), "").lower().rstrip(".")}))
            if key == "range-address":
                first = next(iter(value.kids), "")
                last = value.get(first, "to")
                found = address_range(first, next(iter(last.kids), "")) if last else None
                return Addresses.of(*found) if found else Addresses()
            found = network(key)
            if found is not None:
                return Addresses.of(*found)
        self.notes.skip(spec.line, _("address {name!r}: cannot read its value").format(name=name))
        return Addresses()

    def _set(
        self,
        name: str,
        sets: dict[str, Node],
        table: dict[str, Addresses],
        nesting: Nesting,
        line: int,
    ) -> Addresses:
        """An address-set of a book, read inside the sets of ``nesting`` (``line``: where
        it is named)."""
        if name in table:
            return table[name]
        node = sets[name]
        cycle = nesting.cycle(name)
        if cycle is not None:
            self.notes.skip(
                line,
                _("address-set {name!r} contains itself: {cycle}").format(name=name, cycle=cycle),
            )
            return Addresses()
        nesting.enter(name)
        found = Addresses()
        for member in node.names("address"):
            found = found.union(self._lookup(member, None, node.line, table))
        for member in node.names("address-set"):
            found = found.union(
                self._set(member, sets, table, nesting, node.line_of("address-set", member))
                if member in sets
                else self._lookup(member, None, node.line, table)
            )
        nesting.leave()
        table[name] = found
        return found

    def _lookup(
        self, name: str, zone: str | None, line: int, table: dict[str, Addresses] | None = None
    ) -> Addresses:
        if name in ("any", "any-ipv4", "any-ipv6"):
            return {
                "any": Addresses.any(),
                "any-ipv4": Addresses.family_any(4),
                "any-ipv6": Addresses.family_any(6),
            }[name]
        for scope in ((table,) if table is not None else ()) + (
            self.books.get(zone, {}),
            self.books[None],
        ):
            if scope and name in scope:
                return scope[name]
        found = network(name)
        if found is not None:
            return Addresses.of(*found)
        self.notes.skip(line, _("address {name!r} is not defined").format(name=name))
        return Addresses()

    def read_applications(self) -> None:
        apps = self.root.get("applications")
        if apps is None:
            return
        for name, spec in apps.items("application"):
            terms = spec.items("term") or [("", spec)]
            found: list[Service] = []
            for _ignored, term in terms:
                attrs = term.leaves()
                proto_name = attrs.get("protocol", [None])[-1]
                if proto_name is None:
                    continue
                proto = _PROTOS.get(proto_name) or (
                    int(proto_name) if proto_name.isdigit() else None
                )
                if proto is None:
                    self.notes.skip(
                        term.line,
                        _("application {name!r}: unknown protocol {protocol!r}").format(
                            name=name, protocol=proto_name
                        ),
                    )
                    continue
                found.append(
                    Service(
                        frozenset({proto}),
                        _ports(attrs.get("source-port", [None])[-1]),
                        _ports(attrs.get("destination-port", [None])[-1]),
                    )
                )
            self.applications[name] = tuple(found)
        sets = dict(apps.items("application-set"))
        nesting = Nesting()

        def resolve(name: str, line: int) -> tuple[Service, ...]:
            if name in self.applications:
                return self.applications[name]
            node = sets.get(name)
            if node is None:
                self.notes.skip(line, _("application {name!r} is not defined").format(name=name))
                return ()
            cycle = nesting.cycle(name)
            if cycle is not None:
                self.notes.skip(
                    line,
                    _("application-set {name!r} contains itself: {cycle}").format(
                        name=name, cycle=cycle
                    ),
                )
                return ()
            nesting.enter(name)
            found = tuple(
                s for member in node.names("application") for s in resolve(member, node.line)
            ) + tuple(
                s
                for member in node.names("application-set")
                for s in resolve(member, node.line_of("application-set", member))
            )
            nesting.leave()
            self.applications[name] = found
            return found

        for name, node in sets.items():
            resolve(name, node.line)

    # -- policies -------------------------------------------------------------------------

    def policy(
        self,
        name: str,
        node: Node,
        key: str,
        asm: Assembly,
        from_zone: str | None,
        to_zone: str | None,
    ) -> None:
        label = f"policy {name}"
        text = f"{label} ({'global' if from_zone is None else f'from-zone {from_zone} to-zone {to_zone}'}): {_summary(node)}"
        if node.inactive:
            self.notes.note(
                _("{file}:{line}: {policy} is deactivated: not evaluated").format(
                    file=self.notes.file, line=node.line, policy=label
                )
            )
            return
        then = node.get("then")
        actions = then.names() if then is not None else []
        action_word = next((a for a in actions if a in ("permit", "deny", "reject")), "deny")
        action = {"permit": "accept", "deny": "drop", "reject": "reject"}[action_word]
        match_node = node.get("match") or Node(node.line)
        match = match_node.leaves()
        line = match_node.line
        src = self._addresses(match, "source-address", from_zone, line)
        dst = self._addresses(match, "destination-address", to_zone, line)
        services: list[Service] = []
        for app in match.get("application") or ["any"]:
            found = self.applications.get(app)
            if found is None:
                self.notes.skip(
                    line,
                    _("{policy}: application {name!r} is not defined").format(
                        policy=label, name=app
                    ),
                )
                continue
            services.extend(found)
        conditions = []
        if node.value("scheduler-name"):
            conditions.append(
                _("scheduler {scheduler!r} ({policy})").format(
                    scheduler=node.value("scheduler-name"), policy=label
                )
            )
        apps = match.get("dynamic-application", [])
        if apps and apps != ["any"] and apps != ["none"]:
            conditions.append(
                _("App-ID {applications} ({rule})").format(applications=", ".join(apps), rule=label)
            )
        identities = match.get("source-identity", [])
        if identities and "any" not in identities:
            conditions.append(
                _("source identity {identities} ({policy})").format(
                    identities=", ".join(identities), policy=label
                )
            )
        iif = oif = None
        if from_zone is None:
            froms, tos = match.get("from-zone", []), match.get("to-zone", [])
            iif = _union([self.zone(z) for z in froms]) if froms and "any" not in froms else None
            oif = _union([self.zone(z) for z in tos]) if tos and "any" not in tos else None
        asm.add(
            key,
            Policy(
                asm.origin(key, node.line, text, label),
                action,  # type: ignore[arg-type]
                action_word,
                src=src,
                dst=dst,
                src_negate=match_node.get("source-address-excluded") is not None,
                dst_negate=match_node.get("destination-address-excluded") is not None,
                services=tuple(services),
                iif=iif,
                oif=oif,
                conditions=tuple(conditions),
            ),
        )

    def _addresses(
        self, match: dict[str, list[str]], key: str, zone: str | None, line: int
    ) -> Addresses:
        found = Addresses()
        for name in match.get(key) or ["any"]:
            found = found.union(self._lookup(name, zone, line))
        return found

    # -- NAT ------------------------------------------------------------------------------

    def translations(self) -> list[Translation]:
        nat = self.root.get("security", "nat")
        if nat is None:
            return []
        out: list[Translation] = []
        pools = {kind: dict(nat.items(kind, "pool")) for kind in ("destination", "source")}
        for kind in ("static", "destination", "source"):
            for set_name, rule_set in nat.items(kind, "rule-set"):
                iif = self._nat_from(rule_set)
                for rule_name, rule in rule_set.items("rule"):
                    label = f"{kind} NAT rule {set_name}/{rule_name}"
                    origin = Origin(self.notes.file, rule.line, label, TABLE, "nat", 0, None, label)
                    out += self._nat_rule(kind, rule, iif, pools, label, origin)
        return out

    def _nat_from(self, rule_set: Node) -> IfaceMatch | None:
        zones = rule_set.names("from", "zone")
        interfaces = rule_set.names("from", "interface")
        parts = [self.zone(z) for z in zones] + [IfaceMatch(frozenset({i})) for i in interfaces]
        return _union(parts) if parts else None

    def _nat_rule(
        self,
        kind: str,
        rule: Node,
        iif: IfaceMatch | None,
        pools: dict[str, dict[str, Node]],
        label: str,
        origin: Origin,
    ) -> list[Translation]:
        match = rule.leaves("match")
        then = rule.get("then") or Node(rule.line)
        dst = Addresses()
        for value in match.get("destination-address", []) + match.get(
            "destination-address-name", []
        ):
            dst = dst.union(self._lookup(value, None, rule.line))
        src = Addresses()
        for value in match.get("source-address", []) + match.get("source-address-name", []):
            src = src.union(self._lookup(value, None, rule.line))
        ports = match.get("destination-port", [])
        dport = _ports(ports[0]) if ports else None
        if len(ports) == 1 and "to" in match and dport is not None:
            high = _ports(match["to"][0])
            if high is not None:
                dport = ((dport[0][0], high[0][1]),)
        out: list[Translation] = []
        if kind == "static":
            target = then.get("static-nat", "prefix") or then.get("static-nat", "prefix-name")
            prefix = next(iter(target.kids), "") if target else ""
            found = network(prefix) if prefix else None
            real = (
                Addresses.of(*found)
                if found
                else self._lookup(prefix, None, rule.line)
                if prefix
                else Addresses()
            )
            for family, ivs in real.by_family.items():
                published = dst.by_family.get(family)
                if published:
                    out.append(
                        Translation(
                            label,
                            "destination",
                            Match(family=family, dst=published, iif=iif),
                            ivs,
                            None,
                            origin,
                        )
                    )
                    out.append(
                        Translation(
                            label, "source", Match(family=family, src=ivs), published, None, origin
                        )
                    )
            return out
        if kind == "destination":
            pool_name = then.value("destination-nat", "pool")
            pool = pools["destination"].get(pool_name or "")
            if pool is None:
                return []
            addresses = pool.names("address")
            real = _pool_addresses(pool)
            port = _ports(
                pool.value("address", addresses[0], "port") if addresses else None
            ) or _ports(pool.value("port"))
            for family, ivs in real.by_family.items():
                published = dst.by_family.get(family)
                if published:
                    m = Match(
                        family=family,
                        dst=published,
                        src=src.by_family.get(family),
                        dport=dport,
                        protos=frozenset({6, 17}) if dport else None,
                        iif=iif,
                    )
                    out.append(
                        Translation(label, "destination", m, ivs, port, origin, one_to_one=False)
                    )
            return out
        snat = then.get("source-nat")
        if snat is None or snat.get("off") is not None:
            return []
        pool_name = snat.value("pool")
        source_pool = pools["source"].get(pool_name) if pool_name else None
        leaves = _pool_addresses(source_pool) if source_pool is not None else Addresses()
        for family in (4, 6):
            if other_family(family, src, dst):
                continue
            out.append(
                Translation(
                    label,
                    "source",
                    Match(
                        family=family,
                        src=src.by_family.get(family),
                        dst=dst.by_family.get(family),
                        iif=iif,
                    ),
                    leaves.by_family.get(family) or None,
                    None,
                    origin,
                    False,
                    readable=not pool_name or source_pool is not None,
                )
            )
        return out


def _pool_addresses(pool: Node) -> Addresses:
    """The addresses of a NAT pool: ``address P;``, ``address { P; }``, ``address P to Q;``."""
    found = Addresses()
    for value in pool.names("address"):
        to = pool.get("address", value, "to")
        last = next(iter(to.kids), "").split("/")[0] if to else ""
        ivs = address_range(value.split("/")[0], last) if to else network(value)
        if ivs:
            found = found.union(Addresses.of(*ivs))
    return found


def _union(parts: list[IfaceMatch]) -> IfaceMatch:
    names: set[str] = set()
    for part in parts:
        names |= part.exact
    return IfaceMatch(frozenset(names))


def _summary(node: Node) -> str:
    match = node.leaves("match")
    parts = []
    for key in ("source-address", "destination-address", "application", "from-zone", "to-zone"):
        values = match.get(key, [])
        if values:
            parts.append(f"{key} {' '.join(values)}")
    then = node.get("then")
    if then is not None:
        parts.append("then " + " ".join(then.names()))
    return "; ".join(parts)


def read_srx(
    text: str, file: str, context: str | None = None, prefer: str | None = None
) -> Ruleset:
    notes = Notes(file)
    if context is not None:
        raise notes.error(None, _("logical systems are not read: give the configuration of one"))
    root = _tree(text, notes)
    reader = _Reader(root, notes)
    reader.read_interfaces()
    reader.read_books()
    reader.read_applications()
    for name in ("logical-systems", "groups"):
        if root.get(name) is not None:
            notes.skip(root.get(name).line, _("{name}: not read").format(name=name))  # type: ignore[union-attr]
    policies = root.get("security", "policies")
    contexts: list[tuple[str, str, Node]] = []
    if policies is not None:
        for from_zone, node in policies.items("from-zone"):
            for to_zone, pair in node.items("to-zone"):
                contexts.append((from_zone, to_zone, pair))
                reader.zone(from_zone)
                reader.zone(to_zone)
    asm = Assembly("srx", file, TABLE)
    key = asm.chain("policies")
    asm.session(key)
    by_pair: dict[tuple[str, str], Node] = {(f, t): n for f, t, n in contexts}
    zones = [z for z in reader.zones if z != "junos-host"]
    for from_zone in zones:
        for to_zone in zones:
            listed = by_pair.get((from_zone, to_zone))
            pair_key = asm.chain(
                f"from-zone {from_zone} to-zone {to_zone}", listed.line if listed else None
            )
            if listed is not None:
                for name, policy in listed.items("policy", inactive=True):
                    reader.policy(name, policy, pair_key, asm, from_zone, to_zone)
            asm.add_rule(
                key,
                Match(iif=reader.zone(from_zone), oif=reader.zone(to_zone)),
                "jump",
                f"from-zone {from_zone} to-zone {to_zone}",
                f"from-zone {from_zone} to-zone {to_zone}",
                target=pair_key,
            )
    global_node = policies.get("global") if policies is not None else None
    if global_node is not None:
        global_key = asm.chain("global", global_node.line)
        for name, policy in global_node.items("policy", inactive=True):
            reader.policy(name, policy, global_key, asm, None, None)
        asm.add_rule(
            key, Match(), "jump", "global policies", _("global policies"), target=global_key
        )
    said = policies.get("default-policy") if policies is not None else None
    default = said.value() if said is not None else None
    default = default or "deny-all"
    asm.add_rule(
        key,
        Match(),
        "accept" if default == "permit-all" else "drop",
        f"default-policy {default}",
        (
            f"default-policy {default}"
            if said is not None
            else _("default-policy {policy} (the default)").format(policy=default)
        ),
        line=said.line if said is not None else None,
    )
    from flowmatrix.audit.vendor.fixwriters import SrxFixes

    device = Device(
        "Juniper SRX",
        tuple(reader.interfaces.values()),
        dict(reader.zones),
        reader.default_route(),
        tuple(reader.translations()),
        "translated",
        None,
        SrxFixes(),
    )
    return asm.ruleset(
        [(key, "forward", 0, "drop")], frozenset({4, 6}), notes.problems, notes.notes, device
    )

"""PAN-OS configurations (running-config XML, ``set`` commands, ``show config``) as IR.

Security rules are evaluated top down (Panorama's shared pre-rules, the vsys' rules,
the shared post-rules), first match; then the default rules: ``intrazone-default``
allows traffic within a zone, ``interzone-default`` denies the rest (both can be
overridden). A rule matches zones by its rule type (universal, intrazone, interzone),
addresses with ``negate-source`` / ``negate-destination``, services
(``application-default`` and named applications depend on App-ID) and is skipped when
``disabled``. Rules see the pre-NAT addresses and the post-NAT zone (see
``docs/audit.md``): NAT rules are read as translations, applied before the rules.

Size: one vendor's configuration in its three forms (XML, ``set``, ``show``) read into one
tree, then its zones, objects, groups, security and NAT rules, which depend on each other.
"""

from __future__ import annotations

from flowmatrix.audit import ranges
from flowmatrix.audit.device import ZONE_PREFIX, Device, DeviceInterface, Translation
from flowmatrix.audit.ir import ActionKind, IfaceMatch, Match, Origin, Ruleset
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
from flowmatrix.audit.vendor.tree import Leaves, Node, read_braces, read_set, read_xml
from flowmatrix.i18n import _

TABLE = "paloalto"
Pair = tuple[IfaceMatch | None, IfaceMatch | None]
_ACTIONS: dict[str, ActionKind] = {
    "allow": "accept",
    "deny": "drop",
    "drop": "drop",
    "reset-client": "reject",
    "reset-server": "reject",
    "reset-both": "reject",
}
PREDEFINED_SERVICES = {
    "service-http": (Service(frozenset({6}), None, ((80, 80), (8080, 8080))),),
    "service-https": (Service(frozenset({6}), None, ((443, 443),)),),
}
_LAYERS = ("layer3", "layer2", "virtual-wire", "tap", "tunnel", "external")


def _tree(text: str, notes: Notes) -> Node:
    stripped = text.lstrip()
    if stripped.startswith("<"):
        return read_xml(text, notes)
    meaningful = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    if meaningful and meaningful[0].split()[0] in ("set", "delete", "move"):
        root, moves = read_set(text, notes, extra=("move",))
        for words, line in moves:
            _move(root, words[1:], line, notes)
        return root
    return read_braces(text, notes)


def _move(root: Node, words: list[str], line: int, notes: Notes) -> None:
    """``move [vsys V] rulebase security rules R top|bottom|before X|after X``."""
    if "rules" not in words:
        notes.skip(line, _("move: cannot read it"))
        return
    at = words.index("rules")
    path, rest = words[: at + 1], words[at + 1 :]
    rules = root.get(*path)
    if rules is None or not rest or rest[0] not in rules.kids:
        notes.skip(line, _("move of {rule!r}: no such rule").format(rule=" ".join(rest[:1])))
        return
    name, where = rest[0], rest[1:]
    node = rules.kids.pop(name)
    order = list(rules.kids.items())
    if where[:1] == ["top"]:
        order.insert(0, (name, node))
    elif where[:1] == ["bottom"]:
        order.append((name, node))
    elif len(where) == 2 and where[0] in ("before", "after") and where[1] in rules.kids:
        index = [n for n, _ in order].index(where[1])
        order.insert(index if where[0] == "before" else index + 1, (name, node))
    else:
        order.append((name, node))
        notes.skip(line, _("move of {rule!r}: cannot read the destination").format(rule=name))
    rules.kids = dict(order)


def _device_node(root: Node) -> tuple[Node, Node | None]:
    """(the device, the shared part) whatever the form's top levels are."""
    top = root.get("config") or root
    shared = top.get("shared")
    devices = top.get("devices")
    if devices is not None and devices.kids:
        return next(iter(devices.kids.values())), shared
    return top, shared


class _Reader:
    def __init__(self, device: Node, vsys: Node, shared: Node | None, notes: Notes) -> None:
        self.device = device
        self.vsys = vsys
        self.shared = shared
        self.notes = notes
        self.addresses: dict[str, Addresses] = {}
        self.services: dict[str, tuple[Service, ...]] = dict(PREDEFINED_SERVICES)
        self.zones: dict[str, tuple[str, ...]] = {}
        self.interfaces: dict[str, DeviceInterface] = {}

    def scopes(self) -> list[Node]:
        return [n for n in (self.vsys, self.shared) if n is not None]

    # -- objects --------------------------------------------------------------------------

    def read_objects(self) -> None:
        for scope in reversed(self.scopes()):  # the vsys' own objects win over shared ones
            for name, node in scope.items("address"):
                self.addresses[name] = self._address(name, node)
        groups: dict[str, Node] = {}
        for scope in reversed(self.scopes()):
            groups.update(dict(scope.items("address-group")))
        for name, node in groups.items():
            self._group(name, groups, Nesting(), node.line)
        service_groups: dict[str, Node] = {}
        for scope in reversed(self.scopes()):
            for name, node in scope.items("service"):
                self.services[name] = self._service(name, node)
            service_groups.update(dict(scope.items("service-group")))
        for name, node in service_groups.items():
            self._service_group(name, service_groups, Nesting(), node.line)

    def _address(self, name: str, node: Node) -> Addresses:
        for kind, value in node.items():
            text = next(iter(value.kids), "")
            if kind == "ip-netmask":
                found = network(text)
            elif kind == "ip-range":
                first, _ignored, last = text.partition("-")
                found = address_range(first, last)
            elif kind == "fqdn":
                return Addresses(names=frozenset({text.lower().rstrip(".")}))
            elif kind == "ip-wildcard":
                address, _ignored, mask = text.partition("/")
                ivs = wildcard.intervals(address, mask, inverted=True)
                return (
                    Addresses.of(4, ivs)
                    if ivs
                    else Addresses(depends=(_("wildcard address {name!r}").format(name=name),))
                )
            else:
                continue
            if found is None:
                self.notes.skip(
                    node.line,
                    _("address {name!r}: cannot read {kind} {value!r}").format(
                        name=name, kind=kind, value=text
                    ),
                )
                return Addresses()
            return Addresses.of(*found)
        self.notes.skip(node.line, _("address {name!r} has no value").format(name=name))
        return Addresses()

    def _group(self, name: str, groups: dict[str, Node], nesting: Nesting, line: int) -> Addresses:
        """An address group, read inside the groups of ``nesting`` (``line``: where it is
        named)."""
        if name in self.addresses:
            return self.addresses[name]
        node = groups[name]
        cycle = nesting.cycle(name)
        if cycle is not None:
            self.notes.skip(
                line,
                _("address group {name!r} contains itself: {cycle}").format(name=name, cycle=cycle),
            )
            return Addresses()
        nesting.enter(name)
        if node.get("dynamic") is not None:
            found = Addresses(depends=(_("dynamic address group {name!r}").format(name=name),))
        else:
            found = Addresses()
            for member in node.names("static"):
                if member != "any" and member not in self.addresses and member in groups:
                    named_at = node.line_of("static", member)
                    found = found.union(self._group(member, groups, nesting, named_at))
                else:
                    found = found.union(self._resolve(member, node.line))
        nesting.leave()
        self.addresses[name] = found
        return found

    def _resolve(self, name: str, line: int) -> Addresses:
        if name == "any":
            return Addresses.any()
        if name in self.addresses:
            return self.addresses[name]
        literal = network(name)
        if literal is None and "-" in name:
            first, _ignored, last = name.partition("-")
            literal = address_range(first, last)
        if literal is not None:
            return Addresses.of(*literal)
        if len(name) == 2 and name.isalpha() and name.isupper():
            return Addresses(depends=(_("region {name}").format(name=name),))
        self.notes.skip(line, _("address {name!r} is not defined").format(name=name))
        return Addresses()

    def _service(self, name: str, node: Node) -> tuple[Service, ...]:
        out = []
        for proto_name, proto in (("tcp", 6), ("udp", 17), ("sctp", 132)):
            spec = node.get("protocol", proto_name)
            if spec is None:
                continue
            attrs = spec.leaves()
            dport = _ports(attrs.get("port", [None])[-1])
            sport = _ports(attrs.get("source-port", [None])[-1])
            out.append(Service(frozenset({proto}), sport, dport))
        if not out:
            self.notes.skip(node.line, _("service {name!r} has no protocol").format(name=name))
        return tuple(out)

    def _service_group(
        self, name: str, groups: dict[str, Node], nesting: Nesting, line: int
    ) -> tuple[Service, ...]:
        """A service group, read inside the groups of ``nesting`` (``line``: where it is
        named)."""
        if name in self.services:
            return self.services[name]
        node = groups[name]
        cycle = nesting.cycle(name)
        if cycle is not None:
            self.notes.skip(
                line,
                _("service group {name!r} contains itself: {cycle}").format(name=name, cycle=cycle),
            )
            return ()
        nesting.enter(name)
        found: list[Service] = []
        for member in node.names("members"):
            if member in groups:
                named_at = node.line_of("members", member)
                found.extend(self._service_group(member, groups, nesting, named_at))
            elif member in self.services:
                found.extend(self.services[member])
            else:
                self.notes.skip(
                    node.line,
                    _("service group {name!r}: member {member!r} is not defined").format(
                        name=name, member=member
                    ),
                )
        nesting.leave()
        self.services[name] = tuple(found)
        return self.services[name]

    # -- interfaces and zones ----------------------------------------------------------

    def read_network(self) -> None:
        interfaces = self.device.get("network", "interface")
        if interfaces is not None:
            for kind, node in interfaces.items():
                for name, spec in node.items():
                    self._interface(name, spec)
                    if kind in ("loopback", "tunnel", "vlan"):
                        continue
        for scope in [self.vsys]:
            for zone, node in scope.items("zone"):
                members: list[str] = []
                for layer in _LAYERS:
                    members += node.names("network", layer)
                self.zones[zone] = (*members, ZONE_PREFIX + zone)
                for member in members:
                    found = self.interfaces.get(member, DeviceInterface(member))
                    self.interfaces[member] = DeviceInterface(
                        member, zone, found.addresses, None, found.line
                    )

    def _interface(self, name: str, spec: Node) -> None:
        for layer in ("layer3", ""):
            base = spec.get(layer) if layer else spec
            if base is None:
                continue
            addresses = []
            for value in base.names("ip"):
                found = interface_network(value)
                if found is None and value in self.addresses:
                    ivs = self.addresses[value].by_family
                    for family, items in ivs.items():
                        low = items[0][0]
                        found = ranges.format_address(low, family) + (
                            "/32" if family == 4 else "/128"
                        )
                if found is not None:
                    addresses.append(found)
            if name not in self.interfaces or addresses:
                self.interfaces[name] = DeviceInterface(
                    name, None, tuple(addresses), None, spec.line
                )
            for unit, unit_spec in base.items("units"):
                self._interface(unit, unit_spec)
            break

    def zone_match(self, zones: list[str]) -> IfaceMatch | None:
        if not zones or "any" in zones:
            return None
        members: set[str] = set()
        for zone in zones:
            members.update(self.zones.get(zone, (ZONE_PREFIX + zone,)))
            self.zones.setdefault(zone, (ZONE_PREFIX + zone,))
        return IfaceMatch(frozenset(members))

    def default_route(self) -> str | None:
        routers = self.device.get("network", "virtual-router")
        if routers is None:
            return None
        for _ignored, router in routers.items():
            for _ignored, route in router.items("routing-table", "ip", "static-route"):
                if route.value("destination") in ("0.0.0.0/0",):
                    iface = route.value("interface")
                    if iface:
                        return iface
        return None

    # -- rules ----------------------------------------------------------------------------

    def addresses_of(self, node: Leaves, key: str) -> Addresses:
        found = Addresses()
        for name in node.names(key) or ["any"]:
            found = found.union(self._resolve(name, node.line))
        return found

    def security_rule(self, name: str, tree: Node, asm: Assembly, key: str) -> None:
        node = Leaves(tree)
        label = f"rule {name!r}"
        text = f"{label}: " + _summary(node)
        if node.value("disabled") == "yes":
            self.notes.note(
                _("{file}:{line}: {rule} is disabled: not evaluated").format(
                    file=self.notes.file, line=node.line, rule=label
                )
            )
            return
        action_word = node.value("action") or "allow"
        action = _ACTIONS.get(action_word, "unknown")
        conditions = list(_conditions(node, label))
        services = self._rule_services(node, label, conditions)
        src = self.addresses_of(node, "source")
        dst = self.addresses_of(node, "destination")
        origin = asm.origin(key, node.line, text, label)
        kind = node.value("rule-type") or "universal"
        sources = node.names("from") or ["any"]
        targets = node.names("to") or ["any"]
        pairs: list[Pair]
        if kind == "intrazone":
            zones = list(self.zones) if "any" in sources else sources
            pairs = [(self.zone_match([z]), self.zone_match([z])) for z in zones]
        elif kind == "interzone":
            pairs = self._interzone(sources, targets)
        else:
            pairs = [(self.zone_match(sources), self.zone_match(targets))]
        for iif, oif in pairs:
            asm.add(
                key,
                Policy(
                    origin,
                    action,
                    action_word,
                    src=src,
                    dst=dst,
                    src_negate=node.value("negate-source") == "yes",
                    dst_negate=node.value("negate-destination") == "yes",
                    services=services,
                    iif=iif,
                    oif=oif,
                    conditions=tuple(conditions),
                ),
            )

    def _interzone(self, sources: list[str], targets: list[str]) -> list[Pair]:
        """Zone pairs of an interzone rule: traffic between two different zones."""
        froms = list(self.zones) if "any" in sources else sources
        out: list[Pair] = []
        for zone in froms:
            here = self.zone_match([zone])
            assert here is not None
            if "any" in targets:
                out.append((here, IfaceMatch(here.exact, (), True)))
            else:
                out += [(here, self.zone_match([t])) for t in targets if t != zone]
        return out

    def _rule_services(
        self, node: Leaves, label: str, conditions: list[str]
    ) -> tuple[Service, ...]:
        names = node.names("service") or ["any"]
        apps = node.names("application") or ["any"]
        if "any" not in apps:
            conditions.append(
                _("App-ID {applications} ({rule})").format(applications=", ".join(apps), rule=label)
            )
        if "any" in names:
            return (Service(),)
        out: list[Service] = []
        for name in names:
            if name == "application-default":
                conditions.append(_("App-ID application-default ports ({rule})").format(rule=label))
                out.append(Service())
                continue
            found = self.services.get(name)
            if found is None:
                self.notes.skip(
                    node.line,
                    _("{rule}: service {name!r} is not defined").format(rule=label, name=name),
                )
                continue
            out.extend(found)
        return tuple(out)

    def nat_rule(self, name: str, tree: Node, asm_file: str) -> list[Translation]:
        node = Leaves(tree)
        if node.value("disabled") == "yes":
            return []
        label = f"NAT rule {name!r}"
        origin = Origin(
            asm_file, node.line, f"{label}: {_summary(node)}", TABLE, "nat", 0, None, label
        )
        service = node.value("service") or "any"
        protos = dport = None
        if service != "any" and self.services.get(service):
            first = self.services[service][0]
            protos, dport = first.protos, first.dport
        src = self.addresses_of(node, "source")
        dst = self.addresses_of(node, "destination")
        iif = self.zone_match(node.names("from"))
        oif = self.zone_match(node.names("to")[-1:])
        out = []
        dnat = node.get("destination-translation")
        if dnat is not None:
            translated = self._resolve(dnat.value("translated-address") or "any", node.line)
            port = _ports(dnat.value("translated-port"))
            for family, ivs in translated.by_family.items():
                match = Match(
                    family=family,
                    src=None if src.everything else src.by_family.get(family),
                    dst=None if dst.everything else dst.by_family.get(family),
                    protos=protos,
                    dport=dport,
                    iif=iif,
                    oif=oif,
                )
                out.append(Translation(label, "destination", match, ivs, port, origin))
        snat = node.get("source-translation")
        if snat is not None:
            for kind, spec in snat.items():
                to = Addresses()
                for value in spec.names("translated-address"):
                    to = to.union(self._resolve(value, node.line))
                for family in (4, 6):
                    if other_family(family, src, dst):
                        continue
                    match = Match(
                        family=family,
                        src=None if src.everything else src.by_family.get(family),
                        dst=None if dst.everything else dst.by_family.get(family),
                        protos=protos,
                        dport=dport,
                        iif=iif,
                        oif=oif,
                    )
                    out.append(
                        Translation(
                            label,
                            "source",
                            match,
                            to.by_family.get(family) or None,
                            None,
                            origin,
                            False,
                        )
                    )
                if kind == "static-ip" and spec.value("bi-directional") == "yes":
                    for family, ivs in to.by_family.items():
                        real = src.by_family.get(family)
                        if real:
                            match = Match(family=family, dst=ivs, iif=oif)
                            out.append(
                                Translation(
                                    f"{label} (bi-directional)",
                                    "destination",
                                    match,
                                    real,
                                    None,
                                    origin,
                                )
                            )
        return out


def _ports(text: str | None) -> ranges.Ivs | None:
    if text is None or text == "any":
        return None
    parts = [port_range(p) for p in text.split(",")]
    if any(p is None for p in parts):
        return None
    return ranges.normalize(iv for p in parts if p for iv in p)


def _conditions(node: Leaves, label: str) -> list[str]:
    out = []
    users = node.names("source-user")
    if users and "any" not in users:
        out.append(_("User-ID {users} ({rule})").format(users=", ".join(users), rule=label))
    categories = node.names("category")
    if categories and "any" not in categories:
        out.append(
            _("URL category {categories} ({rule})").format(
                categories=", ".join(categories), rule=label
            )
        )
    for key in ("source-hip", "destination-hip"):
        values = node.names(key)
        if values and "any" not in values:
            out.append(
                _("HIP profile {profiles} ({rule})").format(profiles=", ".join(values), rule=label)
            )
    schedule = node.value("schedule")
    if schedule:
        out.append(_("schedule {schedule!r} ({policy})").format(schedule=schedule, policy=label))
    return out


def _summary(node: Leaves) -> str:
    parts = []
    for key in (
        "from",
        "to",
        "source",
        "destination",
        "service",
        "application",
        "action",
        "rule-type",
    ):
        values = node.names(key)
        if values:
            parts.append(f"{key} {' '.join(values)}")
    for key in ("negate-source", "negate-destination"):
        if node.value(key) == "yes":
            parts.append(f"{key} yes")
    return "; ".join(parts)


def read_paloalto(
    text: str, file: str, context: str | None = None, prefer: str | None = None
) -> Ruleset:
    notes = Notes(file)
    root = _tree(text, notes)
    device, shared = _device_node(root)
    systems = dict(device.items("vsys"))
    if any(device.get(k) is not None for k in ("rulebase", "zone", "address", "service")):
        systems.setdefault("vsys1", device)
    if not systems:
        systems["vsys1"] = device
    if context is not None and context not in systems:
        raise notes.error(
            None,
            _("no vsys {context!r} in the configuration").format(context=context),
            hint=_("it has {systems}").format(systems=", ".join(systems)),
        )
    name = context or (prefer if prefer in systems else None)
    if name is None:
        if len(systems) > 1:
            raise notes.error(
                None,
                _("the configuration has several vsys: {systems}").format(
                    systems=", ".join(systems)
                ),
                hint=_(
                    "say which one with --context VSYS (each vsys is audited as its own firewall)"
                ),
            )
        name = next(iter(systems))
    vsys = systems[name]
    if len(systems) > 1:
        notes.note(
            _("vsys {name} audited (the file also has {others})").format(
                name=name, others=", ".join(n for n in systems if n != name)
            )
        )
    reader = _Reader(device, vsys, shared, notes)
    reader.read_objects()
    reader.read_network()
    asm = Assembly("paloalto", file, TABLE)
    key = asm.chain("security")
    asm.session(key)
    bases = []
    if shared is not None:
        bases.append(shared.get("pre-rulebase"))
    bases.append(vsys.get("rulebase"))
    if shared is not None:
        bases.append(shared.get("post-rulebase"))
    translations: list[Translation] = []
    for base in bases:
        if base is None:
            continue
        for rule_name, node in base.items("security", "rules"):
            reader.security_rule(rule_name, node, asm, key)
        for rule_name, node in base.items("nat", "rules"):
            translations += reader.nat_rule(rule_name, node, file)
    defaults = vsys.get("rulebase", "default-security-rules", "rules")
    intra = (defaults.value("intrazone-default", "action") if defaults else None) or "allow"
    inter = (defaults.value("interzone-default", "action") if defaults else None) or "deny"
    for zone in reader.zones:
        members = reader.zone_match([zone])
        asm.add_rule(
            key,
            Match(iif=members, oif=members),
            _ACTIONS.get(intra, "drop"),
            "intrazone-default",
            _("intrazone-default: {action} (within zone {zone})").format(action=intra, zone=zone),
        )
    asm.add_rule(
        key,
        Match(),
        _ACTIONS.get(inter, "drop"),
        "interzone-default",
        f"interzone-default: {inter}",
    )
    if any(t.kind == "destination" for t in translations):
        notes.note(_("security rules see the pre-NAT destination and the post-NAT zone (PAN-OS)"))
    from flowmatrix.audit.vendor.fixwriters import PanosFixes

    prefix = f"vsys {name} " if len(systems) > 1 else ""
    dev = Device(
        "PAN-OS",
        tuple(reader.interfaces.values()),
        dict(reader.zones),
        reader.default_route(),
        tuple(translations),
        "original",
        name,
        PanosFixes(prefix),
    )
    return asm.ruleset(
        [(key, "forward", 0, "drop")], frozenset({4, 6}), notes.problems, notes.notes, dev
    )

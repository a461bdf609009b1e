"""Cross-reference checks of a site against itself and its catalog, each error located."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from flowmatrix.catalog import Catalog, Role
from flowmatrix.i18n import N_, _
from flowmatrix.natcheck import check_nat
from flowmatrix.site import Site, _duplicates, parse_network
from flowmatrix.topology import ZoneIndex
from flowmatrix.yamlio import YamlDocument
from flowmatrix.zonecheck import Place, check_zones, private_in_the_internet


def _suggest(word: str, choices: Iterable[str], what: str) -> str:
    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return _("did you mean '{name}'?").format(name=close[0])
    shown = ", ".join(options[:12]) + (", ..." if len(options) > 12 else "")
    return _("known {what}: {shown}").format(what=what, shown=shown)


def check_site(doc: YamlDocument, site: Site, catalog: Catalog) -> tuple[str, ...]:
    """Raise a located UserError for the first thing in ``site`` that does not add up;
    return the likely mistakes that are not errors (warnings, each located).

    ``catalog`` is the site's catalog as loaded: the site's own roles are checked against
    it, then added to it for the other checks (``Site.with_own_roles``)."""
    _check_format(doc, site, catalog)
    catalog = site.with_own_roles(catalog)
    _check_unique(doc, "zones", [z.name for z in site.zones], "zone")
    _check_unique(doc, "firewalls", [f.name for f in site.firewalls], "firewall")
    _check_unique(doc, "hosts", [h.name for h in site.hosts], "host")
    _check_unique(doc, "flows", [f.name for f in site.flows], "flow")
    check_zones(doc, site)
    _check_firewalls(doc, site)
    in_the_internet = _check_hosts(doc, site, catalog)
    _check_options(doc, site, catalog)
    _check_site_flows(doc, site, catalog)
    _check_proxy(doc, site)
    _check_external(doc, site, catalog)
    _check_keep_obsolete(doc, site, catalog)
    check_nat(doc, site)
    return private_in_the_internet(doc, site, in_the_internet)


#: Per kind of named thing: the duplicate-name message and its hint.
_DUPLICATE = {
    "zone": (N_("duplicate zone name {name!r}"), N_("each zone needs its own name")),
    "firewall": (N_("duplicate firewall name {name!r}"), N_("each firewall needs its own name")),
    "host": (N_("duplicate host name {name!r}"), N_("each host needs its own name")),
    "flow": (N_("duplicate flow name {name!r}"), N_("each flow needs its own name")),
}


def _check_unique(doc: YamlDocument, key: str, names: Sequence[str], what: str) -> None:
    message, hint = _DUPLICATE[what]
    for index, name in _duplicates(names):
        raise doc.error([key, index, "name"], _(message).format(name=name), _(hint))


def _check_firewalls(doc: YamlDocument, site: Site) -> None:
    zone_names = [z.name for z in site.zones]
    for fi, firewall in enumerate(site.firewalls):
        for zi, zone in enumerate(firewall.zones):
            if zone not in zone_names:
                raise doc.error(
                    ["firewalls", fi, "zones", zi],
                    _("firewall {firewall!r} names unknown zone {zone!r}").format(
                        firewall=firewall.name, zone=zone
                    ),
                    _suggest(zone, zone_names, _("zones")),
                )
        for index, zone in _duplicates(firewall.zones):
            raise doc.error(
                ["firewalls", fi, "zones", index],
                _("firewall {firewall!r} lists zone {zone!r} twice").format(
                    firewall=firewall.name, zone=zone
                ),
            )
        for zone in firewall.interfaces:
            if zone not in firewall.zones:
                raise doc.error(
                    ["firewalls", fi, "interfaces", zone],
                    _(
                        "interface for zone {zone!r}, which firewall {firewall!r} does not separate"
                    ).format(zone=zone, firewall=firewall.name),
                    _("its zones: {zones}").format(zones=", ".join(firewall.zones)),
                )


def _check_format(doc: YamlDocument, site: Site, catalog: Catalog) -> None:
    """What each format version lets a site say, and the site's own roles."""
    upgrade = _("set 'version: 2' (flowmatrix site upgrade FILE writes it)")
    for hi, host in enumerate(site.hosts):
        if site.version == 1 and host.roles:
            raise doc.error(
                ["hosts", hi, "roles"],
                _("a list of roles needs site version 2"),
                _("write 'role: {role}', or {upgrade}").format(role=host.roles[0], upgrade=upgrade),
            )
        if site.version >= 2 and host.role is not None:
            raise doc.error(
                ["hosts", hi, "role"],
                _("site version 2 lists a host's roles under 'roles'"),
                _("write 'roles: [{role}]' (flowmatrix site upgrade FILE does it)").format(
                    role=host.role
                ),
            )
    if site.version == 1 and site.roles:
        raise doc.error(["roles"], _("a site's own roles need site version 2"), upgrade)
    if site.version == 1 and site.exclude:
        raise doc.error(["exclude"], _("excluding requirements needs site version 2"), upgrade)
    if site.version == 1 and site.publish:
        raise doc.error(["publish"], _("publishing modes need site version 2"), upgrade)
    server_roles = {r.id for r in catalog.roles if r.kind == "server"} | {
        r.id for r in site.roles if r.kind == "server"
    }
    for role_id, mode in site.publish.items():
        if role_id not in server_roles:
            raise doc.error(
                ["publish", role_id],
                _("publish: {role!r} is not a server role").format(role=role_id),
                _suggest(role_id, server_roles, _("server roles")),
            )
        netscalers = [
            h
            for h in site.hosts
            if h.netscaler is not None and h.netscaler.vip and h.netscaler.snip
        ]
        if mode == "netscaler-lb" and not netscalers:
            raise doc.error(
                ["publish", role_id],
                _("publish: {role} through NetScaler load balancing needs a NetScaler").format(
                    role=role_id
                ),
                _("declare the NetScaler host with its VIP and SNIP ({example})").format(
                    example="netscaler: {vip: [...], snip: [...]}"
                ),
            )
    requirements = [r.id for r in catalog.requirements]
    for req_id, reason in site.exclude.items():
        if req_id not in requirements:
            raise doc.error(
                ["exclude", req_id],
                _("exclude: unknown requirement {requirement!r}").format(requirement=req_id),
                _suggest(req_id, requirements, _("requirements")) + " ('flowmatrix catalog')",
            )
        if not reason.strip():
            raise doc.error(
                ["exclude", req_id],
                _("exclude: {requirement} needs a reason").format(requirement=req_id),
                _("say why the site does not want it: the reason is shown in the reports"),
            )
    catalog_roles = {r.id for r in catalog.roles}
    seen: set[str] = set()
    for ri, role in enumerate(site.roles):
        if role.id in catalog_roles:
            raise doc.error(
                ["roles", ri, "id"],
                _("role {role!r} is already a role of the catalog").format(role=role.id),
                _("use the catalog's role, or give the site's role another id"),
            )
        if role.id in seen:
            raise doc.error(
                ["roles", ri, "id"],
                _("role {role!r} is declared twice").format(role=role.id),
                _("declare it once"),
            )
        seen.add(role.id)


def _check_hosts(doc: YamlDocument, site: Site, catalog: Catalog) -> list[Place]:
    """Raise for the first host that does not add up; return the places of the host
    addresses that fall into the Internet zone."""
    in_the_internet: list[Place] = []
    roles = {r.id: r for r in catalog.roles}
    zone_names = {z.name for z in site.zones}
    index = ZoneIndex.of(site.zones)
    for hi, host in enumerate(site.hosts):
        ids = host.role_ids
        for ri, role_id in enumerate(ids):
            if role_id not in roles:
                raise doc.error(
                    ["hosts", hi, "roles", ri] if host.roles else ["hosts", hi, "role"],
                    _("unknown role {role!r}").format(role=role_id),
                    _suggest(role_id, roles, _("roles")) + " ('flowmatrix catalog --roles')",
                )
        if host.netscaler is not None and not any(roles[r].netscaler for r in ids):
            raise doc.error(
                ["hosts", hi, "netscaler"],
                (
                    _("host {host!r} has NetScaler addresses but role {role!r} is not a NetScaler")
                    if len(ids) == 1
                    else _(
                        "host {host!r} has NetScaler addresses but none of its roles ({roles}) "
                        "is a NetScaler"
                    )
                ).format(host=host.name, role=ids[0], roles=", ".join(ids)),
                _("remove 'netscaler:' or fix the role"),
            )
        if host.kind is not None:
            _check_kind(doc, site, hi, [roles[r] for r in ids])
        if host.zone is not None and host.zone not in zone_names:
            raise doc.error(
                ["hosts", hi, "zone"],
                _("unknown zone {zone!r}").format(zone=host.zone),
                _suggest(host.zone, zone_names, _("zones")),
            )
        addresses = host.all_addresses()
        if (
            not addresses
            and host.zone is None
            and not {roles[r].default_zone for r in ids} & zone_names
        ):
            raise doc.error(
                ["hosts", hi],
                _("host {host!r} has only an fqdn and no zone").format(host=host.name),
                _("add 'zone:'"),
            )
        for address in addresses:
            zone = index.zone_of(parse_network(address))
            loc = _address_loc(host.addresses, host.netscaler, address, hi)
            if zone is None:
                raise doc.error(
                    loc,
                    _("host {host!r}: address {address} is in no zone").format(
                        host=host.name, address=address
                    ),
                    _("add its network to a zone's cidrs, or declare an 'internet: true' zone"),
                )
            nested = index.nested_in(parse_network(address), zone)
            if nested is not None:
                raise doc.error(
                    loc,
                    _(
                        "host {host!r}: network {address} holds {network} of zone {nested!r}, "
                        "nested in zone {zone!r}"
                    ).format(
                        host=host.name,
                        address=address,
                        network=nested[0],
                        nested=nested[1],
                        zone=zone,
                    ),
                    _(
                        "a host's networks lie in one zone: list the hosts of {zone!r}, "
                        "or the networks around the nested zone"
                    ).format(zone=zone),
                )
            if host.zone is not None and zone != host.zone and not host.netscaler:
                raise doc.error(
                    loc,
                    _(
                        "host {host!r}: address {address} is in zone {zone!r}, not in its "
                        "zone {own!r}"
                    ).format(host=host.name, address=address, zone=zone, own=host.zone),
                    _("fix the address or the zone, or omit 'zone:' to infer it"),
                )
            if zone == index.internet:
                in_the_internet.append((loc, _("host {host!r}").format(host=host.name), address))
    return in_the_internet


def _check_kind(doc: YamlDocument, site: Site, index: int, roles: list[Role]) -> None:
    host = site.hosts[index]
    if site.version == 1:
        raise doc.error(
            ["hosts", index, "kind"],
            _("a host's kind needs site version 2"),
            _("set 'version: 2' (flowmatrix site upgrade FILE writes it)"),
        )
    parts = [p for role in roles for p in role.parts]
    if not parts:
        raise doc.error(
            ["hosts", index, "kind"],
            _("host {host!r}: its roles ({roles}) have no kinds").format(
                host=host.name, roles=", ".join(r.id for r in roles)
            ),
            _("remove 'kind:'; it says which part of XenApp/XenDesktop a host is"),
        )
    if host.kind not in (*parts, "both"):
        raise doc.error(
            ["hosts", index, "kind"],
            _("host {host!r}: unknown kind {kind!r}").format(host=host.name, kind=host.kind),
            _("one of: {choices}").format(choices=", ".join((*parts, "both"))),
        )


def _address_loc(
    plain: Sequence[str], netscaler: object, address: str, host_index: int
) -> list[str | int]:
    if address in plain:
        return ["hosts", host_index, "addresses", list(plain).index(address)]
    return ["hosts", host_index, "netscaler"]


def _check_options(doc: YamlDocument, site: Site, catalog: Catalog) -> None:
    features = {f.id for f in catalog.features}
    for feature in site.features:
        if feature not in features:
            raise doc.error(
                ["features", feature],
                _("unknown feature {feature!r}").format(feature=feature),
                _suggest(feature, features, _("features")) + " ('flowmatrix catalog --features')",
            )
    requirements = {r.id: r for r in catalog.requirements}
    for req_id, port in site.choices.items():
        req = requirements.get(req_id)
        if req is None:
            raise doc.error(
                ["choices", req_id],
                _("unknown requirement {requirement!r}").format(requirement=req_id),
                _suggest(req_id, requirements, _("requirements")),
            )
        if req.port_choice != "any":
            raise doc.error(
                ["choices", req_id],
                _(
                    "requirement {requirement} has no alternatives: all of {ports} are needed"
                ).format(requirement=req_id, ports=", ".join(map(str, req.ports))),
                _("remove this choice"),
            )
        if port not in req.ports:
            raise doc.error(
                ["choices", req_id],
                _("port {port} is not an alternative of {requirement}").format(
                    port=port, requirement=req_id
                ),
                _("choose one of {ports}").format(ports=", ".join(map(str, req.ports))),
            )


def _check_site_flows(doc: YamlDocument, site: Site, catalog: Catalog) -> None:
    names = {r.id for r in catalog.roles} | {h.name for h in site.hosts}
    for fi, flow in enumerate(site.flows):
        for end in ("source", "destination"):
            value = getattr(flow, end)
            if value not in names:
                raise doc.error(
                    ["flows", fi, end],
                    (
                        _("flow {flow!r}: unknown source {value!r}")
                        if end == "source"
                        else _("flow {flow!r}: unknown destination {value!r}")
                    ).format(flow=flow.name, value=value),
                    _suggest(value, names, _("roles and hosts")),
                )
        if flow.via is not None:
            _check_via(doc, site, catalog, fi)


def _check_via(doc: YamlDocument, site: Site, catalog: Catalog, index: int) -> None:
    flow = site.flows[index]
    if site.version == 1:
        raise doc.error(
            ["flows", index, "via"],
            _("choosing a NetScaler address ('via') needs site version 2"),
            _("set 'version: 2' (flowmatrix site upgrade FILE writes it)"),
        )
    roles = {r.id: r for r in catalog.roles}
    hosts = {h.name: h for h in site.hosts}

    def netscaler(end: str) -> bool:
        host = hosts.get(end)
        ids = host.role_ids if host is not None else (end,)
        return any(roles[r].netscaler for r in ids if r in roles)

    if not netscaler(flow.source) and not netscaler(flow.destination):
        raise doc.error(
            ["flows", index, "via"],
            _(
                "flow {flow!r}: 'via' names a NetScaler address, but neither end is a NetScaler"
            ).format(flow=flow.name),
            _("remove 'via', or make the NetScaler host or role an end of the flow"),
        )


def _check_proxy(doc: YamlDocument, site: Site) -> None:
    proxy = site.proxy
    if proxy is None:
        return
    if proxy.host is not None:
        hosts = {h.name: h for h in site.hosts}
        host = hosts.get(proxy.host)
        if host is None:
            raise doc.error(
                ["proxy", "host"],
                _("proxy: unknown host {host!r}").format(host=proxy.host),
                _("{suggestion}, or give 'address:'").format(
                    suggestion=_suggest(proxy.host, hosts, _("hosts"))
                ),
            )
        if not host.all_addresses():
            raise doc.error(
                ["proxy", "host"],
                _("proxy host {host!r} has no address").format(host=proxy.host),
                _("give the host 'addresses: [...]': flows to the proxy are opened by address"),
            )
        return
    assert proxy.address is not None
    if ZoneIndex.of(site.zones).zone_of(parse_network(proxy.address)) is None:
        raise doc.error(
            ["proxy", "address"],
            _("proxy address {address} is in no zone").format(address=proxy.address),
            _(
                "add its network to a zone's cidrs (the proxy's zone decides which firewalls "
                "its flows cross)"
            ),
        )


def _check_external(doc: YamlDocument, site: Site, catalog: Catalog) -> None:
    roles = {r.id: r for r in catalog.roles}
    external = sorted(r.id for r in catalog.roles if r.kind == "external")
    for role_id in site.external:
        role = roles.get(role_id)
        if role is None or role.kind != "external":
            message = (
                _("external: unknown role {role!r}")
                if role is None
                else _("external: not an Internet service role {role!r}")
            )
            raise doc.error(
                ["external", role_id],
                message.format(role=role_id),
                _suggest(role_id, external, _("Internet service roles")),
            )


def _check_keep_obsolete(doc: YamlDocument, site: Site, catalog: Catalog) -> None:
    if isinstance(site.keep_obsolete, bool):
        return
    requirements = {r.id: r for r in catalog.requirements}
    kept = sorted(r.id for r in catalog.requirements if r.status in ("obsolete", "legacy"))
    for index, req_id in enumerate(site.keep_obsolete):
        req = requirements.get(req_id)
        if req is None:
            raise doc.error(
                ["keep_obsolete", index],
                _("keep_obsolete: unknown requirement {requirement!r}").format(requirement=req_id),
                _suggest(req_id, kept, _("obsolete and legacy requirements")),
            )
        if req.status not in ("obsolete", "legacy"):
            raise doc.error(
                ["keep_obsolete", index],
                _("keep_obsolete: {requirement} is {status}, not obsolete or legacy").format(
                    requirement=req_id, status=req.status
                ),
                _("it is opened anyway: remove it from the list"),
            )

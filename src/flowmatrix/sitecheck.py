"""Cross-reference checks of a site against itself and its catalog, each error located."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

from flowmatrix.catalog import Catalog, Role
from flowmatrix.natcheck import check_nat
from flowmatrix.site import Site, _duplicates, parse_network
from flowmatrix.topology import ZoneIndex
from flowmatrix.yamlio import YamlDocument
from flowmatrix.zonecheck import Place, check_zones, private_in_the_internet


def _suggest(word: str, choices: Iterable[str], what: str) -> str:
    options = sorted(set(choices))
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    shown = ", ".join(options[:12]) + (", ..." if len(options) > 12 else "")
    return f"known {what}: {shown}"


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


def _check_unique(doc: YamlDocument, key: str, names: Sequence[str], what: str) -> None:
    for index, name in _duplicates(names):
        raise doc.error(
            [key, index, "name"],
            f"duplicate {what} name {name!r}",
            f"each {what} needs its own name",
        )


def _check_firewalls(doc: YamlDocument, site: Site) -> None:
    zone_names = [z.name for z in site.zones]
    for fi, firewall in enumerate(site.firewalls):
        for zi, zone in enumerate(firewall.zones):
            if zone not in zone_names:
                raise doc.error(
                    ["firewalls", fi, "zones", zi],
                    f"firewall {firewall.name!r} names unknown zone {zone!r}",
                    _suggest(zone, zone_names, "zones"),
                )
        for index, zone in _duplicates(firewall.zones):
            raise doc.error(
                ["firewalls", fi, "zones", index],
                f"firewall {firewall.name!r} lists zone {zone!r} twice",
            )
        for zone in firewall.interfaces:
            if zone not in firewall.zones:
                raise doc.error(
                    ["firewalls", fi, "interfaces", zone],
                    f"interface for zone {zone!r}, which firewall "
                    f"{firewall.name!r} does not separate",
                    f"its zones: {', '.join(firewall.zones)}",
                )


def _check_format(doc: YamlDocument, site: Site, catalog: Catalog) -> None:
    """What each format version lets a site say, and the site's own roles."""
    upgrade = "set 'version: 2' (flowmatrix site upgrade FILE writes it)"
    for hi, host in enumerate(site.hosts):
        if site.version == 1 and host.roles:
            raise doc.error(
                ["hosts", hi, "roles"],
                "a list of roles needs site version 2",
                f"write 'role: {host.roles[0]}', or {upgrade}",
            )
        if site.version >= 2 and host.role is not None:
            raise doc.error(
                ["hosts", hi, "role"],
                "site version 2 lists a host's roles under 'roles'",
                f"write 'roles: [{host.role}]' (flowmatrix site upgrade FILE does it)",
            )
    if site.version == 1 and site.roles:
        raise doc.error(["roles"], "a site's own roles need site version 2", upgrade)
    if site.version == 1 and site.exclude:
        raise doc.error(["exclude"], "excluding requirements needs site version 2", upgrade)
    if site.version == 1 and site.publish:
        raise doc.error(["publish"], "publishing modes need site version 2", upgrade)
    server_roles = {r.id for r in catalog.roles if r.kind == "server"} | {
        r.id for r in site.roles if r.kind == "server"
    }
    for role_id, mode in site.publish.items():
        if role_id not in server_roles:
            raise doc.error(
                ["publish", role_id],
                f"publish: {role_id!r} is not a server role",
                _suggest(role_id, server_roles, "server roles"),
            )
        netscalers = [
            h
            for h in site.hosts
            if h.netscaler is not None and h.netscaler.vip and h.netscaler.snip
        ]
        if mode == "netscaler-lb" and not netscalers:
            raise doc.error(
                ["publish", role_id],
                f"publish: {role_id} through NetScaler load balancing needs a NetScaler",
                "declare the NetScaler host with its VIP and SNIP (netscaler: {vip: [...], "
                "snip: [...]})",
            )
    requirements = [r.id for r in catalog.requirements]
    for req_id, reason in site.exclude.items():
        if req_id not in requirements:
            raise doc.error(
                ["exclude", req_id],
                f"exclude: unknown requirement {req_id!r}",
                _suggest(req_id, requirements, "requirements") + " ('flowmatrix catalog')",
            )
        if not reason.strip():
            raise doc.error(
                ["exclude", req_id],
                f"exclude: {req_id} needs a reason",
                "say why the site does not want it: the reason is shown in the reports",
            )
    catalog_roles = {r.id for r in catalog.roles}
    seen: set[str] = set()
    for ri, role in enumerate(site.roles):
        if role.id in catalog_roles:
            raise doc.error(
                ["roles", ri, "id"],
                f"role {role.id!r} is already a role of the catalog",
                "use the catalog's role, or give the site's role another id",
            )
        if role.id in seen:
            raise doc.error(
                ["roles", ri, "id"], f"role {role.id!r} is declared twice", "declare it once"
            )
        seen.add(role.id)


def _check_hosts(doc: YamlDocument, site: Site, catalog: Catalog) -> list[Place]:
    """Raise for the first host that does not add up; return the places of the host
    addresses that fall into the Internet zone."""
    in_the_internet: list[Place] = []
    roles = {r.id: r for r in catalog.roles}
    zone_names = {z.name for z in site.zones}
    index = ZoneIndex.from_site(site)
    for hi, host in enumerate(site.hosts):
        ids = host.role_ids
        for ri, role_id in enumerate(ids):
            if role_id not in roles:
                raise doc.error(
                    ["hosts", hi, "roles", ri] if host.roles else ["hosts", hi, "role"],
                    f"unknown role {role_id!r}",
                    _suggest(role_id, roles, "roles") + " ('flowmatrix catalog --roles')",
                )
        if host.netscaler is not None and not any(roles[r].netscaler for r in ids):
            raise doc.error(
                ["hosts", hi, "netscaler"],
                f"host {host.name!r} has NetScaler addresses but "
                + (
                    f"role {ids[0]!r} is not a NetScaler"
                    if len(ids) == 1
                    else f"none of its roles ({', '.join(ids)}) is a NetScaler"
                ),
                "remove 'netscaler:' or fix the role",
            )
        if host.kind is not None:
            _check_kind(doc, site, hi, [roles[r] for r in ids])
        if host.zone is not None and host.zone not in zone_names:
            raise doc.error(
                ["hosts", hi, "zone"],
                f"unknown zone {host.zone!r}",
                _suggest(host.zone, zone_names, "zones"),
            )
        addresses = host.all_addresses()
        if (
            not addresses
            and host.zone is None
            and not {roles[r].default_zone for r in ids} & zone_names
        ):
            raise doc.error(
                ["hosts", hi], f"host {host.name!r} has only an fqdn and no zone", "add 'zone:'"
            )
        for address in addresses:
            zone = index.zone_of(parse_network(address))
            loc = _address_loc(host.addresses, host.netscaler, address, hi)
            if zone is None:
                raise doc.error(
                    loc,
                    f"host {host.name!r}: address {address} is in no zone",
                    "add its network to a zone's cidrs, or declare an 'internet: true' zone",
                )
            nested = index.nested_in(parse_network(address), zone)
            if nested is not None:
                raise doc.error(
                    loc,
                    f"host {host.name!r}: network {address} holds {nested[0]} of zone "
                    f"{nested[1]!r}, nested in zone {zone!r}",
                    f"a host's networks lie in one zone: list the hosts of {zone!r}, "
                    "or the networks around the nested zone",
                )
            if host.zone is not None and zone != host.zone and not host.netscaler:
                raise doc.error(
                    loc,
                    f"host {host.name!r}: address {address} is in zone "
                    f"{zone!r}, not in its zone {host.zone!r}",
                    "fix the address or the zone, or omit 'zone:' to infer it",
                )
            if zone == index.internet:
                in_the_internet.append((loc, f"host {host.name!r}", address))
    return in_the_internet


def _check_kind(doc: YamlDocument, site: Site, index: int, roles: list[Role]) -> None:
    host = site.hosts[index]
    if site.version == 1:
        raise doc.error(
            ["hosts", index, "kind"],
            "a host's kind needs site version 2",
            "set 'version: 2' (flowmatrix site upgrade FILE writes it)",
        )
    parts = [p for role in roles for p in role.parts]
    if not parts:
        raise doc.error(
            ["hosts", index, "kind"],
            f"host {host.name!r}: its roles ({', '.join(r.id for r in roles)}) have no kinds",
            "remove 'kind:'; it says which part of XenApp/XenDesktop a host is",
        )
    if host.kind not in (*parts, "both"):
        raise doc.error(
            ["hosts", index, "kind"],
            f"host {host.name!r}: unknown kind {host.kind!r}",
            f"one of: {', '.join((*parts, 'both'))}",
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
                f"unknown feature {feature!r}",
                _suggest(feature, features, "features") + " ('flowmatrix catalog --features')",
            )
    requirements = {r.id: r for r in catalog.requirements}
    for req_id, port in site.choices.items():
        req = requirements.get(req_id)
        if req is None:
            raise doc.error(
                ["choices", req_id],
                f"unknown requirement {req_id!r}",
                _suggest(req_id, requirements, "requirements"),
            )
        if req.port_choice != "any":
            raise doc.error(
                ["choices", req_id],
                f"requirement {req_id} has no alternatives: all of "
                f"{', '.join(map(str, req.ports))} are needed",
                "remove this choice",
            )
        if port not in req.ports:
            raise doc.error(
                ["choices", req_id],
                f"port {port} is not an alternative of {req_id}",
                f"choose one of {', '.join(map(str, req.ports))}",
            )


def _check_site_flows(doc: YamlDocument, site: Site, catalog: Catalog) -> None:
    names = {r.id for r in catalog.roles} | {h.name for h in site.hosts}
    for fi, flow in enumerate(site.flows):
        for end in ("source", "destination"):
            value = getattr(flow, end)
            if value not in names:
                raise doc.error(
                    ["flows", fi, end],
                    f"flow {flow.name!r}: unknown {end} {value!r}",
                    _suggest(value, names, "roles and hosts"),
                )
        if flow.via is not None:
            _check_via(doc, site, catalog, fi)


def _check_via(doc: YamlDocument, site: Site, catalog: Catalog, index: int) -> None:
    flow = site.flows[index]
    if site.version == 1:
        raise doc.error(
            ["flows", index, "via"],
            "choosing a NetScaler address ('via') needs site version 2",
            "set 'version: 2' (flowmatrix site upgrade FILE writes it)",
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
            f"flow {flow.name!r}: 'via' names a NetScaler address, but neither end is a NetScaler",
            "remove 'via', or make the NetScaler host or role an end of the flow",
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
                f"proxy: unknown host {proxy.host!r}",
                _suggest(proxy.host, hosts, "hosts") + ", or give 'address:'",
            )
        if not host.all_addresses():
            raise doc.error(
                ["proxy", "host"],
                f"proxy host {proxy.host!r} has no address",
                "give the host 'addresses: [...]': flows to the proxy are opened by address",
            )
        return
    assert proxy.address is not None
    if ZoneIndex.from_site(site).zone_of(parse_network(proxy.address)) is None:
        raise doc.error(
            ["proxy", "address"],
            f"proxy address {proxy.address} is in no zone",
            "add its network to a zone's cidrs (the proxy's zone decides which firewalls "
            "its flows cross)",
        )


def _check_external(doc: YamlDocument, site: Site, catalog: Catalog) -> None:
    roles = {r.id: r for r in catalog.roles}
    external = sorted(r.id for r in catalog.roles if r.kind == "external")
    for role_id in site.external:
        role = roles.get(role_id)
        if role is None or role.kind != "external":
            what = "unknown role" if role is None else "not an Internet service role"
            raise doc.error(
                ["external", role_id],
                f"external: {what} {role_id!r}",
                _suggest(role_id, external, "Internet service roles"),
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
                f"keep_obsolete: unknown requirement {req_id!r}",
                _suggest(req_id, kept, "obsolete and legacy requirements"),
            )
        if req.status not in ("obsolete", "legacy"):
            raise doc.error(
                ["keep_obsolete", index],
                f"keep_obsolete: {req_id} is {req.status}, not obsolete or legacy",
                "it is opened anyway: remove it from the list",
            )

"""``--merge SITE.yaml``: fill an existing site's NetScaler and back-end hosts from ns.conf.

The site is read with ruamel.yaml's round-trip loader, so everything else in it (its
zones, firewalls, other hosts, site flows and every comment) is written back as it was.
What changes: the NetScaler host's ``netscaler:`` addresses (the first host of role
netscaler-gateway, or a new one), new back-end hosts (one whose address or FQDN the
site already has is kept as it is), and features, choices and (format 2) the XenMobile
publishing mode the site does not set yet. A value the site sets otherwise than ns.conf
suggests is kept and reported. New entries take the form of the site's format
(``role:`` in 1, ``roles:`` in 2).
"""

from __future__ import annotations

import io
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from flowmatrix.errors import UserError
from flowmatrix.i18n import _
from flowmatrix.importers.netscaler.deployment import Deployment
from flowmatrix.importers.netscaler.writer import (
    NETSCALER_ROLE,
    choices_map,
    dump,
    features_map,
    has_role,
    netscaler_addresses,
    netscaler_entry,
    netscaler_name,
    publication_text,
    publish_map,
    set_role,
)


@dataclass
class MergeReport:
    """What the merge did, for the summary on stderr."""

    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


def _load(text: str, file: str) -> CommentedMap:
    yaml = YAML(typ="rt")
    try:
        data = yaml.load(io.StringIO(text))
    except Exception as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UserError(
            _("YAML syntax error"),
            file=file,
            line=mark.line + 1 if mark else None,
            col=mark.column + 1 if mark else None,
            hint=_("fix the site file first ('flowmatrix plan' says what is wrong)"),
        ) from None
    if not isinstance(data, CommentedMap):
        raise UserError(
            _("expected a site file (a mapping with 'hosts:')"), file=file, line=1, col=1
        )
    return data


def _networks(site: CommentedMap) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    found = []
    for zone in site.get("zones") or []:
        for cidr in (zone or {}).get("cidrs") or []:
            try:
                found.append(ipaddress.ip_network(str(cidr), strict=False))
            except ValueError:
                continue
    return found


def _inside(address: str, networks: list[Any]) -> bool:
    ip = ipaddress.ip_address(address)
    return any(ip.version == n.version and ip in n for n in networks)


def merge_site(text: str, file: str, deployment: Deployment) -> tuple[str, MergeReport]:
    """The merged site's text, and what was done."""
    site = _load(text, file)
    report = MergeReport()
    hosts = site.get("hosts")
    if hosts is None:
        hosts = site["hosts"] = CommentedSeq()
    networks = _networks(site)
    version = site.get("version") if site.get("version") in (1, 2) else 1
    netscaler = next((h for h in hosts if has_role(h, NETSCALER_ROLE)), None)
    names = {str(h.get("name")) for h in hosts if isinstance(h, dict)}
    fresh = netscaler_entry(deployment, netscaler_name(deployment, names), version)
    if netscaler is None:
        hosts.insert(0, fresh)
        report.added.append(_("{name} (NetScaler)").format(name=fresh["name"]))
    else:
        netscaler["netscaler"] = fresh["netscaler"]
        report.kept.append(
            _("{name} (NetScaler: its addresses replaced)").format(name=netscaler.get("name"))
        )
    for own in netscaler_addresses(deployment):
        if networks and not _inside(own, networks):
            report.outside.append(own)
    known_addresses: set[str] = set()
    known_fqdns: set[str] = set()
    for host in hosts:
        if isinstance(host, dict):
            known_addresses.update(str(a) for a in host.get("addresses") or [])
            if host.get("fqdn"):
                known_fqdns.add(str(host["fqdn"]).lower())
    names = {str(h.get("name")) for h in hosts if isinstance(h, dict)}
    for backend in deployment.hosts:
        address, fqdn = backend.endpoint.address, backend.endpoint.fqdn
        if (address and address in known_addresses) or (fqdn and fqdn in known_fqdns):
            report.kept.append(
                _("{host} ({role}: already in the site)").format(
                    host=backend.endpoint.text, role=backend.role
                )
            )
            continue
        if fqdn and not address:
            report.conflicts.append(
                _("{fqdn} ({role}): known by name only in ns.conf; add it by hand").format(
                    fqdn=fqdn, role=backend.role
                )
            )
            continue
        entry = CommentedMap()
        name = backend.name
        while name in names:
            name = f"{name[:60]}-x"
        names.add(name)
        entry["name"] = name
        set_role(entry, backend.role, version)
        seq = CommentedSeq([address])
        seq.fa.set_flow_style()
        entry["addresses"] = seq
        entry.yaml_add_eol_comment("; ".join(o.text() for o in backend.origins[:3]), "addresses")
        hosts.append(entry)
        report.added.append(f"{name} ({backend.role})")
        if address and networks and not _inside(address, networks):
            report.outside.append(address)
    _fill(site, "features", features_map(deployment), report)
    _fill(site, "choices", choices_map(deployment), report)
    if version >= 2:
        _fill(site, "publish", publish_map(deployment), report)
    elif deployment.publications:
        report.conflicts.append(
            "XenMobile is published through NetScaler load balancing ("
            + "; ".join(publication_text(deployment))
            + "): site format 1 cannot say so ('flowmatrix site upgrade' first, then merge)"
        )
    return dump(site), report


def _fill(site: CommentedMap, key: str, inferred: CommentedMap, report: MergeReport) -> None:
    if not inferred:
        return
    current = site.get(key)
    if current is None:
        site[key] = inferred
        return
    for name, value in inferred.items():
        if name not in current:
            current[name] = value
            comment = inferred.ca.items.get(name)
            if comment and comment[2] is not None:
                current.yaml_add_eol_comment(comment[2].value.strip().lstrip("# "), name)
        elif current[name] != value:
            report.conflicts.append(
                _(
                    "{key} {name}: the site says {current!r}, ns.conf suggests {value!r} (kept)"
                ).format(key=key, name=name, current=current[name], value=value)
            )

"""The validated site and catalog (pydantic) turned into the plain records the plan
carries downstream (:mod:`flowmatrix.site_view`, :mod:`flowmatrix.catalog_view`).

This is the one place that reads the validated models for what comes after the plan:
every package downstream reads ``Plan.site`` and ``Plan.catalog`` and imports neither
pydantic nor the site and catalog models.
"""

from __future__ import annotations

from flowmatrix import catalog as validated_catalog
from flowmatrix import catalog_view as cv
from flowmatrix import site as validated_site
from flowmatrix import site_view as sv


def site_view(site: validated_site.Site) -> sv.SiteView:
    """``site`` as the plan carries it."""
    return sv.SiteView(
        name=site.name,
        zones=tuple(sv.Zone(z.name, z.cidrs, z.internet, z.description) for z in site.zones),
        firewalls=tuple(
            sv.Firewall(f.name, f.zones, dict(f.interfaces), f.description) for f in site.firewalls
        ),
        hosts=tuple(_host(h) for h in site.hosts),
        proxy=(
            sv.Proxy(site.proxy.port, site.proxy.host, site.proxy.address)
            if site.proxy is not None
            else None
        ),
        flows=tuple(
            sv.SiteFlow(f.name, f.source, f.destination, f.protocols, f.ports, f.description)
            for f in site.flows
        ),
        description=site.description,
        catalog=site.catalog,
    )


def _host(host: validated_site.Host) -> sv.Host:
    ns = host.netscaler
    return sv.Host(
        name=host.name,
        roles=host.role_ids,
        addresses=host.addresses,
        fqdn=host.fqdn,
        zone=host.zone,
        netscaler=sv.NetScalerAddresses(ns.nsip, ns.vip, ns.snip, ns.aaa) if ns else None,
        kind=host.kind,
        description=host.description,
    )


def catalog_view(catalog: validated_catalog.Catalog) -> cv.CatalogView:
    """``catalog`` as the plan carries it."""
    info = catalog.catalog
    return cv.CatalogView(
        catalog=cv.CatalogInfo(
            info.id, _text(info.title), info.product, info.source, info.date, _maybe(info.intro)
        ),
        roles=tuple(
            cv.Role(
                r.id,
                _text(r.name),
                r.kind,
                r.aliases,
                tuple(
                    cv.Endpoint(e.fqdn, e.addresses, _maybe(e.note), e.status) for e in r.endpoints
                ),
            )
            for r in catalog.roles
        ),
        requirements=tuple(_requirement(r) for r in catalog.requirements),
        procedures=tuple(
            cv.Procedure(p.id, _text(p.title), _text(p.text), tuple(_text(s) for s in p.steps))
            for p in catalog.procedures
        ),
        journeys=tuple(
            cv.Journey(
                j.id,
                _text(j.name),
                tuple(cv.JourneyStep(s.requirement, s.sources) for s in j.steps),
            )
            for j in catalog.journeys
        ),
    )


def _requirement(req: validated_catalog.Requirement) -> cv.Requirement:
    replacement = req.replacement
    return cv.Requirement(
        id=req.id,
        section=req.section,
        ports=req.ports,
        port_choice=req.port_choice,
        documented_protocol=req.documented_protocol,
        protocols=req.protocols,
        sources=req.sources,
        destinations=req.destinations,
        description=_text(req.description),
        source_text=req.source_text,
        status=req.status,
        protocol_reason=_maybe(req.protocol_reason),
        notes=tuple(_text(n) for n in req.notes),
        reading=_maybe(req.reading),
        condition=req.condition,
        flags=req.flags,
        replacement=(
            cv.Replacement(_text(replacement.description), replacement.ports)
            if replacement is not None
            else None
        ),
    )


def _text(text: validated_catalog.Text) -> cv.Text:
    return cv.Text(text.fr, text.en)


def _maybe(text: validated_catalog.Text | None) -> cv.Text | None:
    return None if text is None else cv.Text(text.fr, text.en)

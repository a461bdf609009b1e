"""The web proxy's allow-list (``rules --target squid``): what the site's flows need of it.

Flows to names no packet filter can match (wildcards, names without stable addresses)
go through the site's outbound web proxy: the firewalls open the source to the proxy's
port and the proxy to the Internet on the flow's ports, and the proxy lets each source
reach only its flow's names on those ports. One ``acl`` triple and one ``http_access
allow`` line per flow (client leg of the plan), then ``http_access deny all``.
A wildcard ``*.mzstatic.com`` is squid's ``.mzstatic.com`` (the domain and every name
below it).
"""

from __future__ import annotations

from flowmatrix.errors import UserError
from flowmatrix.i18n import _
from flowmatrix.model import Flow, Plan
from flowmatrix.rules.firewall_view import Finding, FlowCounts, RulesOutput, Scope
from flowmatrix.rules.text import comment, identifier


def domain(name: str) -> str:
    """A plan name as squid's ``dstdomain`` writes it (``*.x.com`` -> ``.x.com``)."""
    return name[1:] if name.startswith("*.") else name


def _domains(names: tuple[str, ...]) -> list[str]:
    """The dstdomain values, leaving out names a wildcard of the same list covers
    (squid refuses ``x.y.com`` beside ``.y.com``)."""
    wildcards = [domain(n) for n in names if n.startswith("*.")]
    kept = []
    for name in dict.fromkeys(domain(n) for n in names):
        covered = any(name != w and (name == w[1:] or name.endswith(w)) for w in wildcards)
        if not covered:
            kept.append(name)
    return kept


def _sources(flow: Flow) -> list[str]:
    return ["all"] if flow.source.any_address else list(flow.source.addresses)


def acl_names(flow: Flow) -> tuple[str, str, str]:
    """The names of a flow's source, destination and port ACLs."""
    base = "fm_" + identifier(flow.id.lower(), 40).lower()
    return f"{base}_src", f"{base}_dst", f"{base}_port"


def render(plan: Plan) -> tuple[str, list[Flow]]:
    """The squid configuration for the plan's proxy, and the flows it serves."""
    proxy = plan.site.proxy
    if proxy is None:
        raise UserError(
            _("the site declares no web proxy"),
            hint=_(
                "add 'proxy: {{host: NAME, port: 3128}}' to the site (or address: instead of host)"
            ).format(),
        )
    legs = [
        f for f in plan.flows if f.proxy is not None and f.proxy.leg == "client" and f.requested
    ]
    label = proxy.host or proxy.address or "proxy"
    lines = [
        f"# flowmatrix: squid allow-list for the web proxy {label} (port {proxy.port})",
        f"# site: {comment(plan.site.name, 200)}; catalog: {plan.catalog.catalog.id}",
        f"# {len(legs)} flows. Each source reaches only its flow's names on its ports;",
        "# everything else is denied. Check with 'squid -k parse -f FILE'.",
        f"http_port {proxy.port}",
    ]
    for flow in legs:
        assert flow.proxy is not None
        src, dst, port = acl_names(flow)
        lines += [
            "",
            f"# {comment(f'{flow.id} ({flow.requirement}): {flow.description}', 300)}",
            f"acl {src} src {' '.join(_sources(flow))}",
            f"acl {dst} dstdomain {' '.join(_domains(flow.proxy.names))}",
            f"acl {port} port {' '.join(map(str, flow.proxy.ports))}",
            f"http_access allow {src} {dst} {port}",
        ]
    lines += ["", "http_access deny all"]
    return "\n".join(lines) + "\n", legs


def generate(plan: Plan) -> RulesOutput:
    """``rules --target squid``, read back like every other target."""
    from flowmatrix.rules.coverage import check_squid

    text, legs = render(plan)
    findings: list[Finding] = list(check_squid(text, legs))
    if not legs:
        findings.append(Finding("warning", _("no flow of the plan goes through the proxy")))
    proxy = plan.site.proxy
    assert proxy is not None
    scope = Scope("proxy", proxy.host or proxy.address or "proxy")
    missing = len({f.flow for f in findings if f.severity == "error" and f.flow})
    counts = FlowCounts(rendered=len(legs) - missing, missing=missing)
    return RulesOutput("squid", scope, text, tuple(findings), len(legs), len(legs), counts)

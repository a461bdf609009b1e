"""``ads check``: can this network reach the auto discovery service (ADS)?

The vendor page documents one FQDN and nine IPv4 addresses (2016) and warns that ADS
connections may fail through a proxy. Since then the service moved to Citrix Cloud, so
the documented list is historical. The check resolves the FQDN (system resolver, or a
chosen DNS server) and compares the answer with the documented addresses, then probes
each address with the probe engine of ``flowmatrix verify`` (TCP connect, then a TLS
handshake with SNI and certificate checks). Results are ``ProbeResult`` items, rendered
like ``verify``'s.

Only the ADS name and the addresses the resolver answered, plus the documented (or
``expected``) addresses, are contacted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from flowmatrix.catalog_view import CatalogView, Endpoint
from flowmatrix.errors import ExitCode, UserError
from flowmatrix.i18n import N_, Lang, _, language, ngettext
from flowmatrix.probe.dns_check import ResolverSpec, dns_info
from flowmatrix.probe.results import DnsInfo, ProbeResult, Summary, summarise
from flowmatrix.probe.scheduler import ProbeOptions, probe_all
from flowmatrix.probe.targets import ProbeTarget

ADS_ROLE = "discovery-service"
ADS_PORT = 443
PROXY_VARIABLES = (
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "http_proxy",
    "HTTP_PROXY",
)

#: The notes and reasons of the check, translated where they are written (``text``).
_TEXTS: dict[str, str] = {
    "history": N_(
        "The auto discovery service moved to Citrix Cloud: the 2016 list of addresses "
        "is historical. Open firewall rules for the addresses DNS answers today, and re-check "
        "them over time."
    ),
    "direct": N_("This check connects directly, without any proxy, as devices must be able to."),
    "proxy-set": N_(
        "A proxy is set in this host's environment ({proxies}). ADS connections may "
        "not work through a proxy: let {fqdn} bypass it."
    ),
    "proxy-bypassed": N_("NO_PROXY already lets {fqdn} bypass the proxy ({entry})."),
    "unresolved": N_(
        "{fqdn} did not resolve ({error}): devices cannot find the auto discovery service."
    ),
    "wrong-certificate": N_(
        "{address} answers TLS but not as {fqdn}: it no longer serves ADS, or something "
        "intercepts TLS on the way"
    ),
    "answered": N_("answered by DNS"),
    "documented-only": N_(
        "documented in 2016, not answered by DNS today: historical, its failure is expected"
    ),
    "expected-only": N_("expected address, not answered by DNS today"),
}


def text(key: str, **values: object) -> str:
    """The note ``key`` in the current language."""
    return _(_TEXTS[key]).format(**values)


def _comparison_note(source: str, answered: int, **values: object) -> str:
    if source == "catalog":
        message = ngettext(
            "DNS answered {answered} address(es) for {fqdn}: {common} in the documented "
            "list, {new} not documented; {missing} documented address(es) were not answered.",
            "DNS answered {answered} address(es) for {fqdn}: {common} in the documented "
            "list, {new} not documented; {missing} documented address(es) were not answered.",
            answered,
        )
    else:
        message = ngettext(
            "DNS answered {answered} address(es) for {fqdn}: {common} of them expected, "
            "{new} not; {missing} expected address(es) were not answered.",
            "DNS answered {answered} address(es) for {fqdn}: {common} of them expected, "
            "{new} not; {missing} expected address(es) were not answered.",
            answered,
        )
    return message.format(answered=answered, **values)


@dataclass(frozen=True, slots=True)
class ProxyInfo:
    """Proxy settings found in the environment (credentials removed)."""

    variables: tuple[tuple[str, str], ...] = ()
    """(variable, proxy URL without user and password)."""
    no_proxy: tuple[str, ...] = ()
    bypass_entry: str | None = None
    """The NO_PROXY entry that covers the ADS name, if one does."""

    @property
    def configured(self) -> bool:
        return bool(self.variables)

    def to_dict(self) -> dict[str, Any]:
        return {
            "variables": dict(self.variables),
            "no_proxy": list(self.no_proxy),
            "bypassed": self.bypass_entry is not None,
            "bypass_entry": self.bypass_entry,
        }


def _redact(url: str) -> str:
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(set)"
    host = f"[{host}]" if ":" in host else host
    scheme = parts.scheme if "://" in url else "http"
    return f"{scheme}://{host}{port}"


def _no_proxy_covers(entry: str, fqdn: str, addresses: Sequence[str]) -> bool:
    entry = entry.strip().lower()
    if not entry:
        return False
    if entry == "*":
        return True
    try:
        network = ipaddress.ip_network(entry, strict=False)
    except ValueError:
        domain = entry.removeprefix("*").lstrip(".")
        name = fqdn.lower().rstrip(".")
        return name == domain or name.endswith("." + domain)
    for address in addresses:
        try:
            if ipaddress.ip_address(address) in network:
                return True
        except ValueError:
            continue
    return False


def proxy_settings(env: Mapping[str, str], fqdn: str, addresses: Sequence[str] = ()) -> ProxyInfo:
    """What the environment says about proxies, for ``fqdn`` (and its addresses)."""
    found = [(name, _redact(env[name])) for name in PROXY_VARIABLES if env.get(name)]
    raw = env.get("no_proxy") or env.get("NO_PROXY") or ""
    entries = tuple(e.strip() for e in raw.split(",") if e.strip())
    bypass = next((e for e in entries if _no_proxy_covers(e, fqdn, addresses)), None)
    return ProxyInfo(tuple(found), entries, bypass)


@dataclass(frozen=True)
class AdsReport:
    """Everything ``ads check`` found."""

    fqdn: str
    port: int
    dns: DnsInfo
    """How the name resolved (resolver, addresses, documented, undocumented, error)."""
    documented_source: str
    """'catalog' (the documented 2016 list) or 'command line' (--expected)."""
    results: tuple[ProbeResult, ...]
    proxy: ProxyInfo
    notes: tuple[str, ...] = field(default=())
    documented_probed: bool = True

    @property
    def resolved(self) -> bool:
        return bool(self.dns.addresses)

    @property
    def summary(self) -> Summary:
        return summarise(self.results)

    @property
    def exit_code(self) -> ExitCode:
        if not self.resolved or self.summary.failed:
            return ExitCode.FINDINGS
        return ExitCode.OK

    def comparison(self) -> dict[str, list[str]]:
        documented = set(self.dns.documented)
        answered = set(self.dns.addresses)
        return {
            "answered_and_documented": [a for a in self.dns.addresses if a in documented],
            "answered_only": [a for a in self.dns.addresses if a not in documented],
            "documented_only": [a for a in self.dns.documented if a not in answered],
        }


def ads_endpoint(catalog: CatalogView) -> Endpoint:
    """The catalog's documented ADS endpoint (role ``discovery-service``)."""
    try:
        role = catalog.role(ADS_ROLE)
    except KeyError:
        raise UserError(
            _("the catalog {catalog!r} has no {role!r} role").format(
                catalog=catalog.catalog.id, role=ADS_ROLE
            ),
            hint=_("ads check needs a catalog that documents the auto discovery service"),
        ) from None
    for endpoint in role.endpoints:
        if endpoint.fqdn:
            return endpoint
    raise UserError(
        _("the catalog's {role!r} role has no FQDN").format(role=ADS_ROLE),
        hint=_("add an endpoint with 'fqdn:' to the role in the catalog"),
    )


def _ads_requirement(catalog: CatalogView) -> str:
    ids = [r.id for r in catalog.requirements if ADS_ROLE in r.destinations]
    preferred = [i for i in ids if "ADS" in i]
    return (preferred or ids or ["ADS"])[0]


def _single_addresses(values: Sequence[str], *, expected: bool) -> list[str]:
    found: list[str] = []
    for value in values:
        try:
            network = ipaddress.ip_network(value.strip(), strict=False)
        except ValueError:
            if expected:
                message = _("expected address {value!r} is not an IP address")
            else:
                message = _("documented address {value!r} is not an IP address")
            raise UserError(
                message.format(value=value), hint=_("e.g. {example}").format(example="192.0.2.10")
            ) from None
        if network.num_addresses == 1:
            found.append(str(network.network_address))
    return list(dict.fromkeys(found))


def _targets(
    fqdn: str,
    port: int,
    answered: Sequence[str],
    documented: Sequence[str],
    probe_documented: bool,
    requirement: str,
) -> list[ProbeTarget]:
    """One TLS probe per address: those DNS answered (required), then the documented rest."""
    chosen = [(a, True) for a in answered]
    if probe_documented:
        chosen += [(a, False) for a in documented if a not in set(answered)]
    return [
        ProbeTarget(
            flow_id=f"ads.{index}",
            requirement=requirement,
            required=required,
            source_role="local",
            source_host=None,
            source_address=None,
            destination_role=ADS_ROLE,
            host=fqdn,
            address=address,
            port=port,
            protocol="tcp",
            service="https",
            tls=True,
            server_name=fqdn,
            documented=tuple(documented),
        )
        for index, (address, required) in enumerate(chosen, start=1)
    ]


def _annotate(result: ProbeResult, fqdn: str, documented_source: str) -> ProbeResult:
    if result.required:
        origin = text("answered")
    else:
        origin = text("documented-only" if documented_source == "catalog" else "expected-only")
    notes = [origin, *result.notes]
    if result.tls is not None and result.tls.name_matches is False:
        notes.append(text("wrong-certificate", address=result.address, fqdn=fqdn))
    return replace(result, notes=tuple(notes))


async def _run(
    fqdn: str,
    port: int,
    documented: list[str],
    options: ProbeOptions,
    *,
    probe_documented: bool,
    requirement: str,
) -> tuple[DnsInfo, list[ProbeResult]]:
    dns = await dns_info(fqdn, documented, options.resolver, options.timeout)
    targets = _targets(fqdn, port, dns.addresses, documented, probe_documented, requirement)
    results = await probe_all(targets, options) if targets else []
    return dns, results


def check_ads(
    catalog: CatalogView,
    *,
    resolver: ResolverSpec | None = None,
    port: int = ADS_PORT,
    timeout: float = 5.0,
    retries: int = 1,
    expected: Sequence[str] | None = None,
    probe_documented: bool = True,
    ca_file: str | None = None,
    env: Mapping[str, str] | None = None,
    lang: Lang = "en",
) -> AdsReport:
    """Resolve the ADS name, compare with the documented addresses, handshake with each.

    ``resolver`` is a DNS server to ask instead of the system resolver; ``expected``
    replaces the catalog's documented addresses; ``env`` is the environment read for
    proxy settings (default: this process's). The notes are written in ``lang``.
    """
    with language(lang):
        return _check_ads(
            catalog,
            resolver=resolver,
            port=port,
            timeout=timeout,
            retries=retries,
            expected=expected,
            probe_documented=probe_documented,
            ca_file=ca_file,
            env=env,
            lang=lang,
        )


def _check_ads(
    catalog: CatalogView,
    *,
    resolver: ResolverSpec | None,
    port: int,
    timeout: float,
    retries: int,
    expected: Sequence[str] | None,
    probe_documented: bool,
    ca_file: str | None,
    env: Mapping[str, str] | None,
    lang: Lang,
) -> AdsReport:
    if not 1 <= port <= 65535:
        raise UserError(_("port {port} is outside 1-65535").format(port=port))
    if ca_file is not None and not os.path.isfile(ca_file):
        raise UserError(
            _("no such file"), file=ca_file, hint=_("give a PEM file of CA certificates")
        )
    endpoint = ads_endpoint(catalog)
    fqdn = str(endpoint.fqdn)
    if expected is not None:
        documented = _single_addresses(expected, expected=True)
        source = "command line"
    else:
        documented = _single_addresses(endpoint.addresses, expected=False)
        source = "catalog"
    options = ProbeOptions(
        timeout=timeout, retries=retries, resolver=resolver, ca_file=ca_file, concurrency=64
    )
    dns, raw = asyncio.run(
        _run(
            fqdn,
            port,
            documented,
            options,
            probe_documented=probe_documented,
            requirement=_ads_requirement(catalog),
        )
    )
    results = [_annotate(r, fqdn, source) for r in raw]
    proxy = proxy_settings(os.environ if env is None else env, fqdn, dns.addresses)
    notes: list[str] = []
    if dns.addresses:
        comparison = {a for a in dns.addresses if a in set(documented)}
        notes.append(
            _comparison_note(
                source,
                len(dns.addresses),
                fqdn=fqdn,
                common=len(comparison),
                new=len(dns.undocumented),
                missing=len([a for a in documented if a not in set(dns.addresses)]),
            )
        )
    else:
        notes.append(text("unresolved", fqdn=fqdn, error=dns.error or _("no address")))
    notes.append(endpoint.note.get(lang) if endpoint.note else text("history"))
    procedure = next((p for p in catalog.procedures if p.id == "proxy-bypass"), None)
    if procedure is not None:
        notes.append(procedure.text.get(lang))
    notes.append(text("direct"))
    if proxy.configured:
        proxies = ", ".join(f"{name}={value}" for name, value in proxy.variables)
        notes.append(text("proxy-set", proxies=proxies, fqdn=fqdn))
        if proxy.bypass_entry is not None:
            notes.append(text("proxy-bypassed", fqdn=fqdn, entry=proxy.bypass_entry))
    return AdsReport(
        fqdn=fqdn,
        port=port,
        dns=dns,
        documented_source=source,
        results=tuple(results),
        proxy=proxy,
        notes=tuple(notes),
        documented_probed=probe_documented,
    )

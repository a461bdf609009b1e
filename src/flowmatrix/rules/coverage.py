"""Read a generated configuration back and check that every planned flow is in it.

A generator that drops a term without a word (aerleon does, for IPv6 on some
platforms) must not go unnoticed: each output is parsed in its own syntax, and a flow
with no effective rule (a named term that permits something) is an error.
"""

from __future__ import annotations

import ipaddress
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, cast

from flowmatrix.i18n import _
from flowmatrix.model import Flow
from flowmatrix.rules.firewall_view import Family, Finding, RuleSpec
from flowmatrix.rules.registry import VendorTarget, load

if TYPE_CHECKING:  # the vendor modules load with a vendor target only
    from flowmatrix.rules.vendors import FqdnObject, Term

_NFT_CHAIN = re.compile(r"^\s*chain (\S+) \{")
_NFT_COMMENT = re.compile(r'comment "([^":]+):')
_NFT_FAMILY = re.compile(r"(?:^|\s)(?:(ip6?) [sd]addr |meta nfproto ipv([46]) )")
_NFT_NOT_RENDERED = re.compile(r"^\s*# (\S+): (?:not rendered|left out):")
_IPT_RULE = re.compile(r'^-A (\S+) .*--comment "([^":]+):')
_ACL_REMARK = re.compile(r"\bremark (\S+)\s*$")
_ACL_PERMIT = re.compile(r"\bpermit\b")
_ACL_DENY = re.compile(r"\bdeny\b")
_ACL_NAME = re.compile(r"^access-list (\S+) ")
_ACL_STARTS = ("ip access-list", "ipv6 access-list", "no ip", "no ipv6", "clear configure")
_SRX_POLICY = re.compile(r"^\s*policy (\S+) \{")
_FORTI_NAME = re.compile(r'^\s*set name "([^"]+)"')
_ADDRESS_LITERAL = re.compile(
    r"(?<![\w:.])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})(?![\w:.])"
)
_WINDOWS_RULE = re.compile(r"\badd rule name=(\S+) .*\baction=allow\b")


IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _family_of_nft_rule(line: str) -> Family | None:
    match = _NFT_FAMILY.search(line)
    if match is None:
        return None
    return 6 if match.group(1) == "ip6" or match.group(2) == "6" else 4


def _expected(
    specs: Sequence[RuleSpec], family: Family | None = None
) -> set[tuple[str, str, Family | None]]:
    """(chain, flow id, family) of every rule the specs call for (family None: no match)."""
    found: set[tuple[str, str, Family | None]] = set()
    for spec in specs:
        if not spec.renderable:
            continue
        if spec.family_free:
            found.add((spec.chain, spec.flow.id, None))
            continue
        for fam in spec.families:
            if family is None or fam == family:
                found.add((spec.chain, spec.flow.id, fam))
    return found


def _missing(
    expected: set[tuple[str, str, Family | None]],
    seen: set[tuple[str, str, Family | None]],
    target: str,
) -> list[Finding]:
    findings = []
    for chain, flow, family in sorted(expected - seen, key=str):
        if family:
            said = _("IPv{family} rule missing from the {target} output ({chain})")
        else:
            said = _("rule missing from the {target} output ({chain})")
        message = said.format(family=family, target=target, chain=chain)
        findings.append(Finding("error", message, flow))
    return findings


def check_nftables(text: str, specs: Sequence[RuleSpec]) -> list[Finding]:
    seen: set[tuple[str, str, Family | None]] = set()
    commented: set[str] = set()
    chain = ""
    for line in text.splitlines():
        at = line.find(' comment "')
        if at >= 0:
            ids = line[at + 10 :].partition(":")[0]
            family = _family_of_nft_rule(line[:at])
            seen.update((chain, flow, family) for flow in ids.split())
        elif match := _NFT_CHAIN.match(line):
            chain = match.group(1)
        elif match := _NFT_NOT_RENDERED.match(line):
            commented.add(match.group(1))
    findings = _missing(_expected(specs), seen, "nftables")
    for spec in specs:
        if not spec.renderable and spec.flow.id not in commented:
            findings.append(
                Finding("error", _("not-rendered flow has no comment in the output"), spec.flow.id)
            )
    return findings


def check_iptables(
    text: str, specs: Sequence[RuleSpec], family: Family, chains: dict[str, str]
) -> list[Finding]:
    """``chains`` maps the spec chain (forward, input, output) to the iptables chain."""
    by_name = {name: key for key, name in chains.items()}
    seen: set[tuple[str, str, Family | None]] = set()
    for line in text.splitlines():
        if match := _IPT_RULE.match(line):
            chain = by_name.get(match.group(1), match.group(1))
            seen.update((chain, flow, family) for flow in match.group(2).split())
    expected: set[tuple[str, str, Family | None]] = {
        (c, f, family) for c, f, fam in _expected(specs, family) if fam in (family, None)
    }
    target = "iptables" if family == 4 else "ip6tables"
    return _missing(expected, seen, target)


# --- aerleon outputs ---------------------------------------------------------------------


@dataclass
class _AclTerm:
    """A term as read back from a Cisco-like ACL, in the order of the output."""

    name: str
    acl: str
    """The ACL holding it (``#n`` for the n-th ``ip[v6] access-list`` block)."""
    permits: bool = False
    denies: bool = False


def _acl_sequence(text: str, names: set[str]) -> list[_AclTerm]:
    """Cisco-like ACLs: a term opens with ``remark <name>`` after a blank line, then its
    ``permit`` or ``deny`` entries; ASA lines name their ACL, IOS and EOS open a block."""
    found: list[_AclTerm] = []
    current: _AclTerm | None = None
    block = 0
    after_blank = False
    for line in text.splitlines():
        stripped = line.strip()
        named = _ACL_NAME.match(stripped)
        acl = named.group(1) if named is not None else f"#{block}"
        remark = _ACL_REMARK.search(stripped)
        if remark is not None:
            if after_blank and remark.group(1) in names:
                current = _AclTerm(remark.group(1), acl)
                found.append(current)
        elif stripped == "exit" or stripped.startswith(_ACL_STARTS):
            current = None
            block += stripped.startswith(("ip access-list", "ipv6 access-list"))
        elif current is not None and current.acl == acl:
            current.permits = current.permits or bool(_ACL_PERMIT.search(stripped))
            current.denies = current.denies or bool(_ACL_DENY.search(stripped))
        after_blank = not stripped
    return found


def acl_terms(text: str, names: set[str]) -> set[str]:
    """The terms of a Cisco-like ACL that permit something."""
    return {term.name for term in _acl_sequence(text, names) if term.permits}


def check_acl_order(text: str, target: VendorTarget, terms: Sequence[Term]) -> list[Finding]:
    """Errors for deny terms missing from a first-match ACL, or not right before the
    permit term they belong to (only other deny terms of that permit in between)."""
    denies = [term for term in terms if term.guards is not None]
    if not denies:
        return []
    names = {term.name for term in terms}
    sequence = _acl_sequence(text, names)
    index: dict[str, int] = {}
    for position, read in enumerate(sequence):
        index.setdefault(read.name, position)
    guards = {term.name: term.guards for term in denies}
    findings = []
    for term in denies:
        problem: _DenyProblem | None = None
        at = index.get(term.name)
        permit_at = index.get(term.guards or "")
        if at is None or not sequence[at].denies:
            problem = "missing"
        elif sequence[at].permits:
            problem = "permits"
        elif (
            permit_at is None
            or permit_at < at
            or sequence[permit_at].acl != sequence[at].acl
            or any(guards.get(r.name) != term.guards for r in sequence[at + 1 : permit_at])
        ):
            problem = "misplaced"
        if problem is not None:
            message = _deny_text(problem, bool(term.family)).format(
                family=term.family,
                term=term.name,
                permit=term.guards,
                target=target.name,
                filter=term.filter,
            )
            findings.append(Finding("error", message, term.flow))
    return findings


_DenyProblem = Literal["missing", "permits", "misplaced"]


def _deny_text(problem: _DenyProblem, family: bool) -> str:
    """The finding about a deny term of a first-match ACL, in the current language."""
    if problem == "missing":
        if family:
            return _(
                "IPv{family} deny term {term} missing from the {target} output "
                "(filter {filter}): the site's other zones are not excluded"
            )
        return _(
            "deny term {term} missing from the {target} output "
            "(filter {filter}): the site's other zones are not excluded"
        )
    if problem == "permits":
        if family:
            return _(
                "IPv{family} deny term {term} permits in the {target} output "
                "(filter {filter}): the site's other zones are not excluded"
            )
        return _(
            "deny term {term} permits in the {target} output "
            "(filter {filter}): the site's other zones are not excluded"
        )
    if family:
        return _(
            "IPv{family} deny term {term} not right before its permit term {permit} in the "
            "{target} output (filter {filter}): the site's other zones are not excluded"
        )
    return _(
        "deny term {term} not right before its permit term {permit} in the "
        "{target} output (filter {filter}): the site's other zones are not excluded"
    )


def srx_terms(text: str, names: set[str]) -> set[str]:
    effective: set[str] = set()
    current: str | None = None
    for line in text.splitlines():
        if match := _SRX_POLICY.match(line):
            current = match.group(1)
        elif current is not None and line.strip() == "permit;":
            effective.add(current)
            current = None
    return effective


def paloalto_terms(text: str, names: set[str]) -> set[str]:
    root = ET.fromstring(text)
    effective: set[str] = set()
    for entry in root.iterfind(".//rulebase/security/rules/entry"):
        members_ok = all(
            entry.find(f"{part}/member") is not None
            for part in ("source", "destination", "service")
        )
        if entry.findtext("action") == "allow" and members_ok:
            effective.add(entry.get("name", ""))
    return effective


def fortigate_terms(text: str, names: set[str]) -> set[str]:
    effective: set[str] = set()
    in_policy = False
    current: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == "config firewall policy":
            in_policy = True
        elif in_policy and stripped == "end":
            in_policy = False
        elif in_policy and (match := _FORTI_NAME.match(line)):
            current = match.group(1)
        elif in_policy and current is not None and stripped == "set action accept":
            effective.add(current)
        elif stripped == "next":
            current = None
    return effective


def gce_terms(text: str, names: set[str]) -> set[str]:
    rules = json.loads(text)
    return {rule["name"] for rule in rules if rule.get("allowed")}


def k8s_terms(text: str, names: set[str]) -> set[str]:
    from ruamel.yaml import YAML

    document = YAML(typ="safe").load(text)
    effective: set[str] = set()
    for item in document.get("items", []):
        spec = item.get("spec", {})
        if spec.get("ingress") or spec.get("egress"):
            effective.add(item["metadata"]["name"])
    return effective


def windows_terms(text: str, names: set[str]) -> set[str]:
    return {m.group(1) for line in text.splitlines() if (m := _WINDOWS_RULE.search(line))}


def output_name(target: VendorTarget, term: Term) -> str:
    """The name under which ``term`` appears in the output of ``target``."""
    if target.platform == "gce":
        return f"default-{term.name}" + ("-e" if term.chain == "output" else "")
    if target.platform == "k8s" and term.chain == "output":
        return f"{term.name}-e"
    if target.platform == "windows_advfirewall":
        return f"{'o' if term.chain == 'output' else 'i'}_{term.name}"
    return term.name


def check_vendor(text: str, target: VendorTarget, terms: Sequence[Term]) -> list[Finding]:
    """Errors for the terms of ``terms`` with no effective rule in ``text``."""
    if not terms:
        return []
    reader = cast(Callable[[str, set[str]], set[str]], load(target.reader))
    try:
        names = {output_name(target, term) for term in terms}
        effective = reader(text, names)
    except (ValueError, KeyError, TypeError, ET.ParseError) as exc:
        message = _("the {target} output cannot be read back: {error}").format(
            target=target.name, error=exc
        )
        return [Finding("error", message)]
    findings = []
    if target.platform == "windows_advfirewall" and "action=block" in text:
        findings.append(
            Finding(
                "error",
                _(
                    "a block rule would override every allow rule "
                    "(Windows applies block rules first)"
                ),
            )
        )
    if target.platform == "gce":
        # a rule of more than 256 addresses is split into NAME-1, NAME-2...
        effective |= {name.rpartition("-")[0] for name in effective if name.endswith("-1")}
    for term in terms:
        if term.action == "deny":
            continue
        if output_name(target, term) not in effective:
            if term.family:
                said = _(
                    "IPv{family} term {term} missing from the {target} output (filter {filter})"
                )
            else:
                said = _("term {term} missing from the {target} output (filter {filter})")
            message = said.format(
                family=term.family, term=term.name, target=target.name, filter=term.filter
            )
            findings.append(Finding("error", message, term.flow))
    if reader is acl_terms:
        findings.extend(check_acl_order(text, target, terms))
    return findings


def _literals(text: str) -> set[IPAddress]:
    """Every IPv4 and IPv6 address written in ``text``."""
    found: set[IPAddress] = set()
    for match in _ADDRESS_LITERAL.finditer(text):
        try:
            found.add(ipaddress.ip_address(match.group(0)))
        except ValueError:
            continue
    return found


def check_addresses(
    text: str, target: VendorTarget, addresses: Mapping[str, Sequence[str]]
) -> list[Finding]:
    """Errors for the addresses given to aerleon that its output does not show.

    A generator that drops a family without a word (IPv6 on a mixed filter) leaves
    the terms in place but loses their addresses: this catches it.
    """
    written = _literals(text)
    findings = []
    for name, values in addresses.items():
        for value in values:
            network = ipaddress.ip_network(value, strict=False)
            if network.prefixlen == 0:
                continue
            if network.network_address not in written:
                message = _("address {address} of {name} missing from the {target} output").format(
                    address=value, name=name, target=target.name
                )
                findings.append(Finding("error", message))
    return findings


def _fqdn_definition(platform: str, item: FqdnObject) -> str:
    """How the output declares ``item``'s FQDN object."""
    if platform == "fortigate":
        kind = "wildcard-fqdn" if item.name.startswith("*.") else "fqdn"
        return f'set {kind} "{item.name}"'
    if platform == "paloalto":
        return f"<fqdn>{item.name}</fqdn>"
    if platform == "ciscoasa":
        return f"object network {item.token}\n fqdn v{item.family} {item.name}"
    return f"dns-name {item.name};"


def check_fqdn_objects(
    text: str, target: VendorTarget, fqdns: Sequence[FqdnObject]
) -> list[Finding]:
    """Errors for names whose FQDN object is missing from the output, unused by any rule,
    or still a placeholder address (see ``vendors.add_fqdn_objects``)."""
    findings = []
    for item in fqdns:
        problem = None
        if _fqdn_definition(target.platform, item) not in text:
            problem = _("name {name} has no FQDN object in the {target} output")
        elif item.placeholder is not None and item.placeholder.partition("/")[0] in _literal_text(
            text
        ):
            problem = _("name {name} is still a placeholder address in the {target} output")
        elif text.count(item.token) < 2:
            problem = _("name {name} has an FQDN object that no rule uses in the {target} output")
        if problem is not None:
            message = problem.format(name=item.name, target=target.name)
            findings.append(Finding("error", message))
    return findings


def _literal_text(text: str) -> set[str]:
    return {match.group(0) for match in _ADDRESS_LITERAL.finditer(text)}


def check_name_sets(text: str, sets: Sequence[tuple[str, str]]) -> list[Finding]:
    """Errors for name sets (set name, name) the nftables rules use without declaring
    them with the name in their comment (the convention the audit reads them by)."""
    findings = []
    for set_name, name in sets:
        block = re.search(rf"\tset {re.escape(set_name)} {{\n(.*?)\n\t}}", text, re.DOTALL)
        if block is None or f'comment "flowmatrix names: {name}"' not in block.group(1):
            message = _("name set {set} ({name}) is not declared in the output").format(
                set=set_name, name=name
            )
            findings.append(Finding("error", message))
    return findings


def check_squid(text: str, flows: Sequence[Flow]) -> list[Finding]:
    """Errors for proxied flows without their ``http_access allow`` line and ACLs in a
    squid configuration, and for a configuration that does not end in ``deny all``."""
    from flowmatrix.rules.squid import acl_names, domain

    acls: dict[str, list[str]] = {}
    allowed: set[tuple[str, ...]] = set()
    access: list[str] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0] == "acl":
            acls.setdefault(parts[1], []).extend(parts[3:])
        elif len(parts) >= 2 and parts[0] == "http_access":
            access.append(" ".join(parts[1:]))
            if parts[1] == "allow":
                allowed.add(tuple(parts[2:]))
    findings = []
    for flow in flows:
        assert flow.proxy is not None
        src, dst, port = acl_names(flow)
        domains = acls.get(dst, [])
        covered = all(
            any(domain(n) == d or (d.startswith(".") and domain(n).endswith(d)) for d in domains)
            for n in flow.proxy.names
        )
        ports = set(acls.get(port, []))
        if (
            (src, dst, port) not in allowed
            or not covered
            or ports != set(map(str, flow.proxy.ports))
        ):
            findings.append(
                Finding("error", _("no http_access rule lets it through the squid proxy"), flow.id)
            )
    if not access or access[-1] != "deny all":
        findings.append(Finding("error", _("the squid configuration does not end in 'deny all'")))
    return findings

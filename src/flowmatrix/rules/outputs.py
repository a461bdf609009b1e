"""Render one scope's selection for a target and read the output back.

The registry (``registry.py``) points each firewall or host target at one of these
functions; each returns the text, the rule count, the findings of the read-back (the
coverage check and, where the target has them, its name sets or FQDN objects) and the
companion files the target writes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from flowmatrix.rules import coverage, named_ends
from flowmatrix.rules.dns_pins import Answer
from flowmatrix.rules.firewall_view import Finding, Scope, Selection
from flowmatrix.rules.registry import Target


@dataclass(frozen=True)
class RenderJob:
    """What a renderer gets: the prepared selection and where it goes."""

    target: Target
    scope: Scope
    selection: Selection
    catalog: str
    site: str
    answers: Mapping[str, Answer] | None


@dataclass(frozen=True)
class Rendered:
    """A renderer's output: text, rules (or terms), findings, companion files by kind."""

    text: str
    rules: int
    findings: list[Finding]
    side_files: dict[str, str] = field(default_factory=dict)


def nftables(job: RenderJob) -> Rendered:
    from flowmatrix.rules import nftables as nft

    specs = job.selection.specs
    text, rules = nft.render(job.selection, catalog=job.catalog, answers=job.answers)
    findings = coverage.check_nftables(text, specs)
    sets = named_ends.name_sets(specs)
    findings.extend(coverage.check_name_sets(text, [(s.set_name, s.name) for s in sets]))
    dnsmasq = named_ends.dnsmasq_lines(
        sets,
        nft_table=nft.table_name(job.scope.name),
        scope=job.scope.describe(),
        site=job.site,
    )
    return Rendered(text, rules, findings, {"dnsmasq": dnsmasq})


def iptables(job: RenderJob) -> Rendered:
    """iptables or ip6tables: the entry's one address family."""
    from flowmatrix.rules import iptables as ipt

    (family,) = job.target.families
    specs = job.selection.specs
    text, rules, notes = ipt.render(job.selection, family, catalog=job.catalog)
    findings = list(notes)
    findings.extend(coverage.check_iptables(text, specs, family, ipt.chain_names(job.scope)))
    sets = named_ends.name_sets(specs)
    describe = job.scope.describe()
    side_files = {
        "dnsmasq": named_ends.dnsmasq_lines(sets, nft_table=None, scope=describe, site=job.site),
        "ipset": named_ends.ipset_restore(sets, job.answers, scope=describe, site=job.site),
    }
    return Rendered(text, rules, findings, side_files)


def vendor(job: RenderJob) -> Rendered:
    """An aerleon platform, fed as the entry's ``aerleon`` says."""
    from flowmatrix.rules import vendors

    feed = job.target.aerleon
    assert feed is not None, f"{job.target.name} has no aerleon feed in the registry"
    text, policy, notes = vendors.render(job.selection, feed)
    findings = list(notes)
    findings.extend(coverage.check_vendor(text, feed, policy.terms))
    findings.extend(coverage.check_addresses(text, feed, policy.addresses))
    findings.extend(coverage.check_fqdn_objects(text, feed, policy.fqdns))
    return Rendered(text, len(policy.terms), findings)

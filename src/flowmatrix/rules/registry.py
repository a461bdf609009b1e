"""Every rules target, in one place. To add a target, add an entry here.

One entry per target says what it is (name, one-line help, who writes it), what it can
do (address families, how it matches ends known by name, the extra files it writes,
the scopes it takes) and how its output is rendered and read back (the render
function's dotted path, imported on use; the coverage reader; the audit's
``--ruleset-format`` when the audit reads it too; the ``--check`` validator). From it
come the ``--target`` choices and help of ``flowmatrix rules``, ``rules.generate``'s
dispatch, the read-back checks, ``--check``, ``--dnsmasq`` / ``--ipset``, the name
support of ``named_ends.py``, aerleon's feed in ``vendors.py`` and the targets table of
``docs/rules.md`` (``tests/rules/test_rules_registry.py`` holds it equal to
``markdown_table()``; ``FLOWMATRIX_UPDATE_DOCS=1`` on that test rewrites it).

Kept import-free (the standard library's dataclasses and typing only): the command line
builds its ``--help`` from it without importing a renderer or aerleon.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from flowmatrix.i18n import N_

Grouping = Literal["acl", "zones", "direction"]
DestinationMatch = Literal["address", "tag", "none"]
Exclusions = Literal["native", "per-family", "deny", "none"]
NameSupport = Literal["sets", "fqdn", "fqdn-wildcard", "domains", "none"]
Writer = Literal["flowmatrix", "aerleon"]
ScopeKind = Literal["firewall", "host", "proxy"]
SideFile = Literal["dnsmasq", "ipset"]


@dataclass(frozen=True)
class VendorTarget:
    """How one aerleon platform is fed."""

    name: str
    platform: str
    title: str
    grouping: Grouping
    """acl: one named ACL per chain (and family); zones: one filter per zone pair;
    direction: one filter per chain direction (ingress / egress)."""
    split_families: bool
    """One filter per address family instead of mixed filters."""
    explicit_any: bool = False
    """The platform needs an address even for 'any' (0.0.0.0/0, ::/0 then)."""
    destination: DestinationMatch = "address"
    """tag: destinations are instance tags (GCE); none: the pods the policy applies to."""
    host_only: bool = False
    comment_limit: int = 240
    exclusions: Exclusions = "native"
    """How an Internet 'any' end excludes the site's other zones: native (aerleon's
    source-exclude / destination-exclude), per-family (the same, one term per family:
    aerleon cannot exclude in a term holding both), deny (first-match ACLs: a deny term
    for the other zones right before the permit term), none (not excluded, reported)."""
    exclusion_note: str = ""
    """Why ``exclusions`` is none, for the info finding (marked ``N_``: ``_()`` it)."""
    reader: str = ""
    """Dotted path (``module:function``) of the coverage reader of the output: (text,
    expected term names) -> the names of the terms that take effect."""


@dataclass(frozen=True)
class Target:
    """One rules target."""

    name: str
    help: str
    """One line, for ``--help`` and the docs."""
    render: str
    """``module:function`` rendering it, imported on use: (``RenderJob``) -> ``Rendered``,
    or (``Plan``) -> ``RulesOutput`` for a plan-wide target."""
    writer: Writer
    families: tuple[Literal[4, 6], ...]
    names: NameSupport
    """How an end known by name is matched: name sets filled by dnsmasq, the
    platform's FQDN objects (with wildcards), the proxy's domain ACLs, or none
    (``--resolve`` pins addresses)."""
    read_back: str
    """What the coverage check reads the output by (every target is read back)."""
    label: str = ""
    """A qualifier for the ``--target`` help: ``iptables (IPv4)``."""
    audit_format: str | None = None
    """The audit's ``--ruleset-format`` that reads this output back, if any."""
    check: tuple[str, ...] | None = None
    """The ``--check`` validator's command (None: no validator here)."""
    side_files: tuple[SideFile, ...] = ()
    scopes: tuple[ScopeKind, ...] = ("firewall", "host")
    aerleon: VendorTarget | None = None
    nat: bool = False
    """It writes a firewall's address translations (the site's ``nat:``) with its rules."""

    @property
    def plan_wide(self) -> bool:
        """Rendered from the whole plan, not from one firewall's or host's flows."""
        return self.scopes == ("proxy",)


def _aerleon(
    name: str,
    help: str,
    title: str,
    grouping: Grouping,
    *,
    split_families: bool,
    names: NameSupport = "none",
    audit_format: str | None = None,
    read_back: str,
    reader: str,
    nat: bool = False,
    **feed: object,
) -> Target:
    vendor = VendorTarget(
        name,
        name,
        title,
        grouping,
        split_families,
        reader=f"flowmatrix.rules.coverage:{reader}",
        **feed,  # type: ignore[arg-type]
    )
    return Target(
        name,
        help,
        "flowmatrix.rules.outputs:vendor",
        "aerleon",
        (4, 6),
        names,
        read_back,
        audit_format=audit_format,
        scopes=("host",) if vendor.host_only else ("firewall", "host"),
        aerleon=vendor,
        nat=nat,
    )


def _restore_file(name: str, family: Literal[4, 6]) -> Target:
    """iptables (IPv4) or ip6tables (IPv6): one restore file per family."""
    return Target(
        name,
        f"{name}-restore file (IPv{family})",
        "flowmatrix.rules.outputs:iptables",
        "flowmatrix",
        (family,),
        "sets",
        "flow ids in rule comments, per chain",
        label=f"IPv{family}",
        audit_format=name,
        check=(f"{name}-restore", "--test"),
        side_files=("dnsmasq", "ipset"),
        nat=True,
    )


_ACL_READ_BACK = "`remark <term>` then a `permit`, deny terms in order"

#: Target name -> entry, in the order ``--help`` and the docs show them.
TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            "nftables",
            "nftables script for 'nft -f' (IPv4 and IPv6 in one inet table)",
            "flowmatrix.rules.outputs:nftables",
            "flowmatrix",
            (4, 6),
            "sets",
            "flow ids in rule comments, per chain and family; name sets declared",
            audit_format="nft",
            check=("nft", "-c", "-f", "-"),
            side_files=("dnsmasq",),
            nat=True,
        ),
        _restore_file("iptables", 4),
        _restore_file("ip6tables", 6),
        _aerleon(
            "ciscoasa",
            "Cisco ASA access lists (aerleon)",
            "Cisco ASA",
            "acl",
            split_families=True,
            exclusions="deny",
            names="fqdn",
            audit_format="ciscoasa",
            read_back=_ACL_READ_BACK,
            reader="acl_terms",
            nat=True,
        ),
        _aerleon(
            "srx",
            "Juniper SRX security policies (aerleon)",
            "Juniper SRX",
            "zones",
            split_families=False,
            names="fqdn",
            audit_format="srx",
            read_back="`policy <term> { ... permit; }`",
            reader="srx_terms",
            nat=True,
        ),
        _aerleon(
            "paloalto",
            "Palo Alto Networks security rules, XML (aerleon)",
            "Palo Alto Networks",
            "zones",
            split_families=False,
            exclusions="none",
            exclusion_note=N_(
                "aerleon's Palo Alto generator loses the address names when it "
                "excludes addresses; the zone pair still limits each rule to the zone it enters from"
            ),
            names="fqdn",
            audit_format="paloalto",
            read_back="the XML: an `allow` entry with members",
            reader="paloalto_terms",
            nat=True,
        ),
        _aerleon(
            "fortigate",
            "Fortinet FortiGate firewall policies (aerleon)",
            "Fortinet FortiGate",
            "zones",
            split_families=False,
            names="fqdn-wildcard",
            audit_format="fortigate",
            read_back="`set name` + `set action accept`",
            reader="fortigate_terms",
            nat=True,
        ),
        _aerleon(
            "cisco",
            "Cisco IOS extended access lists (aerleon)",
            "Cisco IOS",
            "acl",
            split_families=True,
            exclusions="deny",
            read_back=_ACL_READ_BACK,
            reader="acl_terms",
        ),
        _aerleon(
            "arista",
            "Arista EOS access lists (aerleon)",
            "Arista EOS",
            "acl",
            split_families=True,
            exclusions="deny",
            read_back=_ACL_READ_BACK,
            reader="acl_terms",
        ),
        _aerleon(
            "gce",
            "Google Compute Engine firewall rules, JSON (aerleon)",
            "Google Compute Engine",
            "direction",
            split_families=True,
            explicit_any=True,
            destination="tag",
            read_back="the JSON (rules split past 256 ranges included)",
            reader="gce_terms",
        ),
        _aerleon(
            "k8s",
            "Kubernetes NetworkPolicy list, YAML (aerleon)",
            "Kubernetes NetworkPolicy",
            "direction",
            split_families=False,
            explicit_any=True,
            destination="none",
            exclusions="per-family",
            read_back="the YAML",
            reader="k8s_terms",
        ),
        _aerleon(
            "windows_advfirewall",
            "Windows Advanced Firewall netsh script, hosts only (aerleon)",
            "Windows Advanced Firewall",
            "direction",
            split_families=True,
            host_only=True,
            exclusions="none",
            exclusion_note=N_("Windows Firewall rules cannot exclude addresses"),
            read_back="`add rule name=...`; no `action=block`",
            reader="windows_terms",
        ),
        Target(
            "squid",
            "the site's web proxy allow-list, squid.conf lines (no --firewall or --host)",
            "flowmatrix.rules.squid:generate",
            "flowmatrix",
            (4, 6),
            "domains",
            "each proxied flow's `http_access allow` with its ACLs; `deny all` last",
            label="the site's web proxy allow-list",
            check=("squid", "-k", "parse", "-f"),
            scopes=("proxy",),
        ),
    )
}


def entry(name: str) -> Target:
    """The entry of ``name`` (a ``UserError`` naming the targets if there is none)."""
    found = TARGETS.get(name)
    if found is None:
        from flowmatrix.errors import UserError
        from flowmatrix.i18n import _

        raise UserError(
            _("unknown target {name!r}").format(name=name),
            hint=_("targets: {targets}").format(targets=", ".join(TARGETS)),
        )
    return found


def load(dotted: str) -> Callable[..., object]:
    """The function a ``module:function`` path names, importing its module now."""
    module, _sep, function = dotted.partition(":")
    found: Callable[..., object] = getattr(importlib.import_module(module), function)
    return found


def vendor_targets() -> dict[str, VendorTarget]:
    """The aerleon targets' feeds, by target name."""
    return {t.name: t.aerleon for t in TARGETS.values() if t.aerleon is not None}


def with_side_file(kind: SideFile) -> list[str]:
    return [t.name for t in TARGETS.values() if kind in t.side_files]


def checkable() -> list[str]:
    """The targets ``--check`` has a validator for."""
    return [t.name for t in TARGETS.values() if t.check is not None]


def either(names: Iterable[str], word: str = "or") -> str:
    """``a, b or c``."""
    items = list(names)
    if len(items) < 2:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def option_help() -> str:
    """The help of ``rules --target``."""
    own = [t for t in TARGETS.values() if t.writer == "flowmatrix" and not t.plan_wide]
    vendors = [t.name for t in TARGETS.values() if t.writer == "aerleon"]
    wide = [t for t in TARGETS.values() if t.plan_wide]
    parts = [f"{t.name} ({t.label})" if t.label else t.name for t in own]
    parts.append(f"a vendor through aerleon ({', '.join(vendors)})")
    parts += [f"{t.name} ({t.label})" for t in wide]
    return f"{', '.join(parts[:-1])}, or {parts[-1]}."


def check_help() -> str:
    """The help of ``rules --check``."""
    kernel = [t.check[0] for t in TARGETS.values() if t.check and not t.plan_wide]
    text = f"Validate with {either(kernel)} in a throwaway network namespace (root)"
    for t in TARGETS.values():
        if t.check and t.plan_wide:
            text += f"; {' '.join(t.check[:-1])} for {t.name}"
    return text + "."


def epilog() -> str:
    """The targets, one line each, for the end of ``rules --help``."""
    width = max(len(name) for name in TARGETS)
    lines = [f"  {t.name.ljust(width)}  {t.help}" for t in TARGETS.values()]
    return "Targets:\n\n\b\n" + "\n".join(lines)


_NAMES_TEXT: dict[NameSupport, str] = {
    "sets": "name sets (dnsmasq)",
    "fqdn": "FQDN objects",
    "fqdn-wildcard": "FQDN objects, wildcards",
    "domains": "`dstdomain` ACLs, wildcards",
    "none": "none (`--resolve`)",
}


def markdown_table() -> str:
    """The targets table of docs/rules.md."""
    rows = [
        "| target | what it writes | written by | IPv4 / IPv6 | names | NAT | read back by "
        "| audit reads it | `--check` | extra files |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for t in TARGETS.values():
        families = " / ".join(f"IPv{f}" for f in t.families)
        audit = f"`--ruleset-format {t.audit_format}`" if t.audit_format else "no"
        check = f"`{' '.join(t.check)}`" if t.check else "no"
        extra = ", ".join(f"`--{kind}`" for kind in t.side_files) or "none"
        rows.append(
            f"| `{t.name}` | {t.help} | {t.writer} | {families} | {_NAMES_TEXT[t.names]} "
            f"| {'written' if t.nat else 'no'} | {t.read_back} | {audit} | {check} | {extra} |"
        )
    return "\n".join(rows) + "\n"

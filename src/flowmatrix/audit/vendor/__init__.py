"""Readers of vendor firewall configurations: FortiGate, PAN-OS, Cisco ASA, Juniper SRX.

Each turns a configuration into the audit's IR (``ir.Ruleset``) with a ``Device`` (zones,
interfaces, translations, fix writer), so that verdicts, traces, least privilege, dead
rules, fixes and SARIF work as for the Linux rulesets.
"""

from __future__ import annotations

import re
from typing import Literal

from flowmatrix.audit.ir import Ruleset
from flowmatrix.audit.vendor import fortios
from flowmatrix.errors import UserError
from flowmatrix.i18n import N_, _

Vendor = Literal["fortigate", "paloalto", "ciscoasa", "srx"]
VENDORS: tuple[Vendor, ...] = ("fortigate", "paloalto", "ciscoasa", "srx")
TITLES: dict[str, str] = {
    "fortigate": N_("a FortiGate (FortiOS) configuration"),
    "paloalto": N_("a PAN-OS configuration (XML, set or brace format)"),
    "ciscoasa": N_("a Cisco ASA running-config"),
    "srx": N_("a Juniper SRX configuration (hierarchical or display set)"),
}

_ASA = re.compile(
    r"^(ASA Version|access-list \S+ (extended|remark|standard|line|webtype|ethertype)\b|"
    r"object network |object service |object-group (network|service|protocol|icmp-type) |"
    r" nameif |access-group \S+ (in|out|global)\b|same-security-traffic |: Saved)"
)
_JUNOS_WORDS = frozenset(
    {
        "security",
        "interfaces",
        "system",
        "applications",
        "routing-options",
        "policy-options",
        "protocols",
        "version",
        "groups",
        "firewall",
        "snmp",
        "chassis",
        "routing-instances",
        "services",
    }
)
_PAN_WORDS = frozenset(
    {
        "config",
        "deviceconfig",
        "network",
        "vsys",
        "rulebase",
        "zone",
        "address",
        "address-group",
        "service",
        "service-group",
        "shared",
        "mgt-config",
        "policy",
        "devices",
        "application",
        "application-group",
        "tag",
        "import",
        "profiles",
    }
)
_BRACE_TOP = re.compile(r"^(?:replace: |inactive: )?([A-Za-z][\w.-]*) \{\s*$")


def detect(text: str) -> Vendor | None:
    """The vendor whose configuration ``text`` is, or None."""
    stripped = text.lstrip()
    if stripped.startswith("<"):
        return "paloalto"
    if fortios.looks_like(text):
        return "fortigate"
    junos = pan = 0
    for raw in text.splitlines()[:2000]:
        if _ASA.match(raw):
            return "ciscoasa"
        line = raw.strip()
        words = line.split()
        if len(words) >= 2 and words[0] in ("set", "deactivate", "delete", "activate"):
            second = words[1]
            junos += second in _JUNOS_WORDS and second not in ("address", "zone", "service")
            pan += second in _PAN_WORDS
            continue
        top = _BRACE_TOP.match(raw)
        if top is not None:
            junos += top.group(1) in _JUNOS_WORDS
            pan += top.group(1) in _PAN_WORDS
    if junos > pan:
        return "srx"
    if pan > junos:
        return "paloalto"
    return None


def read_vendor(
    vendor: Vendor, text: str, file: str, *, context: str | None, prefer: str | None
) -> Ruleset:
    """The IR of a configuration; ``context`` picks a VDOM or vsys, ``prefer`` is the
    name tried first (the audited firewall's)."""
    found = detect(text)
    if found is not None and found != vendor:
        raise UserError(
            _("expected {expected}, but this reads as {found}").format(
                expected=_(TITLES[vendor]), found=_(TITLES[found])
            ),
            file=file,
            line=1,
            hint=_("use --ruleset-format {format}, or auto").format(format=found),
        )
    if vendor == "fortigate":
        from flowmatrix.audit.vendor.fortigate import read_fortigate

        return read_fortigate(text, file, context, prefer)
    if vendor == "paloalto":
        from flowmatrix.audit.vendor.paloalto import read_paloalto

        return read_paloalto(text, file, context, prefer)
    if vendor == "ciscoasa":
        from flowmatrix.audit.vendor.ciscoasa import read_ciscoasa

        return read_ciscoasa(text, file, context, prefer)
    from flowmatrix.audit.vendor.srx import read_srx

    return read_srx(text, file, context, prefer)

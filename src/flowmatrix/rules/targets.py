"""The rules targets by name (kept import-free: the command line lists them in --help)."""

from __future__ import annotations

#: Target name -> one-line description, in the order ``--help`` shows them.
TARGETS: dict[str, str] = {
    "nftables": "nftables script for 'nft -f' (IPv4 and IPv6 in one inet table)",
    "iptables": "iptables-restore file (IPv4)",
    "ip6tables": "ip6tables-restore file (IPv6)",
    "ciscoasa": "Cisco ASA access lists (aerleon)",
    "srx": "Juniper SRX security policies (aerleon)",
    "paloalto": "Palo Alto Networks security rules, XML (aerleon)",
    "fortigate": "Fortinet FortiGate firewall policies (aerleon)",
    "cisco": "Cisco IOS extended access lists (aerleon)",
    "arista": "Arista EOS access lists (aerleon)",
    "gce": "Google Compute Engine firewall rules, JSON (aerleon)",
    "k8s": "Kubernetes NetworkPolicy list, YAML (aerleon)",
    "windows_advfirewall": "Windows Advanced Firewall netsh script, hosts only (aerleon)",
    "squid": "the site's web proxy allow-list, squid.conf lines (no --firewall or --host)",
}
#: Targets flowmatrix writes itself (the others go through aerleon).
NATIVE_TARGETS = ("nftables", "iptables", "ip6tables")
#: Targets that write a firewall's (or host's) rules; squid writes the proxy's allow-list.
FIREWALL_TARGETS = tuple(name for name in TARGETS if name != "squid")

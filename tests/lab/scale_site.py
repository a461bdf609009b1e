"""A generated site for the lab at scale: 10 firewalls, 40 zones, 1,000 planned probes.

The first firewall joins the Internet to three zones; the next three hang four new
zones each off one of those, and each later one off a zone of the firewall before: a
chain, so that the longest paths cross nine firewalls. One host per zone; site flows between hosts of different zones, ten ports each,
every fourth one UDP. Used by tests/lab and benchmarks/lab_scale.py.
"""

from __future__ import annotations

NEW_ZONES_PER_FIREWALL = 4
#: Catalog features off, so that the site's own flows are the whole plan.
FEATURES_OFF = (
    "intranet-vpn",
    "xenapp",
    "storefront",
    "ldap",
    "callback-url",
    "admin-console",
    "remote-sql",
    "ios",
    "apns",
    "android",
    "fcm",
)


def generate_site(
    firewalls: int = 10, zones: int = 40, probes: int = 1000, ports_per_flow: int = 10
) -> str:
    """The site file's text: ``zones`` zones (the Internet one of them), ``firewalls``
    firewalls, ``probes`` planned probes (one source host to one destination per port)."""
    internal = zones - 1
    first = internal - (firewalls - 1) * NEW_ZONES_PER_FIREWALL
    if first < 1:
        raise ValueError(f"{zones} zones are too few for {firewalls} firewalls")
    names = [f"z{i}" for i in range(1, internal + 1)]
    lines = [
        "version: 1",
        f"name: lab scale, {firewalls} firewalls, {zones} zones, {probes} probes",
        "zones:",
        "  - {name: internet, internet: true}",
        *(f"  - {{name: {name}, cidrs: [10.{i}.0.0/16]}}" for i, name in enumerate(names, 1)),
        "firewalls:",
        f"  - {{name: fw0, zones: [internet, {', '.join(names[:first])}]}}",
    ]
    for index in range(1, firewalls):
        own = names[
            first + (index - 1) * NEW_ZONES_PER_FIREWALL : first + index * NEW_ZONES_PER_FIREWALL
        ]
        if index <= first:
            up = names[index - 1]
        else:  # the first zone of the firewall before: a chain
            up = names[first + (index - 2) * NEW_ZONES_PER_FIREWALL]
        lines.append(f"  - {{name: fw{index}, zones: [{up}, {', '.join(own)}]}}")
    lines.append("hosts:")
    lines += [
        f"  - {{name: h{i}, role: intranet-web, addresses: [10.{i}.0.10]}}"
        for i in range(1, internal + 1)
    ]
    lines.append("features: {" + ", ".join(f"{k}: false" for k in FEATURES_OFF) + "}")
    lines.append("flows:")
    for number in range(probes // ports_per_flow):
        source = number % internal
        destination = (number * 7 + 3) % internal
        if destination == source:
            destination = (destination + 1) % internal
        ports = ", ".join(str(20000 + number * ports_per_flow + p) for p in range(ports_per_flow))
        protocol = "udp" if number % 4 == 3 else "tcp"
        lines.append(
            f"  - {{name: f{number}, source: h{source + 1}, destination: h{destination + 1}, "
            f"protocols: [{protocol}], ports: [{ports}]}}"
        )
    return "\n".join(lines) + "\n"

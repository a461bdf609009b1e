"""Views of the rules targets, derived from ``registry.py`` (edit the registry, not this)."""

from __future__ import annotations

from flowmatrix.rules.registry import TARGETS as _ENTRIES

#: Target name -> one-line description, in the order ``--help`` shows them.
TARGETS: dict[str, str] = {name: entry.help for name, entry in _ENTRIES.items()}
#: Targets flowmatrix writes itself for a firewall or a host (the others go through aerleon).
NATIVE_TARGETS = tuple(
    t.name for t in _ENTRIES.values() if t.writer == "flowmatrix" and not t.plan_wide
)
#: Targets that write a firewall's (or host's) rules; squid writes the proxy's allow-list.
FIREWALL_TARGETS = tuple(t.name for t in _ENTRIES.values() if not t.plan_wide)

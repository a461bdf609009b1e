"""The Ansible inventory of the source hosts, grouped by role.

Only what flowmatrix knows goes in: ``ansible_host`` and ``flowmatrix_*`` variables.
Connection settings (user, key, become, interpreter) stay in the user's own inventory,
``group_vars`` or ``-e``: Ansible merges them by host and group name.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from flowmatrix.fleet.sources import SourceHost
from flowmatrix.i18n import language

#: The group holding every source host: the playbook's target.
ALL_SOURCES_GROUP = "flowmatrix_sources"


def group_name(role: str) -> str:
    """An Ansible-safe group name for a role id (``netscaler-gateway`` -> ``netscaler_gateway``)."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", role)
    return name if re.match(r"[A-Za-z_]", name) else f"role_{name}"


def inventory_document(hosts: Sequence[SourceHost]) -> dict[str, Any]:
    groups: dict[str, dict[str, Any]] = {}
    for host in hosts:
        if not host.reachable:
            continue
        for role in host.roles:  # a host in several roles is in each role's group
            group = groups.setdefault(group_name(role), {"hosts": {}})
            group["hosts"][host.name] = {
                "ansible_host": host.connect_to,
                "flowmatrix_host": host.name,
                "flowmatrix_flows": len(host.flows),
            }
    children = {name: groups[name] for name in sorted(groups)}
    return {"all": {"children": {ALL_SOURCES_GROUP: {"children": children}}}}


def render_inventory(hosts: Sequence[SourceHost], site_name: str) -> str:
    """The inventory as YAML, with a header saying what is in it and what is not."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096
    buffer = io.StringIO()
    yaml.dump(inventory_document(hosts), buffer)
    header = [
        f"# Ansible inventory written by 'flowmatrix fleet export' for site: {_one_line(site_name)}",
        "# One host per site host that is the source of a planned flow, grouped by role.",
        "# Connection settings (ansible_user, keys, become, ansible_python_interpreter) are",
        "# not here: give them in your own inventory or group_vars, or with -e.",
    ]
    left_out = [h for h in hosts if not h.reachable]
    if left_out:
        header.append("# Source hosts left out (run 'flowmatrix verify --from HOST' there):")
        with language("en"):  # a generated file: the same bytes whatever the run's language
            header.extend(f"#   {h.name}: {h.why_not}" for h in left_out)
    return "\n".join(header) + "\n" + buffer.getvalue()


def _one_line(text: str) -> str:
    return " ".join(text.split())

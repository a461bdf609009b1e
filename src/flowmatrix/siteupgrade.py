"""A site file of an older format rewritten in the newest one, comments and layout kept.

Version 1 -> 2: ``version: 2``, and each host's ``role: X`` becomes ``roles: [X]`` in the
same place, with the comment that followed it. Everything else is left as written
(ruamel.yaml's round trip keeps comments, key order, quotes and flow or block style).
The result is read back as a site before it is returned: an upgrade never writes a file
that flowmatrix would refuse.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.util import load_yaml_guess_indent

from flowmatrix.errors import UserError
from flowmatrix.i18n import _
from flowmatrix.site import SITE_VERSION


class Upgrade:
    """The upgraded text and what changed."""

    def __init__(self, text: str, old_version: int, hosts: int) -> None:
        self.text = text
        self.old_version = old_version
        self.hosts = hosts
        """Hosts whose ``role`` became ``roles``."""

    @property
    def changed(self) -> bool:
        return self.old_version != SITE_VERSION


def _round_trip(text: str) -> YAML:
    """A round-trip YAML that writes with the indentation ``text`` uses."""
    yaml = YAML()  # round-trip mode: comments, order and styles are kept
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line the user wrote on one
    # the guess is a list item's indentation and its dash's offset ("  - name": 4 and 2)
    _guess, sequence, dash_offset = load_yaml_guess_indent(text)
    sequence = sequence or 2
    dash_offset = dash_offset or 0
    mapping = max(sequence - dash_offset, 2)
    yaml.indent(mapping=mapping, sequence=sequence, offset=dash_offset)
    return yaml


def upgrade_text(text: str, name: str) -> Upgrade:
    """``text`` (a site file that loads) in the newest format. ``name`` is for messages."""
    yaml = _round_trip(text)
    data: Any = yaml.load(text)
    if not isinstance(data, CommentedMap) or data.get("version") not in (1, SITE_VERSION):
        raise UserError(
            _("not a site file of a known version"),
            file=name,
            line=1,
            col=1,
            hint=_("check it with 'flowmatrix plan FILE' first"),
        )
    version = int(data["version"])
    if version == SITE_VERSION:
        return Upgrade(text, version, 0)
    data["version"] = SITE_VERSION
    hosts = 0
    for host in data.get("hosts") or ():
        if isinstance(host, CommentedMap) and "role" in host:
            _role_to_roles(host)
            hosts += 1
    out = io.StringIO()
    yaml.dump(data, out)
    return Upgrade(out.getvalue(), version, hosts)


def _role_to_roles(host: CommentedMap) -> None:
    """``role: X`` -> ``roles: [X]`` at the same position, keeping its comment."""
    position = list(host.keys()).index("role")
    roles = CommentedSeq([host["role"]])
    roles.fa.set_flow_style()
    comment = host.ca.items.pop("role", None)
    del host["role"]
    host.insert(position, "roles", roles)
    if comment is not None:
        host.ca.items["roles"] = comment

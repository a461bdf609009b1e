"""Validate generated rules with the real tools, inside a throwaway network namespace.

``nft -c -f`` and ``iptables-restore --test`` parse the file and ask the kernel, without
committing anything; running them in a namespace of our own means that even a bug
cannot touch the host's ruleset. Other targets have no validator here: their output
is parsed back (XML, JSON, YAML) by the coverage check instead.
"""

from __future__ import annotations

import shutil
import uuid

from flowmatrix.errors import UserError
from flowmatrix.netns import NamespaceSet, kernel_support

#: target -> the command that checks a file given on stdin.
VALIDATORS: dict[str, list[str]] = {
    "nftables": ["nft", "-c", "-f", "-"],
    "iptables": ["iptables-restore", "--test"],
    "ip6tables": ["ip6tables-restore", "--test"],
}


def can_validate(target: str) -> bool:
    return target in VALIDATORS


def validate(target: str, text: str) -> str | None:
    """None when the kernel tools accept ``text``, else their error message."""
    command = VALIDATORS.get(target)
    if command is None:
        raise UserError(
            f"no validator for target {target!r}",
            hint=f"--check works with {', '.join(VALIDATORS)}",
        )
    reason = kernel_support()
    if reason is not None:
        raise UserError(f"cannot check the rules: {reason}", hint="run as root, or drop --check")
    if shutil.which(command[0]) is None:
        raise UserError(
            f"cannot check the rules: {command[0]} is not installed",
            hint="install nftables / iptables, or drop --check",
        )
    with NamespaceSet(prefix=f"fmchk{uuid.uuid4().hex[:6]}") as namespaces:
        namespace = namespaces.add("check")
        result = namespace.run(command, check=False, input_text=text)
    if result.returncode == 0:
        return None
    return (result.stderr or result.stdout).strip() or f"{command[0]} exited {result.returncode}"

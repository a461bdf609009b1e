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
from flowmatrix.i18n import _
from flowmatrix.netns import NamespaceSet, kernel_support
from flowmatrix.rules.registry import TARGETS

#: target -> the command that checks a file given on stdin (``check`` in ``registry.py``).
VALIDATORS: dict[str, list[str]] = {
    t.name: list(t.check) for t in TARGETS.values() if t.check is not None
}


def validate(target: str, text: str, ipsets: str | None = None) -> str | None:
    """None when the tools accept ``text``, else their error message.

    ``ipsets`` (an ``ipset restore`` file) is loaded first into the namespace: iptables
    rules that match name sets need them to exist.
    """
    command = VALIDATORS.get(target)
    if command is None:
        raise UserError(
            _("no validator for target {target!r}").format(target=target),
            hint=_("--check works with {targets}").format(targets=", ".join(VALIDATORS)),
        )
    if TARGETS[target].plan_wide:
        return _validate_squid(command, text)
    reason = kernel_support()
    if reason is not None:
        raise UserError(
            _("cannot check the rules: {reason}").format(reason=reason),
            hint=_("run as root, or drop --check"),
        )
    if shutil.which(command[0]) is None:
        raise UserError(
            _("cannot check the rules: {tool} is not installed").format(tool=command[0]),
            hint=_("install nftables / iptables, or drop --check"),
        )
    with NamespaceSet(prefix=f"fmchk{uuid.uuid4().hex[:6]}") as namespaces:
        namespace = namespaces.add("check")
        if ipsets and any(line.startswith("create ") for line in ipsets.splitlines()):
            loaded = namespace.run(["ipset", "restore", "-exist"], check=False, input_text=ipsets)
            if loaded.returncode != 0:
                return f"ipset restore: {(loaded.stderr or loaded.stdout).strip()}"
        result = namespace.run(command, check=False, input_text=text)
    if result.returncode == 0:
        return None
    return (result.stderr or result.stdout).strip() or _("{tool} exited {code}").format(
        tool=command[0], code=result.returncode
    )


def _validate_squid(command: list[str], text: str) -> str | None:
    """``squid -k parse`` on the configuration, written to a temporary folder."""
    import subprocess
    import tempfile
    from pathlib import Path

    if shutil.which(command[0]) is None and not Path("/usr/sbin/squid").exists():
        raise UserError(
            _("cannot check the proxy allow-list: squid is not installed"),
            hint=_("install squid, or drop --check"),
        )
    program = shutil.which(command[0]) or "/usr/sbin/squid"
    with tempfile.TemporaryDirectory(prefix="flowmatrix-squid-") as folder:
        path = Path(folder) / "squid.conf"
        path.write_text(text, encoding="utf-8")
        path.chmod(0o644)
        Path(folder).chmod(0o755)
        result = subprocess.run(
            [program, *command[1:], str(path)], capture_output=True, text=True, check=False
        )
    if result.returncode == 0:
        return None
    lines = [
        line
        for line in (result.stderr or result.stdout).splitlines()
        if "FATAL" in line or "ERROR" in line
    ]
    return " ".join(lines) or _("{tool} exited {code}").format(tool="squid", code=result.returncode)

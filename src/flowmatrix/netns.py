"""Linux network namespaces for the lab and the kernel tests.

Everything is created through ``ip`` (iproute2) under a name prefix, tracked by a
``NamespaceSet`` and removed when the set is closed, also on error and on Ctrl-C.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType

from flowmatrix.errors import UserError

NETNS_DIR = "/var/run/netns"


def kernel_support() -> str | None:
    """None when namespaces can be made here, else the reason they cannot."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if shutil.which("ip") is None:
        return "needs iproute2 ('ip')"
    probe = f"fmprobe{uuid.uuid4().hex[:6]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "delete", probe], capture_output=True)
    return None


def _run(cmd: Sequence[str], *, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(cmd), capture_output=True, text=True, input=input_text)
    if result.returncode != 0:
        raise UserError(
            f"command failed: {' '.join(cmd)}: {result.stderr.strip() or result.stdout.strip()}",
            hint="network namespaces need root and iproute2",
        )
    return result


@dataclass
class Namespace:
    """One network namespace, addressed by name."""

    name: str

    def exec_args(self, cmd: Sequence[str]) -> list[str]:
        """``cmd`` wrapped to run inside this namespace."""
        return ["ip", "netns", "exec", self.name, *cmd]

    def run(
        self,
        cmd: Sequence[str],
        *,
        check: bool = True,
        input_text: str | None = None,
        timeout: float | None = 120,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.exec_args(cmd),
            capture_output=True,
            text=True,
            input=input_text,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise UserError(
                f"in namespace {self.name}: {' '.join(cmd)} failed: "
                f"{result.stderr.strip() or result.stdout.strip()}"
            )
        return result

    def popen(self, cmd: Sequence[str], **kwargs: object) -> subprocess.Popen[str]:
        return subprocess.Popen(self.exec_args(cmd), text=True, **kwargs)  # type: ignore[call-overload, no-any-return]

    def ip(self, *args: str) -> None:
        _run(["ip", "-n", self.name, *args])

    def sysctl(self, key: str, value: str) -> None:
        self.run(["sysctl", "-q", "-w", f"{key}={value}"])


@dataclass
class NamespaceSet:
    """Namespaces and links created together and deleted together.

    Use as a context manager; every name gets ``prefix`` so nothing else is touched.
    """

    prefix: str = field(default_factory=lambda: f"fm{uuid.uuid4().hex[:6]}")
    namespaces: dict[str, Namespace] = field(default_factory=dict)

    def __enter__(self) -> NamespaceSet:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def add(self, short: str, *, loopback: bool = True, forwarding: bool = False) -> Namespace:
        """Create namespace ``<prefix>-<short>`` with lo up."""
        name = f"{self.prefix}-{short}"[:60]
        _run(["ip", "netns", "add", name])
        ns = Namespace(name)
        self.namespaces[short] = ns
        if loopback:
            ns.ip("link", "set", "lo", "up")
        ns.sysctl("net.ipv4.ip_forward", "1" if forwarding else "0")
        ns.sysctl("net.ipv6.conf.all.forwarding", "1" if forwarding else "0")
        ns.sysctl("net.ipv6.conf.all.accept_dad", "0")
        ns.sysctl("net.ipv6.conf.default.accept_dad", "0")
        return ns

    def link(self, a: Namespace, a_if: str, b: Namespace, b_if: str) -> None:
        """A veth pair between two namespaces, both ends up."""
        tmp = f"v{uuid.uuid4().hex[:10]}"
        peer = f"w{uuid.uuid4().hex[:10]}"
        _run(["ip", "link", "add", tmp, "type", "veth", "peer", "name", peer])
        _run(["ip", "link", "set", tmp, "netns", a.name, "name", a_if])
        _run(["ip", "link", "set", peer, "netns", b.name, "name", b_if])
        a.ip("link", "set", a_if, "up")
        b.ip("link", "set", b_if, "up")

    def close(self) -> None:
        """Delete every namespace of the set (their veth ends go with them)."""
        for ns in list(self.namespaces.values()):
            subprocess.run(["ip", "netns", "delete", ns.name], capture_output=True)
        self.namespaces.clear()


def leftover_namespaces(prefix: str) -> list[str]:
    """Namespaces whose name starts with ``prefix`` (for clean-up checks)."""
    try:
        return sorted(n for n in os.listdir(NETNS_DIR) if n.startswith(prefix))
    except FileNotFoundError:
        return []

"""The servers a lab runs inside its namespaces (dnsmasq, squid): started with their
configuration in a private directory, waited for until they listen, stopped before the
namespaces are deleted, and killed by the kernel if the lab itself dies
(``PR_SET_PDEATHSIG``), so none outlives a run.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flowmatrix.errors import UserError
from flowmatrix.i18n import _
from flowmatrix.netns import Namespace

#: Seconds a server gets to listen.
START_TIMEOUT = 10.0
_PR_SET_PDEATHSIG = 1
#: /proc/net/tcp state of a listening socket.
_TCP_LISTEN = "0A"


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def listening(pid: int, protocol: str, port: int) -> bool:
    """Whether the network namespace of process ``pid`` has a socket bound to ``port``
    (UDP) or listening on it (TCP)."""
    wanted = f":{port:04X}"
    for table in (protocol, f"{protocol}6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            return False
        for line in lines:
            fields = line.split()
            bound = len(fields) > 3 and fields[1].endswith(wanted)
            if bound and (protocol == "udp" or fields[3] == _TCP_LISTEN):
                return True
    return False


@dataclass
class _Server:
    label: str
    process: subprocess.Popen[str]
    protocol: str
    port: int
    kill: bool
    """Stop with SIGKILL (a server with nothing to save and a slow shutdown)."""


@dataclass
class Daemons:
    """Servers of one lab run."""

    servers: list[_Server] = field(default_factory=list)
    directory: str | None = None
    _holder: tempfile.TemporaryDirectory[str] | None = None

    def path(self, name: str) -> Path:
        """A file of the run's private directory (made on first use)."""
        if self._holder is None:
            self._holder = tempfile.TemporaryDirectory(prefix="flowmatrix-lab-")
            self.directory = self._holder.name
        return Path(self._holder.name) / name

    def start(
        self,
        label: str,
        namespace: Namespace,
        argv: Sequence[str],
        *,
        listens: tuple[str, int],
        kill: bool = False,
    ) -> None:
        """Start ``argv`` in ``namespace``, its output in ``<label>.log``; ``listens``:
        the (protocol, port) it is ready once bound to (see :meth:`wait_ready`)."""
        with self.path(f"{label}.log").open("w") as log:
            process = namespace.popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=_die_with_parent,
            )
        self.servers.append(_Server(label, process, listens[0], listens[1], kill))

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        for server in self.servers:
            pid = server.process.pid
            while not listening(pid, server.protocol, server.port):
                if server.process.poll() is not None or time.monotonic() > deadline:
                    raise UserError(
                        _("the lab's {daemon} did not start: {log}").format(
                            daemon=server.label, log=self.log(server.label)
                        )
                    )
                time.sleep(0.005)

    def log(self, label: str) -> str:
        """The last lines a server wrote."""
        if self.directory is None:
            return ""
        try:
            text = self.path(f"{label}.log").read_text("utf-8", "replace")
        except OSError:
            return ""
        return " / ".join(text.strip().splitlines()[-3:]) or _("no output")

    def stop(self) -> None:
        for server in self.servers:
            if server.process.poll() is None:
                if server.kill:
                    server.process.kill()
                else:
                    server.process.terminate()
        for server in self.servers:
            try:
                server.process.wait(2.0)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
        self.servers.clear()
        if self._holder is not None:
            self._holder.cleanup()
            self._holder = self.directory = None

    def share_with(self, user: str) -> None:
        """Let ``user`` (a server that drops root) write in the private directory."""
        import pwd

        self.path("")
        assert self.directory is not None
        entry = pwd.getpwnam(user)
        os.chown(self.directory, entry.pw_uid, entry.pw_gid)

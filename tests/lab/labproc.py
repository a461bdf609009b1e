"""The real ``flowmatrix lab`` as a child process, and what one run leaves in the kernel.

Other lab runs (other test suites, other users) may run on the same machine at the same
time: everything here is restricted to what one run created, its namespaces being
``fmlab-<its pid>-...`` and its marker naming its pid.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from flowmatrix.netns import delete_namespaces, leftover_namespaces
from flowmatrix.netns_registry import Marker, read_markers

SRC = str(Path(__file__).parents[2] / "src")
#: The smallest shipped site that has every phase: 3 zones, 1 firewall, 40 probes.
SMALL_SITE = "example:small-office"


def root_veths() -> set[str]:
    """veth interfaces in this (the host's) namespace."""
    listed = subprocess.run(
        ["ip", "-o", "link", "show", "type", "veth"], capture_output=True, text=True, check=True
    ).stdout
    return {line.split(":", 2)[1].strip().split("@")[0] for line in listed.splitlines() if line}


def _as_a_terminal_job() -> None:
    """In the child before exec: SIGINT and SIGQUIT at their default, as for a job a
    terminal starts. A test run started in the background of a script inherits them
    ignored, and the lab keeps a signal it was started with ignored."""
    for signum in (signal.SIGINT, signal.SIGQUIT):
        signal.signal(signum, signal.SIG_DFL)


def catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler for ``signum`` (the lab's guard is in place)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


def marker_of(pid: int) -> Marker | None:
    for marker in read_markers():
        if isinstance(marker, Marker) and marker.owner.pid == pid:
            return marker
    return None


@dataclass
class LabProcess:
    """One ``flowmatrix lab`` process."""

    args: tuple[str, ...] = (SMALL_SITE, "--unplanned", "1", "--timeout", "0.3")
    env: dict[str, str] = field(default_factory=dict)
    veths_before: set[str] = field(default_factory=set)
    process: subprocess.Popen[str] | None = None
    started: float = 0.0
    stderr: str = ""

    def start(self) -> LabProcess:
        self.veths_before = root_veths()
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flowmatrix", "lab", *self.args, "-f", "json"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": SRC, **self.env},
            start_new_session=True,  # its own process group, as a terminal's job
            preexec_fn=_as_a_terminal_job,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    @property
    def prefix(self) -> str:
        return f"fmlab-{self.pid}-"

    def namespaces(self) -> list[str]:
        return leftover_namespaces(self.prefix)

    def wait_for(self, condition: str, timeout: float = 30.0) -> float:
        """Seconds since start when ``condition`` ('guard' or 'namespaces') held."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.poll() is not None:
                raise AssertionError(f"the lab ended before {condition}: {self.finish()}")
            if condition == "guard" and catches(self.pid, signal.SIGTERM):
                return time.monotonic() - self.started
            if condition == "namespaces" and self.namespaces():
                return time.monotonic() - self.started
            time.sleep(0.002)
        raise AssertionError(f"no {condition} after {timeout} s")

    def poll(self) -> int | None:
        assert self.process is not None
        return self.process.poll()

    def signal(self, signum: int) -> bool:
        """Send ``signum`` if the process still runs; whether it was sent."""
        assert self.process is not None
        if self.process.poll() is not None:
            return False
        try:
            self.process.send_signal(signum)
        except ProcessLookupError:
            return False
        return True

    def signal_group(self, signum: int) -> bool:
        """Send ``signum`` to the whole process group, the lab and the ``ip`` or ``nft``
        it runs, as a terminal does on Ctrl-C."""
        assert self.process is not None
        if self.process.poll() is not None:
            return False
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            return False
        return True

    def finish(self, timeout: float = 60.0) -> int:
        assert self.process is not None
        try:
            _, self.stderr = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, self.stderr = self.process.communicate()
            raise AssertionError(f"the lab did not end within {timeout} s") from None
        return self.process.returncode

    def new_root_veths(self) -> set[str]:
        """veths that appeared in the host's namespace and stayed (seen twice, so that a
        concurrent run's transient interface is not counted)."""
        new = root_veths() - self.veths_before
        if new:
            time.sleep(0.5)
            new &= root_veths()
        return new

    def remove_leftovers(self) -> None:
        """The test's own clean-up, whatever the lab did: its namespaces and marker."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self.process is not None:
            delete_namespaces(self.namespaces())
            marker = marker_of(self.pid)
            if marker is not None:
                marker.remove()

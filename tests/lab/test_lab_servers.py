"""The lab's servers (dnsmasq, squid) never outlive a run: stopped by its clean-up when
a signal ends it, killed by the kernel when the run itself is killed."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from lab.labproc import LabProcess
from lab.servers import require_servers

pytestmark = pytest.mark.kernel
#: The shipped site with names and a web proxy: a DNS server, two dnsmasq, one squid.
SITE = "example:enterprise-dual-stack"
SERVERS = {"dnsmasq": 3, "squid": 1}


def _children(pid: int) -> dict[int, str]:
    """pid -> command name of the processes whose parent is ``pid``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        parent = int(stat[stat.rindex(")") + 2 :].split()[1])
        if parent == pid:
            found[int(entry.name)] = name
    return found


def _servers_of(lab: LabProcess, timeout: float = 60.0) -> dict[int, str]:
    """The run's servers, once all of them are up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert lab.poll() is None, f"the lab ended before its servers started: {lab.finish()}"
        servers = {p: n for p, n in _children(lab.pid).items() if n in SERVERS}
        if sorted(servers.values()) == sorted(n for n, k in SERVERS.items() for _ in range(k)):
            return servers
        time.sleep(0.005)
    raise AssertionError(f"the servers did not start: {_children(lab.pid)}")


def _alive(pid: int, name: str) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return f"({name})" in stat and ") Z " not in stat


def _gone(servers: dict[int, str], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(_alive(p, n) for p, n in servers.items()):
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_servers_with_the_namespaces(signum: signal.Signals) -> None:
    require_servers()
    lab = LabProcess(args=(SITE, "--unplanned", "1", "--timeout", "3")).start()
    try:
        servers = _servers_of(lab)
        lab.signal(signum)
        assert lab.finish() == 128 + signum, lab.stderr
        assert not any(_alive(p, n) for p, n in servers.items()), servers
        assert lab.namespaces() == []
        assert f"interrupted ({signum.name})" in lab.stderr
    finally:
        lab.remove_leftovers()


def test_the_servers_die_with_a_killed_lab() -> None:
    require_servers()
    lab = LabProcess(args=(SITE, "--unplanned", "1", "--timeout", "3")).start()
    try:
        servers = _servers_of(lab)
        lab.signal(signal.SIGKILL)
        assert lab.finish() == -signal.SIGKILL
        # PR_SET_PDEATHSIG: the kernel kills them when their parent dies
        assert _gone(servers), {p: n for p, n in servers.items() if _alive(p, n)}
    finally:
        lab.remove_leftovers()

"""Months of cycles in a few seconds: 2,000 short cycles keep the memory flat."""

from __future__ import annotations

import gc
import os
import socket
from pathlib import Path

from flowmatrix.api import load_plan
from flowmatrix.probe.scheduler import ProbeOptions
from flowmatrix.probe.targets import Selection
from flowmatrix.watch.cycle import Watcher, WatchSettings
from flowmatrix.watch.metrics import exposition
from watch.test_running import _flow, _site

CYCLES = 2_000
WARM_UP = 100
MAX_GROWTH = 5 * 1024 * 1024


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_two_thousand_cycles_grow_the_rss_by_less_than_5_mb(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    with socket.socket() as listener:
        listener.bind(("127.0.0.2", 0))
        listener.listen(4096)
        port = listener.getsockname()[1]
        closed = port + 1 if port < 65535 else 1
        _site(site, _flow("open", port), _flow("closed", closed), _flow("dns", 53, "logs", "udp"))
        settings = WatchSettings(
            Selection(source="xms1"), ProbeOptions(timeout=0.2, retries=0), interval=1.0
        )
        events: list[dict[str, object]] = []
        watcher = Watcher(lambda: load_plan(str(site)), settings, events.append)
        for _ in range(WARM_UP):
            assert watcher.cycle_or_log() is not None
            exposition(watcher.state)
        gc.collect()
        before = _rss()
        for number in range(CYCLES):
            cycle = watcher.cycle_or_log()
            assert cycle is not None
            assert len(exposition(watcher.state)) > 0
            if number % 500 == 0:
                assert watcher.reload()  # the site read again, as SIGHUP does
        gc.collect()
        growth = _rss() - before
    print(f"RSS growth over {CYCLES} cycles: {growth / 1e6:.2f} MB")
    assert watcher.state.cycles_total == WARM_UP + CYCLES
    states = {r.flow: r.state for r in watcher.state.results()}
    assert states["SITE-open.1"] == "open" and states["SITE-closed.1"] == "closed"
    assert not [e for e in events if "flow" in e]  # nothing changed: no state-change line
    assert growth < MAX_GROWTH, f"RSS grew by {growth / 1e6:.1f} MB over {CYCLES} cycles"

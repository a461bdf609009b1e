"""The watcher alone: a cycle that cannot run is logged and counted, never fatal."""

from __future__ import annotations

from pathlib import Path

from flowmatrix.api import load_plan
from flowmatrix.probe.scheduler import ProbeOptions
from flowmatrix.probe.targets import Selection
from flowmatrix.watch.cycle import Watcher, WatchSettings
from flowmatrix.watch.durations import parse_duration, promql_duration
from flowmatrix.watch.loop import jittered
from flowmatrix.watch.metrics import exposition
from watch.test_metrics import samples

SITE = """version: 1
name: elsewhere
zones:
  - {name: lab, cidrs: [10.99.0.0/24]}
hosts:
  - {name: xms1, role: xenmobile, addresses: [10.99.0.1]}
  - {name: app1, role: intranet-web, addresses: [10.99.0.2]}
features: {ios: false, apns: false, android: false, fcm: false, app-stores: false, sms-relay: false, ads: false, windows-phone: false}
flows:
  - {name: app, source: xms1, destination: app1, protocols: [tcp], ports: [7001]}
"""


def test_a_cycle_with_no_address_of_the_plan_here_is_logged_and_counted(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(SITE)
    events: list[dict[str, object]] = []
    settings = WatchSettings(Selection(source="auto"), ProbeOptions(timeout=0.2), interval=1.0)
    watcher = Watcher(lambda: load_plan(str(site)), settings, events.append)
    assert watcher.cycle_or_log() is None
    assert watcher.cycle_or_log() is None
    assert [e["event"] for e in events] == ["cycle_failed", "cycle_failed"]
    assert "this host's addresses" in str(events[0]["error"])
    found = samples(exposition(watcher.state).decode())
    assert found["flowmatrix_probe_errors_total"] == [({}, 2.0)]
    assert found["flowmatrix_cycles_total"] == [({}, 0.0)]
    assert "flowmatrix_flow_up" not in found


def test_durations_and_jitter() -> None:
    assert parse_duration("60s") == 60.0 and parse_duration("5m") == 300.0
    assert parse_duration("500ms") == 0.5 and parse_duration("2h") == 7200.0
    assert parse_duration("90") == 90.0
    assert promql_duration(0.4) == "1s" and promql_duration(90.2) == "91s"
    import random

    rng = random.Random(7)
    waits = [jittered(60.0, 0.1, rng) for _ in range(200)]
    assert all(54.0 <= w <= 66.0 for w in waits)
    assert max(waits) - min(waits) > 6.0  # spread, not constant

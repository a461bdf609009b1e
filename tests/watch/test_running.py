"""A running watch: /metrics, state changes as JSON lines, SIGHUP reloads, SIGTERM stops."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import pytest

from watch.running import RunningWatch
from watch.test_metrics import samples

SITE_HEAD = """version: 1
name: watch lab
zones:
  - {name: lab, cidrs: [127.0.0.0/17]}
hosts:
  - {name: xms1, role: xenmobile, addresses: [127.0.0.1]}
  - {name: svc, role: intranet-web, addresses: [127.0.0.2]}
  - {name: logs, role: intranet-web, addresses: [127.0.0.4]}
features: {ios: false, apns: false, android: false, fcm: false, app-stores: false, sms-relay: false, ads: false, windows-phone: false}
flows:
"""


def _site(path: Path, *flows: str) -> None:
    path.write_text(SITE_HEAD + "".join(f"  - {flow}\n" for flow in flows))


def _flow(name: str, port: int, destination: str = "svc", protocol: str = "tcp") -> str:
    return f"{{name: {name}, source: xms1, destination: {destination}, protocols: [{protocol}], ports: [{port}]}}"


def test_a_running_watch_serves_changes_reloads_and_stops(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    with socket.socket() as listener:
        listener.bind(("127.0.0.2", 0))
        listener.listen(64)
        port = listener.getsockname()[1]
        _site(site, _flow("app", port))
        args = [str(site), "--from", "xms1", "--interval", "0.3s", "--listen", "127.0.0.1:0"]
        args += ["--timeout", "0.5", "--retries", "0"]
        with RunningWatch(args, tmp_path / "watch.log") as watch:
            address = watch.event("started")["listen"]
            up = samples(watch.metrics(address))["flowmatrix_flow_up"]
            assert {labels["flow"]: value for labels, value in up} == {"SITE-app.1": 1.0}
            listener.close()  # the port closes: the next cycle sees it
            change = watch.wait_for(
                lambda: next((e for e in watch.events() if e.get("flow")), None), "a change"
            )
            assert change["flow"] == f"SITE-app.1 127.0.0.2 tcp/{port}"
            assert (change["old"], change["new"]) == ("open", "closed")
            assert change["reason"] and change["time"] > 0
            found = samples(watch.metrics(address))
            assert found["flowmatrix_flow_up"][0][1] == 0.0
            assert found["flowmatrix_cycles_total"][0][1] >= 2

            site.write_text(site.read_text() + "  - {name: broken, source: xms1\n")
            watch.signal(signal.SIGHUP)
            failed = watch.event("reload_failed")
            assert failed["error"].startswith(f"{site}:")  # file:line:col
            assert failed["kept"] == "previous plan"
            assert "SITE-app.1" in watch.metrics(address)

            _site(site, _flow("app", port), _flow("second", port + 1 if port < 65535 else 1))
            watch.signal(signal.SIGHUP)
            watch.event("reloaded")
            watch.wait_for(lambda: "SITE-second.1" in watch.metrics(address), "the new flow")

            watch.signal(signal.SIGTERM)
            assert watch.process.wait(timeout=5) == 0
            assert watch.event("stopped")["cycles"] >= 3


def test_sigterm_in_the_middle_of_a_cycle_exits_within_a_second(tmp_path: Path) -> None:
    """The syslog flow's probe waits its whole --timeout (nothing answers UDP/514 on
    127.0.0.4): SIGHUP starts a cycle at once, SIGTERM arrives while it waits."""
    site = tmp_path / "site.yaml"
    _site(site, _flow("syslog", 5514, "logs", "udp"))
    args = [str(site), "--from", "xms1", "--interval", "60s", "--listen", "127.0.0.1:0"]
    args += ["--timeout", "1", "--retries", "0"]
    with RunningWatch(args, tmp_path / "watch.log") as watch:
        watch.event("started")
        watch.signal(signal.SIGHUP)
        watch.event("reloaded")
        time.sleep(0.2)  # the reloaded cycle is now waiting for its UDP answer
        watch.signal(signal.SIGTERM)
        try:
            code = watch.process.wait(timeout=1.0)
        except Exception:  # pragma: no cover - the failure this test is for
            pytest.fail("watch did not exit within one second of SIGTERM")
        assert code == 0


def test_format_json_prints_one_verify_document_per_cycle(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    with socket.socket() as listener:
        listener.bind(("127.0.0.2", 0))
        listener.listen(64)
        _site(site, _flow("app", listener.getsockname()[1]))
        args = [str(site), "--from", "xms1", "--interval", "0.2s", "--listen", "127.0.0.1:0"]
        args += ["--timeout", "0.5", "--format", "json"]
        out = tmp_path / "cycles.jsonl"
        with RunningWatch(args, tmp_path / "watch.log", stdout=out) as watch:
            watch.event("started")
            watch.wait_for(lambda: len(out.read_text().splitlines()) >= 3, "three cycles")
            watch.signal(signal.SIGTERM)
            assert watch.process.wait(timeout=5) == 0
    documents = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(d["format"] == "flowmatrix-verify/1" for d in documents)
    assert [d["results"][0]["state"] for d in documents[:3]] == ["open"] * 3
    starts = [d["cycle"]["started"] for d in documents]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)

"""listen on loopback: real listeners, real probes from verify, the two-ended handshake."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import flowmatrix
from flowmatrix.api import load_plan
from flowmatrix.errors import UserError
from flowmatrix.fleet.matrixdoc import matrix_to_dict
from flowmatrix.fleet.merge import merge
from flowmatrix.fleet.resultfile import read_result_file
from flowmatrix.model import Plan
from flowmatrix.probe import ProbeOptions, Selection, verify
from flowmatrix.probe.listen import (
    ListenEvent,
    ListenReport,
    ListenSession,
    build_listen_setup,
)
from flowmatrix.probe.listen_report import to_json_text as listen_json
from flowmatrix.probe.verify import VerifyReport
from flowmatrix.probe.verify_report import to_json_text as verify_json
from flowmatrix.report.result_files import read_results
from probe.conftest import QUIET_FEATURES
from probe.responders import free_port
from probe.running import Running

SRC = str(Path(flowmatrix.__file__).resolve().parents[1])


def listen_site(ports: dict[str, int]) -> str:
    flows = [
        ("syslog", "udp", ports["syslog"], "syslog"),
        ("web", "tcp", ports["web"], None),
        ("radius", "udp", ports["radius"], "radius"),
        ("missing", "tcp", ports["missing"], None),
    ]
    lines = [
        "version: 1",
        "name: listen lab",
        "zones:",
        "  - {name: lab, cidrs: [127.0.0.0/8]}",
        "hosts:",
        "  - {name: xms1, role: xenmobile, addresses: [127.0.1.1]}",
        "  - {name: logs, role: syslog-server, addresses: [127.0.1.4]}",
        "features:",
        *(f"  {k}: {str(v).lower()}" for k, v in QUIET_FEATURES.items()),
        "flows:",
    ]
    for name, protocol, port, service in flows:
        extra = f", service: {service}" if service else ""
        lines.append(
            f"  - {{name: {name}, source: xms1, destination: logs, "
            f"protocols: [{protocol}], ports: [{port}]{extra}}}"
        )
    return "\n".join(lines) + "\n"


@dataclass
class ListenLab:
    site: Path
    ports: dict[str, int]

    def plan(self) -> Plan:
        return load_plan(str(self.site))


@pytest.fixture
def listen_lab(tmp_path: Path) -> ListenLab:
    ports = {
        "syslog": free_port(socket.SOCK_DGRAM, "127.0.1.4"),
        "web": free_port(address="127.0.1.4"),
        "radius": free_port(socket.SOCK_DGRAM, "127.0.1.4"),
        "missing": free_port(address="127.0.1.4"),
    }
    site = tmp_path / "site.yaml"
    site.write_text(listen_site(ports))
    return ListenLab(site, ports)


def test_two_ended_verify_against_listen(listen_lab: ListenLab) -> None:
    plan = listen_lab.plan()
    setup = build_listen_setup(plan, "logs")
    assert setup.addresses == ("127.0.1.4",)  # the plan's address, local: bound precisely
    events: list[ListenEvent] = []
    with Running(ListenSession(setup, on_event=events.append)) as running:
        assert all(b.bound for b in running.bindings)
        options = ProbeOptions(timeout=1.0, two_ended=True)
        report = verify(
            plan,
            Selection(source="xms1", flows=("SITE-syslog", "SITE-web", "SITE-radius")),
            options,
        )
        # syslog is always sent marked: two-ended without asking
        plain = verify(plan, Selection(flows=("SITE-syslog",)), ProbeOptions(timeout=1.0))
    states = {r.flow: (r.state, r.two_ended) for r in report.results}
    assert states == {
        "SITE-syslog.1": ("open", True),
        "SITE-web.1": ("open", True),
        "SITE-radius.1": ("open", True),
    }
    assert plain.results[0].state == "open" and plain.results[0].two_ended
    assert running.report is not None
    arrived = {a.flow: a for a in running.report.arrivals}
    assert arrived["SITE-syslog.1"].count == 2
    assert arrived["SITE-web.1"].arrived and arrived["SITE-radius.1"].arrived
    assert arrived["SITE-syslog.1"].sources[0] == "127.0.1.1"  # sent from the plan's source
    assert not arrived["SITE-missing.1"].arrived
    assert [a.flow for a in running.report.missing] == ["SITE-missing.1"]
    assert all(e.answered and e.marker == e.flows[0] for e in events)
    assert running.report.events == tuple(events)
    _the_documents_reach_the_report(plan, report, running.report)


def _the_documents_reach_the_report(
    plan: Plan, verified: VerifyReport, heard: ListenReport
) -> None:
    """Both ends' documents, read back by report (from files, through merge, and in
    memory), say the same on the scale every check shares."""
    with tempfile.TemporaryDirectory() as folder:
        listened = Path(folder) / "listen.json"
        listened.write_text(listen_json(heard))
        probed = Path(folder) / "verify.json"
        probed.write_text(verify_json(verified))
        from_listen = read_results([listened], plan)
        assert from_listen.files[0].kind == "listen"
        for flow_id in ("SITE-syslog.1", "SITE-web.1", "SITE-radius.1"):
            assert from_listen.of(plan.flow(flow_id)).status == "proven", flow_id
        assert from_listen.of(plan.flow("SITE-missing.1")).status == "not-tested"
        merged = Path(folder) / "matrix.json"
        matrix = merge(plan, [read_result_file(probed), read_result_file(listened)])
        merged.write_text(json.dumps(matrix_to_dict(matrix)))
        kinds = {c["kind"] for c in json.loads(merged.read_text())["checks"]}
        assert kinds == {"merge", "listen"}
        through_merge = read_results([merged], plan)
        directly = read_results([probed, listened], plan)
        in_memory = read_results([], plan, [r.check() for r in verified.results])
        for flow in plan.flows:
            status = directly.of(flow).status
            assert through_merge.of(flow).status == status, flow.id
        for result in verified.results:
            assert in_memory.of(plan.flow(result.flow)).status == "proven"


def test_unplanned_source_is_logged_but_matches_no_flow(listen_lab: ListenLab) -> None:
    setup = build_listen_setup(listen_lab.plan(), "syslog-server")
    with Running(ListenSession(setup)) as running:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.bind(("127.0.9.9", 0))
            sender.sendto(b"<14>hello", ("127.0.1.4", listen_lab.ports["syslog"]))
        with socket.create_connection(
            ("127.0.1.4", listen_lab.ports["web"]), source_address=("127.0.1.1", 0)
        ) as conn:
            conn.sendall(b"GET / HTTP/1.0\r\n\r\n")
            assert conn.recv(100) == b""  # accepted, read, closed: nothing is sent
        deadline = time.monotonic() + 5
        while len(running.session.events) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    assert running.report is not None
    events = {e.protocol: e for e in running.report.events}
    assert events["udp"].source_address == "127.0.9.9" and events["udp"].flows == ()
    assert not events["udp"].planned
    assert events["tcp"].flows == ("SITE-web.1",) and events["tcp"].marker is None
    assert not events["tcp"].answered


def test_port_in_use_is_reported_and_the_others_go_on(listen_lab: ListenLab) -> None:
    setup = build_listen_setup(listen_lab.plan(), "logs")
    with socket.socket() as busy:
        busy.bind(("127.0.1.4", listen_lab.ports["web"]))
        busy.listen(1)
        with Running(ListenSession(setup)) as running:
            failed = [b for b in running.bindings if not b.bound]
        with pytest.raises(UserError) as caught:
            asyncio.run(ListenSession(setup, strict=True).run(0.1))
    assert [(b.protocol, b.port) for b in failed] == [("tcp", listen_lab.ports["web"])]
    assert failed[0].error is not None
    assert "already in use" in failed[0].error and "ss -tlnp" in failed[0].error
    assert running.report is not None
    web = next(a for a in running.report.arrivals if a.flow == "SITE-web.1")
    assert not web.listening
    assert "already in use" in caught.value.message


def test_duration_ends_the_session(listen_lab: ListenLab) -> None:
    setup = build_listen_setup(listen_lab.plan(), "logs")
    started = time.monotonic()
    report = asyncio.run(ListenSession(setup).run(0.3))
    assert 0.25 < time.monotonic() - started < 3
    assert report.events == () and len(report.missing) == len(report.arrivals) == 4


def test_bad_role_and_bind_are_user_errors(listen_lab: ListenLab) -> None:
    plan = listen_lab.plan()
    with pytest.raises(UserError, match="destination of no flow"):
        build_listen_setup(plan, "logz")
    with pytest.raises(UserError, match="invalid --bind"):
        build_listen_setup(plan, "logs", ["not-an-ip"])
    wildcard = build_listen_setup(plan, "logs", ["0.0.0.0"])
    assert wildcard.addresses == ("0.0.0.0",)


def test_listen_cli_stops_on_ctrl_c_and_reports(listen_lab: ListenLab) -> None:
    env = {**os.environ, "PYTHONPATH": SRC}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flowmatrix",
            "listen",
            str(listen_lab.site),
            "--as",
            "logs",
            "--duration",
            "60",
            "--format",
            "json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert line.startswith("listening as host logs on ")
        verify(listen_lab.plan(), Selection(flows=("SITE-syslog",)), ProbeOptions(timeout=1))
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    import json

    document = json.loads(out)
    assert document["format"] == "flowmatrix-listen/1"
    assert document["summary"]["arrived"] == 1
    syslog = next(f for f in document["flows"] if f["flow"] == "SITE-syslog.1")
    assert syslog["arrived"] and syslog["sources"] == ["127.0.1.1"]
    assert "-> SITE-syslog.1 (marked probe for SITE-syslog.1, answered)" in err
    assert "1 of 4 planned flows arrived" in err


def _without_bind_privilege() -> None:
    """In the child: drop CAP_NET_BIND_SERVICE from the bounding set before exec."""
    import ctypes

    pr_capbset_drop, cap_net_bind_service = 24, 10
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_capbset_drop, cap_net_bind_service, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


@pytest.mark.kernel
def test_privileged_port_without_privilege_says_the_fixes(tmp_path: Path) -> None:
    """Without CAP_NET_BIND_SERVICE, ports below 1024 fail with the three fixes; the
    others go on."""
    site = tmp_path / "site.yaml"
    site.write_text(
        listen_site(
            {
                "syslog": 514,
                "web": 80,
                "radius": free_port(socket.SOCK_DGRAM, "127.0.1.4"),
                "missing": 81,
            }
        )
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowmatrix",
            "listen",
            str(site),
            "--as",
            "logs",
            "--duration",
            "0.3",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=_without_bind_privilege,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "cannot listen: 80/tcp on 127.0.1.4: ports below" in done.stderr
    assert "CAP_NET_BIND_SERVICE" in done.stderr
    assert "net.ipv4.ip_unprivileged_port_start" in done.stderr
    import json

    document = json.loads(done.stdout)
    bound = {(item["protocol"], item["port"]) for item in document["listeners"] if item["bound"]}
    assert [port for _, port in bound] == [document["flows"][2]["ports"][0]]


@pytest.fixture(autouse=True)
def _no_leftover_threads() -> Iterator[None]:
    before = set(threading.enumerate())
    yield
    leftover = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not leftover, leftover

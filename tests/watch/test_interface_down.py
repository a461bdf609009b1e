"""An interface going down and coming back: the watch goes on and tells it."""

from __future__ import annotations

import os
import socket
from contextlib import ExitStack
from pathlib import Path

import pytest

from flowmatrix.netns import NamespaceSet, leftover_namespaces
from flowmatrix.probe.netns_thread import run_in_netns
from watch.running import RunningWatch
from watch.test_metrics import samples

pytestmark = pytest.mark.kernel

SRC, DST = "10.78.0.1", "10.78.0.2"
SITE = f"""version: 1
name: interface down
zones:
  - {{name: lab, cidrs: [10.78.0.0/24, 127.0.0.0/8]}}
hosts:
  - {{name: xms1, role: xenmobile, addresses: [{SRC}]}}
  - {{name: app1, role: intranet-web, addresses: [{DST}]}}
features: {{ios: false, apns: false, android: false, fcm: false, app-stores: false, sms-relay: false, ads: false, windows-phone: false}}
flows:
  - {{name: app, source: xms1, destination: app1, protocols: [tcp], ports: [7001]}}
"""


def test_the_watch_survives_its_interface_going_down(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text(SITE)
    nss = NamespaceSet(prefix=f"fmi{os.getpid()}", purpose="watch interface test")
    with nss, ExitStack() as stack:
        src, dst = nss.add("src"), nss.add("dst")
        nss.link(src, "eth0", dst, "eth0")
        src.ip("addr", "add", f"{SRC}/24", "dev", "eth0")
        dst.ip("addr", "add", f"{DST}/24", "dev", "eth0")

        def listen() -> None:
            listener = stack.enter_context(socket.socket())
            listener.bind((DST, 7001))
            listener.listen(16)

        run_in_netns(dst.name, listen)
        args = [str(site), "--from", "xms1", "--interval", "0.5s", "--listen", "127.0.0.1:0"]
        args += ["--timeout", "0.3", "--retries", "0"]
        watch = stack.enter_context(
            RunningWatch(args, tmp_path / "watch.log", prefix=src.exec_args([]))
        )
        address = watch.event("started")["listen"]

        def flow_up() -> float:
            text = run_in_netns(src.name, lambda: watch.metrics(address))
            return samples(text)["flowmatrix_flow_up"][0][1]

        assert flow_up() == 1.0
        src.ip("link", "set", "eth0", "down")
        watch.wait_for(lambda: flow_up() == 0.0, "the flow down with its interface")
        change = watch.wait_for(
            lambda: next((e for e in watch.events() if e.get("flow")), None), "a change"
        )
        assert change["old"] == "open" and change["new"] != "open"
        src.ip("link", "set", "eth0", "up")
        watch.wait_for(lambda: flow_up() == 1.0, "the flow up with its interface")
        assert watch.process.poll() is None
    assert leftover_namespaces(nss.prefix) == []

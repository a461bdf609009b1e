"""verify ends with one line per user journey it probed."""

from __future__ import annotations

import socket
from pathlib import Path

SITE = """version: 1
name: journeys on loopback
zones:
  - {name: apps, cidrs: [127.0.0.1/32]}
  - {name: files, cidrs: [127.0.0.2/32]}
firewalls:
  - {name: fw-files, zones: [apps, files]}
hosts:
  - {name: xms1, role: xenmobile, addresses: [127.0.0.1]}
  - {name: files1, role: ftp-scp-server, addresses: [127.0.0.2]}
features: {ios: false, apns: false, android: false, fcm: false, app-stores: false, sms-relay: false, ads: false, windows-phone: false, support-bundles: true}
"""


def _listening(address: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((address, port)) == 0


def test_verify_summarises_the_support_bundle_journey(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "site.yaml"
    site.write_text(SITE)
    open_now = _listening("127.0.0.2", 22)  # the ground truth: an sshd may listen here
    result = run_cli("verify", str(site), "--from", "xms1", "--timeout", "0.5", "--no-tls")
    last = result.stderr.strip().splitlines()[-1]
    if open_now:
        assert result.code == 0, result
        assert last == "Support bundles and logs leave: up"
    else:
        assert result.code == 1, result
        assert last == (
            "Support bundles and logs leave: blocked, XM-APP-01.1 tcp/22 to 127.0.0.2 at fw-files"
        )
    french = run_cli("verify", str(site), "--from", "xms1", "--timeout", "0.5", "--lang", "fr")
    assert (
        french.stderr.strip()
        .splitlines()[-1]
        .startswith("Les bundles de support et les journaux sortent : ")
    )

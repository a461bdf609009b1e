"""Bad input stops watch before it serves: exit 2, one line with the facts."""

from __future__ import annotations

import re
import socket

from probe.conftest import Lab

LAB_ARGS = ("--from", "xms1", "--timeout", "0.3", "--no-tls")


def test_a_listen_address_in_use_is_named(run_cli, lab: Lab) -> None:  # type: ignore[no-untyped-def]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = run_cli("watch", str(lab.site), *LAB_ARGS, "--listen", f"127.0.0.1:{port}")
    assert result.code == 2, result
    assert f"--listen 127.0.0.1:{port}: the address is in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_listen_address_of_another_host_is_refused(run_cli, lab: Lab) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("watch", str(lab.site), *LAB_ARGS, "--listen", "192.0.2.1:9742")
    assert result.code == 2, result
    assert "192.0.2.1 is not an address of this host" in result.stderr
    assert "this host's addresses: " in result.stderr
    result = run_cli("watch", str(lab.site), *LAB_ARGS, "--listen", "nowhere")
    assert result.code == 2 and "not ADDRESS:PORT" in result.stderr


def test_an_interval_below_the_cycle_time_gives_the_measured_time(run_cli, lab: Lab) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(
        "watch", str(lab.site), *LAB_ARGS, "--listen", "127.0.0.1:0", "--interval", "1ms"
    )
    assert result.code == 2, result
    assert "--interval 1ms is below the measured cycle time (" in result.stderr
    assert re.search(r"time \(\d+\.\d\ds for 12 probes\)", result.stderr)
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_site_without_flows_from_this_host_lists_its_addresses(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("watch", "--listen", "127.0.0.1:0", "--timeout", "0.3")
    assert result.code == 2, result
    assert "nothing to probe" in result.stderr
    assert "this host's addresses:" in result.stderr


def test_bad_durations_and_a_textfile_without_once_are_refused(run_cli, lab: Lab) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("watch", str(lab.site), "--interval", "soon")
    assert result.code == 2 and "--interval 'soon': not a duration" in result.stderr
    result = run_cli("watch", str(lab.site), "--textfile", "x.prom")
    assert result.code == 2 and "--textfile goes with --once" in result.stderr


def test_a_broken_site_is_reported_with_its_position(run_cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    site = tmp_path / "broken.yaml"
    site.write_text("version: 1\nname: x\nzones: [\n")
    result = run_cli("watch", str(site), "--once")
    assert result.code == 2, result
    assert f"{site}:" in result.stderr and "Traceback" not in result.stderr

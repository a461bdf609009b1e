"""Engine details: pacing, open-files budget, local addresses, progress rendering."""

from __future__ import annotations

import asyncio
import ipaddress
import resource
import socket
import time
from collections.abc import Iterator

import pytest

from flowmatrix.probe.local import _ipv4_from_fib_trie, _ipv6_from_if_inet6, local_addresses
from flowmatrix.probe.progress import RichProgress
from flowmatrix.probe.runner import ProbeOptions, fd_budget, probe_all
from flowmatrix.probe.targets import ProbeTarget

FIB_TRIE = """\
Main:
  +-- 0.0.0.0/0 3 0 5
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
     +-- 10.1.2.0/24 2 0 2
           |-- 10.1.2.7
              /32 host LOCAL
        |-- 10.1.2.255
           /32 link BROADCAST
"""


def target(port: int) -> ProbeTarget:
    return ProbeTarget(
        flow_id=f"T.{port}",
        requirement="T",
        required=True,
        source_role="a",
        source_host=None,
        source_address=None,
        destination_role="b",
        host="b",
        address="127.0.0.1",
        port=port,
        protocol="tcp",
        service=None,
        tls=False,
        server_name=None,
    )


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


def test_rate_spaces_the_probe_starts(listener: int) -> None:
    started = time.monotonic()
    results = asyncio.run(probe_all([target(listener)] * 6, ProbeOptions(timeout=1, rate=20)))
    elapsed = time.monotonic() - started
    assert [r.state for r in results] == ["open"] * 6
    assert elapsed >= 5 / 20 * 0.9  # six starts, 50 ms apart


def test_results_keep_the_order_of_the_targets(listener: int) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    free = closed.getsockname()[1]
    closed.close()
    ports = [listener, free] * 20
    results = asyncio.run(
        probe_all([target(p) for p in ports], ProbeOptions(timeout=1, concurrency=7))
    )
    assert [r.port for r in results] == ports
    assert [r.state for r in results] == ["open", "closed"] * 20


def test_open_files_limit_is_raised_when_needed() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip(f"hard open-files limit {hard} is too low for this test")
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        assert fd_budget(500, 2) == 500
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= 500 * 2 + 64
        if hard != resource.RLIM_INFINITY:
            assert fd_budget(hard, 2) == (hard - 64) // 2  # capped by the hard limit
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_local_address_parsers() -> None:
    assert _ipv4_from_fib_trie(FIB_TRIE) == [
        ipaddress.IPv4Address("127.0.0.1"),
        ipaddress.IPv4Address("10.1.2.7"),
    ]
    line = "20010db8000000000000000000000012 02 40 00 80     eth0\n"
    assert _ipv6_from_if_inet6(line) == [ipaddress.IPv6Address("2001:db8::12")]
    assert ipaddress.IPv4Address("127.0.0.1") in local_addresses()


def test_rich_progress_runs_quietly(listener: int, capsys: pytest.CaptureFixture[str]) -> None:
    progress = RichProgress()
    results = asyncio.run(probe_all([target(listener)], ProbeOptions(timeout=1), progress))
    assert results[0].state == "open"
    assert capsys.readouterr().out == ""  # the bar goes to stderr, never to the report

"""Engine details: pacing, open-files budget, local addresses, progress rendering."""

from __future__ import annotations

import asyncio
import ipaddress
import resource
import socket
from collections.abc import Callable, Iterator

import pytest

from flowmatrix.probe.limits import Shares, open_files_for, share_concurrency
from flowmatrix.probe.local import _ipv4_from_fib_trie, _ipv6_from_if_inet6, local_addresses
from flowmatrix.probe.pacing import PacketGate
from flowmatrix.probe.progress import RichProgress
from flowmatrix.probe.scheduler import ProbeOptions, probe_all
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


def test_the_gate_serves_resends_before_first_packets_and_spends_only_on_sends() -> None:
    order: list[str] = []

    async def scenario() -> int:
        gate = PacketGate(asyncio.get_running_loop(), rate=50, burst=1)

        def sender(name: str, sends: bool = True) -> Callable[[], bool]:
            def send() -> bool:
                order.append(name)
                return sends

            return send

        gate.ask(sender("first-1"))  # the one token of the burst: sent at once
        gate.ask(sender("first-2"))
        gate.ask(sender("answered-meanwhile", sends=False), retry=True)
        gate.ask(sender("resend"), retry=True)
        gate.ask(sender("first-3"))
        await gate.wait()
        order.append("waited")
        gate.close()
        return gate.sent

    sent = asyncio.run(scenario())
    assert order == ["first-1", "answered-meanwhile", "resend", "first-2", "first-3", "waited"]
    assert sent == 5  # the retry that no longer needed to go took no token


def test_gate_refuses_a_rate_that_is_not_positive() -> None:
    async def make() -> None:
        PacketGate(asyncio.get_running_loop(), rate=0)

    with pytest.raises(ValueError, match="rate must be positive"):
        asyncio.run(make())


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


def test_open_files_soft_limit_is_raised_up_to_the_hard_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1400:
        pytest.skip(f"hard open-files limit {hard} is too low for this test")
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
        assert open_files_for(500, 2, asked=True) == 500
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= 500 * 2 + 64
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_concurrency_is_shared_between_connects_and_datagrams() -> None:
    assert share_concurrency(None, 1, 10, 0) == Shares(10, 0, True)
    assert share_concurrency(None, 1, 0, 3) == Shares(0, 3, True)
    assert share_concurrency(40, 1, 1000, 1000) == Shares(30, 10, True)
    assert share_concurrency(1, 1, 5, 5) == Shares(1, 1, False)  # one kind after the other


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

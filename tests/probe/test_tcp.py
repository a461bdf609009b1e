"""TCP connect probes against real sockets on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest

from flowmatrix.probe.tcp import tcp_probe
from probe.responders import NEEDS_IPV6, free_port, ipv6_loopback


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A listener whose accept queue is full: the kernel drops further SYNs (silence)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(0)
        port = sock.getsockname()[1]
        fillers = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        try:
            yield port
        finally:
            for filler in fillers:
                filler.close()


def test_open_port_completes_the_handshake(listener: int) -> None:
    outcome, sock = asyncio.run(tcp_probe("127.0.0.1", listener, timeout=1.0))
    assert outcome.state == "open"
    assert sock is None
    assert outcome.attempts == 1
    assert outcome.latency_ms is not None and 0 <= outcome.latency_ms < 1000


def test_closed_port_says_a_reset_is_no_proof() -> None:
    outcome, _ = asyncio.run(tcp_probe("127.0.0.1", free_port(), timeout=1.0))
    assert outcome.state == "closed"
    assert "RST" in outcome.reason
    assert "not proof" in outcome.reason


@pytest.mark.skipif(not ipv6_loopback(), reason=NEEDS_IPV6)
def test_closed_port_over_ipv6_loopback() -> None:
    outcome, _ = asyncio.run(tcp_probe("::1", free_port(address="::1"), timeout=1.0))
    assert outcome.state == "closed"
    assert "[::1]" in outcome.reason


def test_silence_is_filtered_after_spaced_retries(full_backlog: int) -> None:
    async def timed() -> tuple[float, object]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        outcome, _ = await tcp_probe("127.0.0.1", full_backlog, timeout=0.4, retries=2)
        return loop.time() - start, outcome

    elapsed, outcome = asyncio.run(timed())
    assert outcome.state == "filtered"  # type: ignore[attr-defined]
    assert outcome.attempts == 3  # type: ignore[attr-defined]
    assert "3 connection attempts" in outcome.reason  # type: ignore[attr-defined]
    # every attempt fits inside the one timeout
    assert elapsed < 0.4 + 0.3


def test_keep_open_hands_back_the_connected_socket(listener: int) -> None:
    async def run() -> tuple[str, int]:
        outcome, sock = await tcp_probe("127.0.0.1", listener, timeout=1.0, keep_open=True)
        assert sock is not None
        with sock:
            return outcome.state, sock.getpeername()[1]

    state, peer_port = asyncio.run(run())
    assert (state, peer_port) == ("open", listener)


def test_source_address_not_on_this_host_is_an_error(listener: int) -> None:
    outcome, _ = asyncio.run(
        tcp_probe("127.0.0.1", listener, timeout=1.0, source_address="192.0.2.250")
    )
    assert outcome.state == "error"
    assert "source address is not configured on this host" in outcome.reason


def test_source_address_is_used(listener: int) -> None:
    async def run() -> str:
        outcome, sock = await tcp_probe(
            "127.0.0.1", listener, timeout=1.0, source_address="127.0.0.9", keep_open=True
        )
        assert outcome.state == "open" and sock is not None
        with sock:
            return str(sock.getsockname()[0])

    assert asyncio.run(run()) == "127.0.0.9"


def test_many_probes_share_one_event_loop(listener: int) -> None:
    closed = [free_port() for _ in range(50)]

    async def run() -> list[str]:
        results = await asyncio.gather(
            tcp_probe("127.0.0.1", listener, timeout=1.0),
            *(tcp_probe("127.0.0.1", port, timeout=1.0) for port in closed),
        )
        return [outcome.state for outcome, _ in results]

    states = asyncio.run(run())
    assert states[0] == "open"
    assert set(states[1:]) == {"closed"}

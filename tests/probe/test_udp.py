"""UDP protocol probes against tiny real servers on loopback."""

from __future__ import annotations

import asyncio
import socket

import dns.rcode
import pytest

from flowmatrix.probe.dnsquery import dns_request
from flowmatrix.probe.marker import Marker, find_probe, marker_request
from flowmatrix.probe.ntp import ntp_request
from flowmatrix.probe.radius import radius_request, status_server
from flowmatrix.probe.results import Outcome
from flowmatrix.probe.udp import UdpRequest, udp_probe
from probe.responders import (
    NEEDS_IPV6,
    dns_handler,
    free_port,
    ipv6_loopback,
    ntp_handler,
    radius_handler,
    udp_server,
)

SECRET = b"s3cret-for-tests"


def probe(
    port: int,
    request: UdpRequest,
    timeout: float = 0.5,
    address: str = "127.0.0.1",
    retries: int = 1,
) -> Outcome:
    return asyncio.run(udp_probe(address, port, request, timeout=timeout, retries=retries))


def test_dns_refused_still_proves_the_path() -> None:
    with udp_server(dns_handler(dns.rcode.REFUSED)) as port:
        outcome = probe(port, dns_request(0.5))
    assert outcome.state == "open"
    assert outcome.reply is not None and outcome.reply["rcode"] == "REFUSED"
    assert "REFUSED" in outcome.reason


@pytest.mark.skipif(not ipv6_loopback(), reason=NEEDS_IPV6)
def test_dns_over_ipv6() -> None:
    with udp_server(dns_handler(dns.rcode.NOERROR), address="::1") as port:
        outcome = probe(port, dns_request(0.5), address="::1")
    assert outcome.state == "open"
    assert outcome.reply is not None and outcome.reply["rcode"] == "NOERROR"


def test_dns_reply_with_another_id_is_ignored() -> None:
    def wrong_id(data: bytes) -> bytes:
        answer = bytearray(dns_handler()(data) or b"")
        answer[0] ^= 0xFF
        return bytes(answer)

    with udp_server(wrong_id) as port:
        outcome = probe(port, dns_request(0.3))
    assert outcome.state == "filtered"
    assert "DNS server answers every query" in outcome.reason


def test_closed_udp_port_gets_icmp_port_unreachable() -> None:
    outcome = probe(free_port(kind=socket.SOCK_DGRAM), dns_request(0.5))
    assert outcome.state == "closed"
    assert "port unreachable" in outcome.reason


def test_ntp_mode_4_reply_with_our_origin() -> None:
    with udp_server(ntp_handler()) as port:
        outcome = probe(port, ntp_request(0.5))
    assert outcome.state == "open"
    assert outcome.reply is not None
    assert outcome.reply["stratum"] == 2
    assert outcome.reply["reference"] == "127.0.0.1"
    assert abs(float(outcome.reply["offset_ms"] or 0)) < 1000


def test_ntp_reply_not_echoing_our_timestamp_is_not_an_answer() -> None:
    with udp_server(ntp_handler(echo_origin=False)) as port:
        outcome = probe(port, ntp_request(0.3))
    assert outcome.state == "filtered"


def test_ntp_kiss_of_death_proves_the_path() -> None:
    def kiss(data: bytes) -> bytes | None:
        reply = bytearray(ntp_handler(stratum=0)(data) or b"")
        reply[12:16] = b"RATE"
        return bytes(reply)

    with udp_server(kiss) as port:
        outcome = probe(port, ntp_request(0.5))
    assert outcome.state == "open"
    assert outcome.reply is not None and outcome.reply["kiss_code"] == "RATE"


def test_radius_status_server_with_the_right_secret() -> None:
    with udp_server(radius_handler(SECRET)) as port:
        outcome = probe(port, radius_request(0.5, SECRET))
    assert outcome.state == "open"
    assert outcome.reply == {"code": "Access-Accept", "authenticator_ok": True}
    assert outcome.findings == ()


def test_radius_server_drops_a_wrong_secret_silently() -> None:
    with udp_server(radius_handler(SECRET)) as port:
        outcome = probe(port, radius_request(0.3, b"not-the-secret"))
    assert outcome.state == "filtered"
    assert "shared secret" in outcome.reason


def test_radius_reply_that_does_not_verify_is_a_finding() -> None:
    with udp_server(radius_handler(SECRET, reply_secret=b"other")) as port:
        outcome = probe(port, radius_request(0.5, SECRET))
    assert outcome.state == "open"
    assert outcome.reply is not None and outcome.reply["authenticator_ok"] is False
    assert any("shared secret differs" in f for f in outcome.findings)


def test_status_server_packet_layout() -> None:
    packet = status_server(7, bytes(range(16)), SECRET)
    assert packet[0] == 12 and packet[1] == 7
    assert int.from_bytes(packet[2:4], "big") == len(packet) == 38
    assert packet[20:22] == bytes([80, 18])


def test_syslog_silence_needs_a_two_ended_test() -> None:
    seen: list[bytes] = []

    def silent(data: bytes) -> None:
        seen.append(data)

    with udp_server(silent) as port:
        outcome = probe(port, marker_request("XM-APP-14.1", 0.3, "flowmatrix listen --as x"))
    assert outcome.state == "open|filtered"
    assert "two-ended" in outcome.reason and "flowmatrix listen --as x" in outcome.reason
    # the datagram is a readable syslog line carrying the flow id
    assert seen and seen[0].startswith(b"<14>1 ")
    marker = find_probe(seen[0])
    assert marker is not None and marker.flow == "XM-APP-14.1"


def test_marked_datagram_acknowledged_is_open_two_ended() -> None:
    def acknowledge(data: bytes) -> bytes | None:
        marker = find_probe(data)
        return marker.ack() if marker else None

    with udp_server(acknowledge) as port:
        outcome = probe(port, marker_request("SITE-x.1", 0.5, "flowmatrix listen"))
    assert outcome.state == "open"
    assert outcome.two_ended


def test_acknowledgement_of_another_nonce_is_ignored() -> None:
    def forged(data: bytes) -> bytes | None:
        marker = find_probe(data)
        return Marker(marker.flow, "0" * 16).ack() if marker else None

    with udp_server(forged) as port:
        outcome = probe(port, marker_request("SITE-x.1", 0.3, "flowmatrix listen"))
    assert outcome.state == "open|filtered"


def test_retries_resend_the_request() -> None:
    received: list[bytes] = []
    with udp_server(lambda data: received.append(data)) as port:
        outcome = probe(port, marker_request("SITE-x.1", 0.4, "listen"), retries=3)
    assert outcome.attempts == 4
    assert len(received) == 4

"""A packet capture inside a network namespace: what really arrived, with kernel timestamps.

An ``AF_PACKET`` socket opened by a thread that entered the namespace sees every IPv4
packet on one interface; each is kept with its ``SO_TIMESTAMPNS`` receive time, so a
test can count the packets a probe run sent and check how they were spaced.
"""

from __future__ import annotations

import socket
import struct
import threading
from dataclasses import dataclass, field

from flowmatrix.probe.netns_thread import enter_netns

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("=qq")
TCP_SYN, TCP_ACK = 0x02, 0x10


@dataclass(frozen=True, slots=True)
class Packet:
    """One IPv4 packet that arrived at the interface."""

    at: float
    """Kernel receive time, seconds (CLOCK_REALTIME)."""
    protocol: str
    destination: str
    port: int
    source_port: int
    syn_only: bool
    """A TCP SYN without ACK: a connection attempt."""


def parse(data: bytes, at: float) -> Packet | None:
    if len(data) < 20 or data[0] >> 4 != 4:
        return None
    header = (data[0] & 0x0F) * 4
    number = data[9]
    destination = socket.inet_ntoa(data[16:20])
    if number not in (6, 17) or len(data) < header + 4:
        return None
    source_port, port = struct.unpack_from("!HH", data, header)
    if number == 6:
        flags = data[header + 13] if len(data) > header + 13 else 0
        syn_only = bool(flags & TCP_SYN) and not flags & TCP_ACK
        return Packet(at, "tcp", destination, port, source_port, syn_only)
    return Packet(at, "udp", destination, port, source_port, False)


@dataclass
class Capture:
    """``with Capture(namespace, "eth0") as capture:``; ``capture.packets`` afterwards."""

    netns: str
    interface: str
    packets: list[Packet] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _ready: threading.Event = field(default_factory=threading.Event)
    _error: BaseException | None = None
    _thread: threading.Thread | None = None

    def __enter__(self) -> Capture:
        self._thread = threading.Thread(target=self._run, name=f"capture-{self.netns}")
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        if self._error is not None and exc[0] is None:
            raise self._error

    def count(self) -> int:
        return len(self.packets)

    def _run(self) -> None:
        try:
            enter_netns(self.netns)
            with socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP)) as sock:
                sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
                sock.bind((self.interface, ETH_P_IP))
                sock.settimeout(0.05)
                self._ready.set()
                while not self._stop.is_set():
                    try:
                        data, ancdata, _, address = sock.recvmsg(256, 64)
                    except TimeoutError:
                        continue
                    if address[2] == PACKET_OUTGOING:
                        continue
                    at = 0.0
                    for level, kind, raw in ancdata:
                        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                            seconds, nanos = _TIMESPEC.unpack_from(raw)
                            at = seconds + nanos / 1e9
                    packet = parse(data, at)
                    if packet is not None:
                        self.packets.append(packet)
        except BaseException as exc:  # handed to the test
            self._error = exc
            self._ready.set()

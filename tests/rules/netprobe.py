"""A TCP connection attempt as the kernel tests of the rules read it: open or dropped."""

from __future__ import annotations

import socket

#: Seconds a dropped SYN is waited for.
TIMEOUT = 1.0


def connect(address: str, port: int, timeout: float = TIMEOUT) -> str:
    """'open' (handshake done), 'dropped' (no answer in ``timeout``) or 'error: ...'."""
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return "open"
    except TimeoutError:
        return "dropped"
    except OSError as exc:
        return f"error: {exc}"

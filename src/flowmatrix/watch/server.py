"""The ``/metrics`` endpoint: serves the exposition of the last cycle.

The text is rendered once per cycle (metrics change only when a cycle ends) and every
scrape gets those bytes: a scrape costs no probe and no rendering, however many flows.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client.exposition import CONTENT_TYPE_LATEST

from flowmatrix.errors import UserError
from flowmatrix.i18n import _
from flowmatrix.probe.local import is_local, local_addresses

INDEX = b'<html><body><a href="/metrics">flowmatrix watch: /metrics</a></body></html>\n'


def parse_listen(text: str) -> tuple[str, int]:
    """``ADDR:PORT`` or ``[IPv6]:PORT`` (``localhost`` is 127.0.0.1) -> (address, port)."""
    host, sep, port_text = text.strip().rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) < 65536:
        raise UserError(
            _("--listen {value}: not ADDRESS:PORT").format(value=repr(text)),
            hint=_("e.g. 127.0.0.1:9742 or [::1]:9742"),
        )
    host = host.strip("[]") or "0.0.0.0"
    host = "127.0.0.1" if host == "localhost" else host
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise UserError(
            _("--listen {value}: {host} is not an IP address").format(
                value=repr(text), host=repr(host)
            ),
            hint=_("give an address of this host"),
        ) from None
    if not address.is_unspecified and not is_local(address, local_addresses()):
        shown = ", ".join(str(a) for a in local_addresses())
        raise UserError(
            _("--listen {value}: {address} is not an address of this host").format(
                value=text, address=address
            ),
            hint=_("this host's addresses: {addresses}").format(addresses=shown),
        )
    return str(address), int(port_text)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    body = b""
    """The exposition to serve (replaced whole: a scrape never sees half of one)."""


class _IPv6Server(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._reply(200, CONTENT_TYPE_LATEST, self.server.body)
        elif path == "/":
            self._reply(200, "text/html; charset=utf-8", INDEX)
        else:
            self._reply(404, "text/plain; charset=utf-8", b"not found: try /metrics\n")

    def _reply(self, code: int, kind: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # scrapes are not news
        return


class MetricsServer:
    """An HTTP server on ``address:port`` that serves what was last ``publish``-ed."""

    def __init__(self, address: str, port: int) -> None:
        kind = _IPv6Server if ":" in address else _Server
        try:
            self._server: _Server = kind((address, port), _Handler)
        except OSError as exc:
            shown = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
            if exc.errno == errno.EADDRINUSE:
                raise UserError(
                    _("--listen {address}: the address is in use").format(address=shown),
                    hint=_("another process listens there: choose another port"),
                ) from None
            raise UserError(f"--listen {shown}: {exc.strerror or exc}") from None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        """``ADDR:PORT`` bound (the port chosen when asked for 0)."""
        host, port = str(self._server.server_address[0]), int(self._server.server_address[1])
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    def publish(self, body: bytes) -> None:
        self._server.body = body

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
        self._server.server_close()

"""How many probes may be in flight: the concurrency asked for, within the open-files limit.

A TCP probe holds one socket per attempt (``retries + 1`` at most), a UDP probe one. When
the soft ``RLIMIT_NOFILE`` is too low, it is raised as far as the hard limit allows.
If that is still not enough, a concurrency the user asked for is refused with the
numbers and how to raise the limit (exit 2), rather than probes failing with EMFILE; the
default concurrency is lowered to fit instead.
"""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass

from flowmatrix.errors import UserError
from flowmatrix.i18n import _

DEFAULT_CONCURRENCY = 2048
#: Files kept free for everything else (the event loop, resolvers, TLS contexts, output).
FD_RESERVE = 64


@dataclass(frozen=True, slots=True)
class Shares:
    """Probes in flight at once, by kind."""

    connects: int
    datagrams: int
    together: bool
    """Both kinds run at the same time (else TCP first, then UDP: ``--concurrency 1``)."""


def _open_now() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0


def open_files_for(probes: int, per_probe: int, *, asked: bool) -> int:
    """The number of probes (at most ``probes``) whose sockets fit in the open-files limit.

    Raises the soft limit up to the hard one when needed. ``asked``: the user chose this
    concurrency, so not fitting is a ``UserError`` instead of a lower concurrency.
    """
    needed = probes * per_probe + FD_RESERVE + _open_now()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return probes
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    except (ValueError, OSError):
        pass
    if soft >= needed:
        return probes
    fit = max(1, (soft - FD_RESERVE - _open_now()) // per_probe)
    if asked:
        shown = _("unlimited") if hard == resource.RLIM_INFINITY else str(hard)
        raise UserError(
            _(
                "--concurrency {probes} needs {needed} open files and this process may open "
                "{soft} (hard limit {hard})"
            ).format(probes=probes, needed=needed, soft=soft, hard=shown),
            hint=_(
                "lower --concurrency to {fit}, or raise the hard limit (as root "
                "'ulimit -Hn {needed}' in the shell that starts flowmatrix, "
                "LimitNOFILE={needed} in a systemd unit, or nofile in /etc/security/limits.conf)"
            ).format(fit=fit, needed=needed),
        )
    return fit


def share_concurrency(
    concurrency: int | None, retries: int, connects: int, datagrams: int
) -> Shares:
    """Split the probes in flight between TCP connects and UDP exchanges.

    ``concurrency`` None: the default, lowered to what the open-files limit allows.
    """
    wanted = DEFAULT_CONCURRENCY if concurrency is None else concurrency
    in_flight = max(1, min(wanted, connects + datagrams))
    fit = open_files_for(in_flight, retries + 1, asked=concurrency is not None)
    if not datagrams:
        return Shares(fit, 0, True)
    if not connects:
        return Shares(0, fit, True)
    if fit < 2:
        return Shares(1, 1, False)
    udp = min(datagrams, max(1, fit // 4))
    return Shares(fit - udp, udp, True)

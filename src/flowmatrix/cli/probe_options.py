"""The options of the commands that probe flows (``verify``, ``watch``): one spelling each,
and the ``ProbeOptions`` they make."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flowmatrix.cli import options as opt

if TYPE_CHECKING:
    from flowmatrix.probe.scheduler import ProbeOptions

SourceOpt = Annotated[
    str | None,
    typer.Option(
        "--from",
        metavar="ROLE|HOST|auto",
        help="Probe the flows whose source is this role or host; 'auto' (the default without "
        "--flow/--to) matches this host's addresses against the plan's sources.",
    ),
]
FlowsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--flow",
        metavar="ID",
        help="Only this flow (or every flow of this requirement). Repeatable.",
    ),
]
ToOpt = Annotated[
    str | None,
    typer.Option("--to", metavar="ROLE|HOST", help="Only flows towards this role or host."),
]
TimeoutOpt = Annotated[
    float, opt.timeout_option("Seconds to wait for an answer per probe.", min=0.05, max=120.0)
]
RetriesOpt = Annotated[
    int,
    typer.Option(
        "--retries",
        min=0,
        max=10,
        help="Extra attempts for unanswered probes, spaced inside --timeout.",
    ),
]
ConcurrencyOpt = Annotated[
    int | None,
    typer.Option(
        "--concurrency",
        min=1,
        max=100_000,
        show_default=False,
        help="Probes in flight at once (default: 2048, or what the open-files limit "
        "allows). A number the limit cannot hold is refused (exit 2).",
    ),
]
RateOpt = Annotated[
    float | None,
    typer.Option(
        "--rate",
        min=0.1,
        help="Send at most this many packets per second: every SYN and datagram, retries included.",
    ),
]
TwoEndedOpt = Annotated[
    bool,
    typer.Option(
        "--two-ended",
        help="Send marked probes that 'flowmatrix listen' at the destination "
        "answers (proves UDP flows; skips the TLS check).",
    ),
]
RadiusSecretOpt = Annotated[
    str | None,
    typer.Option(
        "--radius-secret",
        envvar="FLOWMATRIX_RADIUS_SECRET",
        show_envvar=True,
        help="RADIUS shared secret for the Status-Server probe (prefer the environment "
        "variable: a command line is visible to other users).",
    ),
]
CaFileOpt = Annotated[Path | None, opt.ca_file_option(exists=True, dir_okay=False, readable=True)]
NoTlsOpt = Annotated[bool, typer.Option("--no-tls", help="Do not check TLS on the TLS ports.")]


def probe_options(
    *,
    timeout: float,
    retries: int,
    concurrency: int | None,
    rate: float | None,
    two_ended: bool,
    radius_secret: str | None,
    resolver: str | None,
    ca_file: Path | None,
    no_tls: bool,
) -> ProbeOptions:
    """The engine's options from the command line's."""
    from flowmatrix.probe.dns_check import parse_resolver
    from flowmatrix.probe.scheduler import ProbeOptions

    return ProbeOptions(
        timeout=timeout,
        retries=retries,
        concurrency=concurrency,
        rate=rate,
        two_ended=two_ended,
        radius_secret=radius_secret.encode("utf-8") if radius_secret else None,
        resolver=parse_resolver(resolver) if resolver else None,
        ca_file=str(ca_file) if ca_file else None,
        check_tls=not no_tls,
    )

"""The probe's entry point on a source host (inside ``flowmatrix-probe.pyz``).

It reads the host's plan file, probes the flows this host is the source of with the
same engine as ``flowmatrix verify``, and writes the same JSON document, atomically.
Only the standard library and flowmatrix's probe engine may be imported from here
(``bundle.py`` enforces it); ``cryptography`` is used when the host's Python has it.

    python3 flowmatrix-probe.pyz --plan plan.json --from HOST --output results.json

Exit codes as ``flowmatrix verify``: 0 all passed, 1 a required flow failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flowmatrix.fleet import planfile

if TYPE_CHECKING:
    from flowmatrix.model import Flow
    from flowmatrix.probe.scheduler import ProbeOptions
    from flowmatrix.probe.targets import FlowSource
    from flowmatrix.probe.verify import VerifyReport

RADIUS_SECRET_ENV = "FLOWMATRIX_RADIUS_SECRET"


class RemoteError(Exception):
    """Bad input on the remote side: one line on stderr, exit 2."""


def tls_engine() -> str:
    """How this host's TLS checks judge certificates: with its Python's ``cryptography``
    when it has a working one, else with the standard library (``probe.tls``)."""
    from flowmatrix.probe.tls import engine

    return engine()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="flowmatrix-probe",
        description="Probe the planned flows whose source is this host (flowmatrix fleet).",
    )
    parser.add_argument("--plan", help="the host's plan file (JSON)")
    parser.add_argument("--from", dest="source", help="this host's site name")
    parser.add_argument("--output", "-o", help="write the results here (default: stdout)")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds per probe")
    parser.add_argument("--retries", type=int, default=1, help="extra attempts when silent")
    parser.add_argument("--concurrency", type=int, default=2048, help="probes in flight")
    parser.add_argument("--rate", type=float, default=None, help="probes started per second")
    parser.add_argument(
        "--two-ended", action="store_true", help="expect 'flowmatrix listen' at the destinations"
    )
    parser.add_argument("--ca-file", default=None, help="CA bundle for TLS checks")
    parser.add_argument("--no-tls", action="store_true", help="do not check TLS on TLS ports")
    parser.add_argument("--version", action="store_true", help="print versions and exit")
    return parser


def _options(args: argparse.Namespace) -> ProbeOptions:
    from flowmatrix.probe.scheduler import ProbeOptions

    if not 0.05 <= args.timeout <= 120 or not 0 <= args.retries <= 10 or args.concurrency < 1:
        raise RemoteError("--timeout must be 0.05-120, --retries 0-10, --concurrency >= 1")
    if args.rate is not None and args.rate < 0.1:
        raise RemoteError("--rate must be at least 0.1")
    secret = os.environ.get(RADIUS_SECRET_ENV)
    return ProbeOptions(
        timeout=args.timeout,
        retries=args.retries,
        concurrency=args.concurrency,
        rate=args.rate,
        two_ended=args.two_ended,
        radius_secret=secret.encode() if secret else None,
        ca_file=args.ca_file,
        check_tls=not args.no_tls,
    )


def _read_plan(path: str, source: str) -> tuple[dict[str, Any], tuple[Flow, ...]]:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise RemoteError(f"cannot read {path}: {exc.strerror}") from None
    try:
        header, flows = planfile.load(text)
    except planfile.PlanFileError as exc:
        raise RemoteError(f"{path}: {exc}") from None
    if header.get("host") != source:
        raise RemoteError(f"{path} is the plan of {header.get('host')!r}, not of {source!r}")
    return header, flows


def _flows(site: str, digest: str | None, flows: tuple[Flow, ...]) -> FlowSource:
    """What the probes are built from: the plan file holds the flows, not the site."""
    from flowmatrix.documents import SiteRef
    from flowmatrix.probe.targets import FlowSource

    return FlowSource(flows, SiteRef(site, digest))


def _write(path: str | None, text: str) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".results.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise RemoteError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _document(report: VerifyReport, tls: str) -> dict[str, Any]:
    from flowmatrix import __version__
    from flowmatrix.probe.document import report_dict

    document = report_dict(report)
    document["probe"] = {
        "runner": "flowmatrix fleet",
        "flowmatrix_version": __version__,
        "python": sys.version.split()[0],
        "tls_engine": tls,
    }
    return document


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.version:
        from flowmatrix import __version__

        sys.stdout.write(f"flowmatrix probe {__version__}, Python {sys.version.split()[0]}\n")
        return 0
    if not args.plan or not args.source:
        raise RemoteError("--plan and --from are required")
    tls = tls_engine()
    from flowmatrix.errors import UserError
    from flowmatrix.probe.targets import Selection
    from flowmatrix.probe.verify import verify

    if args.output and os.path.exists(args.output):
        os.unlink(args.output)  # never leave an earlier run's results behind a failure
    header, flows = _read_plan(args.plan, args.source)
    options = _options(args)
    try:
        digest = header.get("site_digest")
        source = _flows(
            str(header.get("site", "")), digest if isinstance(digest, str) else None, flows
        )
        report = verify(source, Selection(source=args.source), options)
    except UserError as exc:
        raise RemoteError(str(exc)) from None
    text = json.dumps(_document(report, tls), ensure_ascii=False, indent=1) + "\n"
    _write(args.output, text)
    return int(report.exit_code)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(argv)
    except RemoteError as exc:
        sys.stderr.write(f"flowmatrix probe: error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("flowmatrix probe: interrupted\n")
        return 130

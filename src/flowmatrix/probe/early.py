"""A repeated ``verify`` starts probing before the command line is parsed.

Before its first packet, ``flowmatrix verify`` spends a few hundred milliseconds of CPU
starting up (Python, Typer and the pydantic it builds parameters with, the plan); the
probes then mostly wait, a dropped port for one ``--timeout``. The two can overlap when
the command was run before: each run keeps its probe targets and options in the cache
folder (:mod:`flowmatrix.disk_cache`: its safety, ``FLOWMATRIX_NO_CACHE=1``)
under the SHA-256 of its command line, working folder, network namespace, the bytes of
every file the command line names (but the output) and the ``FLOWMATRIX_*`` environment.
When the same run comes again, :func:`early_probes` (entered by the CLI before it imports
Typer) probes those targets on a thread while the command starts as usual.

The early results are only used by a :func:`flowmatrix.probe.verify.verify` whose own
targets and options, built from the plan as always, are equal to the ones probed; anything
else (an edited plan, other local addresses, a progress bar to show) waits for the early
run to end, drops it and probes as usual. A run with a RADIUS secret is never kept, so
no secret is ever written to the cache; nor is one of more than ``MAX_TARGETS`` probes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowmatrix.probe.results import ProbeResult
    from flowmatrix.probe.runner import ProbeOptions
    from flowmatrix.probe.targets import ProbeTarget

_NAME = "verify-targets"
#: Files named on the command line are read into the key up to this size (a site, a CA).
_FILE_LIMIT = 64 << 20
#: Runs kept at most this big: an early start pays when the run lasts about one timeout
#: (the start-up it hides is a fixed ~0.3 s); a longer run would only share the
#: interpreter between the two threads for longer, and read back more targets first.
MAX_TARGETS = 16384
#: While both threads run, the probing one gets the interpreter back within this delay
#: (the default 5 ms would stretch the latency of the answers read meanwhile).
_SWITCH_INTERVAL = 0.0005


@dataclass(frozen=True)
class _Kept:
    targets: tuple[ProbeTarget, ...]
    options: ProbeOptions


@dataclass
class _Run:
    key: str
    kept: _Kept | None = None
    thread: threading.Thread | None = None
    results: list[ProbeResult] | None = None
    failed: bool = False
    switch_interval: float = field(default_factory=sys.getswitchinterval)
    done: threading.Event = field(default_factory=threading.Event)


_current: _Run | None = None


def command_key(argv: Sequence[str], output_flags: Sequence[str] = ()) -> str | None:
    """The digest naming this command line's probes (None: a file it names is unreadable).
    The file after one of ``output_flags`` is the one the command writes: not read."""
    digest = hashlib.sha256(repr((sys.version, os.getcwd(), tuple(argv))).encode())
    with contextlib.suppress(OSError):
        namespace = os.stat("/proc/self/ns/net")
        digest.update(f"netns {namespace.st_dev}:{namespace.st_ino}".encode())
    digest.update(repr(sorted(kv for kv in os.environ.items() if _shapes_the_run(kv[0]))).encode())
    for arg in _read_files(argv, output_flags):
        try:
            if os.path.isfile(arg) and os.path.getsize(arg) <= _FILE_LIMIT:
                with open(arg, "rb") as handle:
                    digest.update(b"file " + arg.encode() + b"\n" + handle.read())
        except (OSError, ValueError):
            return None
    return digest.hexdigest()


def _shapes_the_run(variable: str) -> bool:
    """A ``FLOWMATRIX_*`` setting; not a secret (a run with one is never kept anyway)."""
    return variable.startswith("FLOWMATRIX_") and "SECRET" not in variable


def _read_files(argv: Sequence[str], output_flags: Sequence[str]) -> Iterator[str]:
    """The arguments that may name a file the command reads (not the one it writes)."""
    after_output = False
    for arg in argv:
        if after_output:
            after_output = False
        elif arg in output_flags:
            after_output = True
        elif not any(arg.startswith(_glued(flag)) for flag in output_flags):
            yield arg


def _glued(flag: str) -> str:
    """How ``flag`` and its value are written as one argument: ``--output=F``, ``-oF``."""
    return f"{flag}=" if flag.startswith("--") else flag


def _probe(run: _Run) -> None:
    from flowmatrix.probe.runner import run_probes

    assert run.kept is not None
    try:
        run.results = run_probes(run.kept.targets, run.kept.options)
    except BaseException:  # the command probes again and reports what goes wrong
        run.failed = True
    finally:
        run.done.set()


@contextlib.contextmanager
def early_probes(argv: Sequence[str], output_flags: Sequence[str] = ()) -> Iterator[None]:
    """Around one ``verify`` command: probe what the same command probed last time."""
    global _current
    key = command_key(argv, output_flags)
    if key is None:
        yield
        return
    from flowmatrix.disk_cache import lookup

    run = _Run(key)
    found = lookup(_NAME, key)
    if isinstance(found, _Kept) and not sys.stderr.isatty():
        import flowmatrix.probe.runner  # noqa: F401  (imported here, not on both threads)

        run.kept = found
        run.thread = threading.Thread(target=_probe, args=(run,), name="early-probes", daemon=True)
        sys.setswitchinterval(_SWITCH_INTERVAL)
        run.thread.start()
    _current = run
    try:
        yield
    finally:
        _current = None
        sys.setswitchinterval(run.switch_interval)


def take(
    targets: Sequence[ProbeTarget], options: ProbeOptions, *, usable: bool = True
) -> list[ProbeResult] | None:
    """The early results for exactly these targets and options (None: there are none, or
    not ``usable``), once the early run, if any, has ended: two runs never probe at once."""
    run = _current
    if run is None or run.thread is None:
        return None
    run.done.wait()
    run.thread = None  # taken once
    sys.setswitchinterval(run.switch_interval)
    same = run.kept == _Kept(tuple(targets), options)
    return run.results if usable and same and not run.failed else None


def keep(targets: Sequence[ProbeTarget], options: ProbeOptions) -> None:
    """Remember this command's targets for its next run (not with a secret in them, not
    more than ``MAX_TARGETS``)."""
    run = _current
    if run is None or options.radius_secret is not None or len(targets) > MAX_TARGETS:
        return
    kept = _Kept(tuple(targets), options)
    if run.kept != kept:
        from flowmatrix.disk_cache import store

        store(_NAME, run.key, kept)

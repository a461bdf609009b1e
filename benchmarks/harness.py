"""Whole-process timing shared by every benchmark: the command a user runs, against its peer.

Each side is a command line (run as a child process from exec to exit, output written)
or, where no process exists (a peer that is a library), a Python callable. Runs
alternate A B A B over at least five pairs so that a change of machine load touches both
sides alike; the report gives the median, min and max of each side and of the ratio
(peer time / flowmatrix time, per pair), and the peak resident memory of each process.

    from harness import Side, compare, print_comparison

    result = compare(
        Side("flowmatrix", ["flowmatrix", "plan", "-f", "json", "-o", out]),
        Side("nmap", ["nmap", "-sT", ...]),
        pairs=5,
    )
    print_comparison(result)
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

Command = Sequence[str]


def console_script(name: str) -> str:
    """The console script ``name`` of this Python environment (else the one on PATH): the
    flowmatrix timed is the one installed beside the interpreter running the benchmark.

    For flowmatrix, its modules' bytecode is compiled first, as ``pip install .`` (the
    README's install) does: an editable install where Python may not write bytecode
    (``PYTHONDONTWRITEBYTECODE``) would otherwise compile every module in every run.
    """
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed")
    if name == "flowmatrix":
        _compile_flowmatrix()
    return found


def _compile_flowmatrix() -> None:
    import compileall

    import flowmatrix

    compileall.compile_dir(Path(flowmatrix.__file__).parent, quiet=1)


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a command (or a callable) and how to run it."""

    name: str
    command: Command | None = None
    call: Callable[[], object] | None = None
    """In-process callable, for a peer that has no command (a library)."""
    prefix: Command = ()
    """Prepended to the command, e.g. ``("ip", "netns", "exec", "src")``."""
    env: dict[str, str] | None = None
    check: Callable[[], None] | None = None
    """Run after each timed run (not timed): raise when the output is wrong."""
    before: Callable[[], None] | None = None
    """Run before each timed run (not timed): remove the previous output, reset state."""


@dataclass
class Runs:
    """What the runs of one side measured."""

    name: str
    seconds: list[float] = field(default_factory=list)
    peak_rss_mb: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)
    """User + system CPU of each process (empty for a callable): what load does not inflate
    as much as the wall time, on a shared machine."""

    def record(self, measured: tuple[float, float, float | None]) -> float:
        seconds, rss, cpu = measured
        self.seconds.append(seconds)
        self.peak_rss_mb.append(rss)
        if cpu is not None:
            self.cpu_seconds.append(cpu)
        return seconds

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@dataclass
class Comparison:
    flowmatrix: Runs
    peer: Runs | None
    ratios: list[float] = field(default_factory=list)
    """Peer time / flowmatrix time, pair by pair (> 1: flowmatrix is faster)."""


#: Runs a command and reports (to the file descriptor given first) its wall time from fork to exit,
#: its peak resident memory and its CPU time. Linux keeps a process's peak memory across
#: exec, and a child forked (or vforked) from the benchmark starts with the benchmark's
#: own: measured directly, every command would show at least the benchmark's size (a
#: 65,535-port run holds its listeners and ground truth). Forked from this small runner,
#: the command's peak is its own; the runner's start-up is outside the time measured.
_RUNNER = """
import os, sys, time
report, argv = int(sys.argv[1]), sys.argv[2:]
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - started
os.write(report, f"{elapsed} {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}".encode())
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def _measured(name: str, argv: list[str], env: dict[str, str] | None) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds of ``argv``, run through ``_RUNNER``."""
    read, write = os.pipe()
    try:
        process = subprocess.Popen(
            [sys.executable, "-S", "-c", _RUNNER, str(write), *argv],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
            pass_fds=(write,),
        )
    finally:
        os.close(write)
    _, stderr = process.communicate()
    with os.fdopen(read, "rb") as report:
        figures = report.read().decode().split()
    if process.returncode not in (0, 1) or len(figures) != 3:
        message = stderr.decode(errors="replace")[-2000:]
        raise RuntimeError(f"{name}: exit {process.returncode}: {message}")
    elapsed, rss_kb, cpu = (float(figure) for figure in figures)
    return elapsed, rss_kb / 1024, cpu


def run_once(side: Side) -> tuple[float, float, float | None]:
    """Wall seconds, peak RSS (MB; 0 for a callable) and CPU seconds (None for a callable)
    of one run of ``side``."""
    if side.before is not None:
        side.before()
    if side.call is not None:
        started = time.perf_counter()
        side.call()
        elapsed = time.perf_counter() - started
        rss, cpu = 0.0, None
    else:
        assert side.command is not None
        argv = [*side.prefix, *side.command]
        env = None if side.env is None else {**os.environ, **side.env}
        elapsed, rss, cpu = _measured(side.name, argv, env)
    if side.check is not None:
        side.check()
    return elapsed, rss, cpu


def compare(flowmatrix: Side, peer: Side | None = None, *, pairs: int = 5) -> Comparison:
    """Run ``flowmatrix`` and ``peer`` alternately, ``pairs`` times each (at least 5)."""
    pairs = max(pairs, 5)
    ours = Runs(flowmatrix.name)
    theirs = Runs(peer.name) if peer is not None else None
    result = Comparison(ours, theirs)
    for _ in range(pairs):
        seconds = ours.record(run_once(flowmatrix))
        if peer is not None and theirs is not None:
            peer_seconds = theirs.record(run_once(peer))
            result.ratios.append(peer_seconds / seconds if seconds else float("inf"))
    return result


def alternate(sides: Sequence[Side], *, rounds: int = 5) -> list[Runs]:
    """Run every side once per round, in turn (A B C A B C ...), ``rounds`` times (at
    least 5): for commands that have no peer but are measured side by side."""
    rounds = max(rounds, 5)
    found = [Runs(side.name) for side in sides]
    for _ in range(rounds):
        for side, runs in zip(sides, found, strict=True):
            runs.record(run_once(side))
    return found


def print_runs(found: Sequence[Runs], title: str = "") -> None:
    """Median, min and max of each side's runs, and its peak memory."""
    if title:
        print(f"== {title} ({load_average()}, {os.cpu_count()} CPUs)")
    for runs in found:
        memory = f"; peak RSS {max(runs.peak_rss_mb):.0f} MB" if any(runs.peak_rss_mb) else ""
        cpu = f"; CPU {_spread(runs.cpu_seconds)}" if runs.cpu_seconds else ""
        print(f"  {runs.name:<28} {_spread(runs.seconds)}{memory}{cpu}")


def _spread(values: list[float], unit: str = "s", digits: int = 3) -> str:
    return (
        f"median {statistics.median(values):.{digits}f} {unit} "
        f"(min {min(values):.{digits}f}, max {max(values):.{digits}f}, n={len(values)})"
    )


def load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.2f} (5 min {five:.2f})"


def print_comparison(result: Comparison, title: str = "") -> None:
    """Median, min and max of each side and of the ratio, and peak memory."""
    print_runs([r for r in (result.flowmatrix, result.peer) if r is not None], title)
    if result.ratios:
        print(f"  {'ratio (peer / flowmatrix)':<28} {_spread(result.ratios, unit='x', digits=2)}")

"""Running the CLI as a separate process, with the caps a hostile input must stay under."""

from __future__ import annotations

import resource
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources

#: Per run: what a hostile file may cost before the test calls it a failure.
CPU_SECONDS = 10
MEMORY_BYTES = 500 * 1024 * 1024


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def run_capped(*args: str, timeout: float = 60, env: dict[str, str] | None = None) -> Run:
    """``flowmatrix ARGS`` in a child process capped at 10 s of CPU and 500 MB of memory;
    a hang past ``timeout`` seconds of wall time fails the test."""
    done = subprocess.run(
        [sys.executable, "-m", "flowmatrix", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_capped,
        env=env,
        errors="replace",
    )
    return Run(done.returncode, done.stdout, done.stderr)


def assert_one_line_error(run: Run, *needles: str) -> None:
    """Exit 2, one ``flowmatrix: error:`` line on stderr, no traceback, every needle in it."""
    lines = run.stderr.splitlines()
    assert run.code == 2, run.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("flowmatrix: error: "), run.stderr[-2000:]
    for needle in needles:
        assert needle in lines[0], lines[0]


def default_site() -> str:
    return (resources.files("flowmatrix") / "examples" / "default.yaml").read_text("utf-8")

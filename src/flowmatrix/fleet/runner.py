"""``flowmatrix fleet run``: export, run ``ansible-playbook``, collect the result files."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from flowmatrix.errors import ExitCode, UserError
from flowmatrix.fleet.export import FleetExport
from flowmatrix.fleet.merge import Matrix
from flowmatrix.fleet.resultfile import ResultDocument, read_result_file
from flowmatrix.model import Plan

INSTALL_HINT = "pip install 'flowmatrix[fleet]' (it brings ansible-core)"
#: ansible-playbook's exit code is a bit set: 2 some host failed, 4 some host unreachable
#: (4 is also its code for a parse error, told apart by the PLAY RECAP that only a run
#: prints). After those, the results that came back are still merged.
HOST_FAILED = 2
HOST_UNREACHABLE = 4
INTERRUPTED = 99
_MEANING = {
    1: "an error",
    4: "a parser error (inventory or playbook), or every host unreachable",
    5: "bad or incomplete options",
    250: "an unexpected error",
}
_RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=\d+.*?\bunreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)"
)


@dataclass(frozen=True)
class PlaybookRun:
    """What ``ansible-playbook`` did."""

    returncode: int
    dry_run: str | None
    """The option that kept the probes from running (``--check``...), if any."""
    seconds: float
    results: tuple[ResultDocument, ...]
    """The result files fetched back (none in check mode)."""
    unreachable: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    """Hosts the PLAY RECAP lists as unreachable / failed."""

    @property
    def hosts_failed(self) -> bool:
        """Some hosts failed or were unreachable: their flows stay untested."""
        return bool(self.unreachable or self.failed) or self.returncode in (
            HOST_FAILED,
            HOST_UNREACHABLE,
            HOST_FAILED | HOST_UNREACHABLE,
        )


def find_ansible_playbook() -> str:
    """``ansible-playbook`` next to this Python (same virtualenv) or on PATH."""
    beside = Path(sys.executable).parent / "ansible-playbook"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("ansible-playbook")
    if found is None:
        raise UserError("ansible-playbook is not installed", hint=INSTALL_HINT)
    return found


#: ansible-playbook options after which no probe runs: nothing to merge.
NO_PROBE_OPTIONS = (
    "--check",
    "-C",
    "--list-hosts",
    "--list-tasks",
    "--list-tags",
    "--syntax-check",
)


def no_probe_option(args: Sequence[str]) -> str | None:
    """The first option in ``args`` that makes the playbook run no probe, if any."""
    return next((a for a in args if a in NO_PROBE_OPTIONS), None)


def clear_results(folder: Path) -> None:
    """Remove earlier result files, so a host that fails this time shows as untested."""
    if folder.is_dir():
        for old in folder.glob("*.json"):
            old.unlink()


def playbook_command(
    export: FleetExport, ansible_args: Sequence[str], executable: str | None = None
) -> list[str]:
    return [
        executable or find_ansible_playbook(),
        "-i",
        str(export.inventory),
        str(export.playbook),
        *ansible_args,
    ]


def _stream(process: subprocess.Popen[str], output: IO[str]) -> tuple[list[str], list[str], bool]:
    """Copy the playbook's output through, noting the PLAY RECAP's unreachable / failed hosts."""
    unreachable: list[str] = []
    failed: list[str] = []
    recap = False
    assert process.stdout is not None
    for line in process.stdout:
        output.write(line)
        output.flush()
        if line.startswith("PLAY RECAP"):
            recap = True
        match = _RECAP.match(line) if recap else None
        if match:
            if int(match["unreachable"]):
                unreachable.append(match["host"])
            if int(match["failed"]):
                failed.append(match["host"])
    return unreachable, failed, recap


def run_playbook(
    export: FleetExport,
    ansible_args: Sequence[str] = (),
    *,
    env: Mapping[str, str] | None = None,
    output: IO[str] | None = None,
) -> PlaybookRun:
    """Run the playbook (its output goes to ``output``, stderr by default) and read results."""
    command = playbook_command(export, ansible_args)
    dry_run = no_probe_option(ansible_args)
    if dry_run is None:
        clear_results(export.results)
    started = time.monotonic()
    stream = output if output is not None else sys.stderr
    stream.flush()
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
            errors="replace",
        )
    except OSError as exc:
        raise UserError(f"cannot run {command[0]}: {exc.strerror}", hint=INSTALL_HINT) from None
    with process:
        try:
            unreachable, failed, recap = _stream(process, stream)
            code = process.wait()
        except BaseException:
            process.kill()
            raise
    seconds = time.monotonic() - started
    if code == INTERRUPTED or code < 0:
        raise KeyboardInterrupt
    fetched = [] if dry_run else sorted(export.results.glob("*.json"))
    results = tuple(read_result_file(p) for p in fetched)
    ran = recap or bool(results)
    if code != 0 and not (ran and code & ~(HOST_FAILED | HOST_UNREACHABLE) == 0):
        meaning = _MEANING.get(code, f"exit code {code}")
        raise UserError(
            f"ansible-playbook stopped with {meaning} (exit {code}); see its output above",
            hint="check the options given after '--' and the inventory",
        )
    return PlaybookRun(code, dry_run, seconds, results, tuple(unreachable), tuple(failed))


@dataclass(frozen=True)
class FleetOutcome:
    """A whole ``fleet run``: the matrix (None in check mode), notes for the user, exit code."""

    matrix: Matrix | None
    notes: tuple[str, ...]
    exit_code: ExitCode
    run: PlaybookRun


def fleet_run(
    plan: Plan,
    folder: Path,
    ansible_args: Sequence[str] = (),
    *,
    env: Mapping[str, str] | None = None,
) -> FleetOutcome:
    """Export ``plan`` into ``folder``, run the playbook, merge what came back."""
    from flowmatrix.fleet.export import export_fleet
    from flowmatrix.fleet.merge import merge

    exported = export_fleet(plan, folder)
    notes = [f"fleet: {len(exported.hosts)} source host(s), playbook in {folder}"]
    notes += [f"fleet: left out {h.name}: {h.why_not}" for h in exported.left_out]
    run = run_playbook(exported, ansible_args, env=env)
    notes.append(f"fleet: ansible-playbook took {run.seconds:.1f} s (exit {run.returncode})")
    if run.hosts_failed:
        who = (
            ", ".join(
                [
                    *(f"{h} (unreachable)" for h in run.unreachable),
                    *(f"{h} (failed)" for h in run.failed),
                ]
            )
            or "see the output above"
        )
        notes.append(
            f"fleet: some hosts failed or were unreachable: {who}; "
            "their flows show as not tested or incomplete"
        )
    if run.dry_run is not None:
        notes.append(f"fleet: {run.dry_run}: no probe ran, nothing to merge")
        code = ExitCode.FINDINGS if run.hosts_failed else ExitCode.OK
        return FleetOutcome(None, tuple(notes), code, run)
    matrix = merge(plan, run.results)
    failed = matrix.exit_code is ExitCode.FINDINGS or run.hosts_failed
    return FleetOutcome(matrix, tuple(notes), ExitCode.FINDINGS if failed else ExitCode.OK, run)

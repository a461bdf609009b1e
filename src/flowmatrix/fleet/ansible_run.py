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
from flowmatrix.fleet.export_folder import FleetExport
from flowmatrix.fleet.merge import Matrix
from flowmatrix.fleet.resultfile import ResultDocument, read_result_file
from flowmatrix.i18n import N_, _, ngettext
from flowmatrix.model import Plan

INSTALL_HINT = N_("pip install 'flowmatrix[fleet]' (it brings ansible-core)")
#: ansible-playbook's exit code is a bit set: 2 some host failed, 4 some host unreachable
#: (4 is also its code for a parse error, told apart by the PLAY RECAP that only a run
#: prints). After those, the results that came back are still merged.
HOST_FAILED = 2
HOST_UNREACHABLE = 4
INTERRUPTED = 99
_MEANING = {
    1: N_("an error"),
    4: N_("a parser error (inventory or playbook), or every host unreachable"),
    5: N_("bad or incomplete options"),
    250: N_("an unexpected error"),
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
        raise UserError(_("ansible-playbook is not installed"), hint=_(INSTALL_HINT))
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
        raise UserError(
            _("cannot run {command}: {error}").format(command=command[0], error=exc.strerror),
            hint=_(INSTALL_HINT),
        ) from None
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
        known = _MEANING.get(code)
        meaning = _(known) if known else _("exit code {code}").format(code=code)
        raise UserError(
            _("ansible-playbook stopped with {meaning} (exit {code}); see its output above").format(
                meaning=meaning, code=code
            ),
            hint=_("check the options given after '--' and the inventory"),
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
    from flowmatrix.fleet.export_folder import export_fleet
    from flowmatrix.fleet.merge import merge

    exported = export_fleet(plan, folder)
    hosts = len(exported.hosts)
    notes = [
        ngettext(
            "fleet: {n} source host(s), playbook in {folder}",
            "fleet: {n} source host(s), playbook in {folder}",
            hosts,
        ).format(n=hosts, folder=folder)
    ]
    notes += [
        _("fleet: left out {host}: {why}").format(host=h.name, why=h.why_not)
        for h in exported.left_out
    ]
    run = run_playbook(exported, ansible_args, env=env)
    notes.append(
        _("fleet: ansible-playbook took {seconds:.1f} s (exit {code})").format(
            seconds=run.seconds, code=run.returncode
        )
    )
    if run.hosts_failed:
        who = ", ".join(
            [
                *(_("{host} (unreachable)").format(host=h) for h in run.unreachable),
                *(_("{host} (failed)").format(host=h) for h in run.failed),
            ]
        ) or _("see the output above")
        notes.append(
            _(
                "fleet: some hosts failed or were unreachable: {who}; "
                "their flows show as not tested or incomplete"
            ).format(who=who)
        )
    if run.dry_run is not None:
        notes.append(
            _("fleet: {option}: no probe ran, nothing to merge").format(option=run.dry_run)
        )
        code = ExitCode.FINDINGS if run.hosts_failed else ExitCode.OK
        return FleetOutcome(None, tuple(notes), code, run)
    matrix = merge(plan, run.results)
    failed = matrix.exit_code is ExitCode.FINDINGS or run.hosts_failed
    return FleetOutcome(matrix, tuple(notes), ExitCode.FINDINGS if failed else ExitCode.OK, run)

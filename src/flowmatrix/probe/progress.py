"""A Rich progress bar for ``verify`` on a terminal (stderr); nothing when not a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowmatrix.probe.results import FAILED_STATES, ProbeResult

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID


class RichProgress:
    """Implements ``ProbeProgress`` with a transient bar and a running failure count."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._failed = 0

    def start(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        from flowmatrix.i18n import _

        failed = _("{failed} failed").format(failed="{task.fields[failed]}")
        self._progress = Progress(
            TextColumn(_("probing")),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(failed),
            console=Console(stderr=True),
            transient=True,
        )
        self._progress.start()
        self._task = self._progress.add_task("probe", total=total, failed=0)

    def advance(self, result: ProbeResult) -> None:
        if self._progress is None or self._task is None:
            return
        if result.state in FAILED_STATES:
            self._failed += 1
        self._progress.update(self._task, advance=1, failed=self._failed)

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

"""What earlier runs left behind when they were killed: listed by every ``lab`` start,
removed by ``flowmatrix lab --clean``.

Debris is

* the namespaces named by a marker in ``/run/flowmatrix`` whose owner process is gone
  (a SIGKILL gives no chance to clean up), and the marker itself;
* an ``fmlab-`` namespace that no marker claims, once it is older than
  :data:`UNCLAIMED_AGE` (left by a flowmatrix without markers, or made by hand): listed,
  removed only by ``--clean``. A younger one may belong to a run that is starting.

A marker whose owner is alive is never touched, nor is any namespace it claims: other
runs of the lab (other users, parallel test suites) go on undisturbed.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from flowmatrix.i18n import _, ngettext
from flowmatrix.netns import NETNS_DIR, delete_namespaces, existing_namespaces
from flowmatrix.netns_registry import RUN_DIR, BrokenMarker, Marker, Owner, read_markers

#: Name prefix of everything the lab creates: ``fmlab-<pid>-<random>-<zN|fN>``.
PREFIX = "fmlab-"
#: Seconds after which an fmlab- namespace no marker claims counts as debris
#: (environment: FLOWMATRIX_LAB_UNCLAIMED_AGE).
UNCLAIMED_AGE = 300.0
_PID_IN_NAME = re.compile(rf"{re.escape(PREFIX)}(\d+)-")


@dataclass(frozen=True)
class Debris:
    """Namespaces (and the marker naming them) that nobody will clean up."""

    namespaces: tuple[str, ...]
    reason: str
    marker: Marker | None = None
    broken: BrokenMarker | None = None

    @property
    def files(self) -> tuple[Path, ...]:
        if self.marker is not None:
            return (self.marker.path,)
        if self.broken is not None:
            return (self.broken.path,)
        return ()


def unclaimed_age() -> float:
    value = os.environ.get("FLOWMATRIX_LAB_UNCLAIMED_AGE")
    try:
        return float(value) if value else UNCLAIMED_AGE
    except ValueError:
        return UNCLAIMED_AGE


def namespace_age(name: str, now: float) -> float | None:
    """Seconds since namespace ``name`` was made (its nsfs inode's change time)."""
    try:
        return now - os.stat(os.path.join(NETNS_DIR, name)).st_ctime
    except OSError:
        return None


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.0f} h"


def find_debris(
    *, now: float | None = None, age: float | None = None, run_dir: Path = RUN_DIR
) -> list[Debris]:
    """Debris of killed runs, oldest marker first, then unclaimed fmlab- namespaces."""
    now = time.time() if now is None else now
    age = unclaimed_age() if age is None else age
    markers = read_markers(run_dir)
    present = existing_namespaces()
    found: list[Debris] = []
    claimed: set[str] = set()
    for marker in markers:
        if isinstance(marker, BrokenMarker):
            stale = now - _mtime(marker.path, now)
            if stale > age:
                found.append(
                    Debris(
                        (),
                        _("unreadable marker {name}").format(name=marker.path.name),
                        broken=marker,
                    )
                )
            continue
        mine = sorted(n for n in present if marker.claims(n))
        claimed.update(mine)
        if marker.owner.alive():
            continue
        found.append(
            Debris(
                tuple(mine),
                _("{purpose} of process {pid}, gone, started {age} ago").format(
                    purpose=marker.purpose or _("namespaces"),
                    pid=marker.owner.pid,
                    age=_ago(now - marker.created),
                ),
                marker=marker,
            )
        )
    unclaimed = []
    for name in sorted(present - claimed):
        if not name.startswith(PREFIX) or _pid_alive(name):
            continue
        seconds = namespace_age(name, now)
        if seconds is not None and seconds > age:
            unclaimed.append(name)
    if unclaimed:
        found.append(
            Debris(
                tuple(unclaimed),
                _("{pattern} that no marker claims, older than {age}").format(
                    pattern=f"{PREFIX}*", age=_ago(age)
                ),
            )
        )
    return found


def _mtime(path: Path, default: float) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return default


def _pid_alive(name: str) -> bool:
    """An ``fmlab-<pid>-`` name whose process still runs (never debris, marker or not)."""
    match = _PID_IN_NAME.match(name)
    return match is not None and Owner(int(match.group(1)), None).alive()


def _names(names: list[str], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    if len(names) <= limit:
        return shown
    return _("{names} and {count} more").format(names=shown, count=len(names) - limit)


def debris_line(debris: list[Debris]) -> str | None:
    """One line for the start of a run, or None when there is nothing left over."""
    if not debris:
        return None
    names = [n for d in debris for n in d.namespaces]
    reasons = [(len(d.namespaces), d.reason) for d in debris if d.namespaces]
    files = sum(len(d.files) for d in debris)
    what = ngettext("{n} namespace", "{n} namespaces", len(names)).format(n=len(names))
    if len(reasons) == 1:
        what += f" ({reasons[0][1]})"
    elif reasons:
        listed = "; ".join(f"{count} ({reason})" for count, reason in reasons)
        what = _("{namespaces}: {reasons}").format(namespaces=what, reasons=listed)
    if files:
        what += ", " + ngettext(
            "{n} marker file in {folder}", "{n} marker files in {folder}", files
        ).format(n=files, folder=RUN_DIR)
    shown = f" [{_names(names)}]" if names else ""
    return _(
        "lab: left by earlier runs that were killed: {what}{names}; "
        "remove them with 'flowmatrix lab --clean'"
    ).format(what=what, names=shown)


@dataclass(frozen=True)
class CleanReport:
    removed: tuple[str, ...]
    files: tuple[Path, ...]
    failed: tuple[str, ...]

    def line(self) -> str:
        if not self.removed and not self.files and not self.failed:
            return _("lab --clean: nothing left by earlier runs")
        namespaces = ngettext("{n} namespace", "{n} namespaces", len(self.removed)).format(
            n=len(self.removed)
        )
        files = ngettext("{n} marker file", "{n} marker files", len(self.files)).format(
            n=len(self.files)
        )
        text = _("lab --clean: removed {namespaces} and {files}").format(
            namespaces=namespaces, files=files
        )
        if self.removed:
            text += f" ({_names(list(self.removed))})"
        if self.failed:
            text += "; " + _("could not remove {names}").format(names=_names(list(self.failed)))
        return text


def clean(debris: list[Debris]) -> CleanReport:
    """Delete the debris' namespaces, then the marker of every run whose namespaces are
    all gone."""
    wanted = [n for d in debris for n in d.namespaces]
    removed = set(delete_namespaces(wanted))
    left = existing_namespaces()
    failed = [n for n in wanted if n in left]
    files: list[Path] = []
    for item in debris:
        if any(n in left for n in item.namespaces):
            continue
        for path in item.files:
            try:
                path.unlink()
                files.append(path)
            except FileNotFoundError:
                continue
            except OSError:
                failed.append(str(path))
    return CleanReport(
        tuple(n for n in wanted if n in removed), tuple(files), tuple(dict.fromkeys(failed))
    )

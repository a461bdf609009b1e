"""Marker files naming who owns which network namespaces, in ``/run/flowmatrix``.

A :class:`~flowmatrix.netns.NamespaceSet` writes ``netns-<prefix>.json`` *before* it
asks the kernel for a namespace and removes it once its namespaces are deleted. So a
marker whose owner process is gone names exactly what a killed run may have left
behind, and a marker whose owner is alive names namespaces in use that nothing else
may touch. ``/run`` is a tmpfs: markers go away at reboot with the namespaces.

Marker contract (``format_version`` 1)::

    {"format_version": 1, "prefix": str, "purpose": str,
     "owner": {"pid": int, "start": int | null}, "created": float (Unix time),
     "namespaces": [str]}

``owner.start`` is the process start time (clock ticks since boot, field 22 of
``/proc/PID/stat``): a PID reused by a later process is not mistaken for the owner.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RUN_DIR = Path("/run/flowmatrix")
MARKER_PREFIX = "netns-"
FORMAT_VERSION = 1


def process_start(pid: int) -> tuple[int, str] | None:
    """(start time in clock ticks since boot, state letter) of ``pid``, None if gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after the last ')'
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[19]), fields[0]


@dataclass(frozen=True)
class Owner:
    """The process that created a set of namespaces."""

    pid: int
    start: int | None

    @classmethod
    def this_process(cls) -> Owner:
        found = process_start(os.getpid())
        return cls(os.getpid(), found[0] if found else None)

    def alive(self) -> bool:
        """True while the owner runs (a zombie does not: it can no longer clean up)."""
        found = process_start(self.pid)
        if found is None:
            return False
        start, state = found
        if state in ("Z", "X"):
            return False
        return self.start is None or start == self.start


@dataclass
class Marker:
    """What one owner created (or is about to create) under one name prefix."""

    prefix: str
    owner: Owner
    purpose: str
    namespaces: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    run_dir: Path = RUN_DIR

    @property
    def path(self) -> Path:
        return marker_path(self.prefix, self.run_dir)

    def claims(self, namespace: str) -> bool:
        return namespace in self.namespaces or namespace.startswith(f"{self.prefix}-")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "prefix": self.prefix,
            "purpose": self.purpose,
            "owner": {"pid": self.owner.pid, "start": self.owner.start},
            "created": round(self.created, 3),
            "namespaces": list(self.namespaces),
        }

    def save(self) -> None:
        """Write the marker atomically (a reader sees the old list or the new one)."""
        from flowmatrix.atomic import write_atomic

        self.run_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps(self.to_dict()) + "\n")

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def marker_path(prefix: str, run_dir: Path = RUN_DIR) -> Path:
    return run_dir / f"{MARKER_PREFIX}{prefix}.json"


@dataclass(frozen=True)
class BrokenMarker:
    """A marker file that cannot be read (cut short, edited by hand)."""

    path: Path
    reason: str


def _parse(path: Path, document: Any) -> Marker:
    owner = document["owner"]
    start = owner.get("start")
    return Marker(
        prefix=str(document["prefix"]),
        owner=Owner(int(owner["pid"]), None if start is None else int(start)),
        purpose=str(document.get("purpose", "")),
        namespaces=[str(n) for n in document.get("namespaces", [])],
        created=float(document.get("created", 0.0)),
        run_dir=path.parent,
    )


def read_markers(run_dir: Path = RUN_DIR) -> list[Marker | BrokenMarker]:
    """Every marker in ``run_dir``, oldest first; unreadable ones as BrokenMarker."""
    try:
        paths = sorted(run_dir.glob(f"{MARKER_PREFIX}*.json"))
    except OSError:
        return []
    found: list[Marker | BrokenMarker] = []
    for path in paths:
        try:
            document = json.loads(path.read_text("utf-8"))
            found.append(_parse(path, document))
        except FileNotFoundError:
            continue  # its owner removed it meanwhile
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            found.append(BrokenMarker(path, f"{type(exc).__name__}: {exc}"[:200]))
    found.sort(key=lambda m: m.created if isinstance(m, Marker) else 0.0)
    return found

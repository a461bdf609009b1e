"""Work done beside the main line of a command, in a forked copy of the process.

A command whose work splits into independent parts (the audit: the flows on one side,
the ruleset's own findings on the other) can do one of them on another processor. A
fork is the cheapest way there: the copy starts with everything the process already
built (the ruleset, its compiled engine, the verdicts), nothing is sent to it, and only
its result comes back, pickled through a pipe.

The copy is made only where that is safe and useful: on Linux (a fork is the system's
own way to start a process there), from a process without other threads (a thread that
holds a lock at the fork would leave it held in the copy), when more than one processor
is available. Otherwise, and whenever the copy fails (it died, its result would not
pickle), the work runs here, in this process, when its result is asked for: the result
is the same either way, only the time differs.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")

_DONE = b"\x00"
"""The first byte of a result that came whole."""


def can_fork() -> bool:
    """Whether work may go to a forked copy of this process (see the module's docstring)."""
    if sys.platform != "linux" or not hasattr(os, "fork"):
        return False
    if threading.active_count() > 1:
        return False
    return len(os.sched_getaffinity(0)) > 1


class Beside(Generic[T]):
    """``work()`` computed in a forked copy of this process, when one can be made
    (``fork`` None: when ``can_fork()``), else here when ``result()`` is asked for.

    ``work`` must not write anything (files, the terminal) nor change what the caller
    reads afterwards: in a copy, its side effects are lost."""

    def __init__(self, work: Callable[[], T], *, fork: bool | None = None) -> None:
        self._work = work
        self._pid: int | None = None
        self._pipe: int | None = None
        self.forked = False
        """Whether the work went to a copy (and, once done, whether it came back from it)."""
        if fork is None:
            fork = can_fork()
        if fork:
            self._start()

    def _start(self) -> None:
        read_end, write_end = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return
        if pid == 0:  # the copy: compute, send, leave without running any exit handler
            os.close(read_end)
            _serve(self._work, write_end)
        os.close(write_end)
        self._pid, self._pipe, self.forked = pid, read_end, True

    def result(self) -> T:
        """The work's result: from the copy if it made one, else computed now."""
        if self._pipe is None:
            return self._work()
        found = self._collect()
        if found is None:  # the copy failed: the work runs here, where errors show
            self.forked = False
            return self._work()
        return found

    def _collect(self) -> T | None:
        assert self._pipe is not None and self._pid is not None
        chunks: list[bytes] = []
        with os.fdopen(self._pipe, "rb") as pipe:
            self._pipe = None
            while chunk := pipe.read(1 << 20):
                chunks.append(chunk)
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        payload = b"".join(chunks)
        if os.waitstatus_to_exitcode(status) != 0 or payload[:1] != _DONE:
            return None
        found: T = pickle.loads(payload[1:])  # our own copy wrote it
        return found

    def cancel(self) -> None:
        """Stop the copy, if one is still working (the result is no longer wanted)."""
        if self._pid is not None:
            try:
                os.kill(self._pid, signal.SIGKILL)
                os.waitpid(self._pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self._pid = None
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None


MAX_SHARES = 8192
"""Shares one pipe holds (4 bytes each in a pipe's 64 KiB), its writer never waiting."""


class Shares:
    """Numbered shares of a work, 0 to ``count - 1``, each taken once, by whichever process
    asks first: made before a fork with ``between_processes``, this process and its copy
    take them from one pipe (a pipe's read of 4 bytes is whole: no share is split or
    taken twice), so that the one with less to do otherwise does more of them."""

    def __init__(self, count: int, *, between_processes: bool) -> None:
        if count > MAX_SHARES:
            raise ValueError(f"at most {MAX_SHARES} shares, not {count}")
        self.count = count
        self._next = 0
        self._pipe: int | None = None
        if between_processes and count:
            read_end, write_end = os.pipe()
            with os.fdopen(write_end, "wb") as pipe:  # closed: an empty pipe reads as its end
                pipe.write(b"".join(n.to_bytes(4, "big") for n in range(count)))
            self._pipe = read_end

    def take(self) -> int | None:
        """The next share nobody took yet, or None when all are taken."""
        if self._pipe is None:
            if self._next == self.count:
                return None
            self._next += 1
            return self._next - 1
        data = os.read(self._pipe, 4)
        return int.from_bytes(data, "big") if len(data) == 4 else None

    def close(self) -> None:
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None
            self._next = self.count


def _serve(work: Callable[[], object], write_end: int) -> None:
    """In the copy: the work's result, pickled, to ``write_end``; then exit at once."""
    code = 1
    try:
        payload = _DONE + pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(payload)
        code = 0
    except BaseException:  # any failure, an interruption too: the caller computes it
        code = 1
    finally:
        os._exit(code)

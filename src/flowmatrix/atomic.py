"""Writing an output file safely: a reader never sees a half-written file, and what is
not a regular file is never replaced.

- ``-`` and ``/dev/stdout`` stream to standard output;
- a regular file (or a new path) is written through a temporary file beside it and an
  atomic rename, keeping the mode (and, as root, the owner) of the file it replaces;
- a symlink's target is replaced, not the link;
- a character or block device (``/dev/null``), a FIFO or a socket is written through,
  never replaced; a directory is refused;
- the temporary file is named ``.NAME.flowmatrix-partial-PID-XXXX``: it is removed on an
  error, Ctrl-C or SIGTERM, and a later write to the same path removes one that a killed
  (SIGKILL) run left behind.

Every failure is a one-line ``UserError`` with the path and the system's reason.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import stat
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from flowmatrix.errors import UserError
from flowmatrix.i18n import _

#: What marks a temporary file of ours, between the target's name and the writer's pid.
PARTIAL_MARK = ".flowmatrix-partial-"
_STDOUT_NAMES = ("-", "/dev/stdout", "/proc/self/fd/1", "/dev/fd/1")
_DEFAULT_MODE = 0o644


class Terminated(SystemExit):
    """SIGTERM arrived while an output file was being written (exit 143)."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


def write_atomic(path: str | Path, content: str | bytes | bytearray) -> None:
    """Write ``content`` to the output ``path`` safely (see the module's description)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    shown = str(path)
    if shown in _STDOUT_NAMES:
        _to_stdout(data)
        return
    if not shown:
        raise UserError(
            _("cannot write '': an empty path is not a file name"), hint=_("give a path")
        )
    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    try:
        info: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise _cannot_write(shown, exc) from None
    if info is not None and not stat.S_ISREG(info.st_mode):
        _write_through(shown, target, info.st_mode, data)
        return
    _replace(shown, target, info, data)


def _to_stdout(data: bytes | bytearray) -> None:
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _cannot_write(shown: str, exc: OSError) -> UserError:
    return UserError(
        _("cannot write {file}: {reason}").format(file=shown, reason=exc.strerror or exc)
    )


def _write_through(shown: str, target: Path, mode: int, data: bytes | bytearray) -> None:
    """A device, FIFO or socket gets the bytes; its node stays what it is."""
    if stat.S_ISDIR(mode):
        raise UserError(
            _("cannot write {file}: is a directory").format(file=shown), hint=_("give a file path")
        )
    try:
        if stat.S_ISSOCK(mode):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
                connection.connect(str(target))
                connection.sendall(data)
            return
        fd = os.open(target, os.O_WRONLY | os.O_CLOEXEC)  # no O_CREAT, no O_TRUNC
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise _cannot_write(shown, exc) from None


def _replace(
    shown: str, target: Path, info: os.stat_result | None, data: bytes | bytearray
) -> None:
    folder = target.parent
    if not folder.is_dir():
        raise UserError(
            _("cannot write {file}: folder {folder} does not exist").format(
                file=shown, folder=folder
            ),
            hint=_("create the folder first"),
        )
    remove_stale_partials(target)
    with _removed_on_sigterm() as partials:
        try:
            fd, tmp = tempfile.mkstemp(
                prefix=f".{target.name}{PARTIAL_MARK}{os.getpid()}-", dir=folder
            )
        except OSError as exc:
            raise _cannot_write(shown, exc) from None
        partials.append(tmp)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, stat.S_IMODE(info.st_mode) if info is not None else _DEFAULT_MODE)
            if info is not None and os.geteuid() == 0:
                os.chown(tmp, info.st_uid, info.st_gid)
            os.replace(tmp, target)
        except OSError as exc:
            _unlink(tmp)
            raise _cannot_write(shown, exc) from None
        except BaseException:
            _unlink(tmp)
            raise


def remove_stale_partials(target: Path) -> None:
    """Remove the temporary files a killed earlier write of ``target`` left behind."""
    pattern = re.compile(re.escape(f".{target.name}{PARTIAL_MARK}") + r"(\d+)-")
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            found = pattern.match(entry.name)
            if found and not _running(int(found.group(1))) and entry.is_file(follow_symlinks=False):
                _unlink(entry.path)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


@contextlib.contextmanager
def _removed_on_sigterm() -> Iterator[list[str]]:
    """While the block runs, SIGTERM raises :class:`Terminated` (so the temporary files
    the block lists are removed on the way out) instead of killing the process at once.

    A program that handles SIGTERM itself (the lab's clean-up, watch's graceful stop)
    keeps its say: its handler runs, and what it raises leaves the block the same way
    (the temporary file removed); when it returns, the write goes on."""
    partials: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield partials
        return
    previous = signal.getsignal(signal.SIGTERM)

    def terminate(signum: int, frame: FrameType | None) -> None:
        if callable(previous):
            previous(signum, frame)
            return
        if previous != signal.SIG_IGN:
            raise Terminated()

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield partials
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)

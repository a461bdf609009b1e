"""``-o`` never destroys what it writes to: regular files are replaced atomically, a
symlink's target is replaced, devices, FIFOs and sockets are written through, write
errors are one line, and temporary files do not outlive SIGTERM (nor, after the next
run, SIGKILL)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowmatrix.atomic import PARTIAL_MARK, write_atomic
from flowmatrix.errors import UserError

from .helpers import assert_one_line_error, run_capped

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (mknod, /dev/null)")


def partials(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if PARTIAL_MARK in p.name)


def test_a_new_and_an_existing_file_are_written_with_the_mode_kept(tmp_path: Path) -> None:
    new = tmp_path / "new.txt"
    write_atomic(new, "one\n")
    assert new.read_text() == "one\n" and stat.S_IMODE(new.stat().st_mode) == 0o644
    new.chmod(0o600)
    write_atomic(new, b"two\n")
    assert new.read_text() == "two\n" and stat.S_IMODE(new.stat().st_mode) == 0o600
    assert partials(tmp_path) == []


def test_a_symlink_keeps_being_a_link_and_its_target_is_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old\n")
    real.chmod(0o640)
    link = tmp_path / "link.txt"
    link.symlink_to("real.txt")
    done = run_capped("plan", "-f", "json", "-o", str(link))
    assert done.code == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == "real.txt"
    assert real.read_text().startswith("{") and stat.S_IMODE(real.stat().st_mode) == 0o640


def test_a_fifo_is_written_through_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    done = run_capped("plan", "-f", "json", "-o", str(fifo))
    reader.join(30)
    assert done.code == 0, done.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert received and received[0].startswith(b"{")


def test_a_unix_socket_is_written_through(tmp_path: Path) -> None:
    path = tmp_path / "out.sock"
    received = bytearray()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(1)

        def serve() -> None:
            connection, _ = server.accept()
            with connection:
                while chunk := connection.recv(65536):
                    received.extend(chunk)

        thread = threading.Thread(target=serve)
        thread.start()
        write_atomic(path, b"through the socket\n")
        thread.join(30)
    assert bytes(received) == b"through the socket\n" and stat.S_ISSOCK(path.lstat().st_mode)


@ROOT_ONLY
def test_a_character_device_is_written_through_not_replaced(tmp_path: Path) -> None:
    device = tmp_path / "null"
    os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    before = device.lstat()
    done = run_capped("plan", "-f", "json", "-o", str(device))
    after = device.lstat()
    assert done.code == 0, done.stderr
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (
        before.st_ino,
        before.st_rdev,
    )


@contextlib.contextmanager
def dev_null_restored() -> Iterator[None]:
    """If a broken run replaces /dev/null, put the device back (and let the test fail)."""
    try:
        yield
    finally:
        if not stat.S_ISCHR(os.lstat("/dev/null").st_mode):
            spare = "/dev/.null-restored-by-test"
            os.mknod(spare, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
            os.chmod(spare, 0o666)
            os.replace(spare, "/dev/null")


@ROOT_ONLY
def test_report_to_dev_null_as_root_leaves_dev_null_a_device() -> None:
    before = os.lstat("/dev/null")
    assert stat.S_ISCHR(before.st_mode), "/dev/null is not a device before the test"
    with dev_null_restored():
        done = run_capped("report", "-f", "html", "-o", "/dev/null")
        after = os.lstat("/dev/null")
    assert done.code == 0, done.stderr
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_rdev) == (
        before.st_ino,
        before.st_rdev,
    )


@pytest.mark.parametrize("name", ["-", "/dev/stdout"])
def test_dash_and_dev_stdout_stream_to_stdout(name: str, tmp_path: Path) -> None:
    out = tmp_path / "captured.json"
    with out.open("wb") as handle:  # stdout is a regular file: it must not be replaced
        done = subprocess.run(
            [sys.executable, "-m", "flowmatrix", "plan", "-f", "json", "-o", name],
            stdout=handle,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("{") and partials(tmp_path) == []


@pytest.mark.parametrize("name", ["", "."])
def test_empty_path_and_dot_are_one_line(name: str) -> None:
    assert_one_line_error(run_capped("plan", "-o", name), "cannot write")


def test_a_directory_is_one_line(tmp_path: Path) -> None:
    assert_one_line_error(run_capped("plan", "-o", str(tmp_path)), str(tmp_path), "directory")


@contextlib.contextmanager
def small_tmpfs(path: Path, options: str) -> Iterator[Path]:
    """A 16 KiB tmpfs mounted at ``path`` for the block, unmounted even on failure."""
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


@ROOT_ONLY
def test_a_full_filesystem_is_one_line_with_the_reason(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "full", "size=16k") as mount:
        done = run_capped("report", "-f", "html", "-o", str(mount / "report.html"))
        assert_one_line_error(done, str(mount / "report.html"), "No space left on device")
        assert partials(mount) == []


@ROOT_ONLY
def test_a_read_only_filesystem_is_one_line_with_the_reason(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "ro", "ro,size=16k") as mount:
        done = run_capped("plan", "-o", str(mount / "plan.txt"))
        assert_one_line_error(done, str(mount / "plan.txt"), "Read-only file system")


def test_an_unwritable_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        write_atomic(tmp_path / "no" / "such" / "file", "x")


# A write held in fsync, so that the signal lands while the temporary file exists: the
# writer is the real write_atomic, in a child process, with the real signal.
HELD = """
import os, signal, sys, time
from flowmatrix import atomic
def held(fd):
    print("writing", flush=True)
    time.sleep(60)
atomic.os.fsync = held
"""
HELD_WRITER = (
    HELD
    + """
try:
    atomic.write_atomic(sys.argv[1], b"x" * 3_000_000)
except SystemExit as exc:
    sys.exit(exc.code)
"""
)


def start_held_writer(target: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HELD_WRITER, str(target)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline() == "writing\n"
    return child


def test_sigterm_during_a_write_removes_the_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("previous\n")
    child = start_held_writer(target)
    assert len(partials(tmp_path)) == 1
    child.send_signal(signal.SIGTERM)
    assert child.wait(30) == 128 + signal.SIGTERM
    assert partials(tmp_path) == [] and target.read_text() == "previous\n"


def test_sigkill_leaves_a_named_partial_that_the_next_write_removes(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    child = start_held_writer(target)
    child.kill()
    child.wait(30)
    left = partials(tmp_path)
    assert len(left) == 1 and left[0].startswith(f".plan.json{PARTIAL_MARK}{child.pid}-")
    done = run_capped("plan", "-f", "json", "-o", str(target))
    assert done.code == 0, done.stderr
    assert partials(tmp_path) == [] and target.read_text().startswith("{")


HANDLED_WRITER = (
    HELD
    + """
class Stop(Exception):
    pass
def stop(signum, frame):
    raise Stop()
signal.signal(signal.SIGTERM, stop)
try:
    atomic.write_atomic(sys.argv[1], b"x" * 3_000_000)
except Stop:
    sys.stderr.write("the program's own handler ran\\n")
    sys.exit(99)
"""
)


def test_sigterm_during_a_write_goes_to_the_program_s_own_handler(tmp_path: Path) -> None:
    # the lab cleans its namespaces and says so on SIGTERM: a write under way must leave
    # that to the program's handler (the temporary file still removed)
    target = tmp_path / "registry.json"
    child = subprocess.Popen(
        [sys.executable, "-c", HANDLED_WRITER, str(target)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline() == "writing\n"
    assert len(partials(tmp_path)) == 1
    child.send_signal(signal.SIGTERM)
    assert child.wait(30) == 99
    assert child.stderr is not None and child.stderr.read() == "the program's own handler ran\n"
    assert partials(tmp_path) == [] and not target.exists()

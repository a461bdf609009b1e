"""Run probe code inside a named network namespace, from a thread of this process.

``setns(2)`` moves only the calling thread; sockets created by that thread then live in
the namespace for good. This is how the kernel tests and the benchmark run the probe
engine on one side of a veth pair without starting another interpreter.
(Python 3.11 has no ``os.setns``: it is called through ctypes.)
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable
from typing import TypeVar

CLONE_NEWNET = 0x40000000
T = TypeVar("T")


def enter_netns(name: str) -> None:
    """Move the calling thread into network namespace ``name`` (never the main thread)."""
    from flowmatrix.netns import NETNS_DIR

    fd = os.open(os.path.join(NETNS_DIR, name), os.O_RDONLY | os.O_CLOEXEC)
    try:
        enter_netns_fd(fd, name)
    finally:
        os.close(fd)


def enter_netns_fd(fd: int, label: str = "namespace") -> None:
    """Move the calling thread into the network namespace open as ``fd``."""
    import ctypes

    if threading.current_thread() is threading.main_thread():
        raise RuntimeError("entering a namespace moves the whole main thread: use a worker")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"setns into {label}: {os.strerror(code)}")


def thread_namespace_fd() -> int | None:
    """An fd on the calling thread's network namespace when it differs from the process's
    (the thread entered another one), else None. The caller closes it."""
    try:
        here = os.stat("/proc/thread-self/ns/net").st_ino
        process = os.stat("/proc/self/ns/net").st_ino
    except OSError:
        return None
    if here == process:
        return None
    return os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)


def run_in_netns(name: str, function: Callable[[], T]) -> T:
    """Call ``function`` in a fresh thread inside namespace ``name``; return or raise its result.

    The thread runs in a copy of the caller's context (its language, among others)."""
    box: dict[str, object] = {}
    context = contextvars.copy_context()

    def body() -> None:
        try:
            enter_netns(name)
            box["value"] = context.run(function)
        except BaseException as exc:  # handed back to the caller below
            box["error"] = exc

    thread = threading.Thread(target=body, name=f"netns-{name}")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]

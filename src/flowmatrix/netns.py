"""Linux network namespaces for the lab, the rule checks and the kernel tests.

Everything is created through ``ip`` (iproute2) under a name prefix, tracked by a
``NamespaceSet`` and removed when the set is closed, also on error and on signals.

* **Registered before created.** The set records every name, in memory and in a marker
  file ``/run/flowmatrix/netns-<prefix>.json`` naming this process
  (:mod:`flowmatrix.netns_registry`), before ``ip netns add`` runs. Whenever the process
  is stopped, a namespace it made is either deleted by its own clean-up or named by a
  marker whose owner is gone: debris that ``flowmatrix lab --clean`` finds and removes.
* **Links are born where they live.** A veth pair is created inside the first namespace
  with its peer sent straight into the second (``ip -n A link add X type veth peer name
  Y netns B``): no interface ever exists in the host's namespace.
* **Few processes.** Namespaces are added in one ``ip -batch``, sysctls are written from
  a thread moved into each namespace (no ``ip netns exec sysctl``), and deleted in one
  ``ip -force -batch``; :func:`batch_each` runs one ``ip -batch`` per namespace, several
  at once.
"""

from __future__ import annotations

import contextlib
import contextvars
import ctypes
import functools
import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType

from flowmatrix.errors import UserError
from flowmatrix.i18n import _
from flowmatrix.netns_registry import Marker, Owner

NETNS_DIR = "/var/run/netns"
CLONE_NEWNET = 0x40000000
#: ``ip -batch`` processes run at once by :func:`batch_each`.
PARALLEL = max(2, min(8, os.cpu_count() or 2))


def kernel_support() -> str | None:
    """None when namespaces can be made here, else the reason they cannot.

    The check creates an anonymous namespace in a short-lived thread (``unshare``): it
    has no name, so nothing can be left behind whenever the process is stopped.
    """
    if os.geteuid() != 0:
        return _("needs root (network namespaces)")
    if shutil.which("ip") is None:
        return _("needs iproute2 ('ip')")
    failure: list[str] = []

    def probe() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWNET) != 0:
            failure.append(os.strerror(ctypes.get_errno()))

    thread = threading.Thread(target=probe, name="netns-probe")
    thread.start()
    thread.join()
    if failure:
        return _("cannot create a network namespace: {error}").format(error=failure[0])
    return None


def _run(cmd: Sequence[str], *, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(cmd), capture_output=True, text=True, input=input_text)
    if result.returncode != 0:
        raise UserError(
            _("command failed: {command}: {output}").format(
                command=" ".join(cmd), output=result.stderr.strip() or result.stdout.strip()
            ),
            hint=_("network namespaces need root and iproute2"),
        )
    return result


def existing_namespaces() -> set[str]:
    """Names of the namespaces ``ip netns`` knows (the files in /var/run/netns)."""
    try:
        return set(os.listdir(NETNS_DIR))
    except FileNotFoundError:
        return set()


def leftover_namespaces(prefix: str) -> list[str]:
    """Namespaces whose name starts with ``prefix`` (for clean-up checks)."""
    return sorted(n for n in existing_namespaces() if n.startswith(prefix))


def delete_namespaces(names: Iterable[str]) -> list[str]:
    """Delete the namespaces of ``names`` that exist, in one ``ip`` process; returns the
    names deleted. The kernel frees each one when its last user (a process, a socket)
    lets go; its interfaces go with it."""
    present = existing_namespaces()
    doomed = [n for n in dict.fromkeys(names) if n in present]
    if doomed:
        subprocess.run(
            ["ip", "-force", "-batch", "-"],
            input="".join(f"netns delete {n}\n" for n in doomed),
            capture_output=True,
            text=True,
        )
    left = existing_namespaces()
    return [n for n in doomed if n not in left]


def _write_sysctls(names: Sequence[str], values: Mapping[str, str]) -> None:
    """Write ``values`` (``net.ipv4.ip_forward`` style keys) in every namespace of
    ``names``, from one thread that moves from namespace to namespace."""
    from flowmatrix.probe.netns_thread import run_in_netns

    def write_all() -> None:
        from flowmatrix.probe.netns_thread import enter_netns

        _write_here(values)
        for name in names[1:]:
            enter_netns(name)
            _write_here(values)

    if names:
        try:
            run_in_netns(names[0], write_all)
        except OSError as exc:
            raise UserError(
                _("cannot set {values} in the new namespaces: {reason}").format(
                    values=", ".join(values), reason=exc.strerror or exc
                ),
                hint=_("network namespaces need root"),
            ) from None


def _write_here(values: Mapping[str, str]) -> None:
    for key, value in values.items():
        with open("/proc/sys/" + key.replace(".", "/"), "w") as handle:
            handle.write(value)


def _namespace_settings(forwarding: bool) -> dict[str, str]:
    on = "1" if forwarding else "0"
    return {
        "net.ipv4.ip_forward": on,
        "net.ipv6.conf.all.forwarding": on,
        "net.ipv6.conf.all.accept_dad": "0",
        "net.ipv6.conf.default.accept_dad": "0",
    }


@dataclass(frozen=True)
class Namespace:
    """One network namespace, addressed by name."""

    name: str

    def exec_args(self, cmd: Sequence[str]) -> list[str]:
        """``cmd`` wrapped to run inside this namespace."""
        return ["ip", "netns", "exec", self.name, *cmd]

    def run(
        self,
        cmd: Sequence[str],
        *,
        check: bool = True,
        input_text: str | None = None,
        timeout: float | None = 120,
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.exec_args(cmd),
            capture_output=True,
            text=True,
            input=input_text,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise UserError(
                _("in namespace {namespace}: {command} failed: {output}").format(
                    namespace=self.name,
                    command=" ".join(cmd),
                    output=result.stderr.strip() or result.stdout.strip(),
                )
            )
        return result

    def popen(self, cmd: Sequence[str], **kwargs: object) -> subprocess.Popen[str]:
        return subprocess.Popen(self.exec_args(cmd), text=True, **kwargs)  # type: ignore[call-overload, no-any-return]

    def ip(self, *args: str) -> None:
        _run(["ip", "-n", self.name, *args])

    def batch(self, commands: Sequence[str]) -> None:
        """Run ``ip`` commands (``link add ...``, one per item) in one process here."""
        if commands:
            _run(["ip", "-n", self.name, "-batch", "-"], input_text="\n".join(commands) + "\n")

    def sysctl(self, key: str, value: str) -> None:
        _write_sysctls([self.name], {key: value})


def batch_each(jobs: Mapping[Namespace, Sequence[str]]) -> None:
    """``Namespace.batch`` for every namespace of ``jobs``, several at once."""
    each_at_once([functools.partial(ns.batch, cmds) for ns, cmds in jobs.items()])


def each_at_once(calls: Sequence[Callable[[], object]]) -> None:
    """Call every function of ``calls`` from a pool of threads; the first error is raised
    once all have ended (calls not started yet are dropped when the caller is interrupted).
    Each runs in a copy of the caller's context, so it words what it says in the run's
    language (``i18n``)."""
    if len(calls) <= 1:
        for call in calls:
            call()
        return
    pool = ThreadPoolExecutor(max_workers=min(PARALLEL, len(calls)), thread_name_prefix="netns")
    try:
        futures = [pool.submit(contextvars.copy_context().run, call) for call in calls]
        for future in futures:
            future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class NamespaceSet:
    """Namespaces and links created together and deleted together.

    Use as a context manager; every name gets ``prefix`` so nothing else is touched.
    """

    prefix: str = field(default_factory=lambda: f"fm{uuid.uuid4().hex[:6]}")
    purpose: str = "namespaces"
    """Said in the marker file (``flowmatrix lab``, ``rules check``...)."""
    namespaces: dict[str, Namespace] = field(default_factory=dict)
    registered: list[str] = field(default_factory=list)
    """Every name asked for, recorded before the kernel was asked."""
    _marker: Marker | None = None

    def __enter__(self) -> NamespaceSet:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def name_of(self, short: str) -> str:
        return f"{self.prefix}-{short}"[:60]

    def register(self, names: Sequence[str]) -> None:
        """Record ``names`` here and in the marker file; only then may they be created."""
        if self._marker is None:
            self._marker = Marker(self.prefix, Owner.this_process(), self.purpose)
        self.registered.extend(n for n in names if n not in self.registered)
        self._marker.namespaces = list(self.registered)
        try:
            self._marker.save()
        except (OSError, UserError) as exc:
            raise UserError(
                _("cannot record the namespaces about to be created in {file}: {reason}").format(
                    file=self._marker.path, reason=exc
                ),
                hint=_("network namespaces need root"),
            ) from None

    def add(self, short: str, *, loopback: bool = True, forwarding: bool = False) -> Namespace:
        """Create namespace ``<prefix>-<short>`` with lo up."""
        return self.add_many([short], loopback=loopback, forwarding=forwarding)[0]

    def add_many(
        self, shorts: Sequence[str], *, loopback: bool = True, forwarding: bool = False
    ) -> list[Namespace]:
        """Create ``<prefix>-<short>`` for every short name, in one ``ip`` process, with
        forwarding on or off and IPv6 duplicate address detection off (lo up unless
        ``loopback`` is false: the caller then brings it up in its own batch)."""
        names = [self.name_of(short) for short in shorts]
        if not names:
            return []
        self.register(names)
        _run(["ip", "-batch", "-"], input_text="".join(f"netns add {n}\n" for n in names))
        made = [Namespace(name) for name in names]
        self.namespaces.update(zip(shorts, made, strict=True))
        _write_sysctls(names, _namespace_settings(forwarding))
        if loopback:
            batch_each({ns: ["link set lo up"] for ns in made})
        return made

    def link(self, a: Namespace, a_if: str, b: Namespace, b_if: str) -> None:
        """A veth pair between two namespaces, both ends up; created inside ``a`` with
        its peer sent straight into ``b``."""
        a.batch([veth_command(a_if, b, b_if), f"link set {a_if} up"])
        b.batch([f"link set {b_if} up"])

    def close(self) -> int:
        """Delete every namespace of the set (their veth ends go with them); returns how
        many were deleted. The marker goes once none is left."""
        deleted = delete_namespaces(self.registered)
        left = existing_namespaces()
        remaining = [n for n in self.registered if n in left]
        self.namespaces.clear()
        self.registered = remaining
        if self._marker is not None:
            if remaining:
                # the marker still names them (and more): 'lab --clean' will find them
                self._marker.namespaces = list(remaining)
                with contextlib.suppress(OSError, UserError):
                    self._marker.save()
            else:
                self._marker.remove()
                self._marker = None
        return len(deleted)


def veth_command(name: str, peer_namespace: Namespace, peer: str) -> str:
    """The ``ip`` command, run in one namespace, that creates veth ``name`` there and its
    peer ``peer`` directly in ``peer_namespace``."""
    return f"link add {name} type veth peer name {peer} netns {peer_namespace.name}"

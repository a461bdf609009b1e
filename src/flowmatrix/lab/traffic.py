"""The lab's traffic: listeners on the destinations and probes from the sources, each in a
thread moved into its zone's namespace, all zones at once.

Both are the ``verify``/``listen`` engine (:mod:`flowmatrix.probe`) in two-ended mode.
Every thread can be stopped from the main thread (:meth:`ZoneThread.stop`): its event
loop's main task is cancelled, so an interrupted run ends quietly, without a pending
task or a traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
import time
from collections.abc import Coroutine, Iterable
from typing import Any

from flowmatrix.errors import UserError
from flowmatrix.i18n import _
from flowmatrix.lab.cases import Case
from flowmatrix.model import Flow, FlowEnd, HostRef, Plan
from flowmatrix.portset import PortSet
from flowmatrix.probe.listen import ListenEvent, ListenPort, ListenSession, ListenSetup
from flowmatrix.probe.netns_thread import enter_netns
from flowmatrix.probe.results import ProbeResult
from flowmatrix.probe.scheduler import ProbeOptions, probe_all
from flowmatrix.probe.targets import ProbeTarget


def probe_target(case: Case) -> ProbeTarget:
    return ProbeTarget(
        flow_id=case.id,
        requirement=case.flow,
        required=case.required,
        source_role=case.source_label,
        source_host=None,
        source_address=case.source_address,
        destination_role=case.destination_label,
        host=case.destination_label,
        address=case.sent_to or case.destination_address,
        port=case.port,
        protocol=case.protocol,
        service=case.service,
        tls=False,
        server_name=None,
    )


def _synthetic_flow(case: Case) -> Flow:
    """A stand-in flow for an unplanned case, so the listener answers its marker."""
    return Flow(
        id=case.id,
        requirement="unplanned",
        source=FlowEnd(
            "unplanned",
            case.source_label,
            case.source_zone,
            (HostRef(case.source_label, (case.source_address,)),),
        ),
        destination=FlowEnd(
            "unplanned",
            case.destination_label,
            case.destination_zone,
            (HostRef(case.destination_label, (case.destination_address,)),),
        ),
        protocol=case.protocol,  # type: ignore[arg-type]
        ports=PortSet.of((case.port,)),
        firewalls=case.firewalls,
        description=f"unplanned ({case.variant}) derived from {case.flow}",
    )


def listen_setups(plan: Plan, cases: list[Case]) -> dict[str, ListenSetup]:
    """zone -> listeners for every destination address and port of the cases in it."""
    flows = {f.id: f for f in plan.flows}
    by_zone: dict[str, list[Case]] = {}
    for case in cases:
        by_zone.setdefault(case.destination_zone, []).append(case)
    setups = {}
    for zone, zone_cases in by_zone.items():
        ports: dict[tuple[str, int], list[str]] = {}
        zone_flows: dict[str, Flow] = {}
        for case in zone_cases:
            ids = ports.setdefault((case.protocol, case.port), [])
            if case.id not in ids:
                ids.append(case.id)
            zone_flows[case.id] = flows[case.id] if case.planned else _synthetic_flow(case)
        setups[zone] = ListenSetup(
            label=f"lab zone {zone}",
            flows=tuple(zone_flows.values()),
            ports=tuple(ListenPort(p, n, tuple(ids)) for (p, n), ids in sorted(ports.items())),
            addresses=tuple(dict.fromkeys(c.destination_address for c in zone_cases)),
        )
    return setups


def _quiet_cancellation(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's error handler: a task cancelled because the run stops is no error
    (Python 3.11's stream server logs one for every connection still open then)."""
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


class ZoneThread:
    """A coroutine run to its end in a thread inside one namespace; stoppable."""

    kind = "zone"

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.error: BaseException | None = None
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self._stopped = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        # The thread speaks the run's language (its reasons are read by people).
        self.thread = threading.Thread(
            target=contextvars.copy_context().run,
            args=(self._body,),
            name=f"lab-{self.kind}-{namespace}",
            daemon=True,
        )

    def main(self) -> Coroutine[Any, Any, None]:
        raise NotImplementedError

    def _body(self) -> None:
        try:
            enter_netns(self.namespace)
            asyncio.run(self._guarded())
        except BaseException as exc:  # handed to the main thread (a stop: CancelledError)
            self.error = exc
        finally:
            self.ready.set()

    async def _guarded(self) -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(_quiet_cancellation)
        with self._lock:
            if self._stopped:
                return
            self._loop = loop
            self._task = asyncio.current_task()
        await self.main()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Cancel the coroutine (from any thread); returns at once."""
        with self._lock:
            self._stopped = True
            loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(task.cancel)

    def join(self, timeout: float) -> None:
        self.thread.join(timeout)


class Listener(ZoneThread):
    """A ``ListenSession`` for one zone."""

    kind = "listen"

    def __init__(self, namespace: str, setup: ListenSetup) -> None:
        super().__init__(namespace)
        self.session = ListenSession(setup, strict=True)

    async def main(self) -> None:
        await self.session.run(None, ready=lambda _b: self.ready.set())

    def stop(self) -> None:
        self.session.stop()  # the session closes its sockets and returns

    def wait_ready(self, timeout: float = 10.0) -> None:
        if not self.ready.wait(timeout):
            raise UserError(
                _("lab listener in {namespace} did not start").format(namespace=self.namespace)
            )
        if self.error is not None:
            raise UserError(
                _("lab listener in {namespace}: {error}").format(
                    namespace=self.namespace, error=self.error
                )
            )

    @property
    def events(self) -> list[ListenEvent]:
        return list(self.session.events)


class Prober(ZoneThread):
    """The probes that leave from one zone: straight to their destination, or through
    the web proxy (:func:`flowmatrix.lab.proxy.probe_through_proxy`)."""

    kind = "probe"

    def __init__(self, namespace: str, cases: list[Case], options: ProbeOptions) -> None:
        super().__init__(namespace)
        self.cases = cases
        self.options = options
        self.results: list[ProbeResult] = []

    async def main(self) -> None:
        from flowmatrix.lab.proxy import probe_through_proxy

        direct = [c for c in self.cases if c.via is None]
        through = [c for c in self.cases if c.via is not None]
        straight = asyncio.ensure_future(probe_all([probe_target(c) for c in direct], self.options))
        proxied = await asyncio.gather(
            *(probe_through_proxy(c, self.options.timeout) for c in through)
        )
        by_case = dict(zip((id(c) for c in direct), await straight, strict=True))
        by_case.update(zip((id(c) for c in through), proxied, strict=True))
        self.results = [by_case[id(c)] for c in self.cases]


def stop_all(threads: Iterable[ZoneThread], timeout: float = 3.0) -> None:
    """Stop every thread, then wait for them (``timeout`` for all together)."""
    threads = list(threads)
    for thread in threads:
        thread.stop()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))


def run_cases(
    namespaces: dict[str, str],
    cases: list[Case],
    options: ProbeOptions,
    running: list[ZoneThread],
) -> list[ProbeResult]:
    """Probe results in the order of ``cases``: each zone's probes in a thread inside that
    zone's namespace, all at once. The threads are added to ``running`` (to be stopped
    by the caller's clean-up when interrupted)."""
    by_zone: dict[str, list[int]] = {}
    for index, case in enumerate(cases):
        by_zone.setdefault(case.source_zone, []).append(index)
    probers = {
        zone: Prober(namespaces[zone], [cases[i] for i in indexes], options)
        for zone, indexes in by_zone.items()
    }
    running.extend(probers.values())
    for prober in probers.values():
        prober.start()
    for prober in probers.values():
        prober.thread.join()
    results: list[ProbeResult | None] = [None] * len(cases)
    for zone, prober in probers.items():
        if prober.error is not None:
            raise UserError(
                _("lab probes failed in zone {zone}: {error}").format(zone=zone, error=prober.error)
            )
        for index, result in zip(by_zone[zone], prober.results, strict=True):
            results[index] = result
    return [r for r in results if r is not None]

"""Run a ListenSession in a thread (optionally inside a network namespace) during a test."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

from flowmatrix.probe.listen import Binding, ListenReport, ListenSession
from flowmatrix.probe.netns_thread import enter_netns


class Running:
    """``with Running(session) as running:`` listens until the block ends."""

    def __init__(
        self, session: ListenSession, duration: float = 30.0, netns: str | None = None
    ) -> None:
        self.session = session
        self.netns = netns
        self.ready = threading.Event()
        self.bindings: Sequence[Binding] = ()
        self.report: ListenReport | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(duration,))

    def _run(self, duration: float) -> None:
        def ready(bindings: Sequence[Binding]) -> None:
            self.bindings = bindings
            self.ready.set()

        try:
            if self.netns is not None:
                enter_netns(self.netns)
            self.report = asyncio.run(self.session.run(duration, ready))
        except BaseException as exc:  # handed to the test in __enter__
            self.error = exc
            self.ready.set()

    def __enter__(self) -> Running:
        self.thread.start()
        assert self.ready.wait(10), "the listeners did not start"
        if self.error is not None:
            raise self.error
        return self

    def __exit__(self, *_: object) -> None:
        self.session.stop()
        self.thread.join(10)

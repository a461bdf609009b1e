"""Signals during a lab run: the first one interrupts the run, nothing interrupts its
clean-up.

SIGINT, SIGTERM and SIGHUP are handled alike (a signal the process was started with
ignored stays ignored). The first one raises :class:`Interrupted` in the main thread,
once: later ones are recorded, never raised, so a SIGTERM 30 ms after a Ctrl-C cannot
cut the clean-up short. Clean-up functions registered with :meth:`InterruptGuard.on_cleanup`
run in :meth:`InterruptGuard.cleaning`: the signals are blocked in the calling thread
(the ``ip`` it starts inherits the mask, so the Ctrl-C a terminal sends to the whole
process group does not kill the process deleting the namespaces either), and whichever
thread the kernel hands a signal to, the handler only records it. They run from the
run's ``finally`` and once more, if still pending, when the guard exits: a signal landing
in the first bytecodes of the ``finally`` cannot skip them.

When the guard exits after a signal, it raises :class:`Interrupted` naming the first
signal and how many namespaces the clean-up deleted; a command exits
``128 + signal number`` (130 for SIGINT, 143 for SIGTERM).

Python runs a signal handler between any two bytecodes, also inside a weakref callback
or a ``__del__`` run by the garbage collector, where an exception cannot propagate: the
interpreter would print it as "Exception ignored" and go on. While the guard is active,
``sys.unraisablehook`` takes such a lost :class:`Interrupted` back silently, the next
signal raises again, and the guard's exit raises the first one (the run stops at its
end instead of at once, its clean-up intact; rare: only inside such callbacks).

After a command's guard (``final``) with no signal, the signals get their system
default: a signal while the interpreter exits ends the process the conventional way
instead of a ``KeyboardInterrupt`` traceback from its shutdown.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType

from flowmatrix.i18n import ngettext

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; everything it created has been removed."""

    def __init__(self, signum: int, cleaned: int = 0) -> None:
        super().__init__(signum)
        self.signum = signum
        self.cleaned = cleaned

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def __str__(self) -> str:
        return ngettext(
            "interrupted ({signal}), cleaned {n} namespace",
            "interrupted ({signal}), cleaned {n} namespaces",
            self.cleaned,
        ).format(signal=self.signal_name, n=self.cleaned)


Cleanup = Callable[[], int]
"""Removes what it owns; returns how many namespaces it deleted."""


class InterruptGuard:
    """Turns the first signal into :class:`Interrupted` and shields the clean-up.

    Re-entrant: a guard entered while another is active (the ``lab`` command around
    ``run_lab``) defers to the outer one.
    """

    _active: InterruptGuard | None = None

    def __init__(self, *, final: bool = False) -> None:
        self.final = final
        """The process ends after this guard (a command): once a signal came, the signals
        are ignored from its exit on, so that a later one cannot kill the process before
        it has reported and exited (Python resets its own handlers while it shuts down)."""
        self.signum: int | None = None
        """The first signal received, if any."""
        self.raised = False
        self.cleaned = 0
        self._cleaning = 0
        self._done = False
        self._depth = 0
        self._previous: dict[int, object] = {}
        self._cleanups: list[Cleanup] = []
        self._previous_hook: Callable[[sys.UnraisableHookArgs], object] | None = None
        self.lost = 0
        """How many interruptions the interpreter swallowed (raised at the exit instead)."""

    @classmethod
    def current(cls) -> InterruptGuard:
        """The active guard, or a new one (enter it with ``with``)."""
        return cls._active if cls._active is not None else cls()

    # --- handler --------------------------------------------------------------------

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self._done:
            return  # the run is over and reported: nothing left to interrupt
        if self.signum is None:
            self.signum = signum
        if self._cleaning or self.raised:
            return
        self.raised = True
        raise Interrupted(signum)

    def _unraisable(self, unraisable: sys.UnraisableHookArgs) -> None:
        """An :class:`Interrupted` raised where it could not propagate: taken back."""
        if not isinstance(unraisable.exc_value, Interrupted):
            hook = self._previous_hook or sys.__unraisablehook__
            hook(unraisable)
            return
        # the guard's exit raises it
        self.raised = False  # the next signal raises again
        self.lost += 1

    def __enter__(self) -> InterruptGuard:
        self._depth += 1
        if self._depth > 1:
            return self
        InterruptGuard._active = self
        if threading.current_thread() is threading.main_thread():
            for signum in SIGNALS:
                previous = signal.getsignal(signum)
                if previous is signal.SIG_IGN:
                    continue
                self._previous[signum] = previous
                signal.signal(signum, self._handle)
            self._previous_hook = sys.unraisablehook
            sys.unraisablehook = self._unraisable
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth > 0:
            self._raise_if_signalled(exc)
            return
        try:
            self.clean_up()
        finally:
            for signum, previous in self._previous.items():
                signal.signal(signum, self._after_exit(previous))  # type: ignore[arg-type]
            self._previous.clear()
            if self._previous_hook is not None:
                sys.unraisablehook = self._previous_hook
                self._previous_hook = None
            InterruptGuard._active = None
        self._raise_if_signalled(exc)

    def _after_exit(self, previous: object) -> object:
        """The handler a signal gets once the guard has exited."""
        if not self.final:
            return previous
        return signal.SIG_IGN if self.signum is not None else signal.SIG_DFL

    def _raise_if_signalled(self, exc: BaseException | None) -> None:
        if self.signum is None:
            return
        if isinstance(exc, Interrupted):
            exc.cleaned = self.cleaned
            return  # propagating already
        self.raised = True
        # a signal is why the run stopped, whatever error it caused on its way (an
        # ``ip`` killed by the terminal's Ctrl-C fails its command)
        raise Interrupted(self.signum, self.cleaned) from None

    def report(self, write: Callable[[], object]) -> None:
        """Write the run's report shielded from signals; the run is then over. A signal
        while it is written, or after, no longer turns a complete, reported run into an
        interrupted one (the report followed by "interrupted" and exit 143)."""
        before = self.signum
        with self.cleaning():
            write()
            self._done = True
        self.signum = before  # one recorded while writing is dropped: the run completed

    # --- clean-up -------------------------------------------------------------------

    def on_cleanup(self, cleanup: Cleanup) -> None:
        """Run ``cleanup`` in :meth:`clean_up` (at the latest when the guard exits)."""
        self._cleanups.append(cleanup)

    @contextmanager
    def cleaning(self) -> Iterator[None]:
        """Signals are recorded, never raised, and blocked in this thread."""
        self._cleaning += 1
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        try:
            yield
        finally:
            # pending signals are handled when unblocked, still in cleaning mode: recorded
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            self._cleaning -= 1

    def clean_up(self) -> None:
        """Run every pending clean-up function once, shielded from signals."""
        with self.cleaning():
            while self._cleanups:
                cleanup = self._cleanups.pop()
                self.cleaned += cleanup()

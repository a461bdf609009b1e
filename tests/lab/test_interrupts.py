"""The lab's signal guard, with real signals sent to this process."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator

import pytest

from flowmatrix.lab.interrupts import SIGNALS, Interrupted, InterruptGuard


@pytest.fixture(autouse=True)
def _restore_handlers() -> Iterator[None]:
    saved = {signum: signal.getsignal(signum) for signum in SIGNALS}
    for signum, handler in saved.items():
        if handler is signal.SIG_IGN:  # started under nohup: these tests send SIGHUP
            signal.signal(signum, signal.SIG_DFL)
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def _send(signum: int) -> None:
    os.kill(os.getpid(), signum)
    time.sleep(0.2)  # the handler runs in the main thread at the next bytecode


def test_the_first_signal_interrupts_once_clean_up_is_done() -> None:
    done: list[str] = []
    with pytest.raises(Interrupted) as caught, InterruptGuard() as guard:
        guard.on_cleanup(lambda: done.append("cleaned") or 3)
        try:
            _send(signal.SIGTERM)
            done.append("not reached")
        finally:
            guard.clean_up()
    assert done == ["cleaned"]
    assert caught.value.signum == signal.SIGTERM
    assert caught.value.exit_code == 143
    assert str(caught.value) == "interrupted (SIGTERM), cleaned 3 namespaces"


def test_a_second_signal_does_not_cut_the_clean_up_short() -> None:
    steps: list[str] = []

    def cleanup() -> int:
        steps.append("started")
        _send(signal.SIGTERM)  # 30 ms after Ctrl-C, as an impatient supervisor would
        _send(signal.SIGINT)
        steps.append("finished")
        return 4

    with pytest.raises(Interrupted) as caught, InterruptGuard() as guard:
        guard.on_cleanup(cleanup)
        try:
            _send(signal.SIGINT)
        finally:
            guard.clean_up()
    assert steps == ["started", "finished"]
    assert caught.value.signum == signal.SIGINT and caught.value.exit_code == 130
    assert caught.value.cleaned == 4


def test_signals_are_blocked_while_cleaning() -> None:
    with InterruptGuard() as guard, guard.cleaning():
        assert set(SIGNALS) <= signal.pthread_sigmask(signal.SIG_BLOCK, [])
    assert not set(SIGNALS) & signal.pthread_sigmask(signal.SIG_BLOCK, [])


def test_a_signal_during_the_clean_up_of_a_finished_run_is_reported_after_it() -> None:
    steps: list[str] = []

    def cleanup() -> int:
        _send(signal.SIGHUP)
        steps.append("finished")
        return 1

    with pytest.raises(Interrupted) as caught, InterruptGuard() as guard:
        guard.on_cleanup(cleanup)
        guard.clean_up()
        steps.append("after the clean-up")
    assert steps == ["finished", "after the clean-up"]
    assert caught.value.signum == signal.SIGHUP and caught.value.exit_code == 129


def test_pending_clean_up_runs_when_the_guard_exits() -> None:
    done: list[str] = []
    with pytest.raises(RuntimeError), InterruptGuard() as guard:
        guard.on_cleanup(lambda: done.append("cleaned") or 0)
        raise RuntimeError("the run failed before its own clean-up")
    assert done == ["cleaned"]


def test_an_error_caused_by_the_signal_is_reported_as_the_signal() -> None:
    with pytest.raises(Interrupted) as caught, InterruptGuard() as guard:
        with guard.cleaning():
            _send(signal.SIGTERM)
        raise RuntimeError("ip was killed by the same Ctrl-C")
    assert caught.value.signum == signal.SIGTERM


def test_nested_guards_share_the_outer_one() -> None:
    with InterruptGuard() as outer:
        with InterruptGuard.current() as inner:
            assert inner is outer
        assert InterruptGuard.current() is outer
    assert InterruptGuard.current() is not outer


def test_handlers_are_restored_and_ignored_signals_stay_ignored() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    before = signal.getsignal(signal.SIGTERM)
    with InterruptGuard():
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
        _send(signal.SIGHUP)  # ignored: nothing raised
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_final_guard_ignores_signals_after_an_interruption() -> None:
    with pytest.raises(Interrupted), InterruptGuard(final=True):
        _send(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    _send(signal.SIGTERM)  # the process reports and exits undisturbed


def test_a_final_guard_leaves_the_system_default_after_a_quiet_run() -> None:
    with InterruptGuard(final=True):
        pass
    # a signal while the interpreter exits ends the process, not a shutdown traceback
    assert signal.getsignal(signal.SIGINT) is signal.SIG_DFL
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


class _Collected:
    """An object whose weakref callback is where the signal's handler runs."""


def test_a_signal_swallowed_by_a_weakref_callback_still_interrupts_at_the_exit_quietly(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import weakref

    reached: list[str] = []

    def callback(_ref: object) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(100_000):  # the handler runs here, where nothing propagates
            pass

    with pytest.raises(Interrupted) as caught, InterruptGuard() as guard:
        target = _Collected()
        ref = weakref.ref(target, callback)
        del target  # the callback runs; its Interrupted is lost there, taken back
        for _ in range(1_000_000):
            pass
        reached.append("after")
        assert ref() is None
    assert caught.value.signum == signal.SIGTERM
    assert reached == ["after"] and guard.lost == 1  # raised at the guard's exit
    assert "Exception ignored" not in capsys.readouterr().err


def test_a_signal_while_the_report_is_written_or_after_does_not_interrupt_the_run() -> None:
    written: list[str] = []

    def write() -> None:
        _send(signal.SIGTERM)  # blocked while the report is written: recorded, then dropped
        written.append("report")

    with InterruptGuard(final=True) as guard:
        guard.report(write)
        _send(signal.SIGINT)  # the run is over: nothing to interrupt
        written.append("after")
    assert written == ["report", "after"]
    assert guard.signum is None


def test_a_signal_before_the_report_still_interrupts() -> None:
    with pytest.raises(Interrupted) as caught, InterruptGuard() as guard:
        _send(signal.SIGTERM)
        guard.report(lambda: None)  # never reached
    assert caught.value.signum == signal.SIGTERM

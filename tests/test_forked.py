"""Work beside the main line (forked.py): the same result from a forked copy as from this
process, and this process's own computation whenever the copy fails."""

from __future__ import annotations

import os
import threading
import time

import pytest

from flowmatrix import forked
from flowmatrix.forked import MAX_SHARES, Beside, Shares, can_fork

needs_fork = pytest.mark.skipif(not can_fork(), reason="no fork here (not Linux, or one CPU)")


def _numbers() -> dict[str, list[int]]:
    return {"squares": [n * n for n in range(10_000)], "pid": [os.getpid()]}


@needs_fork
def test_the_copy_computes_what_this_process_would() -> None:
    beside = Beside(_numbers, fork=True)
    assert beside.forked
    found = beside.result()
    assert found["squares"] == _numbers()["squares"]
    assert found["pid"] != [os.getpid()]  # it was computed elsewhere
    assert beside.forked


def test_without_a_copy_the_work_runs_here_when_asked() -> None:
    calls: list[int] = []

    def work() -> int:
        calls.append(os.getpid())
        return 42

    beside = Beside(work, fork=False)
    assert not beside.forked and calls == []  # nothing done before it is asked for
    assert beside.result() == 42
    assert calls == [os.getpid()]


@needs_fork
def test_a_copy_changes_nothing_here() -> None:
    seen: list[str] = []

    def work() -> int:
        seen.append("in the copy")
        return len(seen)

    assert Beside(work, fork=True).result() == 1
    assert seen == []


@needs_fork
def test_an_error_in_the_copy_is_raised_here_by_computing_again() -> None:
    here = os.getpid()
    calls: list[int] = []

    def work() -> int:
        calls.append(os.getpid())
        raise ValueError("bad input at site.yaml:3:1")

    beside = Beside(work, fork=True)
    with pytest.raises(ValueError, match=r"site\.yaml:3:1"):
        beside.result()
    assert calls == [here]  # the copy's attempt left no trace here; this one raised
    assert not beside.forked


@needs_fork
def test_a_copy_that_dies_or_cannot_send_its_result_falls_back_to_here() -> None:
    here = os.getpid()

    def dies() -> str:
        if os.getpid() != here:
            os._exit(3)
        return "computed here"

    def unpicklable() -> object:
        if os.getpid() != here:
            return lambda: None  # a lambda does not pickle
        return "computed here"

    for work in (dies, unpicklable):
        beside = Beside(work, fork=True)
        assert beside.result() == "computed here"
        assert not beside.forked


@needs_fork
def test_cancel_stops_a_copy_still_working() -> None:
    here = os.getpid()

    def slow() -> int:
        if os.getpid() != here:
            time.sleep(60)
        return 1

    beside = Beside(slow, fork=True)
    pid = beside._pid
    assert pid is not None
    started = time.monotonic()
    beside.cancel()
    assert time.monotonic() - started < 10
    with pytest.raises(ChildProcessError):  # reaped: no process left behind
        os.waitpid(pid, os.WNOHANG)


def test_no_copy_while_another_thread_runs() -> None:
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert not can_fork()
        assert not Beside(lambda: 1).forked
    finally:
        release.set()
        thread.join()


def test_no_copy_with_one_processor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(forked.os, "sched_getaffinity", lambda _pid: {0})
    assert not can_fork()


@pytest.mark.parametrize("between_processes", [False, True])
def test_shares_are_each_taken_once(between_processes: bool) -> None:
    shares = Shares(300, between_processes=between_processes)
    taken = []
    while (share := shares.take()) is not None:
        taken.append(share)
    assert taken == list(range(300))
    assert shares.take() is None
    shares.close()


@needs_fork
def test_shares_taken_by_two_processes_are_each_taken_by_one() -> None:
    shares = Shares(MAX_SHARES, between_processes=True)

    def take_half_the_time() -> list[int]:
        mine = []
        while (share := shares.take()) is not None:
            mine.append(share)
            time.sleep(0)  # let the other one take some too
        return mine

    beside = Beside(take_half_the_time, fork=True)
    here = take_half_the_time()
    there = beside.result()
    shares.close()
    assert beside.forked
    assert sorted(here + there) == list(range(MAX_SHARES))  # none lost, none twice
    assert here and there


def test_too_many_shares_for_one_pipe_are_refused() -> None:
    with pytest.raises(ValueError, match="at most"):
        Shares(MAX_SHARES + 1, between_processes=True)

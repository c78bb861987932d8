"""The sandbox's stop on SIGINT/SIGTERM (local/stopping.py): a handler that takes no lock, and a deadline.

The bug this guards against: a handler calling ``threading.Event.set()`` while the main thread is inside
``Event.wait()`` holding the event's lock never returns. The probe below watches every C call the
handler makes; it is checked first against ``Event.set()`` so that it is known to see lock acquisitions.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from local.stopping import StopSignals

_LOCKING = {"acquire", "__enter__", "acquire_lock", "wait", "notify", "notify_all"}


def _c_calls_of(action: Callable[[], None]) -> list[str]:
    """Names of the builtin functions and methods ``action`` calls, in this thread."""
    seen: list[str] = []

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "c_call":
            seen.append(getattr(arg, "__name__", repr(arg)))
        elif event == "call":
            seen.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return seen


def test_the_probe_sees_the_lock_that_event_set_takes() -> None:
    # Given the old handler's action
    event = threading.Event()
    # When it is profiled
    calls = _c_calls_of(event.set)
    # Then the probe sees it take a lock (so an empty result below means something)
    assert _LOCKING & set(calls), calls


def test_the_handler_takes_no_lock_and_wakes_the_waiter() -> None:
    # Given installed stop signals (their reader thread started) and a main thread about to wait
    signals = StopSignals(exit_now=lambda code: None)
    signals.install(())
    # When the handler runs
    calls = _c_calls_of(lambda: signals.handle(signal.SIGINT, None))
    # Then it called nothing that locks: only the pipe write
    assert not (_LOCKING & set(calls)), calls
    assert "write" in calls
    assert signals.requested
    # and the waiting main thread wakes
    assert signals.wait(timeout=2)
    signals.finished()


def test_the_handler_returns_while_the_waiters_lock_is_held() -> None:
    # Given the main thread inside the wait primitive, holding its lock (the window of the old hang)
    signals = StopSignals(exit_now=lambda code: None)
    signals.install(())
    # When the signal lands there
    held: threading.Condition = signals._stop._cond  # type: ignore[attr-defined]
    with held:
        started = time.monotonic()
        signals.handle(signal.SIGTERM, None)
        elapsed = time.monotonic() - started
    # Then the handler returned at once, and the stop is seen once the lock is let go
    assert elapsed < 0.5
    assert signals.wait(timeout=2)
    signals.finished()


def test_a_stop_that_does_not_finish_is_forced_by_the_deadline() -> None:
    # Given a sandbox whose stop hangs
    exits: list[float] = []
    cleaned: list[bool] = []
    signals = StopSignals(
        deadline=0.3,
        exit_now=lambda code: exits.append(time.monotonic()),
        cleanup=lambda: cleaned.append(True),
    )
    signals.install(())
    # When a signal arrives and finished() never comes
    sent = time.monotonic()
    signals.handle(signal.SIGINT, None)
    time.sleep(1.0)
    # Then the process is ended once, about the deadline after the signal, after the cleanup
    assert len(exits) == 1
    assert 0.25 <= exits[0] - sent < 0.9
    assert cleaned == [True]


def test_a_finished_stop_is_not_forced() -> None:
    exits: list[int] = []
    signals = StopSignals(deadline=0.3, exit_now=exits.append)
    signals.install(())
    signals.handle(signal.SIGINT, None)
    assert signals.wait(timeout=2)
    signals.finished()
    time.sleep(0.6)
    assert exits == []


def test_a_second_signal_ends_it_at_once() -> None:
    exits: list[float] = []
    signals = StopSignals(deadline=30, exit_now=lambda code: exits.append(time.monotonic()))
    signals.install(())
    signals.handle(signal.SIGINT, None)
    assert signals.wait(timeout=2)
    time.sleep(0.1)
    second = time.monotonic()
    signals.handle(signal.SIGINT, None)
    deadline = time.monotonic() + 2
    while not exits and time.monotonic() < deadline:
        time.sleep(0.01)
    assert exits
    assert exits[0] - second < 0.5
    signals.finished()


def test_a_signal_delivered_to_another_thread_still_stops_the_main_threads_wait() -> None:
    # Given the real handler installed for SIGUSR1 (not to disturb pytest's SIGINT) and the main
    # thread in the sandbox's wait
    signals = StopSignals(exit_now=lambda code: None)
    previous = signal.getsignal(signal.SIGUSR1)
    signals.install((signal.SIGUSR1,))
    try:
        # When the kernel hands the signal to another thread (the case that hung: the main thread
        # blocked in a lock never ran the handler)
        def deliver_to_this_thread() -> None:
            time.sleep(0.2)
            signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)

        threading.Thread(target=deliver_to_this_thread, daemon=True).start()
        started = time.monotonic()
        waiter = threading.Timer(5, lambda: signals.handle(signal.SIGUSR1, None))  # unblock a failure
        waiter.start()
        signals.wait_for_stop()
        elapsed = time.monotonic() - started
        waiter.cancel()
    finally:
        signal.signal(signal.SIGUSR1, previous)
        signals.finished()
    # Then the main thread saw it within a slice, not after the 5 s rescue
    assert elapsed < 1.0

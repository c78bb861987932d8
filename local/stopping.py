"""Stop the sandbox within 2 s of SIGINT or SIGTERM, always.

A Python signal handler runs in the main thread, between two bytecodes of whatever it was doing. If
that was inside ``threading.Event.wait()`` (which holds the event's non-reentrant lock for a moment on
every pass), a handler that calls ``Event.set()`` waits for that same lock forever: the process never
exits, and a second signal only queues another handler behind the first. So the handler here takes no
lock and calls nothing that might: it sets a flag and writes one byte to a pipe (``os.write`` on a
non-blocking pipe; a full pipe already holds a wake-up).

The handler runs only when the main thread next executes Python code. The kernel may deliver the signal
to any thread; if the main thread were blocked in a lock with no timeout it would never get to run it
(seen: a stop that never came). So the main thread waits in short slices (``wait_for_stop``).

A daemon thread, the pipe's only reader, does the rest outside any handler: it sets the event the main
thread waits on, and starts a deadline. If the sandbox has not finished stopping ``deadline`` seconds
after the first signal (a request stuck in a handler, start-up still running, a thread that will not
join), the process ends anyway with ``os._exit``; a second signal ends it at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

# Under the 2 s promise with room for the interpreter to go away.
DEFAULT_DEADLINE = 1.5


class StopSignals:
    """Install with ``install()``; the main thread waits with ``wait()`` and stops its servers."""

    def __init__(
        self,
        *,
        deadline: float = DEFAULT_DEADLINE,
        exit_now: Callable[[int], None] = os._exit,
        cleanup: Callable[[], None] = lambda: None,
    ) -> None:
        self.requested = False  # set by the handler: a plain attribute store, no lock
        self.signals_seen = 0
        self._deadline = deadline
        self._exit_now = exit_now
        self._cleanup = cleanup  # what a forced exit still does (e.g. remove the ready file): no locks
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._write_fd, False)
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._reader = threading.Thread(target=self._watch, name="stop-signals", daemon=True)

    def install(self, signals: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)) -> None:
        for signum in signals:
            signal.signal(signum, self.handle)
        self._reader.start()

    def handle(self, signum: int, frame: FrameType | None) -> None:
        """The signal handler: a flag and a byte, nothing that takes a lock."""
        self.requested = True
        self.signals_seen += 1
        try:  # noqa: SIM105 - contextlib.suppress is a context manager; this handler calls none
            os.write(self._write_fd, b"\x00")
        except OSError:
            pass  # a full pipe: the reader has wake-ups enough

    def wait(self, timeout: float | None = None) -> bool:
        """Block until a stop is requested (True) or ``timeout`` passes (False)."""
        return self._stop.wait(timeout)

    def wait_for_stop(self, slice_seconds: float = 0.1) -> None:
        """The main thread's wait: in slices, so that the handler runs within one slice of a signal
        whichever thread the kernel delivered it to."""
        while not self.requested and not self._stop.wait(slice_seconds):
            pass

    def finished(self) -> None:
        """The main thread stopped everything: no forced exit is needed."""
        self._finished.set()

    def _watch(self) -> None:
        first_at: float | None = None
        while True:
            try:
                data = os.read(self._read_fd, 64)
            except OSError:
                return
            if not data:
                return
            if first_at is not None or len(data) > 1:
                # A second signal while stopping: the developer means it.
                self._force("second signal")
                return
            first_at = time.monotonic()
            self._stop.set()
            threading.Thread(target=self._enforce_deadline, name="stop-deadline", daemon=True).start()

    def _enforce_deadline(self) -> None:
        if not self._finished.wait(self._deadline):
            self._force(f"not stopped {self._deadline:g} s after the signal")

    def _force(self, why: str) -> None:
        try:
            self._cleanup()
        finally:
            # os.write, not sys.stderr: the main thread may hold the stream's lock.
            with contextlib.suppress(OSError):
                os.write(2, f"[sandbox] stopping now ({why})\n".encode())
            self._exit_now(0)


def remove_quietly(path: Path | None) -> Callable[[], None]:
    def remove() -> None:
        if path is not None:
            path.unlink(missing_ok=True)

    return remove

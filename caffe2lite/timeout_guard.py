"""Caffe2's ``timeout_guard``: end the process when a call hangs.

``with timeout_guard.CompleteInTimeOrDie(seconds): workspace.RunNet(...)`` starts a
watcher thread. If the block has not finished after ``seconds``, the watcher logs
``Call did not finish in time. Timeout:<s>s PID: <pid>``, prints every thread's
stack, and interrupts the process (SIGINT: a KeyboardInterrupt in the main thread);
if the process is still alive 10 seconds later it prints the calling thread's stack
again and exits with status 1. ``EuthanizeIfNecessary(seconds)`` does the same for
whatever runs after it (a process stuck at shutdown).

One difference from Caffe2, on purpose: a block that raises also stops its watcher
(Caffe2's left it running, so a caught error killed the process later).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator

__all__ = ["CompleteInTimeOrDie", "EuthanizeIfNecessary", "WatcherThread"]

FORCE_AFTER_S = 10.0


def _stacks(only: int | None = None) -> str:
    lines = []
    for ident, frame in sys._current_frames().items():
        if only is not None and ident != only:
            continue
        lines.append(f"\n# ThreadID: {ident}")
        for entry in traceback.extract_stack(frame):
            lines.append(f'File: "{entry.filename}", line {entry.lineno}, in {entry.name}')
            if entry.line:
                lines.append(f"  {entry.line.strip()}")
    return "\n".join(lines)


class WatcherThread(threading.Thread):
    """A daemon thread that ends the process unless told the call completed in time."""

    def __init__(self, timeout_secs: float) -> None:
        super().__init__(daemon=True, name="caffe2lite-timeout-guard")
        self.timeout_secs = timeout_secs
        self.completed = False
        self.condition = threading.Condition()
        self.caller_thread = threading.current_thread()

    def complete(self) -> None:
        """The guarded call finished: stop watching."""
        with self.condition:
            self.completed = True
            self.condition.notify()

    def run(self) -> None:
        deadline = time.monotonic() + self.timeout_secs
        with self.condition:
            while not self.completed and time.monotonic() < deadline:
                self.condition.wait(deadline - time.monotonic())
        if self.completed:
            return
        log = logging.getLogger("timeout_guard")
        log.error("Call did not finish in time. Timeout:%ss PID: %s", self.timeout_secs,
                  os.getpid())
        threading.Thread(target=self._force_quit, daemon=True).start()
        print(f"Caller thread was: {self.caller_thread}\n-----Before forcing------\n"
              + _stacks(), file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGINT)

    def _force_quit(self) -> None:
        time.sleep(FORCE_AFTER_S)
        print(f"Caller thread was: {self.caller_thread}\n-----After force------\n"
              + _stacks(self.caller_thread.ident), file=sys.stderr, flush=True)
        logging.getLogger("timeout_guard").error(
            "Process did not terminate cleanly in %s s, forcing", FORCE_AFTER_S)
        os._exit(1)


@contextlib.contextmanager
def CompleteInTimeOrDie(timeout_secs: float) -> Iterator[None]:
    """End the process if the block takes longer than ``timeout_secs`` (module doc)."""
    watcher = WatcherThread(timeout_secs)
    watcher.start()
    try:
        yield
    finally:
        watcher.complete()


def EuthanizeIfNecessary(timeout_secs: float = 120) -> None:
    """End the process if it is still running ``timeout_secs`` from now."""
    WatcherThread(timeout_secs).start()

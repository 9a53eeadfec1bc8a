"""Ctrl-C during ``fit``: stop at the end of the batch, close the callbacks, raise again.

Example:
    >>> with _StopAtBatchEnd() as ctrl_c:
    ...     pass
    >>> ctrl_c.requested
    False
"""

from __future__ import annotations

import signal
import threading


class _StopAtBatchEnd:
    """During ``fit``: the first Ctrl-C asks the loop to stop at the end of the batch; a second one stops at once.

    Only in the main thread, and only when SIGINT has Python's default handler (a program
    or notebook with its own handler keeps it; Ctrl-C then interrupts wherever it lands).
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        main = threading.current_thread() is threading.main_thread()
        if main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            signal.default_int_handler(signum, frame)
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False


def _interrupted(epoch: int, step: int, epochs: int, steps: int) -> str:
    return (
        f"training stopped by Ctrl-C after batch {step + 1}/{steps} of epoch {epoch + 1}/{epochs}; the model keeps "
        "the weights of that batch and model.history holds the epochs completed"
    )

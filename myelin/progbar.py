"""Keras's ``Progbar`` and its interactive-logging switch (``keras.utils``).

``Progbar(target)`` draws ``12/40 [======>.......] - ETA: 3s - loss: 0.4321`` on one line,
redrawn in place on a terminal or a notebook (``verbose=1``), or one line at the end
(``verbose=2``). Values passed to ``update`` are averaged over the steps they cover, except
those named in ``stateful_metrics``, shown as given. With interactive logging disabled
(``disable_interactive_logging()``) the lines go to the ``"myelin"`` logger instead of stdout.

Example:
    >>> import io, contextlib
    >>> out = io.StringIO()
    >>> with contextlib.redirect_stdout(out):
    ...     bar = Progbar(4, verbose=2)
    ...     for step in range(1, 5):
    ...         bar.update(step, values=[("loss", 1.0 / step)])
    >>> out.getvalue().split(" - ")[0], out.getvalue().split(" - ")[-1].strip()
    ('4/4', 'loss: 0.5208')
"""

from __future__ import annotations

import logging
import math
import sys
import time

_INTERACTIVE = {"enabled": True}


def enable_interactive_logging() -> None:
    """Progress bars and messages go to stdout (the default).

    Example:
        >>> enable_interactive_logging(); is_interactive_logging_enabled()
        True
    """
    _INTERACTIVE["enabled"] = True


def disable_interactive_logging() -> None:
    """Progress bars and messages go to the ``"myelin"`` logger (``logging``) instead of stdout.

    Example:
        >>> disable_interactive_logging(); is_interactive_logging_enabled()
        False
        >>> enable_interactive_logging()
    """
    _INTERACTIVE["enabled"] = False


def is_interactive_logging_enabled() -> bool:
    """Whether messages go to stdout (True) or to the ``"myelin"`` logger.

    Example:
        >>> is_interactive_logging_enabled()
        True
    """
    return _INTERACTIVE["enabled"]


def _emit(message: str, line_break: bool) -> None:
    if _INTERACTIVE["enabled"]:
        sys.stdout.write(message + ("\n" if line_break else ""))
        sys.stdout.flush()
    else:
        text = message.replace("\r", "").replace("\b", "").strip()
        if text:
            logging.getLogger("myelin").info(text)


def _dynamic_display() -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty()) or "ipykernel" in sys.modules


class Progbar:
    """A text progress bar with running averages of the values it is given (Keras's arguments).

    ``target``: total steps (None when unknown); ``width``: bar characters; ``verbose``: 0
    silent, 1 live bar, 2 one line when done; ``interval``: least seconds between redraws;
    ``stateful_metrics``: names shown as given rather than averaged; ``unit_name``: "step".

    Example:
        >>> bar = Progbar(10, verbose=0)
        >>> bar.update(5, values=[("loss", 2.0)]); bar.add(5, values=[("loss", 4.0)])
        >>> bar._values["loss"]
        [30.0, 10]
    """

    def __init__(
        self, target, width: int = 20, verbose: int = 1, interval: float = 0.05, stateful_metrics=None, unit_name: str = "step"
    ):
        if target is not None and (not isinstance(target, (int, float)) or target < 0):
            raise ValueError(f"Progbar: target must be a number >= 0 or None, got {target!r}")
        if verbose not in (0, 1, 2):
            raise ValueError(f"Progbar: verbose must be 0, 1 or 2, got {verbose!r}")
        self.target, self.width, self.verbose, self.interval = target, int(width), verbose, float(interval)
        self.stateful_metrics = set(stateful_metrics or ())
        self.unit_name = unit_name
        self._dynamic = _dynamic_display()
        self._values: dict = {}
        self._values_order: list = []
        self._seen_so_far = 0
        self._start = time.time()
        self._last_update = 0.0
        self._prev_width = 0
        self._time_at_epoch_start = self._start

    def update(self, current, values=None, finalize: bool | None = None) -> None:
        """Move the bar to step ``current``; ``values``: (name, value for the last step) pairs.

        Example:
            >>> bar = Progbar(2, verbose=0); bar.update(1, [("acc", 0.5)], finalize=False); bar._seen_so_far
            1
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or ():
            if name not in self._values_order:
                self._values_order.append(name)
            if name in self.stateful_metrics or (finalize and name not in self._values):
                self._values[name] = [value, 1]
            else:
                steps = max(current - self._seen_so_far, 1)
                total, count = self._values.get(name, [0.0, 0])
                self._values[name] = [total + value * steps, count + steps]
        self._seen_so_far = current
        now = time.time()
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            line = self._bar(current) + self._info(current, now, finalize)
            pad = " " * max(self._prev_width - len(line), 0)
            prefix = "\r" if self._dynamic else ("" if self._prev_width == 0 else "\n")
            _emit(prefix + line + pad, line_break=finalize)
            self._prev_width = len(line)
            self._last_update = now
        elif self.verbose == 2 and finalize:
            count = f"{current}/{self.target}" if self.target is not None else f"{current}"
            _emit(f"{count} - {now - self._start:.0f}s{self._step_time(current, now)}{self._metrics()}", line_break=True)

    def add(self, n, values=None) -> None:
        """Advance by ``n`` steps.

        Example:
            >>> bar = Progbar(3, verbose=0); bar.add(2); bar._seen_so_far
            2
        """
        self.update(self._seen_so_far + n, values)

    def _bar(self, current) -> str:
        if self.target is None or self.target <= 0:
            return f"{current:7d}/Unknown"
        digits = int(math.log10(self.target)) + 1 if self.target >= 1 else 1
        done = int(self.width * min(current / self.target, 1.0))
        body = "=" * max(done - 1, 0) + (">" if 0 < done < self.width else "=" if done else "") + "." * (self.width - done)
        return f"{current:{digits}d}/{self.target} [{body}]"

    def _step_time(self, current, now) -> str:
        if not current:
            return ""
        per_step = (now - self._start) / current
        if per_step >= 1:
            return f" {per_step:.0f}s/{self.unit_name}"
        if per_step >= 1e-3:
            return f" {per_step * 1e3:.0f}ms/{self.unit_name}"
        return f" {per_step * 1e6:.0f}us/{self.unit_name}"

    def _info(self, current, now, finalize) -> str:
        if self.target is not None and self.target > 0 and not finalize and current:
            eta = (now - self._start) / current * (self.target - current)
            if eta > 3600:
                text = f"{int(eta // 3600)}:{int(eta % 3600 // 60):02d}:{int(eta % 60):02d}"
            elif eta > 60:
                text = f"{int(eta // 60)}:{int(eta % 60):02d}"
            else:
                text = f"{int(eta)}s"
            info = f" - ETA: {text}"
        else:
            info = f" - {now - self._start:.0f}s{self._step_time(current, now)}"
        return info + self._metrics()

    def _metrics(self) -> str:
        parts = []
        for name in self._values_order:
            total, count = self._values[name]
            avg = total / max(count, 1)
            parts.append(f" - {name}: {avg:.4f}" if abs(avg) > 1e-3 else f" - {name}: {avg:.4e}")
        return "".join(parts)

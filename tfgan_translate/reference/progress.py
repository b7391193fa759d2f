"""The progress report of a download: a one-line bar on a terminal, else one line once done.

`ProgressBar` is what `tfgan_translate.reference.download` shows on stderr while it transfers a file.

Example:

>>> import io
>>> bar = ProgressBar("model.pth", enabled=True, stream=io.StringIO())
>>> bar.begin(0, 2_000_000)
>>> bar.update(2_000_000)
>>> bar.finish(ok=True)
>>> bar.stream.getvalue().startswith("model.pth: 2.0 MB in ")
True
"""

from __future__ import annotations

import sys
import time


def _human(n: float) -> str:
    """A byte count in decimal units: 512 B, 45.5 MB."""
    if n < 1000:
        return f"{n:.0f} B"
    for unit in ("kB", "MB", "GB"):
        n /= 1000
        if n < 1000 or unit == "GB":
            break
    return f"{n:.1f} {unit}"


class ProgressBar:
    """A one-line progress bar on stderr when it is a terminal; otherwise one line once done.

    Args:
        label: str. What is downloaded, shown first (the file or pretrained name).
        enabled: bool. Show anything at all.
        stream: text stream or None. Where to write. Defaults to None: `sys.stderr` at construction.
    """

    def __init__(self, label: str, enabled: bool, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.label = label
        self.total: int | None = None
        self.done = 0  # bytes of the file on disk
        self.received = 0  # bytes received by this call (for the rate)
        self.start = time.monotonic()
        self.last = 0.0

    def begin(self, done: int, total: int | None) -> None:
        """A (re)started transfer: `done` bytes are on disk, of `total` (None: unknown)."""
        self.done, self.total = done, total

    def update(self, n: int) -> None:
        self.done += n
        self.received += n
        now = time.monotonic()
        if self.tty and now - self.last >= 0.1:
            self.last = now
            self._draw(now)

    def _rate(self, now: float) -> float:
        return self.received / max(now - self.start, 1e-6)

    def _draw(self, now: float) -> None:
        if self.total:
            width = 30
            filled = min(width, int(width * self.done / self.total))
            bar = "#" * filled + "-" * (width - filled)
            text = f"{self.label} [{bar}] {100 * self.done / self.total:5.1f}% {_human(self.done)}/{_human(self.total)}"
        else:
            text = f"{self.label} {_human(self.done)}"
        self.stream.write(f"\r{text} {_human(self._rate(now))}/s\x1b[K")
        self.stream.flush()

    def finish(self, ok: bool) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            self._draw(now)
            self.stream.write("\n")
        elif ok:
            self.stream.write(
                f"{self.label}: {_human(self.done)} in {now - self.start:.1f} s ({_human(self._rate(now))}/s)\n"
            )
        self.stream.flush()

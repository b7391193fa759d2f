"""Readable command-line logs: the progress bar on a terminal, one line per epoch elsewhere, no TensorFlow noise.

`setup(quiet=..., debug=...)` is what `tfgan-translate` calls before any command:

- log records as ``LEVEL message`` lines on stderr (INFO, or WARNING with `--quiet`);
- a warning repeated word for word (e.g. `--skip-bad-files`' count, logged by each pass over the files) is
  shown once per command;
- Python warnings become one ``WARNING Category: message`` line each (shown once);
- TensorFlow's C++ log is silenced (TF_CPP_MIN_LOG_LEVEL=3, unless the environment sets it; this hides the
  grappler's harmless ``E0000 ... remapper failed`` line without changing the graph or the speed), and its
  import-time banners (oneDNN, CPU instructions, absl) are dropped by importing TensorFlow with stderr
  pointed at /dev/null.

`debug=True` (`--debug`) keeps all of TensorFlow's output and Python's own warning format, and logs this
package at DEBUG level.

Training output (`fit_verbosity`, `step_progress`): on a terminal Keras' progress bar (fit's verbose=1) and,
after each epoch, `ProgressLog`'s steps/s and ETA line; when stdout is not a terminal (a file, a pipe, CI),
verbose=0 and only `ProgressLog`'s lines: one per epoch and, when `--log-every N` is given on the command
line, one every N steps (the config's default log_every=10 sets the TensorBoard interval only).

Example:

>>> setup(quiet=False, debug=False)  # doctest: +SKIP
>>> fit_verbosity()  # 0 under a pipe or a file, 1 on a terminal  # doctest: +SKIP
0
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

PACKAGE_LOGGER = "tfgan_translate"


class OnceFilter(logging.Filter):
    """Drops a WARNING (or higher) record whose message was already emitted, so repeats appear once.

    Example:

    >>> log = logging.getLogger("demo.once")
    >>> log.addFilter(OnceFilter())
    """

    def __init__(self):
        super().__init__()
        self._seen: set[tuple[int, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.levelno, record.getMessage())
        first = key not in self._seen
        self._seen.add(key)
        return first


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    logging.getLogger(PACKAGE_LOGGER).warning("%s: %s", category.__name__, " ".join(str(message).split()))


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow with file descriptor 2 pointed at /dev/null: its import banners are not printed.

    The banners (``oneDNN custom operations are on``, ``This TensorFlow binary is optimized``, absl's
    ``WARNING: All log messages before absl::InitializeLog()``) are written by C++ code at import, whatever
    TF_CPP_MIN_LOG_LEVEL says. Python exceptions raised by the import still propagate. Does nothing when
    TensorFlow is already imported.
    """
    if "tensorflow" in sys.modules:
        return
    try:
        saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    except OSError:  # no stderr descriptor to redirect
        import tensorflow

        return
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def setup(*, quiet: bool = False, debug: bool = False) -> None:
    """Configures the command line's logging, warnings and TensorFlow's own output (see the module docstring).

    Args:
        quiet: bool. Only warnings and errors. Defaults to False.
        debug: bool. Keep TensorFlow's output and Python's warning format; this package logs at DEBUG.
            Defaults to False.
    """
    if not debug:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # read by TensorFlow's C++ code, so before importing it
    logging.basicConfig(level=logging.WARNING if quiet else logging.INFO, format="%(levelname)s %(message)s")
    package = logging.getLogger(PACKAGE_LOGGER)
    package.setLevel(logging.DEBUG if debug and not quiet else logging.NOTSET)
    if debug:
        return
    # A fresh memory for each command (tests call `main` many times).
    for logger in (package, logging.getLogger("tensorflow")):
        logger.filters = [*(f for f in logger.filters if not isinstance(f, OnceFilter)), OnceFilter()]
    warnings.showwarning = _warning_line
    import_tensorflow_quietly()


def fit_verbosity() -> int:
    """`model.fit`'s verbose for the command line: 1 (the progress bar) when stdout is a terminal, where a bar
    can redraw itself, else 0 (no bar)."""
    try:
        return int(sys.stdout.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return 0


def step_progress(total_epochs: int, every_steps: int | None) -> list:
    """The callbacks that print a line every `every_steps` steps when stdout is not a terminal.

    Args:
        total_epochs: int. The run's length in epochs (for the ETA).
        every_steps: int or None. `--log-every` when given on the command line; None: no step lines.

    Returns:
        list: [] on a terminal (the progress bar shows the steps) or without `every_steps`; else one
        `ProgressLog` that prints step lines only (the run's own ProgressLog prints the epoch lines).
    """
    if every_steps is None or fit_verbosity():
        return []
    from tfgan_translate.training.monitoring import ProgressLog

    return [ProgressLog(total_epochs, every_steps=every_steps, epoch_lines=False)]

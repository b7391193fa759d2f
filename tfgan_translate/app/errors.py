"""The command line's error boundary: each expected failure becomes one line on stderr and an exit code.

`guarded(run, ...)` calls a subcommand and turns what it raises into one line, ``tfgan-translate: error: ...``,
naming the file or argument, what was received and what was expected, and a distinct exit code per class
(`EXIT_CODES`, printed by `tfgan-translate --help` and listed in the README):

    0    success
    1    internal error: a bug; the line names the exception, `--debug` shows the traceback
    2    bad input: a flag's value, a path that does not exist or is of the wrong kind (a file where a
         folder is expected, `--out` naming an existing file), a malformed config.json, data file or
         checkpoint (including a class a `.keras` file names that this version cannot build)
    3    training diverged: a loss became NaN or infinite; the last good checkpoint is kept
    4    the system refused: permission denied, a read-only file system, no space left on the device,
         an I/O or network error; the input was right, the machine could not do it
    130  interrupted (Ctrl-C, SIGINT); a run folder keeps its last checkpoint (continue with --resume)

Argument errors found by argparse itself exit with 2 too, with argparse's usage line. With `debug` (the
`--debug` flag, or TFGAN_TRANSLATE_DEBUG=1) the traceback is printed before the line, for every class.

Example:

>>> def command():
...     raise PermissionError(13, "Permission denied", "runs/x/config.json")
>>> guarded(command, paths={"--out": "runs/x"})  # doctest: +SKIP
tfgan-translate: error: permission denied: cannot write runs/x/config.json (under --out runs/x). Expected ...
4
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import signal
import sys
import textwrap
import threading
import traceback
from pathlib import Path

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_SYSTEM, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130

EXIT_CODES = (
    (EXIT_OK, "success"),
    (EXIT_INTERNAL, "internal error (a bug: rerun with --debug and report the traceback)"),
    (EXIT_BAD_INPUT, "bad input: a flag's value, a missing path or one of the wrong kind, a malformed "
                     "config.json, data file or checkpoint"),
    (EXIT_DIVERGED, "training diverged (a NaN or infinite loss); the last good checkpoint is kept"),
    (EXIT_SYSTEM, "the system refused: permission denied, read-only file system, disk full, I/O or network"),
    (EXIT_INTERRUPTED, "interrupted by Ctrl-C (SIGINT); a run keeps its last checkpoint (--resume)"),
)

PREFIX = "tfgan-translate: error:"
_OUTPUT_ARGUMENTS = ("--out", "--output", "--json", "--report")
# errno -> what was expected instead: the path given is wrong (exit 2, `FileNotFoundError` and its siblings) for
# the first four, else the system refused (exit 4). "{kind}" is what the path is: "file" or "path".
_EXPECTED = {
    errno.ENOENT: ". Expected an existing file or folder.",
    errno.EEXIST: ": it is an existing {kind}. Expected a folder, or a path that does not exist yet.",
    errno.EISDIR: ": it is a folder. Expected a file path.",
    errno.ENOTDIR: ": a part of that path is a file. Expected a folder there.",
    errno.EACCES: ". Expected a path this user may read and write (check its permissions, or choose another path).",
    errno.EPERM: ". Expected a path this user may read and write (check its permissions, or choose another path).",
    errno.EROFS: ". Expected a writable file system (this one is mounted read-only: choose another path).",
    errno.ENOSPC: ". Expected free space on that device (free some, or choose another output path).",
    errno.EDQUOT: ". Expected free space within the disk quota (free some, or choose another output path).",
}


def debug_requested(flag: bool = False) -> bool:
    """True when `--debug` was given or TFGAN_TRANSLATE_DEBUG is set to a true value (1, true, yes)."""
    return flag or os.environ.get("TFGAN_TRANSLATE_DEBUG", "").strip().lower() in ("1", "true", "yes")


def epilog() -> str:
    """The exit-code table, for the top-level `--help` (one code a line)."""
    rows = (textwrap.fill(meaning, 79, initial_indent=f"  {code:<4} ", subsequent_indent=" " * 7)
            for code, meaning in EXIT_CODES)
    return "exit codes:\n" + "\n".join(rows)


# ------------------------------------------------------------------ classifying and wording one failure
def _one_line(text: str, limit: int = 600) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _where(path, paths: dict) -> str:
    """' (under --out runs/x)' when `path` is, or lies under, one of the path arguments."""
    with contextlib.suppress(OSError, ValueError, TypeError):
        target = Path(path).resolve()
        for name, value in paths.items():
            given = Path(value).resolve()
            if target == given or given in target.parents:
                return f" (given as {name} {value})" if target == given else f" (under {name} {value})"
    return ""


def _os_message(error: OSError, paths: dict) -> str:
    """An OSError in one line: what happened to which file, and what was expected."""
    if error.errno is None or not error.strerror:  # our own FileNotFoundError("...") etc.: already worded
        return _one_line(error)
    filename = error.filename
    if filename is None:  # e.g. h5py's "No space left on device": name the output arguments instead
        where = ", ".join(f"{name} {value}" for name, value in paths.items() if name in _OUTPUT_ARGUMENTS)
        place = f" while writing{' under ' + where if where else ''}"
    else:
        place = f": {filename}{_where(filename, paths)}"
        if error.filename2 is not None:
            place += f" -> {error.filename2}"
    code = errno.errorcode.get(error.errno, str(error.errno))
    kind = "file" if error.errno == errno.EEXIST and filename is not None and Path(filename).is_file() else "path"
    expected = _EXPECTED.get(error.errno, ". Expected the file to be readable and writable.")
    return f"{error.strerror} ({code}){place}{expected.format(kind=kind)}"


def _keras_file(error: BaseException) -> str | None:
    """The `.keras` file whose loading raised `error` (from Keras' saving frames), or None."""
    seen, current = set(), error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for frame, _ in traceback.walk_tb(current.__traceback__):
            filepath = frame.f_locals.get("filepath")
            saving = str(frame.f_globals.get("__name__", "")).startswith("keras.src.saving")
            if saving and isinstance(filepath, (str, os.PathLike)):
                return os.fspath(filepath)
        current = current.__cause__ or current.__context__
    return None


def _keras_reason(error: BaseException) -> str:
    """The gist of a Keras deserialization error: the class it could not build, or its first sentence."""
    text = str(error)
    match = re.search(r"Could not (?:locate class|deserialize) '([^']+)'", text)
    if match:
        return f"it names a class this version cannot build ({match.group(1)!r})"
    return _one_line(text.split("\n")[0], 200)


def classify(error: BaseException, paths: dict | None = None) -> tuple[int, str] | None:
    """The exit code and the one-line message for an expected failure; None for an unexpected one (a bug).

    Args:
        error: the exception a subcommand raised.
        paths: dict. The path arguments given ({"--out": "runs/x", ...}), to say which argument a failing
            path came from. Defaults to None (none).

    Returns:
        (exit code, message without the "tfgan-translate: error:" prefix), or None.
    """
    paths = paths or {}
    monitoring = sys.modules.get("tfgan_translate.training.monitoring")  # not loaded: not a training failure
    if monitoring is not None and isinstance(error, monitoring.TrainingDiverged):
        return EXIT_DIVERGED, _one_line(error)
    if isinstance(error, (TypeError, ValueError, KeyError)) and (keras_file := _keras_file(error)) is not None:
        return EXIT_BAD_INPUT, (f"Invalid checkpoint {keras_file}{_where(keras_file, paths)}: {_keras_reason(error)}. "
                                "Expected a .keras file written by tfgan-translate.")
    # Bad values (DataError, config, UnicodeDecodeError, JSON errors), or no Inception weights (evaluation.features).
    if isinstance(error, ValueError) or type(error).__name__ == "FeatureWeightsUnavailable":
        return EXIT_BAD_INPUT, _one_line(error)
    if isinstance(error, OSError):  # a wrong path (errno or not) is bad input; the rest, the system refusing
        wrong_path = isinstance(error, (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError))
        return (EXIT_BAD_INPUT if wrong_path else EXIT_SYSTEM), _os_message(error, paths)
    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(error, tf.errors.OpError):  # TensorFlow's file errors (tf.io, summaries)
        message = _one_line(error.message.split("\n")[0], 300)
        if isinstance(error, tf.errors.NotFoundError):
            return EXIT_BAD_INPUT, f"{message}. Expected an existing file or folder."
        if isinstance(error, (tf.errors.PermissionDeniedError, tf.errors.ResourceExhaustedError)):
            return EXIT_SYSTEM, f"{message}. Expected a path this user may write, with free space (or memory)."
    return None


# ------------------------------------------------------------------ the boundary
_PATH_DESTS = ("out", "data", "checkpoint", "model", "input", "output", "run", "source", "pred", "truth", "json",
               "report", "representative_data", "feature_weights", "discriminator")


def path_arguments(parser, args) -> dict:
    """The path arguments given to a (sub)parser, by their flag: {"--out": "runs/x", "RUN_OR_CHECKPOINT": ...}.

    Args:
        parser: argparse.ArgumentParser. The subcommand's parser (its actions name the flags).
        args: argparse.Namespace. The parsed arguments.
    """
    return {action.option_strings[0] if action.option_strings else str(action.metavar or action.dest): value
            for action in parser._actions if action.dest in _PATH_DESTS
            and isinstance(value := getattr(args, action.dest, None), (str, os.PathLike))}


def _interrupted_message(command: str | None, paths: dict) -> str:
    if command == "train":
        run = f" in {paths['--out']}" if paths.get("--out") else ""
        return (f"interrupted by Ctrl-C (SIGINT) during train. The run{run} keeps its last saved checkpoint: run the "
                "same command with --resume to continue it.")
    during = f" during {command}" if command else ""
    return f"interrupted by Ctrl-C (SIGINT){during}; the files already written are kept."


_SIGINTS: list[int] = []  # the Ctrl-Cs received while `guarded` runs a command


def _on_sigint(signum, frame):
    _SIGINTS.append(signum)
    raise KeyboardInterrupt


def raise_if_interrupted() -> None:
    """Raises KeyboardInterrupt where a Ctrl-C came and was lost on its way (train checks after each step).

    Python raises the interrupt wherever the main thread happens to be: inside a finaliser it is printed and
    dropped, inside TensorFlow's C code it can come out as a SystemError. `guarded` records every SIGINT, so a
    command can stop at its next safe point all the same.
    """
    if _SIGINTS:
        raise KeyboardInterrupt


def _interrupted(error: BaseException) -> bool:
    """Whether `error` is, or came from, a Ctrl-C (or any error raised after one)."""
    while error is not None:
        if isinstance(error, KeyboardInterrupt):
            return True
        error = error.__cause__ or error.__context__
    return bool(_SIGINTS)


def guarded(run, *args, debug: bool = False, paths: dict | None = None, command: str | None = None) -> int:
    """Calls `run(*args)` and returns its exit code, turning every expected failure into one line on stderr.

    Args:
        run: callable returning an int exit code (a subcommand).
        *args: its arguments.
        debug: bool. Print the traceback too (before the line). Defaults to False.
        paths: dict. The path arguments given, by flag ({"--out": "runs/x"}), named in file errors.
            Defaults to None.
        command: str or None. The subcommand's name, for the Ctrl-C message. Defaults to None.

    Returns:
        int. `run`'s code, or the failure's class in `EXIT_CODES`.

    Example:

    >>> guarded(lambda: 0)
    0
    """
    paths = paths or {}
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, _on_sigint) if main_thread else None
    _SIGINTS.clear()
    try:
        return run(*args)
    except (KeyboardInterrupt, Exception) as error:  # not SystemExit: argparse's own exit stays as it is
        if debug:
            traceback.print_exc()
        if _interrupted(error):
            print(f"tfgan-translate: {_interrupted_message(command, paths)}", file=sys.stderr)
            return EXIT_INTERRUPTED
        found = classify(error, paths)
        if found is None:
            print(f"{PREFIX} internal error: {type(error).__name__}: {_one_line(error, 300)}. This is a bug: rerun "
                  "with --debug for the traceback and report it.", file=sys.stderr)
            return EXIT_INTERNAL
        code, message = found
        prefix = "tfgan-translate:" if code == EXIT_DIVERGED else PREFIX  # "Training diverged: ..." reads on its own
        print(f"{prefix} {message}", file=sys.stderr)
        return code
    finally:
        if previous is not None:  # None: not on the main thread, or a handler set outside Python
            signal.signal(signal.SIGINT, previous)

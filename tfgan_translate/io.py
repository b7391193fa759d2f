"""Decisions about files and pixels, made once: atomic writes, JSON-safe values, the pixel convention.

- **Atomic writes.** `atomic_file(path)` yields a hidden temporary sibling to write; on success it is renamed
  over `path`, on any exception (Ctrl-C included) it is deleted. `write_text` and `write_json` use it.
  `staged_folder(target)` does the same for a whole folder. A reader therefore sees either the old file or
  folder, or the complete new one, never half of one. Temporary names start with `.NAME.tmp-` so that
  `remove_stale_temporaries` can find what a killed process left.
- **Owned folders.** `folder_lock(folder)` holds `folder/.lock` (an exclusive `flock`, with the holder's PID
  written in it) for the block: a second process fails at once with `FolderLockedError` naming the holder's
  PID; a lock file left by a killed process is taken over (the kernel released its `flock`).
- **JSON-safe values.** `json_safe(value)`: JSON has no inf or nan; they become None, recursively, and numpy
  scalars become Python numbers.
- **The pixel convention.** Networks see pixels in [-1, 1]: `x = pixel / 127.5 - 1` (`from_uint8`) and
  `pixel = round((y + 1) * 127.5)`, clipped to [0, 255] (`to_uint8`). Data, previews, inference, export and
  evaluation all convert through these two functions (or their TensorFlow twins `tf_from_uint8`,
  `tf_to_uint8`, which compute the same values inside a graph).

Example:

>>> import numpy as np
>>> to_uint8(from_uint8(np.array([0, 128, 255], np.uint8))).tolist()
[0, 128, 255]
>>> json_safe({"psnr": float("inf"), "l1": [0.5, float("nan")]})
{'psnr': None, 'l1': [0.5, None]}
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

PIXEL_SCALE = 127.5  # uint8 [0, 255] <-> [-1, 1]
TMP_MARK = ".tmp-"  # in every temporary name this module makes: .NAME.tmp-PID-RANDOM
LOCK_NAME = ".lock"  # folder_lock's file

log = logging.getLogger("tfgan_translate")


def _temporary_sibling(path: Path, suffix: str = "") -> Path:
    return path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}{suffix}")


# ------------------------------------------------------------------ atomic writes
@contextlib.contextmanager
def atomic_file(path: str | Path, suffix: str = ""):
    """Context manager: a temporary path beside `path` that replaces `path` when the block succeeds.

    Args:
        path: str or Path. The file to (re)write; missing parent folders are created.
        suffix: str. Ending of the temporary name, for writers that choose a format by suffix
            (e.g. ".keras"). Defaults to "".

    Yields:
        The temporary `Path` to write to. If the block raises (or is interrupted), it is removed and
        `path` is untouched.

    Example:

    >>> with atomic_file("runs/a/model.keras", suffix=".keras") as tmp:  # doctest: +SKIP
    ...     model.save(tmp)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary_sibling(path, suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Writes `data` to `path` atomically and returns the path."""
    with atomic_file(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    """Writes `text` to `path` atomically and returns the path."""
    with atomic_file(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json(path: str | Path, value, *, sort_keys: bool = False) -> Path:
    """Writes `json_safe(value)` as indented JSON to `path`, atomically, and returns the path."""
    return write_text(path, json.dumps(json_safe(value), indent=2, sort_keys=sort_keys) + "\n")


@contextlib.contextmanager
def staged_folder(target: str | Path):
    """Context manager: a fresh temporary folder that replaces the folder `target` on success.

    The old `target` (if any) is renamed aside, the new folder renamed into place, then the old one
    deleted; if the block raises, the temporary folder is deleted and `target` is untouched. Both renames
    stay within one parent folder, so each is atomic on POSIX file systems.

    Example:

    >>> with staged_folder("exports/facades") as tmp:  # doctest: +SKIP
    ...     (tmp / "metadata.json").write_text("{}")
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = _temporary_sibling(target)
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = target.with_name(f".{target.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    if target.exists():
        target.rename(old)
    try:
        staging.rename(target)
    except BaseException:
        if old.exists() and not target.exists():
            old.rename(target)  # put the previous folder back
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Deletes the temporary files and folders in `folder` that a process which is gone left behind.

    Only names this module makes (`.NAME.tmp-PID-RANDOM...` and `.NAME.old-PID-RANDOM`) are considered,
    and only those whose PID is no longer running. Returns what was removed.
    """
    folder = Path(folder)
    removed = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        name = entry.name
        if not name.startswith("."):
            continue
        for mark in (TMP_MARK, ".old-"):
            head, sep, tail = name.partition(mark)
            pid = tail.split("-", 1)[0]
            if sep and head and pid.isdigit() and not _pid_alive(int(pid)):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
                removed.append(entry)
                break
    return removed


# ------------------------------------------------------------------ owned folders
_NO_LOCKING = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS)  # flock unsupported by the file system


class FolderLockedError(BlockingIOError):
    """`folder_lock` found the folder held by another live process; `pid` is the holder's (None if unknown)."""

    def __init__(self, message: str, pid: int | None = None):
        super().__init__(message)
        self.pid = pid


def _read_pid(fd: int) -> int | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 64).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def _same_file(fd: int, path: Path) -> bool:
    """Whether `path` still names the file open as `fd` (a releasing holder may have unlinked it)."""
    try:
        here, there = os.fstat(fd), os.stat(path)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _open_lock(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise type(error)(f"Cannot create the lock file {path}: {error.strerror or error}. Expected a writable "
                          "folder.") from None


def _take_lock(path: Path, what: str) -> tuple[int, int | None]:
    """Opens and flocks `path`; returns (fd, PID the file named before). Raises FolderLockedError if held."""
    import fcntl

    while True:
        fd = _open_lock(path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f"process {holder}" if holder is not None else "another process"
            raise FolderLockedError(f"{what} {path.parent} is in use by {who} (it holds {path}). Expected one "
                                    "process per folder: wait for it to finish, stop it, or choose another "
                                    "folder.", holder) from None
        except BaseException:
            os.close(fd)
            raise
        if _same_file(fd, path):
            return fd, _read_pid(fd)
        os.close(fd)  # the holder unlinked the file as we opened it: lock the new one


@contextlib.contextmanager
def folder_lock(folder: str | Path, *, what: str = "Folder"):
    """Context manager: `folder/.lock` held exclusively by this process for the block.

    The lock is an `fcntl.flock` on the file, which the kernel releases when the process ends, however it
    ends; the file holds the holder's PID so that a refused process can name it. A file left by a process
    that was killed (its lock released) is taken over, with a warning naming that PID. On exit the file is
    removed. Where the file system cannot lock (or there is no `fcntl`), a warning says so and the block
    runs unlocked.

    Args:
        folder: str or Path. An existing folder.
        what: str. What the folder is, for the messages (e.g. "Run folder"). Defaults to "Folder".

    Yields:
        The lock file's `Path`.

    Raises:
        FolderLockedError: another live process holds the lock (`error.pid` is its PID).
        PermissionError: the lock file cannot be created (a read-only folder); the message names it.

    Example:

    >>> with folder_lock("runs/facades", what="Run folder"):  # doctest: +SKIP
    ...     train_into("runs/facades")
    """
    path = Path(folder) / LOCK_NAME
    try:
        fd, previous = _take_lock(path, what)
    except FolderLockedError:
        raise
    except (ImportError, OSError) as error:
        if isinstance(error, OSError) and error.errno not in _NO_LOCKING:
            raise
        log.warning("%s %s is not locked (%s): two processes writing it at once would collide.", what,
                    path.parent, error)
        fd = None
    if fd is None:
        yield path
        return
    try:
        if previous is not None and previous != os.getpid():
            state = "which is gone" if not _pid_alive(previous) else "which no longer holds it"
            log.warning("%s %s: took over the lock left by process %d (%s).", what, path.parent, previous, state)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        os.fsync(fd)
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # while still holding it: a process waiting on this file then retries (`_same_file`)
        os.close(fd)


# ------------------------------------------------------------------ JSON
def json_safe(value):
    """`value` with non-finite floats as None and numpy scalars and arrays as Python values, recursively."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


# ------------------------------------------------------------------ the pixel convention
def from_uint8(pixels) -> np.ndarray:
    """uint8 pixels in [0, 255] (or floats on that scale) -> float32 in [-1, 1]: `pixel / 127.5 - 1`."""
    return np.asarray(pixels, dtype=np.float32) / PIXEL_SCALE - 1.0


def to_uint8(images) -> np.ndarray:
    """Floats in [-1, 1] -> uint8 in [0, 255]: `round((y + 1) * 127.5)`, clipped."""
    images = np.asarray(images, dtype=np.float32)
    return np.clip(np.rint((images + 1.0) * PIXEL_SCALE), 0, 255).astype(np.uint8)


def tf_from_uint8(pixels):
    """`from_uint8` in a TensorFlow graph: any integer or float tensor on the 0-255 scale -> float32 [-1, 1]."""
    import tensorflow as tf

    return tf.cast(pixels, tf.float32) / PIXEL_SCALE - 1.0


def tf_to_uint8(images):
    """`to_uint8` in a TensorFlow graph (round half to even, like `np.rint`)."""
    import tensorflow as tf

    return tf.cast(tf.round(tf.clip_by_value((tf.cast(images, tf.float32) + 1.0) * PIXEL_SCALE, 0.0, 255.0)),
                   tf.uint8)


__all__ = [
    "LOCK_NAME",
    "PIXEL_SCALE",
    "FolderLockedError",
    "atomic_file",
    "folder_lock",
    "from_uint8",
    "json_safe",
    "remove_stale_temporaries",
    "staged_folder",
    "tf_from_uint8",
    "tf_to_uint8",
    "to_uint8",
    "write_bytes",
    "write_json",
    "write_text",
]

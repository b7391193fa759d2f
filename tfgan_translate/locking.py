"""The folder lock: one process writes a folder at a time, and a `.lock` that is not ours is never touched.

`folder_lock(folder)` holds `folder/.lock` (an exclusive `flock`) for the block. The file holds the holder's
PID, one line, from the moment it exists (it is written under a temporary name and hard-linked into place),
so that a refused process can name the holder. A second process fails at once with `FolderLockedError`; a
lock file left by a killed process (the kernel released its `flock`) is taken over, with a warning.

What is ours: a `.lock` that is a regular file holding just a PID line (`lock_problem`). A symbolic link
(dangling or not), a folder or another special file is refused with `ForeignLockError` before it is opened
(open uses O_NOFOLLOW, creation O_EXCL, so no link is ever followed); a regular file holding anything else
(an empty one included: another program's lock file, say) is refused too, once locked, before anything is
written. Such a file is a user's: it is never truncated, written or deleted, and the run-folder checks count
it as the user's. On exit `.lock` is removed only if it still is the very file locked (same device and
inode, a regular file, not a link).

Example:

>>> with folder_lock("runs/facades", what="Run folder"):  # doctest: +SKIP
...     train_into("runs/facades")
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import stat
from pathlib import Path

from tfgan_translate.temporaries import pid_alive, temporary_path

LOCK_NAME = ".lock"  # folder_lock's file

log = logging.getLogger("tfgan_translate")

_LOCK_TEXT = re.compile(rb"[1-9][0-9]{0,9}\n?")  # what a lock of ours holds: the holder's PID
# Every open: never through a link, no wait for a writer (a FIFO named .lock), not inherited. POSIX-only flags.
_SAFE_OPEN = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


_NO_LOCKING = (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS)  # flock unsupported by the file system
_NO_HARD_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK, errno.EXDEV)


class FolderLockedError(BlockingIOError):
    """`folder_lock` found the folder held by another live process; `pid` is the holder's (None if unknown)."""

    def __init__(self, message: str, pid: int | None = None):
        super().__init__(message)
        self.pid = pid


class ForeignLockError(FileExistsError):
    """The folder's `.lock` is not a lock file of ours (a symbolic link, a folder, another program's file)."""


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))


def _kind(mode: int) -> str:
    """What a file of `mode` that is neither a regular file nor a link is, in words."""
    return next((words for test, words in _KINDS if test(mode)), "not a regular file")


def _entry_problem(path: Path) -> str | None:
    """What `path` is, in words, if it is neither absent nor a regular file (looked at without following links)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"unreadable ({error.strerror or error})"
    if stat.S_ISLNK(mode):
        with contextlib.suppress(OSError):
            return f"a symbolic link (to {os.readlink(path)!r})"
        return "a symbolic link"
    return None if stat.S_ISREG(mode) else _kind(mode)


def _content_problem(text: bytes) -> str | None:
    """What a regular `.lock` holding `text` (its first 65 bytes) is, if not one PID line (ours)."""
    if _LOCK_TEXT.fullmatch(text):
        return None
    if not text:
        return "an empty file rather than one holding a process ID"
    shown = text[:24].decode("utf-8", "replace")
    return f"a file holding {shown!r}{'...' if len(text) > 24 else ''} rather than a process ID"


def lock_problem(path: str | Path) -> str | None:
    """Why `path` is not a lock file of ours, in words ("a symbolic link (to ...)"); None if ours or absent.

    Ours: a regular file holding one PID line, as `folder_lock` writes it. Looked at without following links.
    """
    path = Path(path)
    problem = _entry_problem(path)
    if problem is not None or not os.path.lexists(path):
        return problem
    try:
        fd = os.open(path, os.O_RDONLY | _SAFE_OPEN)
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"a file this user cannot read ({error.strerror or error})"
    try:
        mode = os.fstat(fd).st_mode
        return _content_problem(os.read(fd, 65)) if stat.S_ISREG(mode) else _kind(mode)
    finally:
        os.close(fd)


def _refuse(path: Path, problem: str, what: str) -> ForeignLockError:
    return ForeignLockError(f"Invalid lock file {path}: it is {problem}, not a lock file of tfgan-translate. "
                            f"Expected {path} to be absent or a regular file holding the process ID of the "
                            f"tfgan-translate process that locks {what.lower()} {path.parent}: move or remove it, "
                            "or choose another folder.")


def _read_pid(fd: int) -> int | None:
    text = os.pread(fd, 64, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


def _same_file(fd: int, path: Path) -> bool:
    """Whether `path` still names the file open as `fd`, and is no link (a releasing holder may have unlinked it)."""
    try:
        here, there = os.fstat(fd), os.lstat(path)
    except FileNotFoundError:
        return False
    return stat.S_ISREG(there.st_mode) and (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _write_pid(fd: int) -> None:
    data = f"{os.getpid()}\n".encode()
    os.pwrite(fd, data, 0)  # then cut what a longer PID left: the file never reads empty
    os.ftruncate(fd, len(data))
    os.fsync(fd)


def _create_lock(path: Path) -> int | None:
    """Creates `path` holding this PID from its first moment; returns it open, or None if `path` exists now."""
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | _SAFE_OPEN  # O_EXCL: never through a link
    tmp = temporary_path(path)
    fd = os.open(tmp, flags, 0o644)
    try:
        _write_pid(fd)
        os.link(tmp, path)  # fails if anything (a dangling link included) is named `path`
        return fd
    except BaseException as error:
        os.close(fd)
        if isinstance(error, FileExistsError):
            return None
        if not isinstance(error, OSError) or error.errno not in _NO_HARD_LINKS:
            raise
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    try:  # no hard links on this file system: create it in place (empty for an instant)
        fd = os.open(path, flags, 0o644)
    except FileExistsError:
        return None
    _write_pid(fd)
    return fd


def _take_lock(path: Path, what: str) -> tuple[int, int | None]:
    """Opens `path` (created if missing; a link or special file is refused unopened) and flocks it; returns
    (fd, PID the file named before). Raises FolderLockedError if held."""
    import fcntl

    while True:
        problem = _entry_problem(path)
        if problem is not None:
            raise _refuse(path, problem, what)  # not even opened
        created = not os.path.lexists(path)
        try:
            # Replaced by a special file since the look above: `_same_file` below finds it is not `path`'s regular file.
            fd = _create_lock(path) if created else os.open(path, os.O_RDWR | _SAFE_OPEN)
        except OSError as error:
            if error.errno in (errno.ENOENT, errno.ELOOP) and path.parent.is_dir():
                continue  # removed by a releasing holder, or replaced by a link, meanwhile: look again
            raise type(error)(f"Cannot create or open the lock file {path}: {error.strerror or error}. Expected "
                              "a writable folder.") from None
        if fd is None:
            continue  # made meanwhile by another process
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
            if created and _same_file(fd, path):
                path.unlink()  # ours, just made: flock is unsupported here
            os.close(fd)
            raise
        if not _same_file(fd, path):
            os.close(fd)  # the holder unlinked the file as we opened it, or it is no regular file: look again
            continue
        problem = _content_problem(os.pread(fd, 65, 0))
        if problem is not None:  # another program's file: not ours to write or remove
            os.close(fd)
            raise _refuse(path, problem, what)
        return fd, _read_pid(fd)


@contextlib.contextmanager
def folder_lock(folder: str | Path, *, what: str = "Folder"):
    """Context manager: `folder/.lock` held exclusively by this process for the block.

    The lock is an `fcntl.flock` on the file, which the kernel releases when the process ends, however it
    ends; the file holds the holder's PID so that a refused process can name it. A file left by a process
    that was killed (its lock released) is taken over, with a warning naming that PID. On exit the file is
    removed if it still is the file locked. Where the file system cannot lock (or there is no `fcntl`), a
    warning says so and the block runs unlocked.

    Args:
        folder: str or Path. An existing folder.
        what: str. What the folder is, for the messages (e.g. "Run folder"). Defaults to "Folder".

    Yields:
        The lock file's `Path`.

    Raises:
        FolderLockedError: another live process holds the lock (`error.pid` is its PID).
        ForeignLockError: `folder/.lock` is not a lock file of ours (`lock_problem`); it is left as it is.
        PermissionError: the lock file cannot be created (a read-only folder); the message names it.

    Example:

    >>> with folder_lock("runs/facades", what="Run folder"):  # doctest: +SKIP
    ...     train_into("runs/facades")
    """
    path = Path(folder) / LOCK_NAME
    try:
        fd, previous = _take_lock(path, what)
    except (ImportError, OSError) as error:  # FolderLockedError and ForeignLockError (no errno) are raised
        if isinstance(error, OSError) and error.errno not in _NO_LOCKING:
            raise
        log.warning("%s %s is not locked (%s): two processes writing it at once would collide.", what,
                    path.parent, error)
        yield path
        return
    try:
        if previous is not None and previous != os.getpid():
            state = "which is gone" if not pid_alive(previous) else "which no longer holds it"
            log.warning("%s %s: took over the lock left by process %d (%s).", what, path.parent, previous, state)
        _write_pid(fd)
        yield path
    finally:
        try:
            if _same_file(fd, path):
                path.unlink()  # while still holding it: a process waiting on this file then retries (`_same_file`)
        finally:
            os.close(fd)

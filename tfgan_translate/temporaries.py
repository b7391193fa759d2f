"""What this package can prove it made in a user's folder: its temporary files and folders.

Nothing here follows a symbolic link, and nothing is deleted that is not provably ours.

- **Names.** Every temporary file or folder the package makes (`io.atomic_file`, `io.staged_folder`, the lock
  file's first copy in `locking`) is named by `temporary_path`: `.NAME.tmp-PID-RANDOM-CHECK[SUFFIX]` (written,
  then renamed over NAME) or `.NAME.old-PID-RANDOM-CHECK` (an earlier NAME renamed aside while its
  replacement moves in). PID is the writing process, RANDOM 8 random hex digits, and CHECK 8 hex digits of a
  keyed hash (BLAKE2s) of the rest of the name.
- **The proof.** CHECK is the proof of ownership: a name that a person or another program chose
  (`.photos.old-2023`, `.thesis.tmp-4242-draft`, even `.x.tmp-999999-deadbeef-0badc0de`) has it right by
  accident about once in 4 billion. It needs no marker file, so nothing has to be written into a staging
  folder and taken out again before the folder is renamed into place (a kill in between would leave an
  unmarked folder nobody may remove), and no extended attributes, which not every file system keeps. A name
  crafted on purpose passes, but then only that entry (never a link's target) goes, which its maker could
  delete anyway.
- **The stale sweep.** `remove_stale_temporaries(folder)` deletes an entry only if its name fully matches
  that shape with a valid check (`our_temporary`), it is a plain file or folder (a symbolic link is never
  ours: it stays, and so does what it points to) and its PID is no longer running. Everything else stays,
  and the run-folder checks count it as the user's. Callers decide every refusal before they sweep.

A PID is "running" as this process sees it: temporaries written from another PID namespace (another
container sharing the folder) may look stale; the run folder's lock keeps two runs apart there.

Example:

>>> temporary_path("runs/a/config.json", pid=4242).name  # doctest: +ELLIPSIS
'.config.json.tmp-4242-...'
>>> our_temporary(".photos.old-2023") is None
True
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import uuid
from pathlib import Path

_KEY = b"tfgan-translate temporary"
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>[1-9][0-9]{0,9})-(?P<random>[0-9a-f]{8})"
                        r"-(?P<check>[0-9a-f]{8})(?P<suffix>(?:\.[A-Za-z0-9_-]+)*)")


def _check(head: str, suffix: str) -> str:
    return hashlib.blake2s(f"{head}\0{suffix}".encode("utf-8", "surrogateescape"), key=_KEY, digest_size=4).hexdigest()


def temporary_path(path: str | Path, kind: str = "tmp", suffix: str = "", *, pid: int | None = None) -> Path:
    """A fresh temporary name beside `path` that `our_temporary` recognises: `.NAME.KIND-PID-RANDOM-CHECK`.

    Args:
        path: str or Path. The file or folder the temporary stands for.
        kind: str. "tmp" (being written) or "old" (an earlier `path` renamed aside); `our_temporary`
            recognises no other. Defaults to "tmp".
        suffix: str. Ending of the name, for writers that choose a format by suffix: "" or dot-separated
            letters, digits, "_" and "-" (e.g. ".keras"), as `our_temporary` recognises. Defaults to "".
        pid: int or None. The owning process. Defaults to None (this one).

    Returns:
        The `Path`; nothing is created.
    """
    path = Path(path)
    head = f".{path.name}.{kind}-{os.getpid() if pid is None else int(pid)}-{uuid.uuid4().hex[:8]}"
    return path.with_name(f"{head}-{_check(head, suffix)}{suffix}")


def our_temporary(entry: str | Path) -> tuple[str, str, int] | None:
    """(NAME, "tmp" or "old", PID) if `entry` is a file or folder `temporary_path` named (its check holds); else None.

    A symbolic link (or special file) is never ours, whatever its name.
    """
    entry = Path(entry)
    match = _TEMPORARY.fullmatch(entry.name)
    if match is None or match["check"] != _check(entry.name[: match.start("check") - 1], match["suffix"]):
        return None
    try:
        mode = os.lstat(entry).st_mode
    except OSError:
        return None
    return (match["name"], match["kind"], int(match["pid"])) if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else None


def pid_alive(pid: int) -> bool:
    """Whether process `pid` is running (as this process sees it; one of another user's counts)."""
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True
    except (ProcessLookupError, OverflowError, ValueError):  # gone, or no PID at all
        return False
    return True


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Deletes the temporary files and folders in `folder` that a process which is gone left behind.

    Only entries `our_temporary` recognises (the name made by `temporary_path` with a valid check; a plain
    file or folder, never a symbolic link) are considered, and only those whose PID is no longer running.
    Anything else, a look-alike of a user's included, stays. Returns what was removed.
    """
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        found = our_temporary(entry)
        if found is None or pid_alive(found[2]):
            continue
        try:
            if stat.S_ISDIR(os.lstat(entry).st_mode):
                shutil.rmtree(entry, ignore_errors=True)  # fd-based on Linux: never leaves it through a link
            else:
                entry.unlink()
        except FileNotFoundError:
            continue  # removed meanwhile (another process sweeping)
        removed.append(entry)
    return removed

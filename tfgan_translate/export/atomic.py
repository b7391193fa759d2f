"""Replacing a folder atomically: build it beside the target, then swap it in.

`staged_folder(target)` yields a hidden temporary sibling
(`.<name>.tmp-<id>`) to write into. When the block ends normally, the old
target (if any) is renamed aside (`.<name>.old-<id>`), the new folder is
renamed to the target, and the old one is deleted. When the block raises or is
interrupted, the temporary folder is deleted and the target is untouched. Both
renames happen within one parent folder, so each is atomic on POSIX file
systems; at no time is a half-written folder at the target path.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path


@contextlib.contextmanager
def staged_folder(target: str | Path):
    """Context manager: a fresh temporary folder that replaces `target` on success.

    Example:

    >>> with staged_folder("exports/facades") as tmp:  # doctest: +SKIP
    ...     (tmp / "metadata.json").write_text("{}")
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tag = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging = target.parent / f".{target.name}.tmp-{tag}"
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = target.parent / f".{target.name}.old-{tag}"
    if target.exists():
        target.rename(old)
    try:
        staging.rename(target)
    except BaseException:
        if old.exists() and not target.exists():
            old.rename(target)  # put the previous export back
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


__all__ = ["staged_folder"]

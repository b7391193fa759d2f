"""Decisions about files and pixels, made once: atomic writes, JSON-safe values, the pixel convention.

- **Atomic writes.** `atomic_file(path)` yields a hidden temporary sibling to write; on success it is renamed
  over `path`, on any exception (Ctrl-C included) it is deleted. `write_text` and `write_json` use it.
  `staged_folder(target)` does the same for a whole folder. A reader therefore sees either the old file or
  folder, or the complete new one, never half of one. Temporary names (`temporaries.temporary_path`:
  `.NAME.tmp-PID-RANDOM-CHECK`, and `.NAME.old-PID-RANDOM-CHECK` for a folder renamed aside) carry a check
  that proves them ours, so that `remove_stale_temporaries` deletes what a killed process left and never a
  user's file of a similar name (`tfgan_translate.temporaries`).
- **Owned folders.** `folder_lock(folder)` holds `folder/.lock` (an exclusive `flock`, with the holder's PID
  written in it) for the block: a second process fails at once with `FolderLockedError` naming the holder's
  PID; a lock file left by a killed process is taken over (the kernel released its `flock`). A `.lock` that
  is a link, a folder or another program's file is refused (`ForeignLockError`) and left as it is
  (`tfgan_translate.locking`).
- **Messages.** `listing(items)`: the first few names of a list and how many more, as every message says it.
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
import json
import math
import os
import shutil
from pathlib import Path

import numpy as np

# Re-exported: the folder lock and the temporaries' names, beside the writes that use them.
from tfgan_translate.locking import LOCK_NAME, folder_lock, lock_problem  # noqa: F401
from tfgan_translate.temporaries import our_temporary, pid_alive, remove_stale_temporaries, temporary_path  # noqa: F401

PIXEL_SCALE = 127.5  # uint8 [0, 255] <-> [-1, 1]


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
    tmp = temporary_path(path, suffix=suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


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
    staging = temporary_path(target)
    staging.mkdir()
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = temporary_path(target, "old")
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


# ------------------------------------------------------------------ messages
def listing(items, limit: int = 5, sep: str = ", ") -> str:
    """The first `limit` of `items` joined by `sep`, then how many more: "a, b, c, d, e and 2 more".

    Example:

    >>> listing(["a.png", "b.png", "c.png"], limit=2)
    'a.png, b.png and 1 more'
    """
    items = [str(item) for item in items]
    return sep.join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


# ------------------------------------------------------------------ JSON
def json_safe(value):
    """`value` with non-finite floats as None and numpy scalars and arrays as Python values, recursively."""
    if isinstance(value, (np.ndarray, np.generic)):
        value = value.tolist()  # a numpy scalar's is its Python number
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

    return tf.cast(tf.round(tf.clip_by_value((tf.cast(images, tf.float32) + 1.0) * PIXEL_SCALE, 0.0, 255.0)), tf.uint8)


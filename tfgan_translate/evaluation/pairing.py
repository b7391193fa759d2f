"""Pairing image files for evaluation: matched by name, every file checked before any is used, then loaded.

- `match_files(pred_dir, truth_dir)`: ``pred/12.png`` with ``truth/12.jpg``; an unmatched name is an error listing them.
- `readable_pairs(pairs, skip_bad_files)`: every file checked first; the first bad one stops the evaluation (with
  the flag to pass), or with `skip_bad_files` the pairs holding one are left out and listed.
- `loaded_pairs(...)`: the pairs' images, read one pair at a time.
- `resize_to`: a prediction resized to its truth's size (bicubic with antialiasing, clipped).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from tfgan_translate.data.files import DataError, check_images, list_images, load_image
from tfgan_translate.evaluation.result import describe_skipped
from tfgan_translate.io import listing

log = logging.getLogger("tfgan_translate")


def _by_stem(folder: Path, role: str) -> dict[str, Path]:
    found: dict[str, list[Path]] = {}
    for path in list_images(folder):
        found.setdefault(path.stem, []).append(path)
    for stem, paths in found.items():
        if len(paths) > 1:
            raise DataError(f"Several {role} files in {folder} are named {stem!r} "
                            f"({', '.join(p.name for p in paths)}); files are matched by name without extension.")
    return {stem: paths[0] for stem, paths in found.items()}


def match_files(pred_dir: str | Path, truth_dir: str | Path) -> list[tuple[str, Path, Path]]:
    """Pairs the images of two folders by file name without extension, in natural name order.

    Args:
        pred_dir: str or Path. Folder of translated images.
        truth_dir: str or Path. Folder of ground-truth images.

    Returns:
        [(name, pred_path, truth_path), ...].

    Raises:
        DataError: a folder is missing or empty, two files share a name, or a
            name appears in one folder only (the message lists them).
    """
    preds, truths = _by_stem(Path(pred_dir), "prediction"), _by_stem(Path(truth_dir), "truth")
    unmatched = {f"in {pred_dir} without a truth image": [name for name in preds if name not in truths],
                 f"in {truth_dir} without a prediction": [name for name in truths if name not in preds]}
    parts = [f"{len(names)} {where}: {listing(names, 10)}" for where, names in unmatched.items() if names]
    if parts:
        raise DataError(f"Unmatched file names ({'; '.join(parts)}). Predictions and truth images are "
                        "matched by file name without extension.")
    return [(name, path, truths[name]) for name, path in preds.items()]  # list_images order: natural


def resize_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W, C) in [-1, 1] resized to (height, width) with bicubic antialiased resampling, clipped to [-1, 1]."""
    import tensorflow as tf

    if image.shape[:2] == (height, width):
        return image
    resized = tf.image.resize(image, (height, width), method="bicubic", antialias=True)
    return np.clip(resized.numpy(), -1.0, 1.0)


SKIP_ADVICE = "Pass --skip-bad-files (skip_bad_files=True from Python) to skip and count unreadable images."


def readable_pairs(pairs: Sequence[tuple], skip_bad_files: bool) -> tuple[list[tuple], list[dict]]:
    """Checks every file of `pairs` before any is used; keeps the pairs whose files all read.

    Args:
        pairs: sequence of (name, file, file, ...) tuples (the same file may appear twice, e.g. an
            aligned A|B file that is both input and truth).
        skip_bad_files: bool. Leave out the pairs holding an unreadable file instead of raising.

    Returns:
        (the good pairs in their order, [{"name", "file", "reason"}, ...] for each bad file).

    Raises:
        DataError: without `skip_bad_files`, naming the first bad file, the reason, how many are bad and
            the flag to pass.
    """
    files = list(dict.fromkeys(path for pair in pairs for path in pair[1:]))
    _, bad = check_images(files, aligned=False, skip_bad=True, min_size=0)  # load_image's checks, cached
    reasons = dict(bad)
    if reasons and not skip_bad_files:
        path, reason = bad[0]
        count = f" ({len(bad)} unreadable images in all)" if len(bad) > 1 else ""
        raise DataError(f"{path}: {reason}{count}. {SKIP_ADVICE}")
    good = [pair for pair in pairs if not reasons.keys() & set(pair[1:])]
    skipped = [{"name": pair[0], "file": str(path), "reason": reasons[path]}
               for pair in pairs for path in dict.fromkeys(pair[1:]) if path in reasons]
    if skipped:
        log.warning("Skipped %s", describe_skipped(skipped))
    if pairs and not good:
        raise DataError(f"Nothing to evaluate: every one of the {len(pairs)} pair(s) holds an unreadable image "
                        f"({describe_skipped(skipped)}).")
    return good, skipped


def loaded_pairs(pairs: Iterable[tuple], channels: Sequence[int], skip_bad_files: bool, skipped: list[dict]):
    """Yields (name, image, ...) for each (name, file, ...) read with `channels`.

    A file that passed `readable_pairs` but fails to load (changed since, or one PIL reads and TensorFlow
    does not) raises, or with `skip_bad_files` leaves its pair out and is recorded in `skipped`.
    """
    import tensorflow as tf

    for name, *paths in pairs:
        images = []
        for path, count in zip(paths, channels, strict=True):
            try:
                images.append(load_image(path, count))
            except (DataError, tf.errors.OpError) as error:
                if isinstance(error, tf.errors.OpError):  # a file PIL reads but TensorFlow does not
                    error = DataError(f"{path}: TensorFlow cannot decode it ({error.message}). {SKIP_ADVICE}")
                if not skip_bad_files:
                    raise error from None
                skipped.append({"name": name, "file": str(path), "reason": str(error).removeprefix(f"{path}: ")})
                log.warning("Skipped %s", describe_skipped(skipped[-1:]))
                break
        else:
            yield (name, *images)

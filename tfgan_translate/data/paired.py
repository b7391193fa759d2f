"""Paired (pix2pix) data: `(x, y)` batches of an input image and its target.

The data is found by `tfgan_translate.data.layout.resolve_paired_split`: aligned A|B files (split at
width / 2, A left, as the reference's aligned dataset does) or two folders ``A/`` + ``B/`` whose files
are paired by name without extension (``A/1.jpg`` with ``B/1.png``). The examples stream through
`tfgan_translate.data.stream.build_stream` (one source of (A file, B file) pairs); the same crop and
flip are applied to x and y (`transforms.preprocess`).

Every file is validated when the dataset is built (`files.check_images`), so a bad
file fails with its name before training, or is skipped and counted with
``skip_bad_files=True``.

Example:

>>> ds = paired_dataset("data/facades", split="train", direction="BtoA",
...                     image_size=256, batch_size=1)          # doctest: +SKIP
>>> x, y = next(iter(ds))    # (1, 256, 256, 3) each, in [-1, 1]  # doctest: +SKIP

Reference: Isola et al., "Image-to-Image Translation with Conditional
Adversarial Networks", CVPR 2017 (Sec. 6.1 for the jitter).
"""

from __future__ import annotations

import collections
import functools
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfgan_translate.choices import DIRECTIONS, check_choice
from tfgan_translate.data.checks import check_int
from tfgan_translate.data.decoding import convert_channels, read_image, split_halves
from tfgan_translate.data.files import (
    DataError,
    check_images,
    check_in_chunks,
    check_pairs,
    list_images,
    reject,
    report_skipped,
)
from tfgan_translate.data.layout import PairedSplit, resolve_paired_split
from tfgan_translate.data.stream import Source, build_stream, check_stream_args, first_examples
from tfgan_translate.data.transforms import min_image_size
from tfgan_translate.data.transforms import preprocess as jitter


def _match_names(folder_a: Path, folder_b: Path, skip_bad: bool) -> tuple[list[tuple[Path, Path]], list]:
    """Pairs A and B files by name without extension; returns (pairs, skipped)."""
    sides, skipped = [], []
    for folder in (folder_a, folder_b):
        paths = list_images(folder)
        stems = collections.Counter(p.stem for p in paths)
        for p in paths:
            if stems[p.stem] > 1:
                names = ", ".join(q.name for q in paths if q.stem == p.stem)
                reject(skipped, skip_bad, p, f"several files in {folder} are named {p.stem!r} ({names}); "
                                             "pairs are matched by name alone")
        sides.append({p.stem: p for p in paths if stems[p.stem] == 1})
    names_a, names_b = sides
    only_a = [s for s in names_a if s not in names_b]
    only_b = [s for s in names_b if s not in names_a]
    if (only_a or only_b) and not skip_bad:
        raise DataError(f"A/B file names do not match in {folder_a} and {folder_b}: "
                        f"{len(only_a)} of {len(names_a)} A files have no B file (e.g. {only_a[:5]}), "
                        f"{len(only_b)} of {len(names_b)} B files have no A file (e.g. {only_b[:5]}). "
                        "Pairs are matched by file name without extension. (Set skip_bad_files=True to skip them.)")
    skipped += [(names_a[s], f"no matching file in {folder_b}") for s in only_a]
    skipped += [(names_b[s], f"no matching file in {folder_a}") for s in only_b]
    return [(names_a[s], names_b[s]) for s in names_a if s in names_b], skipped


def _validated_pairs(where: PairedSplit, *, skip_bad: bool, min_size: int,
                     limit: int | None = None) -> list[tuple[Path, Path | None]]:
    """The usable (A file, B file or None) of a split, validated; `limit` stops after that many."""
    if where.layout == "aligned":
        candidates, skipped = list_images(where.folder_a), []
        total = len(candidates)
        check = functools.partial(check_images, aligned=True, skip_bad=skip_bad, min_size=min_size)
    else:
        candidates, skipped = _match_names(where.folder_a, where.folder_b, skip_bad)
        total = 2 * len(candidates) + len(skipped)
        check = functools.partial(check_pairs, skip_bad=skip_bad, min_size=min_size)
    good, bad = check_in_chunks(candidates, check, limit=limit)
    if limit is None:
        report_skipped(skipped + bad, total, note=f"; {len(good)} pairs remain")
    if not good:
        folders = where.folder_a if where.folder_b is None else f"{where.folder_a} and {where.folder_b}"
        raise DataError(f"No usable image pairs in {folders}: all {total} files were skipped as bad.")
    return [(a, None) for a in good] if where.layout == "aligned" else good


def _source(path, split, *, direction: str, input_channels: int, output_channels: int, skip_bad: bool, seed: int = 0,
            limit: int | None = None, **jitter_args) -> Source:
    """The validated pairs of a split as a `Source` of `(x, y)` examples; `jitter_args` go to `preprocess`."""
    check_choice("direction", direction, DIRECTIONS)
    check_stream_args(seed=seed, input_channels=input_channels, output_channels=output_channels, **jitter_args)
    where = resolve_paired_split(path, split)
    min_size = min_image_size(jitter_args["mode"], jitter_args["image_size"])
    pairs = _validated_pairs(where, skip_bad=skip_bad, min_size=min_size, limit=limit)

    def load(names, seed):
        a = read_image(names[0])
        a, b = split_halves(a) if where.layout == "aligned" else (a, read_image(names[1]))
        x, y = (a, b) if direction == "AtoB" else (b, a)
        x, y = jitter([convert_channels(x, input_channels), convert_channels(y, output_channels)], seed=seed,
                      **jitter_args)
        return x, y

    files = tf.data.Dataset.from_tensor_slices(([str(a) for a, _ in pairs], [str(b or "") for _, b in pairs]))
    # skip_bad_files: ignore_errors is the backstop for files PIL reads but TensorFlow does not.
    return Source(files, len(pairs), load, shuffle_seed=seed, jitter_seed=seed, ignore_errors=skip_bad)


def paired_file_count(path: str | Path, split: str | None = "train", *, skip_bad_files: bool = False,
                      preprocess: str = "resize_and_crop", image_size: int = 256) -> int:
    """The number of usable pairs (examples per epoch) `paired_dataset` would read.

    Validation results are cached, so calling this before `paired_dataset`
    does not decode the files twice. Args as `paired_dataset`.

    Returns:
        int > 0: the number of (x, y) examples in one epoch.

    Raises:
        DataError: as `paired_dataset`.

    Example:

    >>> steps = math.ceil(paired_file_count("data/facades", "train") / batch_size)  # doctest: +SKIP
    """
    where = resolve_paired_split(path, split)
    return len(_validated_pairs(where, skip_bad=skip_bad_files, min_size=min_image_size(preprocess, image_size)))


def paired_dataset(path: str | Path, *, split: str | None = "train", direction: str = "AtoB", image_size: int = 256,
                   load_size: int = 286, preprocess: str = "resize_and_crop", flip: bool = True,
                   input_channels: int = 3, output_channels: int = 3, batch_size: int = 1, shuffle: bool = True,
                   repeat: bool = False, seed: int = 0, skip_bad_files: bool = False, drop_remainder: bool = False,
                   skip: int = 0) -> tf.data.Dataset:
    """A `tf.data.Dataset` of jittered `(x, y)` pairs for pix2pix.

    The pipeline: validate every file (here, before any training) -> shuffle the
    file list (buffer = all files) -> repeat -> decode in parallel -> split
    aligned images at width / 2 -> convert channels -> `preprocess` (same crop
    and flip for x and y) -> batch -> prefetch. Deterministic for a given
    `seed`: two datasets built alike yield the same batches, while each new
    pass over one dataset (each Keras epoch) gets a new order and new jitter.
    Without `repeat` (and with `skip_bad_files=False`), `dataset.cardinality()`
    is the number of batches per epoch; `paired_file_count` counts the examples
    in every case.

    Args:
        path: str or Path. Data set root; see `tfgan_translate.data.layout` for layouts.
        split: str or None. Split folder name; "test" and "val" stand in for
            each other; None uses images directly in `path` (or `path/A`,
            `path/B`). Defaults to "train".
        direction: str. "AtoB": x is A (left half / A folder), y is B;
            "BtoA": the reverse. Defaults to "AtoB".
        image_size: int. Side of the square output images. Defaults to 256.
        load_size: int. Resize target before the random crop. Defaults to 286.
        preprocess: str. One of `PREPROCESS_MODES` (see
            `tfgan_translate.data.transforms`). Defaults to "resize_and_crop".
        flip: bool. Random horizontal flip, the same for x and y. Defaults to True.
        input_channels: int. Channels of x: 1, 3 or 4. Defaults to 3.
        output_channels: int. Channels of y: 1, 3 or 4. Defaults to 3.
        batch_size: int. Defaults to 1.
        shuffle: bool. Shuffle the files each pass. Defaults to True.
        repeat: bool. Repeat forever. Defaults to False.
        seed: int. Seed of the shuffle and of the jitter. Defaults to 0.
        skip_bad_files: bool. Skip (and log the count of) bad or unmatched
            files instead of raising. Defaults to False.
        drop_remainder: bool. Drop a last, smaller batch. Defaults to False.
        skip: int. Examples to skip at the start of the stream, before any
            file is read (to resume a run exactly: with `repeat=True` the
            stream is a pure function of `seed`, so skipping the examples a
            run already used continues it). Defaults to 0.

    Returns:
        A dataset of `(x, y)`: float32 tensors (B, image_size, image_size,
        input_channels) and (B, image_size, image_size, output_channels) in [-1, 1].

    Raises:
        ValueError: for an invalid argument (named, with the received value).
        DataError: for a missing or empty folder, an unreadable, truncated or
            odd-width file, or mismatched A/B names, naming the file or folder.

    Example:

    >>> ds = paired_dataset("data/facades", split="train", direction="BtoA",
    ...                     image_size=128, load_size=143, batch_size=4)  # doctest: +SKIP
    >>> model.fit(ds, epochs=200)  # doctest: +SKIP
    """
    check_int(batch_size, "batch_size")
    source = _source(path, split, direction=direction, input_channels=input_channels, output_channels=output_channels,
                     skip_bad=skip_bad_files, seed=seed, mode=preprocess, load_size=load_size, image_size=image_size,
                     flip=flip)
    return build_stream([source], shuffle=shuffle, repeat=repeat, batch_size=batch_size, skip=skip,
                        drop_remainder=drop_remainder)


def paired_samples(path: str | Path, *, split: str | None = "test", count: int = 4, direction: str = "AtoB",
                   image_size: int = 256, input_channels: int = 3, output_channels: int = 3,
                   skip_bad_files: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` pairs of a split, without jitter, for preview grids.

    Pairs are taken in file-name order, resized to image_size x image_size
    (bicubic) and never flipped, so the same rows appear in every grid.

    Args:
        path: str or Path. Data set root, as for `paired_dataset`.
        split: str or None. Defaults to "test" (falls back to "val").
        count: int. At most this many pairs (fewer if the split is smaller). Defaults to 4.
        direction, image_size, input_channels, output_channels, skip_bad_files:
            as for `paired_dataset`.

    Returns:
        `(x, y)`: np.ndarray float32 of shapes (n, image_size, image_size,
        input_channels) and (n, image_size, image_size, output_channels) in [-1, 1].

    Example:

    >>> x, y = paired_samples("data/facades", split="test", count=4, direction="BtoA")  # doctest: +SKIP
    """
    count = check_int(count, "count")
    source = _source(path, split, direction=direction, input_channels=input_channels, output_channels=output_channels,
                     skip_bad=skip_bad_files, limit=count, mode="none", load_size=image_size, image_size=image_size,
                     flip=False)
    return first_examples(source, count)

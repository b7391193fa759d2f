"""Unpaired (CycleGAN) data: `(a, b)` batches of an image of domain A and an unrelated one of domain B.

Sources (found by `tfgan_translate.data.layout.resolve_unpaired_source`): TFDS
``"tfds:NAME"`` (feature "image", read by `tfgan_translate.data.tfds_source`), the
CycleGAN layout ``PATH/SPLITA/`` + ``PATH/SPLITB/`` (the domains may hold different
numbers of images), or a paired data set used unpaired: aligned A|B files (every file
is split at width / 2 and its A and B halves are shuffled apart, so the pairs are
broken), or two folders ``A/`` + ``B/`` (file names need not match). Each domain is
one source of `tfgan_translate.data.stream.build_stream`.

Epoch rule. An epoch has ``N = max(|A|, |B|)`` examples. Each domain is read as
a stream of passes over its files, every pass in a new random order (a new
permutation per pass, independent between A and B); an epoch takes the first
N elements of both streams. So in every epoch each file of the larger domain
appears exactly once, and each file of the smaller domain appears
``floor(N / n)`` or ``ceil(N / n)`` times (n its size). The reference's
unaligned dataset instead reads A as ``A[i % |A|]`` and draws B uniformly at
random with replacement; ours has the same length and the same marginal
frequencies on average, but never leaves a file out of an epoch. With
``shuffle=False`` both domains are read in file-name order, cycling:
``(A[i % |A|], B[i % |B|])``. With ``repeat=True`` the streams never stop (each
domain keeps making passes on its own).

Jitter is drawn independently for a and b (different crops and flips), unlike
paired data. Everything is deterministic for a given `seed`; each new pass over
the dataset (each Keras epoch) gets new orders and new jitter.

Example:

>>> ds = unpaired_dataset("data/horse2zebra", split="train", image_size=256)  # doctest: +SKIP
>>> a, b = next(iter(ds))   # (1, 256, 256, 3) each, in [-1, 1]                  # doctest: +SKIP

Reference: Zhu et al., "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks", ICCV 2017; the authors'
unaligned_dataset.py for the epoch length.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfgan_translate.data import tfds_source
from tfgan_translate.data.checks import check_int
from tfgan_translate.data.decoding import convert_channels, decode_raw, read_image
from tfgan_translate.data.files import DataError, check_images, check_in_chunks, list_images, report_skipped
from tfgan_translate.data.layout import UnpairedSource, resolve_unpaired_source
from tfgan_translate.data.stream import Source, build_stream, check_stream_args, first_examples
from tfgan_translate.data.transforms import min_image_size
from tfgan_translate.data.transforms import preprocess as jitter


def _domains(source: UnpairedSource, *, skip_bad: bool, min_size: int, limit: int | None = None) -> list[tuple]:
    """Domains A and B of a resolved source, validated, as (items, count, read): `read(item)` is the image in [0, 1].

    The items are file names, or for TFDS the encoded images.
    """
    if source.layout == "tfds":
        builder = tfds_source.load_builder(source.tfds_name)
        domains = [tfds_source.encoded_images(builder, split) for split in (source.source_a, source.source_b)]
        if limit is not None:
            domains = [(items.take(limit), min(count, limit)) for items, count in domains]
        return [(items, count, decode_raw) for items, count in domains]
    aligned = source.layout == "aligned"  # both domains read the same files: the left and the right halves
    folders = [source.source_a] if aligned else [source.source_a, source.source_b]
    check = functools.partial(check_images, aligned=aligned, skip_bad=skip_bad, min_size=min_size)
    paths = [list_images(folder) for folder in folders]
    checked = [check_in_chunks(folder_paths, check, limit=limit) for folder_paths in paths]
    good = [checked[0][0]] * 2 if aligned else [folder_good for folder_good, _ in checked]
    if limit is None:
        report_skipped([bad for _, skipped in checked for bad in skipped], sum(map(len, paths)),
                       note=f"; {len(good[0])} A and {len(good[1])} B images remain")
    for folder, folder_paths, (folder_good, _) in zip(folders, paths, checked, strict=True):
        if not folder_good:
            raise DataError(f"No usable images in {folder}: all {len(folder_paths)} files were skipped as bad.")
    reads = [functools.partial(read_image, half=half) for half in (0, 1)] if aligned else [read_image, read_image]
    return [(tf.data.Dataset.from_tensor_slices([str(p) for p in files]), len(files), read)
            for files, read in zip(good, reads, strict=True)]


def _load(item: tf.Tensor, seed, *, read, channels: int, **jitter_args) -> tf.Tensor:
    """One preprocessed image (image_size, image_size, channels) in [-1, 1] from a file name or encoded bytes."""
    (image,) = jitter([convert_channels(read(item), channels)], seed=seed, **jitter_args)
    return image


def _sources(path, split, *, channels_a: int, channels_b: int, skip_bad: bool, seed: int = 0,
             limit: int | None = None, **jitter_args) -> list[Source]:
    """Domains A and B of a split as `Source`s of images; `jitter_args` go to `preprocess`."""
    check_stream_args(seed=seed, channels_a=channels_a, channels_b=channels_b, **jitter_args)
    source = resolve_unpaired_source(path, split)
    tfds = source.layout == "tfds"
    min_size = min_image_size(jitter_args["mode"], jitter_args["image_size"])
    domains = _domains(source, skip_bad=skip_bad, min_size=min_size, limit=limit)
    # Independent op seeds (shuffle A, shuffle B, jitter A, jitter B) derived from one seed.
    shuffle_a, shuffle_b, jitter_a, jitter_b = (int(s) for s in np.random.SeedSequence(int(seed)).generate_state(4))
    return [
        Source(items, count, functools.partial(_load, read=read, channels=channels, **jitter_args),
               shuffle_seed=shuffle_seed, jitter_seed=jitter_seed, cache=tfds,
               # skip_bad_files: the backstop for files PIL reads but TensorFlow does not (TFDS data is decoded)
               ignore_errors=skip_bad and not tfds)
        for (items, count, read), channels, shuffle_seed, jitter_seed in zip(
            domains, (channels_a, channels_b), (shuffle_a, shuffle_b), (jitter_a, jitter_b), strict=True)
    ]


def unpaired_file_counts(path: str | Path, split: str | None = "train", *, skip_bad_files: bool = False,
                         preprocess: str = "resize_and_crop", image_size: int = 256) -> tuple[int, int]:
    """The number of usable images `(n_a, n_b)` of each domain of a split.

    An epoch of `unpaired_dataset` has ``max(n_a, n_b)`` examples. For an
    aligned set used unpaired, n_a == n_b == the number of files. Validation
    results are cached, so this costs little before `unpaired_dataset`.
    Args as `unpaired_dataset`.

    Returns:
        `(n_a, n_b)`, ints > 0.

    Raises:
        DataError: as `unpaired_dataset`.

    Example:

    >>> n_a, n_b = unpaired_file_counts("data/horse2zebra", "train")  # doctest: +SKIP
    >>> steps = math.ceil(max(n_a, n_b) / batch_size)                  # doctest: +SKIP
    """
    source = resolve_unpaired_source(path, split)
    a, b = _domains(source, skip_bad=skip_bad_files, min_size=min_image_size(preprocess, image_size))
    return a[1], b[1]


def unpaired_dataset(path: str | Path, *, split: str | None = "train", image_size: int = 256, load_size: int = 286,
                     preprocess: str = "resize_and_crop", flip: bool = True, channels_a: int = 3, channels_b: int = 3,
                     batch_size: int = 1, shuffle: bool = True, repeat: bool = False, seed: int = 0,
                     skip_bad_files: bool = False, drop_remainder: bool = False, skip: int = 0) -> tf.data.Dataset:
    """A `tf.data.Dataset` of jittered, unpaired `(a, b)` batches for CycleGAN.

    The pipeline, per domain: validate every file (here, before any training)
    -> endless passes over the files, each pass in a new order -> read and
    decode in parallel -> (aligned sources: keep the left or right half) ->
    convert channels -> `preprocess` with the domain's own random crop and flip.
    Then zip A and B, take ``max(|A|, |B|)`` examples (unless `repeat`), batch,
    prefetch. See the module docstring for the exact epoch rule.
    Without `repeat`, ``dataset.cardinality()`` is the number of batches per
    epoch, ``ceil(max(|A|, |B|) / batch_size)`` (floor with `drop_remainder`),
    also with `skip_bad_files`.

    Args:
        path: str or Path. Data set root (CycleGAN layout, or a paired set used
            unpaired) or ``"tfds:cycle_gan/NAME"``; see `tfgan_translate.data.layout`.
        split: str or None. "train", "test" (falls back to "val") or "val"
            (falls back to "test"); None uses a paired root's images directly.
            Defaults to "train".
        image_size: int. Side of the square output images. Defaults to 256.
        load_size: int. Resize target before the random crop. Defaults to 286.
        preprocess: str. One of `PREPROCESS_MODES` (see
            `tfgan_translate.data.transforms`). Defaults to "resize_and_crop".
        flip: bool. Random horizontal flips, drawn independently for a and b.
            Defaults to True.
        channels_a: int. Channels of a: 1, 3 or 4. Defaults to 3.
        channels_b: int. Channels of b: 1, 3 or 4. Defaults to 3.
        batch_size: int. Defaults to 1.
        shuffle: bool. Shuffle each domain independently on each pass; False
            reads both in file order, cycling. Defaults to True.
        repeat: bool. Repeat forever. Defaults to False.
        seed: int >= 0. Seed of the shuffles and of the jitter. Defaults to 0.
        skip_bad_files: bool. Skip (and log the count of) bad files instead of
            raising. Does not apply to TFDS data (TFDS decoded it when preparing
            it); there, preprocess="crop" on an image smaller than image_size
            raises when the image is read. Defaults to False.
        drop_remainder: bool. Drop a last, smaller batch. Defaults to False.
        skip: int. Examples to skip at the start of both domains' streams,
            before any file is read: with `repeat=True`, skipping the examples
            a run already used continues it exactly (see
            `tfgan_translate.data.stream`). Defaults to 0.

    Returns:
        A dataset of `(a, b)`: float32 tensors (B, image_size, image_size,
        channels_a) and (B, image_size, image_size, channels_b) in [-1, 1].

    Raises:
        ValueError: for an invalid argument (named, with the received value).
        DataError: for a missing or empty folder, an unreadable, truncated or
            odd-width (aligned) file, naming the file or folder; for a TFDS
            name or split that does not exist.
        ImportError: for a ``tfds:`` path without tensorflow-datasets.

    Example:

    >>> ds = unpaired_dataset("data/horse2zebra", split="train", image_size=128,
    ...                       load_size=143, batch_size=1)             # doctest: +SKIP
    >>> steps_per_epoch = int(ds.cardinality())                         # doctest: +SKIP
    >>> model.fit(ds.repeat(), epochs=200, steps_per_epoch=steps_per_epoch)  # doctest: +SKIP
    """
    check_int(batch_size, "batch_size")
    sources = _sources(path, split, channels_a=channels_a, channels_b=channels_b, skip_bad=skip_bad_files, seed=seed,
                       mode=preprocess, load_size=load_size, image_size=image_size, flip=flip)
    return build_stream(sources, shuffle=shuffle, repeat=repeat, batch_size=batch_size, skip=skip,
                        drop_remainder=drop_remainder, epoch_length=max(source.count for source in sources))


def unpaired_steps_per_epoch(n_a: int, n_b: int, batch_size: int = 1, drop_remainder: bool = False) -> int:
    """Batches in one epoch of `unpaired_dataset`: ceil (or floor) of max(n_a, n_b) / batch_size."""
    n = max(n_a, n_b)
    return n // batch_size if drop_remainder else math.ceil(n / batch_size)


def unpaired_samples(path: str | Path, *, split: str | None = "test", count: int = 4, image_size: int = 256,
                     channels_a: int = 3, channels_b: int = 3,
                     skip_bad_files: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` images of each domain of a split, without jitter, for preview grids.

    Images are taken in file-name order (TFDS: the data set's order), resized
    to image_size x image_size (bicubic) and never flipped, so the same rows
    appear in every grid. Row i of a and row i of b are unrelated images
    (except for an aligned set used unpaired, where they are the two halves of
    file i).

    Args:
        path: str or Path. As for `unpaired_dataset`.
        split: str or None. Defaults to "test" (falls back to "val").
        count: int. At most this many per domain (fewer if a domain is
            smaller). Defaults to 4.
        image_size, channels_a, channels_b, skip_bad_files: as for `unpaired_dataset`.

    Returns:
        `(a, b)`: np.ndarray float32 of shapes (n_a, image_size, image_size,
        channels_a) and (n_b, image_size, image_size, channels_b) in [-1, 1],
        n_a, n_b <= count.

    Example:

    >>> a, b = unpaired_samples("data/horse2zebra", split="test", count=4, image_size=128)  # doctest: +SKIP
    >>> a.shape                                                                         # doctest: +SKIP
    (4, 128, 128, 3)
    """
    count = check_int(count, "count")
    sources = _sources(path, split, channels_a=channels_a, channels_b=channels_b, skip_bad=skip_bad_files, limit=count,
                       mode="none", load_size=image_size, image_size=image_size, flip=False)
    return tuple(first_examples(source, count) for source in sources)

"""The one tf.data stream of both pipelines: shuffle, seeds, skip, replay, map, ignore_errors, batch, prefetch.

A data set is one or more `Source`s (pix2pix: one source of (A file, B file) pairs; CycleGAN: one per
domain). Each source becomes a stream of examples:

    items -> [cache] -> shuffle (a new order each pass) -> [repeat] -> zip with one stateless seed (2 int64)
    per example -> skip -> (endless: `replayable`) -> load(item, seed) in parallel, in order -> [ignore_errors]

then the sources are zipped, cut to one epoch (`epoch_length`), batched and prefetched.

Determinism and exact resume: the shuffles and the per-example seeds come from seeded ops, so a stream
built with the same seeds yields the same examples; each new pass over a finite stream (each Keras epoch)
gets a new order and new jitter. An endless stream (`repeat=True`) is a pure function of its seeds and
replays on every iteration (`replayable`), so skipping the examples a run already used (`skip`, applied to
(item, seed) before any file is read) continues that run exactly.

Example:

>>> files = tf.data.Dataset.from_tensor_slices(["0.png", "1.png"])
>>> load = lambda path, seed: decode_image(tf.io.read_file(path), 3)        # doctest: +SKIP
>>> ds = build_stream([Source(files, 2, load, shuffle_seed=0, jitter_seed=0)],
...                   shuffle=True, repeat=True, batch_size=1)              # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import tensorflow as tf

from tfgan_translate.data.checks import check_channels, check_int
from tfgan_translate.data.transforms import check_preprocess_args


class Source(NamedTuple):
    """One stream of examples.

    items: dataset of what `load` reads (file names, a tuple of them, or encoded image bytes).
    count: number of items (the shuffle buffer holds them all).
    load: function (item, seed) -> the example's tensors; seed is an int64 tensor of shape (2,) for the
        stateless random ops of the jitter.
    shuffle_seed: op seed of the shuffle. Defaults to 0.
    jitter_seed: op seed of the per-example seeds. Defaults to 0.
    cache: keep the items in memory before shuffling (TFDS' encoded images). Defaults to False.
    ignore_errors: drop an example whose `load` fails (files that PIL reads but TensorFlow does not);
        the stream goes on with the next item. Defaults to False.
    """

    items: tf.data.Dataset
    count: int
    load: Callable
    shuffle_seed: int = 0
    jitter_seed: int = 0
    cache: bool = False
    ignore_errors: bool = False


def replayable(make_stream: Callable[[], tf.data.Dataset]) -> tf.data.Dataset:
    """The dataset `make_stream()` builds, re-built for each iterator so that every pass replays it.

    `shuffle(..., reshuffle_each_iteration=True)` and `Dataset.random(..., rerandomize_each_iteration=True)`
    draw new numbers for every new iterator of the same dataset object. An endless training stream must not
    depend on how often it was iterated: Keras' `fit` under a tf.distribute strategy pulls one batch through a
    first iterator to build the model, then trains from a second one. Built inside `replayable`, the random
    datasets are created afresh for each iterator, so every iteration yields the stream the first one does.

    Args:
        make_stream: function of no arguments returning a `tf.data.Dataset`
            (typically endless, with seeded shuffles and random draws).

    Returns:
        A `tf.data.Dataset` with the same elements as `make_stream()`'s
        first iteration, on every iteration, and the same cardinality.

    Example:

    >>> ds = replayable(lambda: tf.data.Dataset.range(4).shuffle(4, seed=1).repeat())
    >>> [int(x) for x in ds.take(8)] == [int(x) for x in ds.take(8)]
    True
    """
    cardinality = int(make_stream().cardinality())  # built, not iterated
    dataset = tf.data.Dataset.range(1).flat_map(tf.autograph.experimental.do_not_convert(lambda _: make_stream()))
    if cardinality != tf.data.UNKNOWN_CARDINALITY:
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(cardinality))
    return dataset


def _example_stream(source: Source, *, shuffle: bool, cycle: bool, replay: bool, skip: int,
                    limit: int | None = None) -> tf.data.Dataset:
    """The loaded examples of one source; `cycle`: its items repeat forever, `replay`: see `replayable`.

    `limit`: read at most this many items. Without it, the parallel map reads ahead of an epoch's end
    into the next pass, which draws that pass's shuffle order early and so shifts the next epoch's.
    """

    def item_stream():
        items = source.items
        if shuffle:
            if source.cache:  # the shuffle buffer holds the items anyway
                items = items.cache()
            items = items.shuffle(source.count, seed=source.shuffle_seed, reshuffle_each_iteration=True)
        if cycle:
            items = items.repeat()
        # One stateless seed (2 int64) per example, re-drawn on every pass.
        seeds = tf.data.Dataset.random(seed=source.jitter_seed, rerandomize_each_iteration=True).batch(2)
        # skip: to resume, advance the (item, seed) stream before any image is read; take(-1) takes them all.
        return tf.data.Dataset.zip(items, seeds).skip(skip).take(-1 if limit is None else limit)

    # The endless stream replays on every iteration; a finite one reshuffles for every new pass,
    # as `fit` expects of one epoch.
    stream = replayable(item_stream) if replay else item_stream()
    stream = stream.map(source.load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if source.ignore_errors:
        stream = stream.ignore_errors(log_warning=True)
    return stream


def build_stream(sources: Sequence[Source], *, shuffle: bool, repeat: bool, batch_size: int, skip: int = 0,
                 drop_remainder: bool = False, epoch_length: int | None = None) -> tf.data.Dataset:
    """Batches of examples from one source, or of zipped examples from several (see the module docstring).

    Args:
        sources: one or more `Source`s. One: its `load` output is the element; several: the tuple of
            theirs, one example of each source per element.
        shuffle: bool. Shuffle each source's items on each pass (False: their order, cycling).
        repeat: bool. Endless, and the same on every iteration (see `replayable`).
        batch_size: int > 0.
        skip: int >= 0. Examples to skip at the start of each source's stream, before any file is
            read (to resume a run exactly). Defaults to 0.
        drop_remainder: bool. Drop a last, smaller batch. Defaults to False.
        epoch_length: int or None. None: an epoch is one pass over the items (one source).
            An int: every source cycles through its items, each pass in a new order, and an epoch is
            the first `epoch_length` examples (CycleGAN: the larger domain's size). Defaults to None.

    Returns:
        A `tf.data.Dataset` of batched elements. Without `repeat`, its cardinality is the number of
        batches of one epoch when it is known (with `epoch_length`, always).

    Example:

    >>> ds = build_stream([source_a, source_b], shuffle=True, repeat=False, batch_size=1,
    ...                   epoch_length=max(source_a.count, source_b.count))  # doctest: +SKIP
    """
    one_epoch = epoch_length is not None and not repeat
    streams = [
        _example_stream(source, shuffle=shuffle, cycle=repeat or epoch_length is not None, replay=repeat, skip=skip,
                        # a stream that drops failed examples may need more than epoch_length items
                        limit=epoch_length if one_epoch and not source.ignore_errors else None)
        for source in sources
    ]
    dataset = streams[0] if len(streams) == 1 else tf.data.Dataset.zip(*streams)
    if one_epoch:
        # The streams are endless (or cut at epoch_length), so an epoch has exactly epoch_length examples.
        dataset = dataset.take(epoch_length).apply(tf.data.experimental.assert_cardinality(epoch_length))
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


def first_examples(source: Source, count: int):
    """The examples of `source`'s first `count` items, in item order, stacked as numpy arrays (for previews).

    Every example gets the seed (0, 0): give `source` a `load` without random jitter.
    """
    seeds = tf.data.Dataset.from_tensors(tf.zeros([2], tf.int64)).repeat()
    examples = tf.data.Dataset.zip(source.items.take(count), seeds).map(source.load).batch(count)
    return next(examples.as_numpy_iterator())


def check_stream_args(*, mode: str, load_size: int, image_size: int, flip: bool, seed: int, **channels) -> None:
    """Validates what the sources of both pipelines take: the `preprocess` arguments, seed and channel counts (by name).

    `flip` (any truth value) is taken so that the jitter arguments pass as they are.

    Raises:
        ValueError: naming the first bad argument and the value received.
    """
    check_preprocess_args(mode, load_size, image_size)
    check_int(seed, "seed", minimum=0)
    for argument, value in channels.items():
        check_channels(value, argument)

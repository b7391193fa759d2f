"""Streams that replay: the same elements every time a dataset is iterated.

`shuffle(..., reshuffle_each_iteration=True)` and
`Dataset.random(..., rerandomize_each_iteration=True)` draw a new order (new
numbers) for every new iterator of the same dataset object. An endless
training stream must not depend on how often it was iterated: Keras' `fit`
under a tf.distribute strategy pulls one batch through a first iterator to
build the model, then trains from a second one, which made a mirrored run see
other batches than a single-device run with the same seed. Built inside
`replayable`, the random datasets are created afresh for each iterator, so
every iteration yields the stream that the first one does.

Example:

>>> ds = replayable(lambda: tf.data.Dataset.range(4).shuffle(4, seed=1).repeat())
>>> first = [int(x) for x in ds.take(8)]
>>> first == [int(x) for x in ds.take(8)]
True
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf


def replayable(make_stream: Callable[[], tf.data.Dataset]) -> tf.data.Dataset:
    """The dataset `make_stream()` builds, re-built for each iterator so that every pass replays it.

    Args:
        make_stream: function of no arguments returning a `tf.data.Dataset`
            (typically endless, with seeded shuffles and random draws).

    Returns:
        A `tf.data.Dataset` with the same elements as `make_stream()`'s
        first iteration, on every iteration, and the same cardinality.
    """
    cardinality = int(make_stream().cardinality())  # built, not iterated
    dataset = tf.data.Dataset.range(1).flat_map(tf.autograph.experimental.do_not_convert(lambda _: make_stream()))
    if cardinality != tf.data.UNKNOWN_CARDINALITY:
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(cardinality))
    return dataset


__all__ = ["replayable"]

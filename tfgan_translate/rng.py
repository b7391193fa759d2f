"""Resumable randomness: noise that is a pure function of a seed and a saved counter.

Training draws random numbers in three places: pix2pix's dropout, CycleGAN's
image pool and the WGAN-GP interpolation. Stateful TF random ops restart
their sequences in every new process, so a resumed run would draw different
numbers than an uninterrupted one. Here each consumer keeps a `draws`
counter as a non-trainable weight (saved in every checkpoint) and draws from
a stateless generator keyed by (seed, replica, counter): a run resumed from a
checkpoint continues exactly where it stopped.

Example:

>>> counter = keras.Variable(0, dtype="int32", trainable=False)
>>> noise = counted_uniform([2, 3], seed=7, counter=counter)  # counter is now 1
"""

from __future__ import annotations

import zlib

import keras
import tensorflow as tf


def name_seed(name: str) -> int:
    """A stable 31-bit seed from a layer name (the same in every process)."""
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def draw_counter(layer: keras.layers.Layer, name: str = "draws"):
    """Adds the non-trainable int counter a layer's `counted_uniform` calls advance."""
    return layer.add_weight(shape=(), initializer="zeros", dtype="int32", trainable=False, name=name,
                            aggregation="only_first_replica")


def counted_uniform(shape, seed: int, counter, dtype=tf.float32):
    """Uniform [0, 1) noise keyed by (seed, replica, counter); then advances `counter` by one.

    Args:
        shape: 1-D int tensor or list. Shape of the noise.
        seed: int. The consumer's own seed (e.g. `name_seed(layer.name)`).
        counter: int32 Keras variable from `draw_counter`.
        dtype: float dtype of the noise. Defaults to float32.
    """
    draw = tf.identity(counter.value)
    with tf.control_dependencies([draw]):
        noise = tf.random.stateless_uniform(shape, seed=step_key(seed, draw), dtype=dtype)
    with tf.control_dependencies([noise]):
        counter.assign_add(1)
    return noise


def step_key(seed: int, step, per_replica: bool = True):
    """A stateless-RNG key from a fixed seed, the replica and a saved step counter (e.g. optimizer.iterations).

    `per_replica=False` gives every replica of a tf.distribute strategy the key of replica 0: for a draw that
    is one decision about the whole global batch (CUT's patch locations and flip), which must not differ
    between the replicas' shares of it.
    """
    context = tf.distribute.get_replica_context() if per_replica else None
    replica = 0 if context is None else context.replica_id_in_sync_group
    return tf.stack([tf.cast(seed, tf.int64) + 1_000_003 * tf.cast(replica, tf.int64), tf.cast(step, tf.int64)])

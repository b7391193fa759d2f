"""The data a run trains on: `--data` resolved to a folder, and per model its training stream (resumable at any
example), validation dataset, preview samples and steps per epoch (`RunData`).
"""

from __future__ import annotations

import logging
import math
import typing

from tfgan_translate.config import CycleGANConfig, Pix2PixConfig
from tfgan_translate.data import (
    DataError,
    layout,
    paired_dataset,
    paired_file_count,
    paired_samples,
    unpaired_dataset,
    unpaired_file_counts,
    unpaired_samples,
    unpaired_steps_per_epoch,
)

log = logging.getLogger("tfgan_translate")


def resolve_data(data: str, model: str = "pix2pix"):
    """Turns `--data` into a folder (or a TFDS name), generating the built-in sets on request.

    "synth" is the synthetic facades: paired (label map | photo) for pix2pix,
    unpaired (label maps in trainA, photos of other label maps in trainB) for
    CycleGAN; "synth:palette" is CycleGAN's easy unpaired set whose hidden
    mapping is a palette permutation. See `tfgan_translate.data.layout.resolve_data`.
    """
    return layout.resolve_data(data, paired=model == "pix2pix")


def _swap(a, b):
    return b, a


class RunData(typing.NamedTuple):
    steps_per_epoch: int  # counted from the files (or config.steps_per_epoch)
    train: typing.Callable  # skip -> tf.data.Dataset of (x, y) batches, endless, from example `skip` on
    validation: object  # tf.data.Dataset or None
    samples: tuple  # (x, y) numpy arrays for the preview grids


def paired_data(config: Pix2PixConfig, data) -> RunData:
    common = dict(direction=config.direction, image_size=config.image_size, input_channels=config.input_channels,
                  output_channels=config.output_channels, skip_bad_files=config.skip_bad_files)
    # Counting validates the training files, before the model is built (the dataset reuses the results).
    n = paired_file_count(data, "train", skip_bad_files=config.skip_bad_files, preprocess=config.preprocess,
                          image_size=config.image_size)
    steps = config.steps_per_epoch or math.ceil(n / config.batch_size)

    def train_stream(skip: int):
        # The endless stream (a pure function of the seed) so that `skip` resumes it exactly. Its batches
        # are all full; drop_remainder makes that static, so that a strategy can split them over replicas.
        return paired_dataset(data, split="train", load_size=config.load_size, preprocess=config.preprocess,
                              flip=config.flip, batch_size=config.batch_size, shuffle=True, seed=config.seed,
                              repeat=True, skip=skip, drop_remainder=True, **common)

    try:
        val = paired_dataset(data, split="test", preprocess="none", load_size=config.image_size, flip=False,
                             batch_size=config.batch_size, shuffle=False, **common)
        samples = paired_samples(data, split="test", count=config.sample_count, **common)
    except DataError as error:
        log.warning("No validation split used: %s", error)
        val, samples = None, paired_samples(data, split="train", count=config.sample_count, **common)
    return RunData(steps, train_stream, val, samples)


def unpaired_data(config: CycleGANConfig, data) -> RunData:
    """Domain A feeds G; with direction BtoA the folders' B domain plays A."""
    swap = config.direction == "BtoA"
    c_a, c_b = config.input_channels, config.output_channels
    channels = dict(channels_a=c_b, channels_b=c_a) if swap else dict(channels_a=c_a, channels_b=c_b)
    common = dict(image_size=config.image_size, skip_bad_files=config.skip_bad_files, **channels)
    # Counting validates the training files, before the model is built (the dataset reuses the results).
    n_a, n_b = unpaired_file_counts(data, "train", skip_bad_files=config.skip_bad_files,
                                    preprocess=config.preprocess, image_size=config.image_size)
    steps = config.steps_per_epoch or unpaired_steps_per_epoch(n_a, n_b, config.batch_size)

    def train_stream(skip: int):
        # The endless stream (a pure function of the seed) so that `skip` resumes it exactly; static full batches.
        train_ds = unpaired_dataset(data, split="train", load_size=config.load_size, preprocess=config.preprocess,
                                    flip=config.flip, batch_size=config.batch_size, shuffle=True, seed=config.seed,
                                    repeat=True, skip=skip, drop_remainder=True, **common)
        return train_ds.map(_swap) if swap else train_ds

    try:
        val = unpaired_dataset(data, split="test", preprocess="none", load_size=config.image_size, flip=False,
                               batch_size=config.batch_size, shuffle=False, **common)
        samples = unpaired_samples(data, split="test", count=config.sample_count, **channels,
                                   image_size=config.image_size)
    except DataError as error:
        log.warning("No validation split used: %s", error)
        val, samples = None, unpaired_samples(data, split="train", count=config.sample_count, **channels,
                                              image_size=config.image_size)
    rows = min(len(samples[0]), len(samples[1]))
    samples = (samples[0][:rows], samples[1][:rows])
    if swap:
        val = val.map(_swap) if val is not None else None
        samples = samples[::-1]
    return RunData(steps, train_stream, val, tuple(samples))


__all__ = ["RunData", "paired_data", "resolve_data", "unpaired_data"]

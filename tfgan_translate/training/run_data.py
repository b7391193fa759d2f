"""The data a run trains on: `--data` resolved to a folder, and per model its training stream (resumable at any
example), validation dataset, preview samples and steps per epoch (`RunData`).
"""

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


class RunData(typing.NamedTuple):
    steps_per_epoch: int  # counted from the files (or config.steps_per_epoch)
    train: typing.Callable  # skip -> tf.data.Dataset of (x, y) batches, endless, from example `skip` on
    validation: object  # tf.data.Dataset or None
    samples: tuple  # (x, y) numpy arrays for the preview grids


def run_data(config: Pix2PixConfig | CycleGANConfig, data) -> RunData:
    """The data of a run: pairs for pix2pix; for CycleGAN, domain A feeds G (with direction BtoA, B plays A)."""
    paired = config.model == "pix2pix"
    swap = not paired and config.direction == "BtoA"
    c_in, c_out = config.input_channels, config.output_channels
    # Counting validates the training files, before the model is built (the dataset reuses the results).
    count = dict(skip_bad_files=config.skip_bad_files, preprocess=config.preprocess, image_size=config.image_size)
    if paired:
        channels = dict(direction=config.direction, input_channels=c_in, output_channels=c_out)
        dataset, samples_of = paired_dataset, paired_samples
        steps = math.ceil(paired_file_count(data, "train", **count) / config.batch_size)
    else:
        channels = dict(channels_a=c_out, channels_b=c_in) if swap else dict(channels_a=c_in, channels_b=c_out)
        dataset, samples_of = unpaired_dataset, unpaired_samples
        steps = unpaired_steps_per_epoch(*unpaired_file_counts(data, "train", **count), config.batch_size)
    common = dict(image_size=config.image_size, skip_bad_files=config.skip_bad_files, **channels)

    def train_stream(skip: int):
        # The endless stream (a pure function of the seed) so that `skip` resumes it exactly. Its batches
        # are all full; drop_remainder makes that static, so that a strategy can split them over replicas.
        return _swapped(dataset(data, split="train", load_size=config.load_size, preprocess=config.preprocess,
                                flip=config.flip, batch_size=config.batch_size, shuffle=True, seed=config.seed,
                                repeat=True, skip=skip, drop_remainder=True, **common), swap)

    try:
        val = dataset(data, split="test", preprocess="none", load_size=config.image_size, flip=False,
                      batch_size=config.batch_size, shuffle=False, **common)
        samples = samples_of(data, split="test", count=config.sample_count, **common)
    except DataError as error:
        log.warning("No validation split used: %s", error)
        val, samples = None, samples_of(data, split="train", count=config.sample_count, **common)
    rows = min(len(samples[0]), len(samples[1]))  # CycleGAN's domains may hold different numbers of images
    samples = (samples[0][:rows], samples[1][:rows])
    return RunData(config.steps_per_epoch or steps, train_stream, _swapped(val, swap),
                   samples[::-1] if swap else samples)


def _swapped(dataset, swap: bool):
    """`dataset` with each (a, b) element as (b, a) when `swap`; None stays None."""
    return dataset.map(lambda a, b: (b, a)) if swap and dataset is not None else dataset


__all__ = ["RunData", "resolve_data", "run_data"]

"""`train(config, run_dir)`: what the command line and the notebooks call.

A run folder holds everything about one training run::

    RUN_DIR/
      config.json               the Pix2PixConfig / CycleGANConfig (read back by translate/export)
      checkpoints/latest.keras  networks + optimizer state, replaced atomically each epoch
      logs/                     TensorBoard: train/ and validation/ scalars, samples/ images
      samples/epoch_NNNN.png    preview grids of fixed validation images (see SampleGrid)
      metrics.json              the last epoch's training losses and validation metrics
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import typing
from pathlib import Path

import keras

from tfgan_translate.config import CycleGANConfig, Pix2PixConfig
from tfgan_translate.data import (
    DataError,
    paired_dataset,
    paired_samples,
    unpaired_dataset,
    unpaired_samples,
    write_synthetic_dataset,
    write_synthetic_unpaired_dataset,
)
from tfgan_translate.models.cycle_gan import cyclegan_from_config
from tfgan_translate.models.pix2pix import pix2pix_from_config
from tfgan_translate.models.schedules import LinearDecaySchedule
from tfgan_translate.networks import check_image_size
from tfgan_translate.training.callbacks import AtomicModelCheckpoint, SampleGrid, save_model_atomic

log = logging.getLogger("tfgan_translate")

SYNTH = "synth"  # --data value for the built-in synthetic facades
CHECKPOINT = Path("checkpoints") / "latest.keras"


@dataclasses.dataclass
class TrainResult:
    """What `train` returns: the trained model, Keras' history and the run's files."""

    model: keras.Model
    history: dict
    run_dir: Path
    metrics: dict


def default_data_home() -> Path:
    """Where built-in datasets are generated: $TFGAN_TRANSLATE_DATA or ~/.cache/tfgan_translate."""
    return Path(os.environ.get("TFGAN_TRANSLATE_DATA", Path.home() / ".cache" / "tfgan_translate"))


def resolve_data(data: str, model: str = "pix2pix"):
    """Turns `--data` into a folder (or a TFDS name), generating the built-in sets on request.

    "synth" is the synthetic facades: paired (label map | photo) for pix2pix,
    unpaired (label maps in trainA, photos of other label maps in trainB) for
    CycleGAN; "synth:palette" is CycleGAN's easy unpaired set whose hidden
    mapping is a palette permutation.
    """
    if not data:
        raise ValueError("Invalid value for `data`. Received: data=''. Expected a dataset folder or 'synth'.")
    if data.startswith("tfds:"):
        return data
    if data == SYNTH or data.startswith(SYNTH + ":"):
        kind = data.partition(":")[2] or "facades"
        if model == "pix2pix":
            if kind != "facades":
                raise ValueError(f"Invalid value for `data`. Received: data={data!r}. pix2pix's built-in set is 'synth'.")
            return write_synthetic_dataset(default_data_home() / "synth_facades")
        return write_synthetic_unpaired_dataset(default_data_home() / f"synth_unpaired_{kind}", kind=kind)
    path = Path(data).expanduser()
    if not path.exists():
        raise DataError(f"Invalid value for `data`: {data} does not exist. Expected a dataset folder or 'synth'.")
    return path


def _optimizer(config, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    lr = config.lr
    if config.decay_epochs:
        lr = LinearDecaySchedule(config.lr, steps_per_epoch, config.constant_epochs, config.decay_epochs)
    return keras.optimizers.Adam(learning_rate=lr, beta_1=config.beta_1, beta_2=config.beta_2)


def _swap(a, b):
    return b, a


class _Data(typing.NamedTuple):
    train: object  # tf.data.Dataset of (x, y) batches, repeated
    steps_per_epoch: int
    validation: object  # tf.data.Dataset or None
    samples: tuple  # (x, y) numpy arrays for the preview grids


def _paired_data(config: Pix2PixConfig, data) -> _Data:
    common = dict(direction=config.direction, image_size=config.image_size, input_channels=config.input_channels,
                  output_channels=config.output_channels, skip_bad_files=config.skip_bad_files)
    train_ds = paired_dataset(data, split="train", load_size=config.load_size, preprocess=config.preprocess,
                              flip=config.flip, batch_size=config.batch_size, shuffle=True, seed=config.seed, **common)
    steps = config.steps_per_epoch or int(train_ds.cardinality())
    try:
        val = paired_dataset(data, split="test", preprocess="none", load_size=config.image_size, flip=False,
                             batch_size=config.batch_size, shuffle=False, **common)
        samples = paired_samples(data, split="test", count=config.sample_count, **common)
    except DataError as error:
        log.warning("No validation split used: %s", error)
        val, samples = None, paired_samples(data, split="train", count=config.sample_count, **common)
    return _Data(train_ds.repeat(), steps, val, samples)


def _unpaired_data(config: CycleGANConfig, data) -> _Data:
    """Domain A feeds G; with direction BtoA the folders' B domain plays A."""
    swap = config.direction == "BtoA"
    c_a, c_b = config.input_channels, config.output_channels
    channels = dict(channels_a=c_b, channels_b=c_a) if swap else dict(channels_a=c_a, channels_b=c_b)
    common = dict(image_size=config.image_size, skip_bad_files=config.skip_bad_files, **channels)
    train_ds = unpaired_dataset(data, split="train", load_size=config.load_size, preprocess=config.preprocess,
                                flip=config.flip, batch_size=config.batch_size, shuffle=True, seed=config.seed,
                                **common)
    steps = config.steps_per_epoch or int(train_ds.cardinality())
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
    train_ds = train_ds.repeat()
    if swap:
        train_ds = train_ds.map(_swap)
        val = val.map(_swap) if val is not None else None
        samples = samples[::-1]
    return _Data(train_ds, steps, val, tuple(samples))


# model name -> (config class, model builder, data builder)
_MODELS = {
    "pix2pix": (Pix2PixConfig, pix2pix_from_config, _paired_data),
    "cyclegan": (CycleGANConfig, cyclegan_from_config, _unpaired_data),
}


def build_model(config) -> keras.Model:
    """The compiled-ready (uncompiled) model a config describes: Pix2Pix or CycleGAN."""
    return _MODELS[config.model][1](config)


def train(config, run_dir: str | Path, *, callbacks=(), verbose="auto") -> TrainResult:
    """Trains the model that `config` describes and writes the run folder.

    Args:
        config: Pix2PixConfig or CycleGANConfig. Everything about the run;
            saved as run_dir/config.json.
        run_dir: str or Path. Output folder (created; an existing run there is overwritten).
        callbacks: extra keras callbacks for `fit`.
        verbose: forwarded to `fit`.

    Returns:
        TrainResult(model, history, run_dir, metrics).

    Example:

    >>> # cfg = Pix2PixConfig(data="synth", image_size=64, load_size=72, netG="unet_64", epochs=5)
    >>> # result = train(cfg, "runs/demo")
    """
    if not isinstance(config, (Pix2PixConfig, CycleGANConfig)):
        raise TypeError(f"Invalid value for `config`. Received: {type(config).__name__}. "
                        "Expected Pix2PixConfig or CycleGANConfig.")
    _, make_model, make_data = _MODELS[config.model]
    run_dir = Path(run_dir)
    check_image_size(config.netG, config.image_size, config.image_size)
    keras.utils.set_random_seed(config.seed)

    # 1. Data: an epoch is one pass over the training files unless steps_per_epoch says otherwise.
    data = make_data(config, resolve_data(config.data, config.model))

    # 2. Model and optimizers (the learning rate decays linearly over the last epochs).
    model = make_model(config)
    model.compile(g_optimizer=_optimizer(config, data.steps_per_epoch),
                  d_optimizer=_optimizer(config, data.steps_per_epoch) if model.discriminators else None)

    # 3. The run folder and the callbacks that fill it.
    run_dir.mkdir(parents=True, exist_ok=True)
    config.save(run_dir)
    log_dir = run_dir / "logs"
    all_callbacks = [
        keras.callbacks.TensorBoard(log_dir=str(log_dir), update_freq="epoch", write_graph=False),
        SampleGrid(*data.samples, run_dir / "samples", log_dir=log_dir),
        AtomicModelCheckpoint(run_dir / CHECKPOINT),
        keras.callbacks.TerminateOnNaN(),
        *callbacks,
    ]

    # 4. Train.
    history = model.fit(data.train, epochs=config.epochs, steps_per_epoch=data.steps_per_epoch,
                        validation_data=data.validation, callbacks=all_callbacks, verbose=verbose)
    save_model_atomic(model, run_dir / CHECKPOINT)

    # 5. Final figures.
    metrics = {name: float(values[-1]) for name, values in history.history.items() if values}
    metrics = {k: (v if math.isfinite(v) else None) for k, v in metrics.items()}
    (run_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return TrainResult(model=model, history=history.history, run_dir=run_dir, metrics=metrics)


def load_run(run_or_checkpoint: str | Path):
    """Loads (config, model) from a run folder, or (None, model) from a `.keras` file."""
    from tfgan_translate.config import load_config

    path = Path(run_or_checkpoint)
    if path.suffix == ".keras":
        if not path.is_file():
            raise FileNotFoundError(f"Invalid value for `checkpoint`: {path} does not exist.")
        return None, keras.saving.load_model(path)
    if not path.is_dir():
        raise FileNotFoundError(f"Invalid value for `checkpoint`: {path} is neither a run folder nor a .keras file.")
    config = load_config(path)
    checkpoint = path / CHECKPOINT
    if not checkpoint.is_file():
        raise FileNotFoundError(f"Run {path} has no checkpoint at {checkpoint}: was it trained for an epoch?")
    return config, keras.saving.load_model(checkpoint)


__all__ = ["train", "build_model", "load_run", "resolve_data", "TrainResult", "default_data_home"]

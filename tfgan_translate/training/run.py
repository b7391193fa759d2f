"""`train(config, run_dir)`: what the command line and the notebooks call.

A run folder holds everything about one training run::

    RUN_DIR/
      config.json               the Pix2PixConfig (read back by translate/export)
      checkpoints/latest.keras  networks + optimizer state, replaced atomically each epoch
      logs/                     TensorBoard: train/ and validation/ scalars, samples/ images
      samples/epoch_NNNN.png    input | output | target grids of fixed validation images
      metrics.json              final validation L1 / PSNR / SSIM and the last training losses
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from pathlib import Path

import keras

from tfgan_translate.config import Pix2PixConfig
from tfgan_translate.data import DataError, paired_dataset, paired_samples, write_synthetic_dataset
from tfgan_translate.models.pix2pix import pix2pix_from_config
from tfgan_translate.models.schedules import LinearDecaySchedule
from tfgan_translate.networks import check_image_size
from tfgan_translate.training.callbacks import AtomicModelCheckpoint, SampleGrid, save_model_atomic

log = logging.getLogger("tfgan_translate")

SYNTH = "synth"
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


def resolve_data(data: str) -> Path:
    """Turns `--data` into a folder, generating the built-in set for "synth"."""
    if not data:
        raise ValueError("Invalid value for `data`. Received: data=''. Expected a dataset folder or 'synth'.")
    if data == SYNTH:
        return write_synthetic_dataset(default_data_home() / "synth_facades")
    path = Path(data).expanduser()
    if not path.exists():
        raise DataError(f"Invalid value for `data`: {data} does not exist. Expected a dataset folder or 'synth'.")
    return path


def _optimizer(config, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    lr = config.lr
    if config.n_epochs_decay:
        lr = LinearDecaySchedule(config.lr, steps_per_epoch, config.epochs - config.n_epochs_decay,
                                 config.n_epochs_decay)
    return keras.optimizers.Adam(learning_rate=lr, beta_1=config.beta_1, beta_2=config.beta_2)


def _validation_data(config: Pix2PixConfig, data: Path):
    """The test (or val) split, resized without jitter; None if the set has none."""
    kwargs = dict(direction=config.direction, image_size=config.image_size, input_channels=config.input_channels,
                  output_channels=config.output_channels)
    try:
        val = paired_dataset(data, split="test", preprocess="none", load_size=config.image_size, flip=False,
                             batch_size=config.batch_size, shuffle=False, skip_bad_files=config.skip_bad_files,
                             **kwargs)
        samples = paired_samples(data, split="test", count=config.sample_count, **kwargs)
    except DataError as error:
        log.warning("No validation split used: %s", error)
        return None, paired_samples(data, split="train", count=config.sample_count, **kwargs)
    if config.validation_steps:
        val = val.take(config.validation_steps)
    return val, samples


def train(config: Pix2PixConfig, run_dir: str | Path, *, callbacks=(), verbose="auto") -> TrainResult:
    """Trains the model that `config` describes and writes the run folder.

    Args:
        config: Pix2PixConfig. Everything about the run; saved as run_dir/config.json.
        run_dir: str or Path. Output folder (created; an existing run there is overwritten).
        callbacks: extra keras callbacks for `fit`.
        verbose: forwarded to `fit`.

    Returns:
        TrainResult(model, history, run_dir, metrics).

    Example:

    >>> # cfg = Pix2PixConfig(data="synth", image_size=64, load_size=72, netG="unet_64", epochs=5)
    >>> # result = train(cfg, "runs/demo")
    """
    if not isinstance(config, Pix2PixConfig):
        raise TypeError(f"Invalid value for `config`. Received: {type(config).__name__}. Expected Pix2PixConfig.")
    run_dir = Path(run_dir)
    check_image_size(config.netG, config.image_size, config.image_size)
    keras.utils.set_random_seed(config.seed)
    data = resolve_data(config.data)

    # 1. Data: an epoch is one pass over the training files unless steps_per_epoch says otherwise.
    train_ds = paired_dataset(
        data, split="train", direction=config.direction, image_size=config.image_size, load_size=config.load_size,
        preprocess=config.preprocess, flip=config.flip, input_channels=config.input_channels,
        output_channels=config.output_channels, batch_size=config.batch_size, shuffle=True, seed=config.seed,
        skip_bad_files=config.skip_bad_files,
    )
    steps_per_epoch = config.steps_per_epoch or int(train_ds.cardinality())
    train_ds = train_ds.repeat()
    val_ds, (sample_x, sample_y) = _validation_data(config, data)

    # 2. Model and optimizers.
    model = pix2pix_from_config(config)
    model.compile(
        g_optimizer=_optimizer(config, steps_per_epoch),
        d_optimizer=_optimizer(config, steps_per_epoch) if model.uses_gan else None,
    )

    # 3. The run folder and the callbacks that fill it.
    run_dir.mkdir(parents=True, exist_ok=True)
    config.save(run_dir)
    log_dir = run_dir / "logs"
    all_callbacks = [
        keras.callbacks.TensorBoard(log_dir=str(log_dir), update_freq="epoch", write_graph=False),
        SampleGrid(sample_x, sample_y, run_dir / "samples", log_dir=log_dir),
        AtomicModelCheckpoint(run_dir / CHECKPOINT),
        keras.callbacks.TerminateOnNaN(),
        *callbacks,
    ]

    # 4. Train.
    history = model.fit(train_ds, epochs=config.epochs, steps_per_epoch=steps_per_epoch, validation_data=val_ds,
                        callbacks=all_callbacks, verbose=verbose)
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


__all__ = ["train", "load_run", "resolve_data", "TrainResult", "default_data_home"]

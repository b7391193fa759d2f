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
import logging
import math
import shutil
import tempfile
import typing
from pathlib import Path

import keras

from tfgan_translate.config import CycleGANConfig, Pix2PixConfig, check_resumable, load_config
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
from tfgan_translate.data.layout import default_data_home
from tfgan_translate.io import write_json
from tfgan_translate.models.cycle_gan import cyclegan_from_config
from tfgan_translate.models.pix2pix import pix2pix_from_config
from tfgan_translate.models.schedules import LinearDecaySchedule
from tfgan_translate.networks import check_image_size
from tfgan_translate.networks.winograd import set_winograd
from tfgan_translate.training.checkpoints import RunCheckpoint, latest_checkpoint
from tfgan_translate.training.custom_loop import fit_distributed
from tfgan_translate.training.distribute import check_global_batch, is_chief, make_strategy, needs_custom_loop
from tfgan_translate.training.legacy import load_checkpoint
from tfgan_translate.training.monitoring import ProgressLog, StopOnNonFinite, TensorBoardLogger, TrainingDiverged
from tfgan_translate.training.optimizers import FusedAdam
from tfgan_translate.training.precision import precision_scope, resolve_jit, wrap_optimizer
from tfgan_translate.training.previews import SampleGrid

log = logging.getLogger("tfgan_translate")

@dataclasses.dataclass
class TrainResult:
    """What `train` returns: the trained model, Keras' history and the run's files."""

    model: keras.Model
    history: dict
    run_dir: Path
    metrics: dict


def resolve_data(data: str, model: str = "pix2pix"):
    """Turns `--data` into a folder (or a TFDS name), generating the built-in sets on request.

    "synth" is the synthetic facades: paired (label map | photo) for pix2pix,
    unpaired (label maps in trainA, photos of other label maps in trainB) for
    CycleGAN; "synth:palette" is CycleGAN's easy unpaired set whose hidden
    mapping is a palette permutation. See `tfgan_translate.data.layout.resolve_data`.
    """
    return layout.resolve_data(data, paired=model == "pix2pix")


def _schedule(config, steps_per_epoch: int) -> LinearDecaySchedule:
    """Both papers' rate: constant for the first epochs, then linear decay to 0 (constant if no decay)."""
    return LinearDecaySchedule(config.lr, steps_per_epoch, config.constant_epochs, config.decay_epochs,
                               per_step=config.lr_decay_per_step)


def _optimizer(config, steps_per_epoch: int, precision: str) -> keras.optimizers.Optimizer:
    """Adam (its fused TensorFlow kernel) on the schedule; wrapped in a LossScaleOptimizer for mixed_float16."""
    adam = FusedAdam(learning_rate=_schedule(config, steps_per_epoch), beta_1=config.beta_1,
                                 beta_2=config.beta_2)
    return wrap_optimizer(adam, precision)


def _model_precision(model) -> str:
    """The dtype policy the model's generator computes in (a checkpoint keeps the one it was built with)."""
    return next(layer.dtype_policy.name for layer in model.generators[0].layers if layer.weights)


def _swap(a, b):
    return b, a


class _Data(typing.NamedTuple):
    steps_per_epoch: int  # counted from the files (or config.steps_per_epoch)
    train: typing.Callable  # skip -> tf.data.Dataset of (x, y) batches, endless, from example `skip` on
    validation: object  # tf.data.Dataset or None
    samples: tuple  # (x, y) numpy arrays for the preview grids


def _paired_data(config: Pix2PixConfig, data) -> _Data:
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
    return _Data(steps, train_stream, val, samples)


def _unpaired_data(config: CycleGANConfig, data) -> _Data:
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
    return _Data(steps, train_stream, val, tuple(samples))


# model name -> (config class, model builder, data builder)
_MODELS = {
    "pix2pix": (Pix2PixConfig, pix2pix_from_config, _paired_data),
    "cyclegan": (CycleGANConfig, cyclegan_from_config, _unpaired_data),
}


def build_model(config) -> keras.Model:
    """The compiled-ready (uncompiled) model a config describes: Pix2Pix or CycleGAN."""
    model = _MODELS[config.model][1](config)
    set_winograd(model, config.winograd)
    return model


def train(config, run_dir: str | Path, *, resume: bool = False, callbacks=(), verbose="auto",
          strategy=None) -> TrainResult:
    """Trains the model that `config` describes and writes the run folder.

    Args:
        config: Pix2PixConfig or CycleGANConfig. Everything about the run;
            saved as run_dir/config.json.
        run_dir: str or Path. Output folder (created).
        resume: bool. Continue from run_dir/checkpoints/latest.keras when it
            exists: networks, optimizers (and so the learning-rate schedule),
            image pools, random streams, the epoch and the position in the data
            stream all continue where the checkpoint left them, so the result
            equals an uninterrupted run's. `config` may only differ from the
            saved one in `config.RESUMABLE_CHANGES` (e.g. more epochs).
            Without a checkpoint a new run starts. Defaults to False.
        callbacks: extra keras callbacks for `fit`.
        verbose: forwarded to `fit`.
        strategy: tf.distribute.Strategy or None. Where to train; None makes
            the one `config.strategy` names (`distribute.make_strategy`).
            `config.batch_size` is the GLOBAL batch, split over the replicas.
            Under a multi-worker strategy only the chief writes `run_dir`
            (the other workers write to a temporary folder, then delete it).

    Precision and compilation: the networks are built under the policy
    `config.precision` resolves to (`precision.set_precision`; the global
    policy is restored afterwards), with a loss-scale optimizer for
    mixed_float16; a resumed run keeps its checkpoint's precision.
    `config.jit` asks for XLA.

    Returns:
        TrainResult(model, history, run_dir, metrics).

    Raises:
        TrainingDiverged: a loss became NaN/Inf; the last good checkpoint is kept.

    Example:

    >>> # cfg = Pix2PixConfig(data="synth", image_size=64, load_size=72, netG="unet_64", epochs=5)
    >>> # result = train(cfg, "runs/demo")
    >>> # result = train(cfg.replace(epochs=10), "runs/demo", resume=True)  # five more
    """
    if not isinstance(config, (Pix2PixConfig, CycleGANConfig)):
        raise TypeError(f"Invalid value for `config`. Received: {type(config).__name__}. "
                        "Expected Pix2PixConfig or CycleGANConfig.")
    make_data = _MODELS[config.model][2]
    # The strategy first: a multi-worker one must exist before any other TensorFlow work.
    strategy = make_strategy(config.strategy) if strategy is None else strategy
    check_global_batch(config.batch_size, strategy)
    run_dir = Path(run_dir)
    check_image_size(config.netG, config.image_size, config.image_size)
    checkpoint = latest_checkpoint(run_dir) if resume else None
    if checkpoint is not None:
        check_resumable(load_config(run_dir), config)
    elif resume:
        log.info("No checkpoint in %s: starting a new run.", run_dir)
    keras.utils.set_random_seed(config.seed)
    data_root = resolve_data(config.data, config.model)
    data = make_data(config, data_root)  # validation data and samples; the training stream per part, below
    steps_per_epoch = data.steps_per_epoch

    # 1. Model and optimizers, in the strategy's scope: new, or everything restored from the checkpoint.
    jit = resolve_jit(config.jit)
    with strategy.scope():
        if checkpoint is not None:
            model = load_checkpoint(checkpoint, load_config(run_dir))
            for optimizer in (model.g_optimizer, model.d_optimizer):
                if optimizer is not None:  # `epochs` may have changed; the schedule is a function of the step
                    optimizer.learning_rate = _schedule(config, steps_per_epoch)
            model.jit_compile = jit
            set_winograd(model, config.winograd)
            log.info("Resuming %s from %s (step %d).", run_dir, checkpoint, model.steps_run)
        else:
            with precision_scope(config.precision) as policy:
                model = build_model(config)
            model.compile(g_optimizer=_optimizer(config, steps_per_epoch, policy),
                          d_optimizer=_optimizer(config, steps_per_epoch, policy) if model.discriminators else None,
                          jit_compile=jit)
    log.info("Training %s in %s on %d replica(s)%s.", config.model, _model_precision(model),
             strategy.num_replicas_in_sync, " with XLA" if jit else "")
    if checkpoint is not None and config.precision != "auto" and config.precision != _model_precision(model):
        log.warning("precision=%s ignored: a resumed run keeps its checkpoint's precision (%s).",
                    config.precision, _model_precision(model))
    step = model.steps_run
    initial_epoch, step_in_epoch = divmod(step, steps_per_epoch)
    if initial_epoch >= config.epochs:
        log.info("Run %s already trained %d of %d epochs.", run_dir, initial_epoch, config.epochs)

    # 2. The run folder and the callbacks that fill it (a scratch folder on non-chief workers:
    #    they run the same callbacks, so that any collective op in them happens on every worker).
    chief = is_chief(strategy)
    out_dir = run_dir if chief else Path(tempfile.mkdtemp(prefix="tfgan_translate_worker_"))
    out_dir.mkdir(parents=True, exist_ok=True)
    config.save(out_dir)
    log_dir = out_dir / "logs"
    guard = StopOnNonFinite()
    all_callbacks = [
        guard,
        TensorBoardLogger(log_dir, every_steps=config.log_every, hparams=config.to_dict()),
        SampleGrid(*data.samples, out_dir / "samples", log_dir=log_dir, every_steps=config.sample_every),
        RunCheckpoint(out_dir / "checkpoints", every_steps=config.checkpoint_every, keep=config.keep_checkpoints),
        ProgressLog(config.epochs, steps_per_epoch),
        *callbacks,
    ]

    try:
        # 3. Train: first the rest of an interrupted epoch, then whole epochs. Each part reads the
        #    data stream from the position the optimizer's step counter gives.
        history: dict[str, list] = {}
        parts = []  # (first step, first epoch, steps per epoch)
        if step_in_epoch and initial_epoch < config.epochs:
            parts.append((step, initial_epoch, steps_per_epoch - step_in_epoch))
            initial_epoch += 1
        if initial_epoch < config.epochs:
            parts.append((initial_epoch * steps_per_epoch, initial_epoch, steps_per_epoch))
        for first_step, first_epoch, steps in parts:
            last_epoch = first_epoch + 1 if steps != steps_per_epoch else config.epochs
            part = _fit(model, strategy, data.train(first_step * config.batch_size), initial_epoch=first_epoch,
                        epochs=last_epoch, steps_per_epoch=steps, validation_data=data.validation,
                        callbacks=all_callbacks, verbose=verbose)
            for name, values in part.items():
                history.setdefault(name, []).extend(values)
            if guard.message:
                raise TrainingDiverged(guard.message)

        # 4. Final figures.
        metrics = {name: float(values[-1]) for name, values in history.items() if values}
        metrics = {k: (v if math.isfinite(v) else None) for k, v in metrics.items()}
        if metrics:
            write_json(out_dir / "metrics.json", metrics, sort_keys=True)
    finally:
        if not chief:
            shutil.rmtree(out_dir, ignore_errors=True)
    return TrainResult(model=model, history=history, run_dir=run_dir, metrics=metrics)


def _fit(model, strategy, dataset, *, verbose, **kwargs) -> dict:
    """`model.fit(...).history`, or `fit_distributed` where Keras' fit cannot train (multi-worker)."""
    if needs_custom_loop(strategy):
        return fit_distributed(model, dataset, strategy=strategy, verbose=1 if verbose == "auto" else verbose,
                               **kwargs)
    # shuffle=False: the data stream is shuffled (and seeded) already.
    return model.fit(dataset, verbose=verbose, shuffle=False, **kwargs).history


def load_run(run_or_checkpoint: str | Path):
    """Loads (config, model) from a run folder (its latest checkpoint), or (None, model) from a `.keras` file."""
    path = Path(run_or_checkpoint)
    if path.suffix == ".keras":
        if not path.is_file():
            raise FileNotFoundError(f"Invalid value for `checkpoint`: {path} does not exist.")
        return None, load_checkpoint(path)
    if not path.is_dir():
        raise FileNotFoundError(f"Invalid value for `checkpoint`: {path} is neither a run folder nor a .keras file.")
    config = load_config(path)
    checkpoint = latest_checkpoint(path)
    if checkpoint is None:
        raise FileNotFoundError(f"Run {path} has no checkpoints/latest.keras: was it trained for an epoch?")
    return config, load_checkpoint(checkpoint, config)


__all__ = ["TrainResult", "build_model", "default_data_home", "load_run", "resolve_data", "train"]

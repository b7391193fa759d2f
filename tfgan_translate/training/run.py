"""`train(config, run_dir)`: what the command line and the notebooks call.

A run folder holds everything about one training run::

    RUN_DIR/
      config.json               the Pix2PixConfig / CycleGANConfig / CUTConfig (read back by translate/export)
      checkpoints/latest.keras  networks + optimizer state, replaced atomically each epoch
      logs/                     TensorBoard: train/ and validation/ scalars, samples/ images
      samples/epoch_NNNN.png    preview grids of fixed validation images (see SampleGrid)
      metrics.json              the last epoch's training losses and validation metrics
      .lock                     while a run trains: its PID (`io.folder_lock`)

Run folders are owned: `train` refuses a folder that holds a run (config.json or checkpoints/) unless
`resume=True` continues it or `overwrite=True` replaces it, and a non-empty folder that holds no run
unless `overwrite=True`; while it trains, the folder's lock makes a second writer fail at once
(`run_folder.py`). The data each model trains on: `run_data`.
"""

import dataclasses
import logging
import math
import tempfile
from pathlib import Path

import keras

from tfgan_translate import data as datasets
from tfgan_translate.accelerate import FusedAdam, accelerate
from tfgan_translate.config import CUTConfig, CycleGANConfig, Pix2PixConfig, check_resumable, load_config
from tfgan_translate.data import layout
from tfgan_translate.inference_mode import remember_run_mode
from tfgan_translate.io import write_json
from tfgan_translate.models.cut import cut_from_config
from tfgan_translate.models.cycle_gan import cyclegan_from_config
from tfgan_translate.models.pix2pix import pix2pix_from_config
from tfgan_translate.models.schedules import LinearDecaySchedule
from tfgan_translate.networks import check_image_size
from tfgan_translate.training import checkpoints
from tfgan_translate.training.custom_loop import fit_distributed
from tfgan_translate.training.distribute import check_global_batch, is_chief, make_strategy, needs_custom_loop
from tfgan_translate.training.monitoring import ProgressLog, StopOnNonFinite, TensorBoardLogger, TrainingDiverged
from tfgan_translate.training.precision import precision_scope, resolve_jit, wrap_optimizer
from tfgan_translate.training.previews import SampleGrid
from tfgan_translate.training.run_folder import RunFolderError, claim_run_folder, delete_previous_run

log = logging.getLogger("tfgan_translate")


def resolve_data(data: str, model: str = "pix2pix"):
    """Turns `--data` into a folder (or a TFDS name), generating the built-in sets on request.

    "synth" is the synthetic facades: paired (label map | photo) for pix2pix,
    unpaired (label maps in trainA, photos of other label maps in trainB) for
    CycleGAN and CUT; "synth:palette" is CycleGAN's easy unpaired set whose hidden
    mapping is a palette permutation. See `tfgan_translate.data.layout.resolve_data`.
    """
    return layout.resolve_data(data, paired=model == "pix2pix")


def run_data(config: Pix2PixConfig | CycleGANConfig | CUTConfig, data) -> tuple:
    """The data of a run: pairs for pix2pix; unpaired for CycleGAN and CUT, domain A feeding G (with direction
    BtoA, B plays A).

    Returns:
        `(steps_per_epoch, train_stream, validation, samples)`: the steps counted from the files (or
        `config.steps_per_epoch`); `train_stream(skip)`, the endless tf.data.Dataset of (x, y) batches from
        example `skip` on; the validation tf.data.Dataset or None; the (x, y) numpy arrays of the preview grids.
    """
    paired = config.model == "pix2pix"
    swap = not paired and config.direction == "BtoA"
    c_in, c_out = config.input_channels, config.output_channels
    # Counting validates the training files, before the model is built (the dataset reuses the results).
    count = dict(skip_bad_files=config.skip_bad_files, preprocess=config.preprocess, image_size=config.image_size)
    if paired:
        channels = dict(direction=config.direction, input_channels=c_in, output_channels=c_out)
        dataset, samples_of = datasets.paired_dataset, datasets.paired_samples
        steps = math.ceil(datasets.paired_file_count(data, "train", **count) / config.batch_size)
    else:
        channels = dict(channels_a=c_out, channels_b=c_in) if swap else dict(channels_a=c_in, channels_b=c_out)
        dataset, samples_of = datasets.unpaired_dataset, datasets.unpaired_samples
        steps = datasets.unpaired_steps_per_epoch(*datasets.unpaired_file_counts(data, "train", **count),
                                                  config.batch_size)
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
    except datasets.DataError as error:
        log.warning("No validation split used: %s", error)
        val, samples = None, samples_of(data, split="train", count=config.sample_count, **common)
    rows = min(len(samples[0]), len(samples[1]))  # CycleGAN's domains may hold different numbers of images
    samples = (samples[0][:rows], samples[1][:rows])
    return config.steps_per_epoch or steps, train_stream, _swapped(val, swap), samples[::-1] if swap else samples


def _swapped(dataset, swap: bool):
    """`dataset` with each (a, b) element as (b, a) when `swap`; None stays None."""
    return dataset.map(lambda a, b: (b, a)) if swap and dataset is not None else dataset


@dataclasses.dataclass
class TrainResult:
    """What `train` returns: the trained model, Keras' history and the run's files."""

    model: keras.Model
    history: dict
    run_dir: Path
    metrics: dict


def _schedule(config, steps_per_epoch: int) -> LinearDecaySchedule:
    """Both papers' rate: constant for the first epochs, then linear decay to 0 (constant if no decay)."""
    return LinearDecaySchedule(config.lr, steps_per_epoch, config.constant_epochs, config.decay_epochs,
                               per_step=config.lr_decay_per_step)


def compile_model(model, config, steps_per_epoch: int, *, policy: str | None = None, jit_compile="auto"):
    """Compiles `model` as `train` does: the reference's Adam on the schedule for each side, in a
    LossScaleOptimizer for mixed_float16 (`policy`: a precision name; None, the global policy's)."""
    def adam():
        return wrap_optimizer(FusedAdam(learning_rate=_schedule(config, steps_per_epoch), beta_1=config.beta_1,
                                        beta_2=config.beta_2, epsilon=config.adam_epsilon), policy)
    model.compile(g_optimizer=adam(), d_optimizer=adam() if model.discriminators else None, jit_compile=jit_compile)
    return model


# Each run config's model, built from it (uncompiled).
MODEL_BUILDERS = {"pix2pix": pix2pix_from_config, "cyclegan": cyclegan_from_config, "cut": cut_from_config}


def build_model(config) -> keras.Model:
    """The compiled-ready (uncompiled) model a config describes: Pix2Pix, CycleGAN or CUT."""
    return MODEL_BUILDERS[config.model](config)


def train(config, run_dir: str | Path, *, resume: bool = False, overwrite: bool = False, callbacks=(),
          verbose="auto", strategy=None) -> TrainResult:
    """Trains the model that `config` describes and writes the run folder.

    Args:
        config: Pix2PixConfig, CycleGANConfig or CUTConfig. Everything
            about the run; saved as run_dir/config.json.
        run_dir: str or Path. Output folder: a new or empty one (created),
            or one holding a run with `resume` or `overwrite`. It is locked
            while the run trains (`run_dir/.lock`, with this process's PID).
        resume: bool. Continue the run in `run_dir` from its newest checkpoint
            that loads (`latest.keras`, else the newest intact epoch/step one,
            with a warning naming the refused ones): networks, optimizers (and
            so the learning-rate schedule), image pools, random streams, the
            epoch and the position in the data stream all continue where the
            checkpoint left them, so the result equals an uninterrupted run's.
            `config` may only differ from the saved one in
            `config.RESUMABLE_CHANGES` (e.g. more epochs). Without a checkpoint
            a new run starts. Defaults to False.
        overwrite: bool. Train a new run in a folder that holds one: the old
            run's files (config.json, metrics.json, imported.json, the
            checkpoints, TensorBoard event files, preview grids and
            index.html) are deleted just before the new run writes its own;
            anything else in the folder stays. In a non-empty folder that holds
            no run, write the run beside its files (deleting nothing; files with
            the run's names are replaced). Defaults to False.
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
    `config.jit` asks for XLA. The CPU speed-ups (`tfgan_translate.accelerate`,
    Winograd as `config.winograd` says) are switched on the built or loaded
    model, and are never saved with it.

    Returns:
        TrainResult(model, history, run_dir, metrics).

    Raises:
        TrainingDiverged: a loss became NaN/Inf; the last good checkpoint is kept.
        RunFolderError: `run_dir` holds a run (or other files) and neither
            `resume` nor `overwrite` allows writing there.
        NotADirectoryError: `run_dir` is an existing file.
        FolderLockedError: another process is training into `run_dir`.
        CheckpointLoadError: resuming, none of the run's checkpoints loads.

    Example:

    >>> # cfg = Pix2PixConfig(data="synth", image_size=64, load_size=72, netG="unet_64", epochs=5)
    >>> # result = train(cfg, "runs/demo")
    >>> # result = train(cfg.replace(epochs=10), "runs/demo", resume=True)  # five more
    >>> # result = train(cfg, "runs/demo", overwrite=True)  # start it over
    """
    if not isinstance(config, (Pix2PixConfig, CycleGANConfig, CUTConfig)):
        raise TypeError(f"Invalid value for `config`. Received: {type(config).__name__}. "
                        "Expected Pix2PixConfig, CycleGANConfig or CUTConfig.")
    if resume and overwrite:
        raise ValueError("Invalid arguments: resume=True and overwrite=True (--resume, --overwrite). Expected at "
                         "most one: resume continues the run in `run_dir`, overwrite replaces it.")
    # The strategy first: a multi-worker one must exist before any other TensorFlow work.
    strategy = make_strategy(config.strategy) if strategy is None else strategy
    check_global_batch(config.batch_size, strategy)
    check_image_size(config.netG, config.image_size, config.image_size)
    run_dir, chief = Path(run_dir), is_chief(strategy)
    # Only the chief claims (checks, locks) the run folder and writes there. The other workers of a cluster read
    # it (to resume) and write into a scratch folder, deleted at the end: they run the same callbacks, so that
    # any collective op in them happens on every worker.
    folder = (claim_run_folder(run_dir, resume=resume, overwrite=overwrite) if chief else
              tempfile.TemporaryDirectory(prefix="tfgan_translate_worker_", ignore_cleanup_errors=True))
    with folder as claimed:
        out_dir = run_dir if chief else Path(claimed)

        # 1. Data: the validation set and preview samples; the training stream is read per part (4.).
        resuming = resume and bool(checkpoints.checkpoint_candidates(run_dir))
        if resuming:
            check_resumable(load_config(run_dir), config)
        elif resume:
            log.info("No checkpoint in %s: starting a new run.", run_dir)
        keras.utils.set_random_seed(config.seed)
        steps_per_epoch, train_stream, validation, samples = run_data(config, resolve_data(config.data, config.model))

        # 2. Model and optimizers, in the strategy's scope: new, or everything restored from the checkpoint.
        jit = resolve_jit(config.jit)
        with strategy.scope():
            if resuming:
                checkpoint, model = checkpoints.load_newest_checkpoint(run_dir)
                for optimizer in filter(None, (model.g_optimizer, model.d_optimizer)):
                    # `epochs` may have changed; the schedule is a function of the step
                    optimizer.learning_rate = _schedule(config, steps_per_epoch)
                    # a run saved before `adam_epsilon` existed has Keras' 1e-7 in its checkpoint: the config's
                    getattr(optimizer, "inner_optimizer", optimizer).epsilon = config.adam_epsilon
                model.jit_compile = jit
                log.info("Resuming %s from %s (step %d).", run_dir, checkpoint, model.steps_run)
            else:
                with precision_scope(config.precision) as policy:
                    model = build_model(config)
                compile_model(model, config, steps_per_epoch, policy=policy, jit_compile=jit)
        accelerate(model, winograd=config.winograd)  # speed-ups of the built model, never saved with it
        # the dtype policy the generator computes in (a checkpoint keeps the one it was built with)
        precision = model.generators[0].compute_policy
        log.info("Training %s in %s on %d replica(s)%s.", config.model, precision, strategy.num_replicas_in_sync,
                 " with XLA" if jit else "")
        if resuming and config.precision not in ("auto", precision):
            log.warning("precision=%s ignored: a resumed run keeps its checkpoint's precision (%s).",
                        config.precision, precision)

        # 3. The run folder and the callbacks that fill it.
        if claimed == "run" and overwrite:  # the chief replaces a run: the old run's files go first
            delete_previous_run(run_dir)
        config.save(out_dir)
        guard = StopOnNonFinite()
        all_callbacks = [
            guard,
            TensorBoardLogger(out_dir / "logs", every_steps=config.log_every, hparams=config.to_dict()),
            SampleGrid(*samples, out_dir / "samples", log_dir=out_dir / "logs", every_steps=config.sample_every),
            checkpoints.RunCheckpoint(out_dir / "checkpoints", every_steps=config.checkpoint_every,
                                      keep=config.keep_checkpoints),
            ProgressLog(config.epochs, steps_per_epoch),
            *callbacks,
        ]

        # 4. Train: first the rest of an interrupted epoch, then whole epochs. Each part reads the data stream
        #    from the position of its first step (the optimizer's step counter).
        history: dict[str, list] = {}
        step, end = model.steps_run, config.epochs * steps_per_epoch
        if step >= end:
            log.info("Run %s already trained %d of %d epochs.", run_dir, step // steps_per_epoch, config.epochs)
        while step < end:
            epoch, done = divmod(step, steps_per_epoch)
            last = epoch + 1 if done else config.epochs
            part = _fit(model, strategy, train_stream(step * config.batch_size), initial_epoch=epoch, epochs=last,
                        steps_per_epoch=steps_per_epoch - done, validation_data=validation,
                        validation_steps=config.validation_steps, callbacks=all_callbacks, verbose=verbose)
            for name, values in part.items():
                history.setdefault(name, []).extend(values)
            if guard.message:
                raise TrainingDiverged(guard.message)
            step = last * steps_per_epoch

        # 5. Results: the last epoch's figures (None where not finite).
        metrics = {name: float(v[-1]) if math.isfinite(v[-1]) else None for name, v in history.items() if v}
        if metrics:
            write_json(out_dir / "metrics.json", metrics, sort_keys=True)
    remember_run_mode(model, config)  # translating its generators from Python: the run's test-time mode
    return TrainResult(model=model, history=history, run_dir=run_dir, metrics=metrics)


def _fit(model, strategy, dataset, *, verbose, **kwargs) -> dict:
    """`model.fit(...).history`, or `fit_distributed` where Keras' fit cannot train (multi-worker)."""
    if needs_custom_loop(strategy):
        return fit_distributed(model, dataset, strategy=strategy, verbose=1 if verbose == "auto" else verbose,
                               **kwargs)
    # shuffle=False: the data stream is shuffled (and seeded) already.
    return model.fit(dataset, verbose=verbose, shuffle=False, **kwargs).history


def load_run(run_or_checkpoint: str | Path):
    """Loads (config, model) from a run folder, or (None, model) from a `.keras` file.

    A run folder gives its newest checkpoint that loads: `latest.keras`, or where that is damaged the newest
    intact epoch/step checkpoint, with a warning naming each one refused and why
    (`checkpoints.load_newest_checkpoint`). The model is accelerated as it trained (`accelerate`, Winograd
    as `config.winograd` says, on for a lone file): translating with a ResNet generator on CPU is 1.4x faster.

    Args:
        run_or_checkpoint: str or Path. A run folder written by `train` (or `import`), or a `.keras` file.

    Returns:
        (config, model); config is None for a lone `.keras` file. The run's test-time mode (`test_dropout`,
        `test_batch_norm`) is recorded as its generators' default (`inference_mode.remember_run_mode`).

    Raises:
        FileNotFoundError: the path does not exist, or the run has no checkpoint.
        CheckpointLoadError: the file, or every checkpoint of the run, fails to load (each named, with why).

    Example:

    >>> config, model = load_run("runs/facades")  # doctest: +SKIP
    """
    path = Path(run_or_checkpoint)
    if path.suffix == ".keras":
        if not path.is_file():
            raise FileNotFoundError(f"Invalid value for `checkpoint`: {path} does not exist.")
        config, model = None, checkpoints.load_checkpoint_file(path)
    elif path.is_dir():
        config, model = load_config(path), checkpoints.load_newest_checkpoint(path)[1]
    else:
        raise FileNotFoundError(f"Invalid value for `checkpoint`: {path} is neither a run folder nor a .keras file.")
    accelerate(model, winograd=config is None or config.winograd)
    if config is not None:
        remember_run_mode(model, config)  # `translate_files(model.generator, ...)`: the run's test-time mode
    return config, model


__all__ = ["RunFolderError", "TrainResult", "build_model", "compile_model", "load_run", "resolve_data", "train"]

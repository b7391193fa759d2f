"""`train(config, run_dir)`: what the command line and the notebooks call.

A run folder holds everything about one training run::

    RUN_DIR/
      config.json               the Pix2PixConfig / CycleGANConfig (read back by translate/export)
      checkpoints/latest.keras  networks + optimizer state, replaced atomically each epoch
      logs/                     TensorBoard: train/ and validation/ scalars, samples/ images
      samples/epoch_NNNN.png    preview grids of fixed validation images (see SampleGrid)
      metrics.json              the last epoch's training losses and validation metrics
      .lock                     while a run trains: its PID (`io.folder_lock`)

Run folders are owned: `train` refuses a folder that holds a run (config.json or checkpoints/) unless
`resume=True` continues it or `overwrite=True` replaces it, and a non-empty folder that holds no run
unless `overwrite=True`; while it trains, the folder's lock makes a second writer fail at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import re
import shutil
import tempfile
import typing
from pathlib import Path

import keras

from tfgan_translate.config import CONFIG_FILENAME, CycleGANConfig, Pix2PixConfig, check_resumable, load_config
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
from tfgan_translate.io import LOCK_NAME, TMP_MARK, folder_lock, write_json
from tfgan_translate.models.cycle_gan import cyclegan_from_config
from tfgan_translate.models.pix2pix import pix2pix_from_config
from tfgan_translate.models.schedules import LinearDecaySchedule
from tfgan_translate.networks import check_image_size
from tfgan_translate.networks.winograd import set_winograd
from tfgan_translate.training.checkpoints import (
    RunCheckpoint,
    checkpoint_candidates,
    load_checkpoint_file,
    load_newest_checkpoint,
    remove_stale_checkpoint_files,
)
from tfgan_translate.training.custom_loop import fit_distributed
from tfgan_translate.training.distribute import check_global_batch, is_chief, make_strategy, needs_custom_loop
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


def train(config, run_dir: str | Path, *, resume: bool = False, overwrite: bool = False, callbacks=(),
          verbose="auto", strategy=None) -> TrainResult:
    """Trains the model that `config` describes and writes the run folder.

    Args:
        config: Pix2PixConfig or CycleGANConfig. Everything about the run;
            saved as run_dir/config.json.
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
    `config.jit` asks for XLA.

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
    if not isinstance(config, (Pix2PixConfig, CycleGANConfig)):
        raise TypeError(f"Invalid value for `config`. Received: {type(config).__name__}. "
                        "Expected Pix2PixConfig or CycleGANConfig.")
    if resume and overwrite:
        raise ValueError("Invalid arguments: resume=True and overwrite=True (--resume, --overwrite). Expected at "
                         "most one: resume continues the run in `run_dir`, overwrite replaces it.")
    # The strategy first: a multi-worker one must exist before any other TensorFlow work.
    strategy = make_strategy(config.strategy) if strategy is None else strategy
    check_global_batch(config.batch_size, strategy)
    run_dir = Path(run_dir)
    check_image_size(config.netG, config.image_size, config.image_size)
    # Only the chief owns the run folder; the other workers of a cluster read it (to resume) and write nothing.
    chief = is_chief(strategy)
    claim = _claimed(run_dir, resume=resume, overwrite=overwrite) if chief else contextlib.nullcontext("worker")
    with claim as kind:
        return _train(config, run_dir, strategy, resume=resume, replace=kind == "run" and overwrite, chief=chief,
                      callbacks=callbacks, verbose=verbose)


def _train(config, run_dir: Path, strategy, *, resume: bool, replace: bool, chief: bool, callbacks,
           verbose) -> TrainResult:
    """`train` in a claimed run folder (or on a non-chief worker); `replace`: delete the old run's files first."""
    make_data = _MODELS[config.model][2]
    resuming = resume and bool(checkpoint_candidates(run_dir))
    if resuming:
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
        if resuming:
            checkpoint, model = load_newest_checkpoint(run_dir, load_config(run_dir))
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
    if resuming and config.precision != "auto" and config.precision != _model_precision(model):
        log.warning("precision=%s ignored: a resumed run keeps its checkpoint's precision (%s).",
                    config.precision, _model_precision(model))
    step = model.steps_run
    initial_epoch, step_in_epoch = divmod(step, steps_per_epoch)
    if initial_epoch >= config.epochs:
        log.info("Run %s already trained %d of %d epochs.", run_dir, initial_epoch, config.epochs)

    # 2. The run folder and the callbacks that fill it (a scratch folder on non-chief workers:
    #    they run the same callbacks, so that any collective op in them happens on every worker).
    out_dir = run_dir if chief else Path(tempfile.mkdtemp(prefix="tfgan_translate_worker_"))
    if replace:
        _delete_previous_run(run_dir)
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
    """Loads (config, model) from a run folder, or (None, model) from a `.keras` file.

    A run folder gives its newest checkpoint that loads: `latest.keras`, or where that is damaged the newest
    intact epoch/step checkpoint, with a warning naming each one refused and why
    (`checkpoints.load_newest_checkpoint`).

    Args:
        run_or_checkpoint: str or Path. A run folder written by `train` (or `import`), or a `.keras` file.

    Returns:
        (config, model); config is None for a lone `.keras` file.

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
        return None, load_checkpoint_file(path)
    if not path.is_dir():
        raise FileNotFoundError(f"Invalid value for `checkpoint`: {path} is neither a run folder nor a .keras file.")
    config = load_config(path)
    return config, load_newest_checkpoint(path, config)[1]


# ------------------------------------------------------------------ owning the run folder
class RunFolderError(FileExistsError):
    """`train` refused `run_dir`: it holds a run (or other files), and neither `resume` nor `overwrite` was given."""


# What a run writes, and so all that overwrite=True deletes: (sub-folder, file-name pattern); "logs" recursively.
_RUN_FILES = (
    ("", rf"{re.escape(CONFIG_FILENAME)}|metrics\.json|imported\.json"),
    ("checkpoints", r"(epoch_\d+|step_\d+|latest)\.keras"),
    ("samples", r"epoch_\d+\.png|index\.html"),
    ("logs", r"events\.out\.tfevents\..+"),
)


_DESKTOP_FILES = (".DS_Store", "Thumbs.db", "desktop.ini")  # what file browsers put in an "empty" folder


def _is_bookkeeping(name: str) -> bool:
    """The lock file, the temporaries of `io` (`remove_stale_checkpoint_files` handles them), file browsers' files."""
    return name in (LOCK_NAME, *_DESKTOP_FILES) or (name.startswith(".") and (TMP_MARK in name or ".old-" in name))


def _folder_kind(run_dir: Path) -> tuple[str, list[str]]:
    """("new" | "run" | "other", the names found): missing or empty, holding a run, or holding other files.

    A run is a config.json, or checkpoints/ holding a checkpoint of ours (a folder of other checkpoints is not).
    """
    if not run_dir.exists():
        return "new", []
    if not run_dir.is_dir():
        raise NotADirectoryError(f"Invalid value for `run_dir` (--out). Received: {run_dir}, an existing file. "
                                 "Expected a folder: a new or empty one, or a run folder to resume.")
    names = sorted(entry.name + ("/" if entry.is_dir() else "") for entry in run_dir.iterdir()
                   if not _is_bookkeeping(entry.name))
    if (run_dir / CONFIG_FILENAME).exists() or checkpoint_candidates(run_dir):  # a checkpoints/ of ours
        return "run", names
    return ("other" if names else "new"), names


def _check_run_folder(run_dir: Path, *, resume: bool, overwrite: bool) -> str:
    """The folder's kind, if `train` may write there with these flags; else RunFolderError saying which to pass."""
    kind, names = _folder_kind(run_dir)
    if kind == "run" and not (resume or overwrite):
        raise RunFolderError(
            f"Invalid value for `run_dir` (--out). Received: {run_dir}, which already holds a run (config.json or "
            "checkpoints/*.keras). Expected a new or empty folder; or pass resume=True (--resume) to continue that "
            "run, or overwrite=True (--overwrite) to replace it (its checkpoints, logs, samples and config are "
            "deleted; other files stay).")
    if kind == "other" and not overwrite:
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        purpose = "holds no run to resume" if resume else "is not empty and holds no run"
        raise RunFolderError(
            f"Invalid value for `run_dir` (--out). Received: {run_dir}, which {purpose} (it holds {shown}). "
            "Expected a new or empty folder, or a run folder; or pass overwrite=True (--overwrite) to train a new "
            "run there beside those files (none is deleted; files named like the run's, e.g. config.json, are "
            "replaced).")
    return kind


def _make_folder(run_dir: Path) -> bool:
    """Creates `run_dir` (and its parents); returns whether it was created. Errors name it."""
    if run_dir.is_dir():
        return False
    try:
        run_dir.mkdir(parents=True)
    except FileExistsError:
        return False  # made meanwhile by another process: the lock decides
    except OSError as error:
        raise type(error)(f"Invalid value for `run_dir` (--out). Received: {run_dir}, which cannot be created "
                          f"({error.strerror or error}). Expected a folder this user can create.") from None
    return True


@contextlib.contextmanager
def _claimed(run_dir: Path, *, resume: bool, overwrite: bool):
    """Context manager: `run_dir` checked, locked and cleaned of a killed run's temporaries; yields its kind.

    Checked before anything is created (a refused folder is left as it was) and again holding the lock. A
    folder this call created is removed again if the block fails before writing anything into it.
    """
    _check_run_folder(run_dir, resume=resume, overwrite=overwrite)
    created = _make_folder(run_dir)
    try:
        with folder_lock(run_dir, what="Run folder"):
            kind = _check_run_folder(run_dir, resume=resume, overwrite=overwrite)  # another process may have run
            removed = remove_stale_checkpoint_files(run_dir)
            if removed:
                log.info("Removed %d temporary file(s) that a killed run left in %s: %s.", len(removed), run_dir,
                         ", ".join(str(p.relative_to(run_dir)) for p in removed[:5]) + (" ..." if removed[5:] else ""))
            yield kind
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                run_dir.rmdir()  # only if still empty: nothing was written
        raise


def _previous_run_files(run_dir: Path):
    """The files in `run_dir` that a run writes (`_RUN_FILES`): what overwrite=True deletes."""
    for sub, pattern in _RUN_FILES:
        folder = run_dir / sub
        walk = os.walk(folder) if sub == "logs" else [(folder, [], _file_names(folder))]
        for root, _, names in walk:
            yield from (Path(root) / name for name in names if re.fullmatch(pattern, name))


def _file_names(folder: Path) -> list[str]:
    return [entry.name for entry in folder.iterdir() if entry.is_file()] if folder.is_dir() else []


def _delete_previous_run(run_dir: Path) -> int:
    """Deletes the old run's files for overwrite=True, and the folders that leaves empty; returns how many files.

    Files of other names stay, as do the folders holding them; symbolic links are not followed or removed.
    """
    removed = 0
    for path in list(_previous_run_files(run_dir)):
        if not path.is_symlink():
            path.unlink(missing_ok=True)
            removed += 1
    for sub in ("logs", "samples", "checkpoints"):
        for root, _, _ in sorted(os.walk(run_dir / sub), key=lambda entry: -len(Path(entry[0]).parts)):
            with contextlib.suppress(OSError):
                Path(root).rmdir()  # only the empty ones
    log.warning("Overwriting the run in %s: deleted its %d file(s) (config.json, checkpoints, logs, samples); "
                "other files kept.", run_dir, removed)
    return removed


__all__ = ["RunFolderError", "TrainResult", "build_model", "default_data_home", "load_run", "resolve_data",
           "train"]

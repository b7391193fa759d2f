"""Checkpoints of a run: whole-model `.keras` files written atomically, the newest K kept.

A checkpoint holds everything a resumed run needs: the networks, both
optimizers (moments and step counter, so the learning-rate schedule resumes
at the right place), CycleGAN's image pools and the counters of every random
stream (`tfgan_translate.rng`). The epoch and the position in the data
stream follow from the generator optimizer's step counter.

Layout (inside RUN_DIR/checkpoints/)::

    epoch_0003.keras        after epoch 3
    step_00001200.keras     every `every_steps` steps (optional)
    latest.keras            the newest of them (what translate/export/resume read)

Each file is written under a temporary name and renamed into place, so a
crash while writing leaves the previous checkpoints intact; the temporaries a
killed run leaves are removed at the next start (`remove_stale_checkpoint_files`).
Reading a run, `load_newest_checkpoint` takes `latest.keras`, or, where that
does not load, the newest epoch/step checkpoint that does, saying which and why.
"""

import io
import logging
import math
import os
import re
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path

import h5py
import keras

import tfgan_translate.accelerate.adam  # noqa: F401  (registers FusedAdam, which old files name by a gone module)
from tfgan_translate.io import atomic_file, remove_stale_temporaries
from tfgan_translate.networks.layers import check_positive

log = logging.getLogger("tfgan_translate")

LATEST = "latest.keras"
_CHECKPOINT_NAME = re.compile(r"^(epoch_\d+|step_\d+)\.keras$")  # what RunCheckpoint writes, besides LATEST
# What tfgan_translate before io.atomic_file wrote while saving (fixed names, no PID): .epoch_0003.tmp.keras
_LEGACY_TEMPORARY = re.compile(r"^\.(epoch_\d+|step_\d+|latest)\.tmp\.keras$")


def save_model_atomic(model: keras.Model, path: str | Path) -> Path:
    """`model.save(path)` through a temporary file and an atomic rename (`io.atomic_file`)."""
    with atomic_file(path, suffix=".keras") as tmp:
        model.save(tmp)
    return Path(path)


def _finite(logs) -> bool:
    return all(not isinstance(v, float) or math.isfinite(v) for v in (logs or {}).values())


class RunCheckpoint(keras.callbacks.Callback):
    """Saves the whole model after every epoch (and every `every_steps` steps), keeping the newest `keep`.

    Nothing is saved from a step or epoch whose logged losses are not finite,
    so a diverged run keeps its last good checkpoint.

    Args:
        folder: str or Path. The checkpoints folder (RUN_DIR/checkpoints).
        every_steps: int or None. Extra checkpoints within epochs, every this
            many optimizer steps. Defaults to None.
        keep: int. Epoch/step checkpoints kept (latest.keras is extra). Defaults to 3.

    Example:

    >>> # model.fit(ds, epochs=10, callbacks=[RunCheckpoint("runs/demo/checkpoints", keep=2)])
    """

    def __init__(self, folder, every_steps: int | None = None, keep: int = 3):
        super().__init__()
        check_positive("every_steps", every_steps, optional=True)
        check_positive("keep", keep)
        self.folder = Path(folder)
        self.every_steps = every_steps
        self.keep = keep

    def _save(self, name: str) -> None:
        path = save_model_atomic(self.model, self.folder / name)
        with atomic_file(self.folder / LATEST, suffix=".keras") as tmp:
            shutil.copyfile(path, tmp)
        for old in _numbered_checkpoints(self.folder)[self.keep:]:
            old.unlink(missing_ok=True)

    def on_train_batch_end(self, batch, logs=None):
        step = self.model.steps_run
        if self.every_steps and step % self.every_steps == 0 and _finite(logs) and not self.model.stop_training:
            self._save(f"step_{step:08d}.keras")

    def on_epoch_end(self, epoch, logs=None):
        if _finite(logs) and not getattr(self.model, "diverged", None):
            self._save(f"epoch_{epoch + 1:04d}.keras")
        else:
            log.error("Not saving epoch %d: its losses are not finite. The last good checkpoint is %s.",
                      epoch + 1, self.folder / LATEST)


# ------------------------------------------------------------------ reading a run's checkpoints


class CheckpointLoadError(ValueError):
    """No checkpoint of a run (or the one `.keras` file given) could be loaded; the message lists each and why."""


def checkpoint_candidates(run_dir: str | Path) -> list[Path]:
    """A run's checkpoints, in the order a reader should try them: `latest.keras`, then the others, newest first.

    "Newest" is the latest written (modification time; the name breaks ties), the order in which
    `RunCheckpoint` keeps them.

    Args:
        run_dir: str or Path. A run folder.

    Returns:
        list of Path: RUN_DIR/checkpoints/latest.keras (if present), then every `epoch_*.keras` and
        `step_*.keras` there; empty if there are none.

    Example:

    >>> [p.name for p in checkpoint_candidates("runs/facades")]  # doctest: +SKIP
    ['latest.keras', 'epoch_0002.keras', 'step_00000004.keras', 'step_00000003.keras']
    """
    latest = Path(run_dir) / "checkpoints" / LATEST
    return ([latest] if latest.is_file() else []) + _numbered_checkpoints(latest.parent)


def _numbered_checkpoints(folder: Path) -> list[Path]:
    """The epoch/step checkpoints in `folder`, newest first: only the names `RunCheckpoint` writes (a .keras
    file a user put there is theirs)."""
    found = [p for p in folder.glob("*.keras") if _CHECKPOINT_NAME.match(p.name) and p.is_file()]
    return sorted(found, key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)


# Checkpoints from before the speed-ups left the networks (their configs hold `layer_settings`) store the
# weights of these layer classes under their names; the networks are built from the stock classes now.
_RENAMED_LAYERS = re.compile(r"(?<=/)(winograd_(conv2d)|fused_(batch_normalization))(?=(_\d+)?$)")


def _with_stock_layer_names(path: Path, folder: Path) -> Path:
    """`path`, or for a checkpoint from before issue 20 a copy in `folder` with its weight groups renamed."""
    with zipfile.ZipFile(path) as archive:
        if not {"config.json", "model.weights.h5"} <= set(archive.namelist()) or (
                b'"layer_settings"' not in archive.read("config.json")):
            return path  # today's checkpoint, or not one at all: Keras says which
        weights = io.BytesIO(archive.read("model.weights.h5"))
        with h5py.File(weights, "r+") as h5:
            old = []
            h5.visit(lambda name: old.append(name) if _RENAMED_LAYERS.search(name) else None)
            for name in old:
                h5.move(name, _RENAMED_LAYERS.sub(lambda match: match[2] or match[3], name))
        copy = folder / path.name
        with zipfile.ZipFile(copy, "w") as out:
            for item in archive.infolist():
                out.writestr(item, weights.getvalue() if item.filename == "model.weights.h5" else archive.read(item))
    return copy


def _try_load(path: Path) -> tuple[keras.Model | None, str | None]:
    """(model, None) if `path` loads, else (None, why not)."""
    try:
        with tempfile.TemporaryDirectory() as folder:
            return keras.saving.load_model(_with_stock_layer_names(path, Path(folder))), None
    except MemoryError:
        raise
    except Exception as error:  # any damage: a bad archive, a truncated .h5, a crafted or foreign file
        if not zipfile.is_zipfile(path):
            return None, "not a complete .keras (zip) file: truncated or damaged"
        first = next((line.strip() for line in str(error).splitlines() if line.strip()), "")  # one line: why
        return None, f"{type(error).__name__}: {first[:200]}" if first else type(error).__name__


def load_checkpoint_file(path: str | Path) -> keras.Model:
    """Loads one `.keras` checkpoint; any failure becomes one `CheckpointLoadError`.

    Args:
        path: str or Path. The `.keras` file.

    Returns:
        The model.

    Raises:
        CheckpointLoadError: the file does not load; the message names it and says why.

    Example:

    >>> model = load_checkpoint_file("runs/facades/checkpoints/epoch_0200.keras")  # doctest: +SKIP
    """
    path = Path(path)
    model, reason = _try_load(path)
    if model is None:
        raise CheckpointLoadError(f"Invalid checkpoint {path}: it does not load ({reason}). Expected a .keras "
                                  "file written by tfgan-translate.")
    return model


def load_newest_checkpoint(run_dir: str | Path) -> tuple[Path, keras.Model]:
    """The newest checkpoint of a run that loads, and its model, falling back past damaged ones.

    `latest.keras` is tried first, then the epoch/step checkpoints newest first (`checkpoint_candidates`).
    Each one refused is logged (a warning naming it and why); where the one used is not `latest.keras`,
    an info line says which it is.

    Args:
        run_dir: str or Path. A run folder.

    Returns:
        (path, model): the checkpoint used and its model.

    Raises:
        FileNotFoundError: the run has no checkpoint.
        CheckpointLoadError: none of its checkpoints loads; the message lists each one and why.

    Example:

    >>> path, model = load_newest_checkpoint("runs/facades")  # doctest: +SKIP
    """
    run_dir = Path(run_dir)
    candidates = checkpoint_candidates(run_dir)
    if not candidates:
        raise FileNotFoundError(f"Run {run_dir} has no checkpoint (checkpoints/latest.keras, epoch_*.keras or "
                                "step_*.keras): was it trained for an epoch?")
    refused = []
    for path in candidates:
        model, reason = _try_load(path)
        if model is not None:
            if refused:
                log.info("Using %s (step %d), the newest checkpoint that loads.", path, int(model.steps_run))
            return path, model
        log.warning("Checkpoint %s refused: %s.", path, reason)
        refused.append(f"{path.name} ({reason})")
    raise CheckpointLoadError(f"No checkpoint of run {run_dir} loads; tried: {'; '.join(refused)}. Expected at "
                              "least one intact .keras file in its checkpoints/ folder; to start the run over, "
                              "pass overwrite=True (--overwrite).")


def remove_stale_checkpoint_files(run_dir: str | Path) -> list[Path]:
    """Deletes what killed runs left half-written in a run folder; returns what was removed.

    That is the temporaries of `io.atomic_file` whose process is gone (`io.remove_stale_temporaries`: only
    names that prove themselves ours, never a user's look-alike) in RUN_DIR, RUN_DIR/checkpoints and
    RUN_DIR/samples, and the fixed-name `.NAME.tmp.keras` files (regular files, not links) that tfgan_translate
    0.1 wrote while saving into checkpoints/. Call it holding the run folder's lock (no other writer), once
    the folder's checks have passed.

    Example:

    >>> remove_stale_checkpoint_files("runs/facades")  # doctest: +SKIP
    [PosixPath('runs/facades/checkpoints/.step_00000006.keras.tmp-4242-1f2e3d4c-9d0acaa3.keras')]
    """
    run_dir = Path(run_dir)
    removed = [path for folder in (run_dir, run_dir / "checkpoints", run_dir / "samples")
               for path in remove_stale_temporaries(folder)]
    for path in (run_dir / "checkpoints").glob(".*.tmp.keras"):
        if _LEGACY_TEMPORARY.match(path.name) and stat.S_ISREG(os.lstat(path).st_mode):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed

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
crash while writing leaves the previous checkpoints intact.
"""

from __future__ import annotations

import logging
import math
import shutil
from pathlib import Path

import keras

from tfgan_translate.io import atomic_file

log = logging.getLogger("tfgan_translate")

LATEST = "latest.keras"


def save_model_atomic(model: keras.Model, path: str | Path) -> Path:
    """`model.save(path)` through a temporary file and an atomic rename (`io.atomic_file`)."""
    with atomic_file(path, suffix=".keras") as tmp:
        model.save(tmp)
    return Path(path)


def _copy_atomic(source: Path, target: Path) -> None:
    with atomic_file(target, suffix=".keras") as tmp:
        shutil.copyfile(source, tmp)


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
        if every_steps is not None and every_steps <= 0:
            raise ValueError(f"Invalid value for argument `every_steps`. Received: every_steps={every_steps}. "
                             "Expected a positive integer or None.")
        if keep <= 0:
            raise ValueError(f"Invalid value for argument `keep`. Received: keep={keep}. Expected a positive integer.")
        self.folder = Path(folder)
        self.every_steps = every_steps
        self.keep = keep

    def _save(self, name: str) -> Path:
        path = save_model_atomic(self.model, self.folder / name)
        _copy_atomic(path, self.folder / LATEST)
        kept = sorted((p for p in self.folder.glob("*.keras") if p.name != LATEST and not p.name.startswith(".")),
                      key=lambda p: p.stat().st_mtime_ns)
        for old in kept[:-self.keep]:
            old.unlink(missing_ok=True)
        return path

    def on_train_batch_end(self, batch, logs=None):
        if not self.every_steps or not _finite(logs) or self.model.stop_training:
            return
        step = self.model.steps_run
        if step % self.every_steps == 0:
            self._save(f"step_{step:08d}.keras")

    def on_epoch_end(self, epoch, logs=None):
        if _finite(logs) and not getattr(self.model, "diverged", None):
            self._save(f"epoch_{epoch + 1:04d}.keras")
        else:
            log.error("Not saving epoch %d: its losses are not finite. The last good checkpoint is %s.",
                      epoch + 1, self.folder / LATEST)


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """RUN_DIR/checkpoints/latest.keras if it exists, else None."""
    path = Path(run_dir) / "checkpoints" / LATEST
    return path if path.is_file() else None

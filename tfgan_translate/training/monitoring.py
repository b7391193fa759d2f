"""Watching a run: TensorBoard scalars and hyperparameters, a divergence guard, throughput.

TensorBoard layout (RUN_DIR/logs/)::

    train/       step/<loss>      every `every_steps` optimizer steps (x: global step)
                 step/learning_rate/generator, step/learning_rate/discriminator
                 epoch/<loss>     epoch means (x: epoch)
    validation/  epoch/<metric>   validation metrics (x: epoch)
    samples/     samples          preview grids (written by SampleGrid)
    (root)       HParams plugin: the run's config and its final metrics

Steps are the generator optimizer's own counter, so curves continue without
a jump after `--resume`.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import keras
import tensorflow as tf

log = logging.getLogger("tfgan_translate")


def _scalar_value(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def hparam_values(config_dict: dict) -> dict:
    """A config as HParams-plugin values (bool, int, float or str; None becomes "none")."""
    return {k: (v if isinstance(v, (bool, int, float, str)) else str(v).lower()) for k, v in config_dict.items()}


class TensorBoardLogger(keras.callbacks.Callback):
    """Writes every logged loss and metric, the learning rates and the run's hyperparameters.

    Args:
        log_dir: str or Path. RUN_DIR/logs.
        every_steps: int. Step interval of the per-step scalars. Defaults to 10.
        hparams: dict or None. The run's config (`config.to_dict()`), written
            once through the HParams plugin. Defaults to None.

    Example:

    >>> # model.fit(ds, epochs=5, callbacks=[TensorBoardLogger("runs/demo/logs", every_steps=20)])
    """

    def __init__(self, log_dir, every_steps: int = 10, hparams: dict | None = None):
        super().__init__()
        if every_steps <= 0:
            raise ValueError(f"Invalid value for argument `every_steps`. Received: every_steps={every_steps}. "
                             "Expected a positive integer.")
        self.log_dir = Path(log_dir)
        self.every_steps = every_steps
        self.hparams = hparams
        self._writers = {}

    def _writer(self, name):
        if name not in self._writers:
            self._writers[name] = tf.summary.create_file_writer(str(self.log_dir / name) if name else str(self.log_dir))
        return self._writers[name]

    def _optimizers(self):
        return {"generator": getattr(self.model, "g_optimizer", None),
                "discriminator": getattr(self.model, "d_optimizer", None)}

    def on_train_begin(self, logs=None):
        if self.hparams is not None:
            from tensorboard.plugins.hparams import api as hp

            with self._writer("").as_default():
                hp.hparams(hparam_values(self.hparams), trial_id=self.log_dir.parent.name)

    def on_train_batch_end(self, batch, logs=None):
        step = self.model.steps_run
        if step % self.every_steps:
            return
        with self._writer("train").as_default():
            for name, value in (logs or {}).items():
                if (value := _scalar_value(value)) is not None:
                    tf.summary.scalar(f"step/{name}", value, step=step)
            for name, optimizer in self._optimizers().items():
                if optimizer is not None:
                    tf.summary.scalar(f"step/learning_rate/{name}", float(optimizer.learning_rate), step=step)

    def on_epoch_end(self, epoch, logs=None):
        train, validation = {}, {}
        for name, value in (logs or {}).items():
            if (value := _scalar_value(value)) is None:
                continue
            if name.startswith("val_"):
                validation[name[4:]] = value
            else:
                train[name] = value
        for writer_name, values in (("train", train), ("validation", validation)):
            if not values:
                continue
            with self._writer(writer_name).as_default():
                for name, value in values.items():
                    tf.summary.scalar(f"epoch/{name}", value, step=epoch + 1)
                if writer_name == "train":
                    for name, optimizer in self._optimizers().items():
                        if optimizer is not None:
                            tf.summary.scalar(f"epoch/learning_rate/{name}", float(optimizer.learning_rate),
                                              step=epoch + 1)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; training stopped and kept its last good checkpoint."""


class StopOnNonFinite(keras.callbacks.Callback):
    """Stops training at the first step whose logged losses are NaN or infinite.

    Sets `model.diverged` to a message naming the loss, the epoch and the
    step, so that checkpoint callbacks skip saving and `train` can raise
    `TrainingDiverged` with it.
    """

    def __init__(self):
        super().__init__()
        self.message: str | None = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        losses_first = sorted((logs or {}).items(), key=lambda item: not item[0].endswith("loss"))
        for name, value in losses_first:
            value = _scalar_value(value)
            if value is not None and not math.isfinite(value):
                step = self.model.steps_run
                self.message = (f"Training diverged: {name} = {value} at epoch {self._epoch + 1}, step {step}. "
                                "Stopped; the last good checkpoint is kept. Try a lower --lr or another --gan-mode.")
                self.model.diverged = self.message
                self.model.stop_training = True
                log.error(self.message)
                return


def _clock(seconds: float) -> str:
    """Seconds as H:MM:SS (hours past 24 keep counting)."""
    seconds = max(0, round(seconds)) if math.isfinite(seconds) else 0
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class ProgressLog(keras.callbacks.Callback):
    """Logs steps/s and an ETA for the whole run: a line after every epoch and, if asked, every N steps.

    The lines go to the "tfgan_translate" logger (INFO), one line each, with no carriage return or colour
    code, so that they read well in a file or a pipe where Keras' progress bar (fit's verbose=1) does not;
    the command line trains with verbose=0 there (`logs.fit_verbosity`).

    Args:
        total_epochs: int or None. The run's length, for the ETA. None: fit's `epochs`. Defaults to None.
        steps_per_epoch: int or None. None: fit's `steps` (of the current fit call). Defaults to None.
        every_steps: int or None. Also log a line every that many optimizer steps (the model's
            `steps_run`, so the count continues after `--resume`). None: epoch lines only. Defaults to None.
        epoch_lines: bool. Log the line after each epoch (with the epoch's losses and validation metrics).
            Defaults to True.

    Example:

    >>> # model.fit(ds, epochs=5, steps_per_epoch=100, verbose=0, callbacks=[ProgressLog(every_steps=20)])
    >>> # INFO step 20/500 (epoch 1/5): 9.81 steps/s, ETA 0:00:49 | d_loss 0.6912, g_loss 12.3045
    >>> # INFO epoch 1/5: 9.92 steps/s, ETA 0:00:40 | d_loss 0.6874, g_loss 11.9820, val_l1 0.2711
    """

    def __init__(self, total_epochs: int | None = None, steps_per_epoch: int | None = None, *,
                 every_steps: int | None = None, epoch_lines: bool = True):
        super().__init__()
        for name, value in (("total_epochs", total_epochs), ("steps_per_epoch", steps_per_epoch),
                            ("every_steps", every_steps)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
                raise ValueError(f"Invalid value for argument `{name}`. Received: {name}={value!r}. "
                                 "Expected a positive integer or None.")
        self.total_epochs = total_epochs
        self.steps_per_epoch = steps_per_epoch
        self.every_steps = every_steps
        self.epoch_lines = epoch_lines
        self._start = None

    def _steps_run(self) -> int:
        return int(getattr(self.model, "steps_run", 0) or 0)

    def _totals(self) -> tuple[int, int]:
        params = self.params or {}
        return (self.total_epochs or params.get("epochs") or 1,
                self.steps_per_epoch or params.get("steps") or 1)

    def _eta(self, rate: float, epoch: int, steps_left_in_epoch: int) -> str:
        total_epochs, steps_per_epoch = self._totals()
        left = steps_left_in_epoch + max(0, total_epochs - epoch - 1) * steps_per_epoch
        return _clock(left / rate if rate > 0 and math.isfinite(rate) else 0.0)

    @staticmethod
    def _shown(logs) -> str:
        return ", ".join(f"{k} {float(v):.4f}" for k, v in sorted((logs or {}).items())
                         if _scalar_value(v) is not None and (k.endswith("loss") or k.startswith("val_")))

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._start = self._last_time = time.perf_counter()
        self._first_step = self._last_step = self._steps_run()
        self._epoch_steps = (self.params or {}).get("steps") or self._totals()[1]

    def on_train_batch_end(self, batch, logs=None):
        if self.every_steps is None or self._start is None:
            return
        step = self._steps_run()
        if step % self.every_steps or step == self._last_step:
            return
        now = time.perf_counter()
        rate = (step - self._last_step) / (now - self._last_time) if now > self._last_time else float("inf")
        self._last_time, self._last_step = now, step
        total_epochs, steps_per_epoch = self._totals()
        left_in_epoch = self._epoch_steps - (step - self._first_step)
        log.info("step %d/%d (epoch %d/%d): %.2f steps/s, ETA %s | %s", step, total_epochs * steps_per_epoch,
                 self._epoch + 1, total_epochs, rate, self._eta(rate, self._epoch, left_in_epoch), self._shown(logs))

    def on_epoch_end(self, epoch, logs=None):
        if not self.epoch_lines or self._start is None:
            return
        seconds = time.perf_counter() - self._start
        steps = self._steps_run() - self._first_step
        rate = steps / seconds if seconds > 0 else float("inf")
        log.info("epoch %d/%d: %.2f steps/s, ETA %s | %s", epoch + 1, self._totals()[0], rate,
                 self._eta(rate, epoch, 0), self._shown(logs))

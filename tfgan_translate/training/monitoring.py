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

import logging
import math
import time
from pathlib import Path

import keras
import tensorflow as tf

from tfgan_translate.networks.layers import check_positive

log = logging.getLogger("tfgan_translate")


def _scalar_value(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class SummaryCallback(keras.callbacks.Callback):
    """A callback writing TensorBoard summaries: a writer per sub-folder of `log_dir`, made on first use, all
    closed when training ends (`log_dir` None: the subclass writes no summaries)."""

    def __init__(self, log_dir=None):
        super().__init__()
        self.log_dir = None if log_dir is None else Path(log_dir)
        self._writers = {}

    def _writer(self, name: str):
        """The summary writer of log_dir/<name> ("": log_dir itself), made on first use."""
        if name not in self._writers:
            self._writers[name] = tf.summary.create_file_writer(str(self.log_dir / name))
        return self._writers[name]

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


class TensorBoardLogger(SummaryCallback):
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
        check_positive("every_steps", every_steps)
        super().__init__(log_dir)
        self.every_steps = every_steps
        self.hparams = hparams

    def _scalars(self, writer: str, prefix: str, values: dict, step: int) -> None:
        """Writes the numbers among `values` as `prefix/<name>` scalars into logs/<writer> (nothing if none)."""
        values = {name: number for name, value in values.items() if (number := _scalar_value(value)) is not None}
        if values:
            with self._writer(writer).as_default():
                for name, value in values.items():
                    tf.summary.scalar(f"{prefix}/{name}", value, step=step)

    def _learning_rates(self) -> dict:
        optimizers = {"generator": getattr(self.model, "g_optimizer", None),
                      "discriminator": getattr(self.model, "d_optimizer", None)}
        return {f"learning_rate/{name}": opt.learning_rate for name, opt in optimizers.items() if opt is not None}

    def on_train_begin(self, logs=None):
        if self.hparams is not None:  # as HParams-plugin values: bool, int, float or str (None becomes "none")
            from tensorboard.plugins.hparams import api as hp

            values = {name: value if isinstance(value, (bool, int, float, str)) else str(value).lower()
                      for name, value in self.hparams.items()}
            with self._writer("").as_default():
                hp.hparams(values, trial_id=self.log_dir.parent.name)

    def on_train_batch_end(self, batch, logs=None):
        step = self.model.steps_run
        if step % self.every_steps == 0:
            self._scalars("train", "step", {**(logs or {}), **self._learning_rates()}, step)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        train = {name: value for name, value in logs.items() if not name.startswith("val_")}
        self._scalars("train", "epoch", {**train, **self._learning_rates()}, epoch + 1)
        self._scalars("validation", "epoch", {k[4:]: v for k, v in logs.items() if k.startswith("val_")}, epoch + 1)
        for writer in self._writers.values():
            writer.flush()


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
            check_positive(name, value, optional=True)
        self.total_epochs = total_epochs
        self.steps_per_epoch = steps_per_epoch
        self.every_steps = every_steps
        self.epoch_lines = epoch_lines

    def on_train_begin(self, logs=None):  # the run's length, for this fit call
        self._epochs = self.total_epochs or self.params.get("epochs") or 1
        self._steps = self._epochs * (self.steps_per_epoch or self.params.get("steps") or 1)

    def _progress(self, logs, since: tuple[float, int]) -> str:
        """The end of a line: "R steps/s, ETA H:MM:SS | losses", the rate since (time, step) `since`."""
        now, step = time.perf_counter(), self.model.steps_run
        rate = (step - since[1]) / (now - since[0]) if now > since[0] else float("inf")
        left = max(0, self._steps - step)
        eta = round(left / rate) if rate > 0 and math.isfinite(rate) else 0  # as H:MM:SS, hours past 24 counting
        eta = f"{eta // 3600}:{eta // 60 % 60:02d}:{eta % 60:02d}"
        shown = ", ".join(f"{k} {float(v):.4f}" for k, v in sorted((logs or {}).items())
                          if _scalar_value(v) is not None and (k.endswith("loss") or k.startswith("val_")))
        return f"{rate:.2f} steps/s, ETA {eta} | {shown}"

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._start = self._last = (time.perf_counter(), self.model.steps_run)

    def on_train_batch_end(self, batch, logs=None):
        step = self.model.steps_run
        if self.every_steps is None or step % self.every_steps or step == self._last[1]:
            return
        log.info("step %d/%d (epoch %d/%d): %s", step, self._steps, self._epoch + 1, self._epochs,
                 self._progress(logs, self._last))
        self._last = (time.perf_counter(), step)

    def on_epoch_end(self, epoch, logs=None):
        if self.epoch_lines:
            log.info("epoch %d/%d: %s", epoch + 1, self._epochs, self._progress(logs, self._start))

"""Learning-rate schedule of both papers: constant, then linear decay to zero."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="tfgan_translate")
class LinearDecaySchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Constant learning rate for `n_epochs`, then linear decay over `n_epochs_decay`.

    The reference implementation's rule (its epochs count from 1):
    ``factor = 1 - max(0, epoch - n_epochs) / (n_epochs_decay + 1)``. Here
    the epoch is derived from the optimizer's step counter
    (``epoch = step // steps_per_epoch + 1``), so the rate is a pure function
    of the saved `iterations` and is right again after a resume.

    Args:
        initial_learning_rate: float. The rate of the constant phase (2e-4 in both papers).
        steps_per_epoch: int. Optimizer steps in one epoch.
        n_epochs: int. Epochs at the initial rate (100 in the papers).
        n_epochs_decay: int. Epochs of linear decay after those (100 in the papers).
        per_step: bool. If True the rate decays smoothly each step inside an
            epoch (epoch = step / steps_per_epoch + 1, fractional) instead of
            once per epoch as the reference does. Defaults to False.

    Example:

    >>> s = LinearDecaySchedule(2e-4, steps_per_epoch=10, n_epochs=100, n_epochs_decay=100)
    >>> round(float(s(0)), 10), round(float(s(150 * 10)), 10)  # epoch 1; epoch 151: 2e-4 * (1 - 51 / 101)
    (0.0002, 9.90099e-05)
    """

    def __init__(self, initial_learning_rate: float, steps_per_epoch: int, n_epochs: int,
                 n_epochs_decay: int, per_step: bool = False):
        if steps_per_epoch <= 0:
            raise ValueError(f"Invalid value for argument `steps_per_epoch`. Received: "
                             f"steps_per_epoch={steps_per_epoch}. Expected a positive integer.")
        if n_epochs < 0 or n_epochs_decay < 0:
            raise ValueError(f"Invalid value for `n_epochs`/`n_epochs_decay`. Received: {n_epochs}/{n_epochs_decay}. "
                             "Expected non-negative integers.")
        self.initial_learning_rate = float(initial_learning_rate)
        self.steps_per_epoch = int(steps_per_epoch)
        self.n_epochs = int(n_epochs)
        self.n_epochs_decay = int(n_epochs_decay)
        self.per_step = bool(per_step)

    def __call__(self, step):
        """The rate at optimizer step `step`: the initial rate times the reference's factor (at least 0)."""
        epochs_done = ops.cast(step, "float32") / self.steps_per_epoch
        if not self.per_step:
            epochs_done = ops.floor(epochs_done)
        epoch = epochs_done + 1.0
        decayed = ops.maximum(0.0, epoch - self.n_epochs) / (self.n_epochs_decay + 1.0)
        return self.initial_learning_rate * ops.maximum(0.0, 1.0 - decayed)

    def get_config(self):
        keys = ("initial_learning_rate", "steps_per_epoch", "n_epochs", "n_epochs_decay", "per_step")
        return {key: getattr(self, key) for key in keys}

"""What Pix2Pix and CycleGAN share: two optimizers, loss trackers, saving."""

import keras
import tensorflow as tf


def replica_share(loss):
    """Scales a per-replica mean loss so that summed gradients average over replicas.

    Keras optimizers sum gradients across the replicas of a tf.distribute
    strategy; a loss computed with a plain mean must be divided by the number
    of replicas to give the gradient of the global-batch mean (a no-op on one
    device).
    """
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss / tf.cast(replicas, loss.dtype) if replicas > 1 else loss


class TranslationGAN(keras.Model):
    """Base of the image-translation GANs: a generator side and a discriminator side.

    Subclasses set `self.generators` and `self.discriminators` (lists of
    Keras models; the latter may be empty), create trackers with `_track`,
    and implement `train_step`, `test_step` and `call`. This class gives them:

    - `compile(g_optimizer=..., d_optimizer=...)`, building both optimizers so
      that `.keras` files restore their state;
    - `_update(tape, loss, variables, optimizer)`: one optimizer step with
      loss scaling (mixed float16) and replica scaling (tf.distribute);
    - `trained_steps`: the number of `train_step` calls, saved with the model;
    - `metrics` from the trackers, and the configs for saving: the compile config, and the networks
      (the attributes `NETWORKS` names) and options (`OPTIONS`) in the model's config.
    """

    NETWORKS: tuple[str, ...] = ()  # the attributes holding the networks, saved in the config
    OPTIONS: tuple[str, ...] = ()  # the other constructor arguments, saved in the config

    def _track(self, train_names, val_names=()):
        """Creates one `keras.metrics.Mean` per name (training and validation logs) and the step counter."""
        self._trackers = {name: keras.metrics.Mean(name=name) for name in train_names}
        self._val_trackers = {name: keras.metrics.Mean(name=name) for name in val_names}
        # Training steps run, saved with the model. Not the optimizers' `iterations`: with
        # mixed_float16 the loss scaler skips the updates whose gradients overflow, and those do
        # not count there, but they did read a batch (resume positions the data stream by this).
        self.trained_steps = self.add_weight(shape=(), initializer="zeros", dtype="int64", trainable=False,
                                             name="trained_steps", aggregation="only_first_replica")

    @property
    def steps_run(self) -> int:
        """`trained_steps` as a Python int (read on the host, also under a tf.distribute strategy)."""
        return int(self.trained_steps.numpy())

    @property
    def metrics(self):
        return list(self._trackers.values()) + list(self._val_trackers.values())

    @property
    def generator_variables(self):
        return [v for g in self.generators for v in g.trainable_variables]

    @property
    def discriminator_variables(self):
        return [v for d in self.discriminators for v in d.trainable_variables]

    def compile(self, g_optimizer: keras.optimizers.Optimizer, d_optimizer: keras.optimizers.Optimizer | None = None,
                **kwargs):
        """Sets the generator and discriminator optimizers (both papers: Adam(2e-4, beta_1=0.5)).

        Args:
            g_optimizer: optimizer of every generator's weights.
            d_optimizer: optimizer of every discriminator's weights; only
                optional when the model trains no discriminator.
            **kwargs: forwarded to `keras.Model.compile` (e.g. `steps_per_execution`).
        """
        if self.discriminators and d_optimizer is None:
            raise ValueError(f"{type(self).__name__} trains a discriminator: pass `d_optimizer`.")
        super().compile(optimizer=None, **kwargs)
        self.g_optimizer = g_optimizer
        self.d_optimizer = d_optimizer if self.discriminators else None
        self.g_optimizer.build(self.generator_variables)
        if self.d_optimizer is not None:
            self.d_optimizer.build(self.discriminator_variables)

    def _update(self, tape, loss, variables, optimizer):
        """Computes d(loss)/d(variables) from `tape` and applies one optimizer step."""
        with tape:  # re-enter: the scaling must be on the tape, or every gradient is None
            loss = optimizer.scale_loss(replica_share(loss))
        grads = tape.gradient(loss, variables)
        optimizer.apply(grads, variables)

    def _record(self, trackers, values: dict):
        """Adds each of `values` to the tracker of its name; returns the trackers' results."""
        for name, value in values.items():
            trackers[name].update_state(value)
        return self._results(trackers)

    def _results(self, trackers):
        return {name: tracker.result() for name, tracker in trackers.items()}

    def get_config(self):
        """Keras' model config, each network of `NETWORKS` serialized (None stays None), and the `OPTIONS`."""
        networks = {name: keras.saving.serialize_keras_object(getattr(self, name)) for name in self.NETWORKS}
        return {**super().get_config(), **networks, **{name: getattr(self, name) for name in self.OPTIONS}}

    @classmethod
    def from_config(cls, config):
        networks = {name: keras.saving.deserialize_keras_object(config.get(name)) for name in cls.NETWORKS}
        return cls(**{**config, **networks})

    def get_compile_config(self):
        if not getattr(self, "compiled", False):
            return None
        return {name: keras.saving.serialize_keras_object(getattr(self, name))
                for name in ("g_optimizer", "d_optimizer")}

    def compile_from_config(self, config):
        self.compile(**{name: keras.saving.deserialize_keras_object(config.get(name))
                        for name in ("g_optimizer", "d_optimizer")})

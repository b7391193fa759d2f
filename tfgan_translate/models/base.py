"""What Pix2Pix, CycleGAN and CUT share: two optimizers, loss trackers, the discriminator update, saving, and
networks built from a run config."""

from typing import ClassVar

import keras
import tensorflow as tf

from tfgan_translate import losses
from tfgan_translate.networks import build_discriminator, build_generator
from tfgan_translate.rng import name_seed, step_key

OPTIMIZERS = ("g_optimizer", "d_optimizer")  # the compile config: both optimizers, saved with the model


def config_generator(config, input_channels: int, output_channels: int, **kwargs) -> keras.Model:
    """A fresh generator `config.netG` with a run config's generator options (`kwargs`: more of them)."""
    return build_generator(config.netG, input_channels=input_channels, output_channels=output_channels,
                           ngf=config.ngf, norm=config.norm, dropout=config.dropout, upsample=config.upsample,
                           init_gain=config.init_gain, sync_batch_norm=config.sync_batch_norm, **kwargs)


def config_discriminator(config, input_channels: int, condition_channels: int = 0, **kwargs) -> keras.Model:
    """A fresh discriminator `config.netD` with a run config's discriminator options (`kwargs`: more of them)."""
    return build_discriminator(config.netD, config.n_layers_D, input_channels=input_channels,
                               condition_channels=condition_channels, ndf=config.ndf, norm=config.norm,
                               init_gain=config.init_gain, sync_batch_norm=config.sync_batch_norm, **kwargs)


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
    Keras models; the latter may be empty), their options with `_set_options`, create trackers with `_track`,
    and implement `train_step`, `test_step` and `call`. This class gives them:

    - `compile(g_optimizer=..., d_optimizer=...)`, building both optimizers so
      that `.keras` files restore their state;
    - `_update(tape, loss, variables, optimizer)`: one optimizer step with
      loss scaling (mixed float16) and replica scaling (tf.distribute);
    - `_discriminator_terms` (the halved GAN loss of a discriminator, with WGAN-GP's penalty) and
      `_train_discriminator`, one update of `self.discriminator` with it;
    - `trained_steps`: the number of `train_step` calls, saved with the model;
    - `metrics` from the trackers, and the configs for saving: the compile config, and the networks
      (the attributes `NETWORKS` names) and options (`OPTIONS`) in the model's config.
    """

    NETWORKS: tuple[str, ...] = ()  # the attributes holding the networks, saved in the config
    OPTIONS: ClassVar[dict[str, type]] = {}  # the other constructor arguments and their types, saved in the config

    def _set_options(self, arguments: dict):
        """Sets each of `OPTIONS` from the constructor's `arguments` (its `locals()`), converted to its type."""
        for name, kind in self.OPTIONS.items():
            setattr(self, name, kind(arguments[name]))

    @classmethod
    def options_of(cls, config) -> dict:
        """The constructor's `OPTIONS` from a run config (its fields of the same names)."""
        return {name: getattr(config, name) for name in cls.OPTIONS}

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

    @staticmethod
    def _judge(discriminator, image, condition=None, training=True):
        """D's patch logits for `image` in float32; a conditional D sees `concat([condition, image])`."""
        if condition is not None:
            image = tf.concat([tf.cast(condition, image.dtype), image], axis=-1)
        return tf.cast(discriminator(image, training=training), tf.float32)

    def _discriminator_terms(self, discriminator, real, fake, gp_seed: str, prefix: str = "d", condition=None):
        """L_D = 0.5 * (L(D(real), real) + L(D(fake), fake)) [+ lambda_gp * GP for "wgangp"] (`fake` detached).

        The GP's interpolation weights are keyed by `gp_seed` and D's optimizer step. Tracks `{prefix}_loss`
        (and `{prefix}_gp_loss`). Returns (L_D, (loss on real, loss on fake), (real logits, fake logits)).
        """
        real_logits = self._judge(discriminator, real, condition)
        fake_logits = self._judge(discriminator, fake, condition)
        loss, loss_real, loss_fake = losses.discriminator_loss(real_logits, fake_logits, self.gan_mode)
        if self.gan_mode == "wgangp":
            gp = losses.gradient_penalty(discriminator, real, fake, condition=condition,
                                         seed=step_key(name_seed(gp_seed), self.d_optimizer.iterations))
            loss = loss + self.lambda_gp * gp
            self._trackers[f"{prefix}_gp_loss"].update_state(gp)
        self._trackers[f"{prefix}_loss"].update_state(loss)
        return loss, (loss_real, loss_fake), (real_logits, fake_logits)

    def _train_discriminator(self, real, fake, gp_seed: str, condition=None):
        """One update of `self.discriminator` on `_discriminator_terms`; tracks d_loss, d_real_loss, d_fake_loss.

        Returns (real logits, fake logits).
        """
        with tf.GradientTape() as tape:
            d_loss, (loss_real, loss_fake), logits = self._discriminator_terms(self.discriminator, real, fake, gp_seed,
                                                                               condition=condition)
        self._update(tape, d_loss, self.discriminator_variables, self.d_optimizer)
        self._record(self._trackers, {"d_real_loss": loss_real, "d_fake_loss": loss_fake})
        return logits

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
        return {name: keras.saving.serialize_keras_object(getattr(self, name)) for name in OPTIMIZERS}

    def compile_from_config(self, config):
        self.compile(**{name: keras.saving.deserialize_keras_object(config.get(name)) for name in OPTIMIZERS})

"""A trained generator as it runs at test time: pix2pix's dropout on or off, batch norm on which statistics.

The setting is `choices.InferenceMode` (`test_dropout` "on"/"off", `test_batch_norm` "image"/"moving"),
recorded per run in its config (fields `test_dropout`, `test_batch_norm`) and taken by every path that runs a
generator: `translate`, `evaluate`, `export` (flags `--test-dropout`, `--test-batch-norm`) and the Python API
(`translate_files`, `translate_array`, `evaluate_run`, `export_generator`, `inference_generator`). When it is
not given, every path uses the run's setting, and where there is no run the default, `PAPER_MODE`:

====================  =====================  =====================================================
test_dropout          test_batch_norm        what it is
====================  =====================  =====================================================
"on" (default)        "image" (default)      the pix2pix paper's protocol; the reference's test.py
"off"                 "moving"               the reference's test.py --eval (`model.eval()`)
"off"                 "image"                deterministic, each image's own statistics
"on"                  "moving"               the Keras graph called with `training=False`
====================  =====================  =====================================================

A run imported from the reference (`tfgan_translate.reference`) records what its test.py does by default
(dropout on, each image's statistics; dropout off and moving statistics where its options say --eval).

`inference_generator(generator, ...)` makes the network that runs: a functional clone with a dynamic input
size, sharing every layer of the trained generator (so its weights, live) except

- each `NoiseDropout`: an `InferenceDropout` (dropout applied on every call) for "on", else an `Identity`;
- for "image", each `BatchNormalization`: an `ImageStatisticsNormalization`, which normalises each image by its
  own per-channel mean and (biased) variance over height and width, then applies the batch norm's own scale,
  offset and epsilon. It never updates the moving statistics (PyTorch's training mode would); for "moving", a
  `MovingStatisticsNormalization`: the trained layer called with `training=False`, whatever the caller says.

"Image" statistics are those of the test batch when, as in the reference's test.py, the batch is one image;
a batch of several images gives each image the output it would get alone. With one image per batch this is
instance normalisation with batch norm's scale and offset, which is what the paper says of its protocol, so
it is one: tiling (`tfgan_translate.tiling`) normalises every tile with the whole image's statistics as it
does for instance norm, and an export holds the same builtin MEAN / MUL / RSQRT ops (all inside XNNPACK).
Dropout "on" exports as TFLite's builtin RANDOM_UNIFORM; a `seed` (Python only) makes its masks repeatable.

Example:

>>> g = UNetGenerator(depth=5, ngf=8)  # doctest: +SKIP
>>> paper = inference_generator(g)  # dropout on, each image's statistics  # doctest: +SKIP
>>> eval_mode = inference_generator(g, test_dropout="off", test_batch_norm="moving")  # doctest: +SKIP

Reference: Isola et al. 2017, Sec. 3.1 (dropout as noise, at test time too) and Sec. 3.3 (test-time batch
norm on the test batch); junyanz/pytorch-CycleGAN-and-pix2pix, test.py and models/base_model.py `eval()`.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers, ops

from tfgan_translate.choices import PAPER_MODE, InferenceMode
from tfgan_translate.networks import InstanceNormalization, NoiseDropout
from tfgan_translate.networks.layers import check_positive, check_rate
from tfgan_translate.rng import name_seed

# Plain attributes, set with `object.__setattr__` (Keras tracks no layer or weight through them):
# - a copy made here: `_inference_source`, (its trained generator, mode, seed). A copy stands for its generator
#   and keeps it alive: a caller may hold only the copy; `tiling_plan` estimates its memory and smallest input
#   on that generator;
# - a trained generator: `_inference_copies`, {(mode, seed): copy}, one copy per setting, reused (it shares the
#   generator's weights), and `_run_inference_mode`, the mode its run's config records (`remember_run_mode`).
# A generator and its copies make a reference cycle, freed by the garbage collector once no caller holds either.


@keras.saving.register_keras_serializable(package="tfgan_translate")
class InferenceDropout(layers.Layer):
    """Dropout applied on every call, training or not: pix2pix's test-time noise.

    Kept units are scaled by `1 / (1 - rate)`. Unseeded, the mask comes from TensorFlow's `RandomUniform` op
    with seeds 0, which the system seeds at run time: new noise on every call and in every loaded export (it
    converts to TFLite's builtin RANDOM_UNIFORM). Seeded, a layer named `name` keeps units where
    `tf.random.stateless_uniform(shape, seed=(seed, rng.name_seed(name))) >= rate`: the same masks for the same
    seed and input shape, in every process.

    Args:
        rate: float. Fraction of the units dropped, in `[0, 1)`.
        seed: int or None. A seed >= 0 for repeatable masks; None: fresh noise. Defaults to None.
        **kwargs: base `keras.layers.Layer` arguments, e.g. `name`, `dtype`.

    Call arguments:
        inputs: tensor of any shape.

    Example:

    >>> y = InferenceDropout(0.5, seed=1, name="up5_dropout")(keras.ops.ones((1, 4, 4, 8)))  # 0 or 2
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        check_rate("rate", rate)
        check_positive("seed", seed, minimum=0, optional=True)
        self.rate, self.seed = float(rate), seed

    def call(self, inputs):
        if self.rate == 0.0:
            return inputs
        shape = tf.shape(inputs)
        if self.seed is None:  # float32: the dtype TFLite's RANDOM_UNIFORM supports
            noise = tf.raw_ops.RandomUniform(shape=shape, dtype=tf.float32, seed=0, seed2=0)
        else:
            noise = tf.random.stateless_uniform(shape, seed=(self.seed, name_seed(self.name)), dtype=tf.float32)
        keep = ops.cast(noise >= self.rate, inputs.dtype)
        return inputs * keep * ops.cast(1.0 / (1.0 - self.rate), inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras.saving.register_keras_serializable(package="tfgan_translate")
class ImageStatisticsNormalization(InstanceNormalization):
    """Batch norm at test time on each image's own statistics (pix2pix's protocol), as instance norm with its scale.

    `y = (x - mean) / sqrt(variance + epsilon) * gamma + beta`, the mean and biased variance per image and
    channel over height and width, `gamma`, `beta` and `epsilon` those of the batch norm it replaces. Made by
    `replacing(batch_norm)`, it uses that layer's scale and offset variables themselves (trained further, the
    copy follows); built from its config (a clone), it has its own, set like any layer's.

    Args:
        epsilon: float. Added to the variance. Defaults to `1e-5`.
        center: bool. Add the offset `beta`. Defaults to `True`.
        scale: bool. Multiply by the scale `gamma`. Defaults to `True`.
        **kwargs: `InstanceNormalization` arguments, e.g. `name`, `dtype`.

    Example:

    >>> bn = keras.layers.BatchNormalization(epsilon=1e-5)
    >>> _ = bn(keras.ops.ones((1, 4, 4, 3)))
    >>> y = ImageStatisticsNormalization.replacing(bn)(keras.random.normal((1, 4, 4, 3)))
    """

    def __init__(self, epsilon: float = 1e-5, center: bool = True, scale: bool = True, **kwargs):
        super().__init__(epsilon=epsilon, center=center, scale=scale, **kwargs)
        object.__setattr__(self, "_batch_norm", None)  # not tracked as a sublayer: only its gamma and beta are used

    @classmethod
    def replacing(cls, batch_norm: layers.BatchNormalization) -> ImageStatisticsNormalization:
        """The layer that stands for `batch_norm` (channels last), with its name, dtype and variables."""
        if batch_norm.axis not in (-1, 3):  # Keras 3 keeps a batch norm's axis as an int
            raise ValueError(f"Invalid value for argument `batch_norm`: layer {batch_norm.name!r} normalises axis "
                             f"{batch_norm.axis}. Expected a channels-last batch norm (axis -1).")
        layer = cls(epsilon=batch_norm.epsilon, center=batch_norm.center, scale=batch_norm.scale,
                    name=batch_norm.name, dtype=batch_norm.dtype_policy)
        object.__setattr__(layer, "_batch_norm", batch_norm)
        return layer

    def build(self, input_shape):
        if self._batch_norm is None:
            super().build(input_shape)
            return
        self.gamma = self._batch_norm.gamma if self.scale else None  # tracked: the copy's weights are these
        self.beta = self._batch_norm.beta if self.center else None

    def call(self, inputs, training=None, mask=None):  # a batch norm's call arguments; the same at any `training`
        return super().call(inputs)


class MovingStatisticsNormalization(layers.Layer):
    """A trained batch norm called with `training=False` whatever the caller says: its moving statistics, which
    a copy never updates (`training=True` on the shared layer itself would). Only in copies sharing the trained
    layers; exports rebuild a plain `BatchNormalization`.

    Args:
        batch_norm: keras.layers.BatchNormalization. The trained layer (tracked: its variables are this one's).
    """

    def __init__(self, batch_norm: layers.BatchNormalization, **kwargs):
        super().__init__(name=batch_norm.name, dtype=batch_norm.dtype_policy, **kwargs)
        self.batch_norm = batch_norm

    def call(self, inputs, training=None, mask=None):
        return self.batch_norm(inputs, training=False, mask=mask)


def remember_run_mode(model, config) -> None:
    """Records the mode `config` (a run config) sets as the default of every generator of `model`."""
    bare = not hasattr(model, "generator") and not hasattr(model, "generator_g")  # a generator itself
    networks = [model] if bare else [getattr(model, name, None) for name in ("generator", "generator_g", "generator_f")]
    for network in networks:
        if isinstance(network, keras.Model):
            object.__setattr__(network, "_run_inference_mode", InferenceMode.of(config))


def inference_mode_of(generator) -> InferenceMode:
    """The mode `generator` runs in by default: a copy's own, its run's (`load_run`), else `PAPER_MODE`."""
    source = getattr(generator, "_inference_source", None)
    return source[1] if source else getattr(generator, "_run_inference_mode", PAPER_MODE)


def is_keras_generator(generator) -> bool:
    """Whether `inference_generator` can make a copy of `generator` (a functional Keras model)."""
    return isinstance(generator, keras.Model) and bool(getattr(generator, "inputs", None))


def inference_generator(generator: keras.Model, test_dropout: str | None = None, test_batch_norm: str | None = None,
                        *, seed: int | None = None, float32: bool = False) -> keras.Model:
    """`generator` as it runs at test time in the mode asked for (see the module docstring); it is not modified.

    Args:
        generator: keras.Model. A functional generator (`UNetGenerator`, `ResNetGenerator`), or a copy made here
            (which stands for its trained generator; its settings are the defaults then).
        test_dropout: "on", "off" or None. Dropout at test time; None: the generator's default
            (`inference_mode_of`: its run's setting, else "on"). Defaults to None.
        test_batch_norm: "image", "moving" or None. Each image's own statistics, or the moving ones; None: the
            generator's default (its run's setting, else "image"). Defaults to None.
        seed: int or None. Repeatable dropout masks (`InferenceDropout`); None: fresh noise on every call (for a
            copy made here: its seed). Defaults to None.
        float32: bool. Build the copy from fresh float32 layers with the weights copied (a snapshot, for
            export: a mixed-precision generator exports as float32, without training speed-ups); False shares
            the trained layers (and their dtype), and the same call returns the same copy. Defaults to False.

    Returns:
        A functional keras.Model with input `(None, None, None, C_in)`, the generator's `size_multiple` and
        `reference_name`, and `inference_mode` (the `InferenceMode` it runs).

    Raises:
        ValueError: an invalid setting or seed, or a generator that is not a functional Keras model.

    Example:

    >>> y = inference_generator(g, test_dropout="off")(x)  # deterministic, each image's statistics  # doctest: +SKIP
    """
    trained, _, own_seed = getattr(generator, "_inference_source", (generator, None, None))
    if not is_keras_generator(trained):
        raise ValueError(f"Invalid value for argument `generator`. Received: a {type(generator).__name__}. Expected "
                         "a functional Keras generator (UNetGenerator, ResNetGenerator).")
    mode = InferenceMode.of(inference_mode_of(generator), test_dropout, test_batch_norm)
    check_positive("seed", seed, minimum=0, optional=True)
    seed = own_seed if seed is None else seed
    copies = vars(trained).setdefault("_inference_copies", {})  # set past Keras' `__setattr__`: not tracked
    if (mode, seed) not in copies:
        copies[(mode, seed)] = _registered(_inference_copy(trained, mode, seed), trained, mode, seed)
    copy = copies[(mode, seed)]
    return _registered(_float32_snapshot(copy), trained, mode, seed) if float32 else copy


def _inference_copy(trained: keras.Model, mode: InferenceMode, seed: int | None) -> keras.Model:
    """The clone of `trained` that runs in `mode`, sharing its layers: the dropout and the batch norms replaced."""

    def clone_layer(layer):
        if isinstance(layer, NoiseDropout):
            if mode.dropout == "off" or layer.rate == 0:
                return layers.Identity(name=layer.name, dtype=layer.dtype_policy.name)  # by name: serialisable
            return InferenceDropout(layer.rate, seed=seed, name=layer.name, dtype=layer.dtype_policy)
        if isinstance(layer, layers.BatchNormalization):
            if mode.batch_norm == "image":
                return ImageStatisticsNormalization.replacing(layer)
            return MovingStatisticsNormalization(layer)
        return layer  # shared: the same object and weights

    image = keras.Input((None, None, trained.input_shape[-1]), name="image")
    return keras.models.clone_model(trained, input_tensors=image, clone_function=clone_layer)


def _float32_snapshot(copy: keras.Model) -> keras.Model:
    """`copy` rebuilt from fresh float32 layers (plain batch norms for the moving statistics), weights copied."""

    def clone_layer(layer):
        layer = layer.batch_norm if isinstance(layer, MovingStatisticsNormalization) else layer
        # Rebuilt from its config: without the training speed-ups of `accelerate`.
        return layer.__class__.from_config({**layer.get_config(), "dtype": "float32"})

    snapshot = keras.models.clone_model(copy, clone_function=clone_layer)
    snapshot.set_weights(copy.get_weights())
    return snapshot


def _registered(copy: keras.Model, trained: keras.Model, mode: InferenceMode, seed: int | None) -> keras.Model:
    """`copy`, recorded as standing for `trained` in `mode` (a strong reference), with its size rule and reference
    name."""
    for name in ("size_multiple", "reference_name"):
        if isinstance(getattr(trained, name, None), (int, str)):
            setattr(copy, name, getattr(trained, name))
    copy.inference_mode = mode
    object.__setattr__(copy, "_inference_source", (trained, mode, seed))
    return copy

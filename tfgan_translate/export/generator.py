"""Which generator to export, and the inference copy of it that gets exported.

- `generator_for(model, direction, trained_direction)` (from
  `tfgan_translate.inference`): Pix2Pix has one generator (`.generator`); a
  CycleGAN has G (`.generator_g`, the trained direction) and F
  (`.generator_f`, the other way); a bare generator `keras.Model` is itself.
- `inference_copy(generator, noise)`: a clone with the test-time noise policy
  applied, float32 everywhere and a dynamic `(None, None, C)` input, so that the
  trained model is never modified and one copy serves every image size.
- `size_rule(generator)`: the generator's name and what height and width must be a multiple of.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from tfgan_translate.choices import DIRECTIONS, NOISE_POLICIES, check_choice
from tfgan_translate.inference import generator_for
from tfgan_translate.networks import NoiseDropout, WinogradConv2D, size_multiple


def model_kind(model) -> str:
    """"cyclegan", "pix2pix" or "generator" (a bare generator model)."""
    if hasattr(model, "generator_g") and hasattr(model, "generator_f"):
        return "cyclegan"
    if hasattr(model, "generator"):
        return "pix2pix"
    return "generator"


def noise_layers(generator: keras.Model) -> list[NoiseDropout]:
    """The `NoiseDropout` layers (pix2pix's test-time dropout) of `generator` with a rate > 0."""
    return [layer for layer in generator.layers if isinstance(layer, NoiseDropout) and layer.rate > 0]


class _UnseededNoiseDropout(NoiseDropout):
    """`NoiseDropout` whose random op carries no seed: every load of an export draws its own noise.

    `tf.random.uniform` takes its op seed from TensorFlow's global seed when one
    is set (e.g. by `keras.utils.set_random_seed` before training), and a
    seeded op makes each freshly loaded SavedModel or TFLite interpreter repeat
    the same noise sequence. The raw op with seed = seed2 = 0 is seeded from the
    system at run time in TensorFlow and in TFLite's RANDOM_UNIFORM kernel.
    """

    def call(self, inputs, training=None):
        if self.rate == 0.0 or not (bool(training) or self.at_inference):
            return inputs
        noise = tf.raw_ops.RandomUniform(shape=tf.shape(inputs), dtype=tf.float32, seed=0, seed2=0)
        keep = ops.cast(noise >= self.rate, inputs.dtype)
        return inputs * keep * ops.cast(1.0 / (1.0 - self.rate), inputs.dtype)


def inference_copy(generator: keras.Model, noise: str = "off") -> keras.Model:
    """A float32 clone of `generator`, with a dynamic input size, for export.

    Args:
        generator: keras.Model. A functional generator; it is not modified.
        noise: str. "off": every `NoiseDropout` is an identity (deterministic
            output); "on": they drop units at inference too (pix2pix's
            test-time noise; exported as TFLite's builtin RANDOM_UNIFORM).
            Defaults to "off".

    Returns:
        A functional keras.Model with the same weights, input `(None, None, None, C)`,
        every layer in float32 (a mixed-precision generator exports as float32)
        and `WinogradConv2D` layers as plain convolutions (the runtimes that
        load the files pick their own convolution algorithms).
        Batch norm uses its moving statistics when called with `training=False`,
        as the exporters do.
    """
    check_choice("noise", noise, NOISE_POLICIES)

    def clone_layer(layer):
        config = layer.get_config()
        if "dtype" in config:
            config["dtype"] = "float32"
        if isinstance(layer, WinogradConv2D):
            config["winograd"] = False  # plain CONV_2D ops for the serving runtimes
        if isinstance(layer, NoiseDropout):
            config["at_inference"] = noise == "on"
            return _UnseededNoiseDropout.from_config(config)
        return layer.__class__.from_config(config)

    channels = generator.input_shape[-1]
    copy = keras.models.clone_model(generator, input_tensors=keras.Input((None, None, channels), name="image"),
                                    clone_function=clone_layer)
    copy.set_weights(generator.get_weights())
    return copy


def size_rule(generator: keras.Model) -> tuple[str, int]:
    """(reference name, multiple): what the generator is called and what its height and width must be a multiple of.

    Asked of the network (`UNetGenerator` / `ResNetGenerator` know their geometry).

    Raises:
        ValueError: `generator` is not one of this package's generator classes.
    """
    return getattr(generator, "reference_name", generator.name), size_multiple(generator)


__all__ = [
    "DIRECTIONS",
    "NOISE_POLICIES",
    "generator_for",
    "inference_copy",
    "model_kind",
    "noise_layers",
    "size_rule",
]

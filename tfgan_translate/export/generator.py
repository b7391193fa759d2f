"""Which generator to export, and the inference copy of it that gets exported.

- `generator_for(model, direction, trained_direction)` (from
  `tfgan_translate.inference`): Pix2Pix has one generator (`.generator`); a
  CycleGAN has G (`.generator_g`, the trained direction) and F
  (`.generator_f`, the other way); a bare generator `keras.Model` is itself.
- `inference_copy(generator, test_dropout, test_batch_norm)`: a clone running in
  the test-time mode (`choices.InferenceMode`, `tfgan_translate.inference_mode`),
  float32 everywhere and with a dynamic `(None, None, C)` input, so that the
  trained model is never modified and one copy serves every image size.
- `size_rule(generator)`: the generator's name and what height and width must be a multiple of.
"""

from __future__ import annotations

import keras

from tfgan_translate.choices import DIRECTIONS, TEST_BATCH_NORMS, TEST_DROPOUTS
from tfgan_translate.inference import generator_for
from tfgan_translate.inference_mode import inference_generator
from tfgan_translate.networks import NoiseDropout, size_multiple


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


def inference_copy(generator: keras.Model, test_dropout: str | None = None,
                   test_batch_norm: str | None = None) -> keras.Model:
    """The float32 network an export holds: `inference_mode.inference_generator(..., float32=True)`.

    Args:
        generator: keras.Model. A functional generator; it is not modified.
        test_dropout: "on", "off" or None. pix2pix's dropout in the export: "on" draws new noise on every
            run (TFLite's builtin RANDOM_UNIFORM); "off" is deterministic. None: the generator's run's
            setting (`training.run.load_run` records it), else "on". Defaults to None.
        test_batch_norm: "image", "moving" or None. Batch norm on each image's own statistics (builtin MEAN,
            SQUARED_DIFFERENCE, RSQRT ops) or on its moving ones. None: the run's setting, else "image".
            Defaults to None.

    Returns:
        A functional keras.Model with a snapshot of the weights, input `(None, None, None, C)` and every
        layer in float32 (a mixed-precision generator exports as float32), rebuilt from each layer's
        config, so without the training speed-ups of `tfgan_translate.accelerate` (the runtimes pick their
        own kernels).
    """
    return inference_generator(generator, test_dropout, test_batch_norm, float32=True)


def size_rule(generator: keras.Model) -> tuple[str, int]:
    """(reference name, multiple): what the generator is called and what its height and width must be a multiple of.

    Asked of the network (`UNetGenerator` / `ResNetGenerator` know their geometry).

    Raises:
        ValueError: `generator` is not one of this package's generator classes.
    """
    return getattr(generator, "reference_name", generator.name), size_multiple(generator)


__all__ = [
    "DIRECTIONS",
    "TEST_BATCH_NORMS",
    "TEST_DROPOUTS",
    "generator_for",
    "inference_copy",
    "model_kind",
    "noise_layers",
    "size_rule",
]

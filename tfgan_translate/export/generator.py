"""The inference copy of a generator that gets exported.

`inference_copy(generator, test_dropout, test_batch_norm)`: a clone running in the test-time mode
(`choices.InferenceMode`, `tfgan_translate.inference_mode`), float32 everywhere and with a dynamic
`(None, None, C)` input, so that the trained model is never modified and one copy serves every image size.
Which generator of a model to export is `inference.generator_for`.
"""

from __future__ import annotations

import keras

from tfgan_translate.inference_mode import inference_generator


def inference_copy(generator: keras.Model, test_dropout: str | None = None,
                   test_batch_norm: str | None = None) -> keras.Model:
    """The float32 network an export holds: `inference_mode.inference_generator(..., float32=True)`.

    Args:
        generator: keras.Model. A functional generator; it is not modified.
        test_dropout: "on", "off" or None. pix2pix's dropout in the export: "on" draws new noise on every
            run (TFLite's builtin RANDOM_UNIFORM); "off" is deterministic. None: the generator's run's
            setting (`training.run.load_run` records it), else "on". Defaults to None.
        test_batch_norm: "image", "moving" or None. Batch norm on each image's own statistics (builtin MEAN,
            SUB, MUL, RSQRT ops) or on its moving ones. None: the run's setting, else "image".
            Defaults to None.

    Returns:
        A functional keras.Model with a snapshot of the weights, input `(None, None, None, C)` and every
        layer in float32 (a mixed-precision generator exports as float32), rebuilt from each layer's
        config, so without the training speed-ups of `tfgan_translate.accelerate` (the runtimes pick their
        own kernels); its `inference_mode` is the mode it runs.
    """
    return inference_generator(generator, test_dropout, test_batch_norm, float32=True)


__all__ = ["inference_copy"]

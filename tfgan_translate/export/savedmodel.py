"""Writing a generator as a TensorFlow SavedModel with two serving signatures.

- ``serving_default``: ``image`` float32 `(batch, H, W, C_in)` in [-1, 1], H and W
  multiples of the size rule -> ``output`` float32 `(batch, H, W, C_out)` in [-1, 1].
- ``translate_image``: ``image`` uint8 `(batch, H, W, C_in)` of any H, W >= 1 ->
  ``image`` uint8 `(batch, H, W, C_out)`. Inside the graph: scale to [-1, 1],
  mirror-pad bottom and right to the size multiple (`pad_to_multiple`),
  run the generator, crop back, scale to [0, 255] and round.

Both run the given generator, an inference copy in its test-time mode
(dropout on or off, batch norm on each image's statistics or the moving ones:
see `generator.inference_copy`), with `training=False`. The folder loads with
plain TensorFlow: ``tf.saved_model.load(path).signatures["translate_image"]``.
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf

from tfgan_translate.io import tf_from_uint8, tf_to_uint8

FLOAT_SIGNATURE = "serving_default"
IMAGE_SIGNATURE = "translate_image"


def pad_to_multiple(images, multiple: int):
    """Mirror-pads the bottom and right of NHWC `images` up to the next multiples of `multiple` (at least one).

    The padding mirrors the image without repeating the edge pixel (like `tf.pad(mode="REFLECT")`), but
    `tf.pad` needs each pad to be smaller than the image side, which fails for small images (a 5x7 image
    padded to 32x32 for unet_32). Here the rows and columns are gathered with a triangle-wave index instead
    (`0, 1, ..., n - 1, n - 2, ..., 0, 1, ...`), so the reflection repeats as often as needed: exactly numpy's
    `np.pad(mode="reflect")`, the padding `tfgan_translate.inference` uses, and a side of one pixel is
    repeated. It converts to TFLite's builtin GATHER op.

    Args:
        images: tensor of shape `(batch, height, width, channels)`, height and width >= 1.
        multiple: int. The size rule of the generator.

    Returns:
        A tensor of shape `(batch, padded_height, padded_width, channels)`; the top-left `height x width`
        block is `images`.

    Example:

    >>> pad_to_multiple(tf.zeros((1, 5, 7, 3)), 32).shape
    TensorShape([1, 32, 32, 3])
    """
    def mirror(length):  # indices into [0, length) reaching the next multiple of `multiple`, at least one
        period = tf.maximum(2 * (length - 1), 1)
        position = tf.range(tf.maximum((length + multiple - 1) // multiple, 1) * multiple) % period
        return tf.where(position < length, position, period - position)

    return tf.gather(tf.gather(images, mirror(tf.shape(images)[1]), axis=1), mirror(tf.shape(images)[2]), axis=2)


def write_saved_model(generator: keras.Model, path: str | Path, multiple: int) -> Path:
    """Writes `generator` as a SavedModel folder at `path` with both signatures.

    Args:
        generator: keras.Model. The inference copy to export (dynamic input size).
        path: str or Path. The folder to write (must not exist yet).
        multiple: int. The generator's size rule, used by `translate_image`.

    Returns:
        `path` as a Path.

    Example:

    >>> write_saved_model(inference_copy(g), "out/saved_model", 256)  # doctest: +SKIP
    >>> f = tf.saved_model.load("out/saved_model").signatures["translate_image"]  # doctest: +SKIP
    """
    def translate_image(image):  # uint8 NHWC of any size -> the same size, uint8
        height, width = tf.shape(image)[1], tf.shape(image)[2]
        checks = [tf.debugging.assert_positive(tf.stack([height, width]),
                                               message="translate_image: image height and width must be >= 1")]
        with tf.control_dependencies(checks):
            x = tf_from_uint8(image)
        y = generator(pad_to_multiple(x, multiple), training=False)
        return {"image": tf_to_uint8(y[:, :height, :width, :])}

    write_archive(generator, path, (None, None, None, generator.input_shape[-1]),
                  **{IMAGE_SIGNATURE: (translate_image, tf.uint8)})
    return Path(path)


def write_archive(generator: keras.Model, path: str | Path, shape, **extra) -> None:
    """Writes a SavedModel of `generator`: `FLOAT_SIGNATURE` (``image`` float32 of `shape` -> ``output``) and the
    `extra` endpoints, {name: (function of ``image``, its dtype)}, each taking ``image`` of `shape`."""
    # No `archive.track(generator)`: the endpoints capture the variables they use, and tracking the model
    # as well would store every weight twice (Keras 3.15 saves both lists).
    archive = keras.export.ExportArchive()
    endpoints = {FLOAT_SIGNATURE: (lambda image: {"output": generator(image, training=False)}, tf.float32), **extra}
    for name, (function, dtype) in endpoints.items():
        archive.add_endpoint(name, function, input_signature=[tf.TensorSpec(shape, dtype, name="image")])
    archive.write_out(str(path), verbose=False)


def signatures_description(multiple: int, c_in: int, c_out: int) -> dict:
    """What metadata.json says about the two signatures."""
    def tensor(name, dtype, channels, value_range):
        return {"name": name, "dtype": dtype, "shape": [None, None, None, channels], "range": value_range}

    return {
        FLOAT_SIGNATURE: {"input": tensor("image", "float32", c_in, [-1.0, 1.0]),
                          "output": tensor("output", "float32", c_out, [-1.0, 1.0]),
                          "size": f"height and width multiples of {multiple}"},
        IMAGE_SIGNATURE: {
            "input": tensor("image", "uint8", c_in, [0, 255]), "output": tensor("image", "uint8", c_out, [0, 255]),
            "size": "any height and width >= 1; the output has the input's size",
            "padding": f"mirror (numpy 'reflect', repeated for pads larger than the image) on the bottom and right "
                       f"up to the next multiple of {multiple}, then cropped back",
        },
    }


__all__ = ["FLOAT_SIGNATURE", "IMAGE_SIGNATURE", "pad_to_multiple", "signatures_description", "write_archive",
           "write_saved_model"]

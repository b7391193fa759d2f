"""In-graph mirror padding to a generator's size multiple, for images of any size.

Generators only take heights and widths that are multiples of their size rule
(2**depth for a U-Net, 4 for a ResNet). The exported `translate_image`
signature pads the bottom and right edges up to the next multiple (at least one
multiple), runs the generator and crops the result back.

The padding mirrors the image without repeating the edge pixel (like
`tf.pad(mode="REFLECT")`), but `tf.pad` needs each pad to be smaller than the
image side, which fails for small images (a 5x7 image padded to 32x32 for
unet_32). Here the rows and columns are gathered with a triangle-wave index
instead, so the reflection repeats as often as needed: exactly numpy's
`np.pad(mode="reflect")`, the padding `tfgan_translate.inference` uses, and a
side of one pixel is repeated. It converts to TFLite's builtin GATHER op.
"""

from __future__ import annotations

import tensorflow as tf


def mirror_indices(length, size):
    """Indices into `[0, length)` that mirror-extend a side of `length` to `size`.

    Args:
        length: int scalar tensor >= 1. The side of the image.
        size: int scalar tensor >= `length`. The padded side.

    Returns:
        int32 tensor of shape `(size,)`: `0, 1, ..., length - 1, length - 2, ..., 0, 1, ...`
        (all zeros when `length` is 1).

    Example:

    >>> mirror_indices(3, 8).numpy().tolist()
    [0, 1, 2, 1, 0, 1, 2, 1]
    """
    length = tf.cast(length, tf.int32)
    period = tf.maximum(2 * (length - 1), 1)
    position = tf.range(size, dtype=tf.int32) % period
    return tf.where(position < length, position, period - position)


def pad_to_multiple(images, multiple: int):
    """Mirror-pads the bottom and right of NHWC `images` up to multiples of `multiple`.

    Args:
        images: tensor of shape `(batch, height, width, channels)`, height and width >= 1.
        multiple: int. The size rule of the generator.

    Returns:
        A tensor of shape `(batch, padded_height, padded_width, channels)`; the
        top-left `height x width` block is `images`.

    Example:

    >>> pad_to_multiple(tf.zeros((1, 5, 7, 3)), 32).shape
    TensorShape([1, 32, 32, 3])
    """
    # Each side padded to the next multiple of `multiple` at or above it, and at least `multiple`.
    rows, cols = (mirror_indices(n, tf.maximum((n + multiple - 1) // multiple, 1) * multiple)
                  for n in (tf.shape(images)[1], tf.shape(images)[2]))
    return tf.gather(tf.gather(images, rows, axis=1), cols, axis=2)


__all__ = ["mirror_indices", "pad_to_multiple"]

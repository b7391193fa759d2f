"""Training jitter shared by the paired and unpaired pipelines, all in-graph.

`preprocess` resizes, crops and flips a list of images with ONE random draw, so
both images of a pair get the same crop window and the same flip, as the
reference does (pix2pix paper, Sec. 6.1: "random jitter was applied by resizing
the 256x256 input images to 286x286 and then randomly cropping back to 256x256").

Randomness is stateless: every random number comes from
`tf.random.stateless_uniform` keyed by a per-example `seed` tensor of shape (2,).
The datasets draw that seed from `tf.data.Dataset.random(seed=...,
rerandomize_each_iteration=True)`, so a pipeline built with the same seed gives
the same batches, and each pass over a dataset (each Keras epoch) gets new jitter.

Every mode returns `image_size x image_size` images, so batches always stack:

- "resize_and_crop": resize to load_size x load_size (bicubic), random crop.
- "crop": random crop from the original (each side must be >= image_size).
- "scale_width": width -> image_size keeping the aspect ratio, height ->
  max(image_size, scaled height); then a random vertical crop to image_size.
  (The reference leaves the height free, which cannot be batched.)
- "scale_width_and_crop": width -> load_size keeping the aspect ratio, height ->
  max(image_size, scaled height), as the reference; then a random crop.
- "none": resize to image_size x image_size. (The reference only rounds sizes
  to a multiple of 4, which cannot be batched either.)

Resizing is bicubic with antialiasing (like PIL's BICUBIC, which the reference
uses) and clipped to [0, 1] because bicubic overshoots. After the optional
horizontal flip, pixels are mapped to [-1, 1] (`decoding.from_unit`).

Example:

>>> x, y = preprocess([a, b], mode="resize_and_crop", load_size=286, image_size=256,
...                   seed=tf.constant([0, 1]))     # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from tfgan_translate.choices import PREPROCESS_MODES, check_choice
from tfgan_translate.data.checks import check_int
from tfgan_translate.data.decoding import from_unit


def check_preprocess_args(mode: str, load_size: int, image_size: int) -> None:
    """Validates the preprocess arguments; raises ValueError naming the bad one."""
    check_choice("preprocess", mode, PREPROCESS_MODES)
    check_int(image_size, "image_size")
    check_int(load_size, "load_size")
    if mode in ("resize_and_crop", "scale_width_and_crop") and load_size < image_size:
        raise ValueError(f"Invalid value for argument `load_size`. Received: load_size={load_size}. "
                         f"Expected load_size >= image_size ({image_size}) for preprocess={mode!r}.")


def min_image_size(mode: str, image_size: int) -> int:
    """The smallest side an image (each half of an aligned one) needs for `mode`: image_size for "crop", else 1."""
    return image_size if mode == "crop" else 1


def preprocess(images: Sequence[tf.Tensor], *, mode: str = "resize_and_crop", load_size: int = 286,
               image_size: int = 256, flip: bool = True, seed: tf.Tensor | None = None) -> list[tf.Tensor]:
    """Applies the same resize, random crop and random flip to every image of a list.

    Args:
        images: list of float tensors (H, W, C_i) in [0, 1] with the same H and W
            (the A and B images of a pair; channel counts may differ).
        mode: str. One of `PREPROCESS_MODES` (see the module docstring).
            Defaults to "resize_and_crop".
        load_size: int. Resize target of "resize_and_crop" (square) and
            "scale_width_and_crop" (width). Defaults to 286.
        image_size: int. Side of the square outputs. Defaults to 256.
        flip: bool. Random horizontal flip with probability 0.5. Defaults to True.
        seed: int tensor of shape (2,), or None. Key of the stateless random ops;
            the same seed gives the same crop and flip. None draws a fresh
            (non-reproducible) seed. Defaults to None.

    Returns:
        list of float32 tensors (image_size, image_size, C_i) in [-1, 1].

    Raises:
        ValueError: for a bad `mode`, `load_size` or `image_size`.
        tf.errors.InvalidArgumentError: at run time, for "crop" on an image
            smaller than `image_size` (the datasets check sizes beforehand).

    Example:

    >>> a, b = preprocess([a01, b01], mode="resize_and_crop", load_size=286,
    ...                   image_size=256, flip=True, seed=tf.constant([1, 2]))  # doctest: +SKIP
    """
    check_preprocess_args(mode, load_size, image_size)
    images = [tf.convert_to_tensor(image, tf.float32) for image in images]
    if not images:
        return []
    if seed is None:
        seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int32)
    # One draw for everything: [crop y, crop x, flip], identical for all images.
    draw = tf.random.stateless_uniform([3], seed=seed)

    shape = tf.shape(images[0])
    height, width = shape[0], shape[1]
    if mode == "crop":
        tf.debugging.assert_greater_equal(tf.minimum(height, width), image_size, message=(
            f"preprocess='crop' needs images at least image_size={image_size} pixels on each side"))
    else:
        if mode in ("scale_width", "scale_width_and_crop"):  # the reference's rule, with height >= image_size
            width = image_size if mode == "scale_width" else load_size
            scaled = tf.round(tf.cast(shape[0], tf.float32) * width / tf.cast(shape[1], tf.float32))
            height = tf.maximum(tf.cast(scaled, tf.int32), image_size)
        else:
            height = width = load_size if mode == "resize_and_crop" else image_size
        resized = [tf.image.resize(image, tf.stack([height, width]), method="bicubic", antialias=True)
                   for image in images]
        images = [tf.clip_by_value(image, 0.0, 1.0) for image in resized]  # bicubic overshoots

    if mode != "none":
        top = tf.minimum(tf.cast(draw[0] * tf.cast(height - image_size + 1, tf.float32), tf.int32), height - image_size)
        left = tf.minimum(tf.cast(draw[1] * tf.cast(width - image_size + 1, tf.float32), tf.int32), width - image_size)
        images = [image[top:top + image_size, left:left + image_size, :] for image in images]
    if flip:
        images = [tf.cond(draw[2] < 0.5, lambda im=image: tf.reverse(im, axis=[1]), lambda im=image: im)
                  for image in images]
    return [tf.ensure_shape(from_unit(image), [image_size, image_size, image.shape[-1]]) for image in images]


"""Decoding image bytes inside a TensorFlow graph: pixels, channels, the halves of an aligned A|B file.

`header_size` reads what a file will decode to (width, height, channels) from its header, decoding nothing,
so a caller can refuse an image too large for its memory before decoding it (`translate --memory-budget`).

The training pipelines (`paired`, `unpaired`) and eager loading for inference (`files.load_image`) decode
through these functions, so a model sees the same pixels in training and in `translate`.

Pixel scales: decoded images are float32 in [0, 1] (8-bit files / 255, 16-bit PNGs / 65535); `from_unit`
maps them to the [-1, 1] the networks see, the pixel convention of `tfgan_translate.io` on this scale.

Example:

>>> image = decode_image(tf.io.read_file("0.png"), channels=3)   # doctest: +SKIP
>>> a, b = split_halves(image)                                    # doctest: +SKIP
>>> x = from_unit(a)                                              # doctest: +SKIP
"""

from __future__ import annotations

import warnings

import tensorflow as tf

from tfgan_translate.data.checks import check_channels
from tfgan_translate.io import PIXEL_SCALE

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# [0, 1] -> [-1, 1] is `io.from_uint8` of 255 * u; 255 / 127.5 is exactly 2, so this is 2 * u - 1 to the bit.
_UNIT_SCALE = 255.0 / PIXEL_SCALE


def from_unit(image):
    """Pixels in [0, 1] (as decoded) -> [-1, 1]: `io.from_uint8(255 * image)`, computed as `2 * image - 1`.

    Args:
        image: tf.Tensor or np.ndarray of floats in [0, 1].

    Returns:
        The same type and shape, in [-1, 1].

    Example:

    >>> import numpy as np
    >>> from_unit(np.array([0.0, 0.5, 1.0], np.float32)).tolist()
    [-1.0, 0.0, 1.0]
    """
    return image * _UNIT_SCALE - 1.0


def split_halves(image: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Splits an aligned A|B image (H, W, C) at width / 2 into (A, B), each (H, W // 2, C).

    An odd last column is dropped (validation rejects odd widths beforehand).
    """
    half = tf.shape(image)[1] // 2
    return image[:, :half], image[:, half:2 * half]


def decode_raw(contents: tf.Tensor) -> tf.Tensor:
    """Decodes encoded image bytes to float32 in [0, 1], keeping the file's channels.

    8-bit images are divided by 255 and 16-bit PNGs by 65535. Animated GIFs give
    their first frame.

    Args:
        contents: scalar string tensor, the bytes of a JPEG, PNG, BMP, GIF or WebP file.

    Returns:
        float32 tensor of shape (H, W, n), n in {1, 2, 3, 4} known only at run time.
    """
    is_png = tf.equal(tf.strings.substr(contents, 0, len(_PNG_SIGNATURE)), _PNG_SIGNATURE)

    def png():  # decode_png keeps 16 bits; 8-bit files are scaled by 257 exactly
        return tf.cast(tf.io.decode_png(contents, dtype=tf.uint16), tf.float32) / 65535.0

    def other():  # WebP decodes only to uint8
        image = tf.io.decode_image(contents, dtype=tf.uint8, expand_animations=False)
        return tf.cast(image, tf.float32) / 255.0

    image = tf.cond(is_png, png, other)
    image.set_shape([None, None, None])
    return image


def read_image(path: tf.Tensor, half: int | None = None) -> tf.Tensor:
    """`decode_raw` of a file: the whole image, or the left (0) or right (1) half of an aligned A|B file."""
    image = decode_raw(tf.io.read_file(path))
    return image if half is None else split_halves(image)[half]


def convert_channels(image: tf.Tensor, channels: int) -> tf.Tensor:
    """Converts an (H, W, n) image with n in {1, 2, 3, 4} to `channels` in {1, 3, 4}.

    Conversions: gray(+alpha) -> RGB by repeating the gray plane; RGB(A) -> gray
    with `tf.image.rgb_to_grayscale` (ITU-R 601 weights); alpha is dropped for 1
    and 3 channels, kept for 4 and set to 1 (opaque) when the file has none.

    Args:
        image: float tensor (H, W, n) in [0, 1].
        channels: int. 1, 3 or 4.

    Returns:
        float32 tensor (H, W, channels) with static channels.
    """
    channels = check_channels(channels)
    n = tf.shape(image)[-1]
    if channels == 1:
        out = tf.cond(n >= 3, lambda: tf.image.rgb_to_grayscale(image[..., :3]), lambda: image[..., :1])
    else:
        out = tf.cond(n >= 3, lambda: image[..., :3], lambda: tf.tile(image[..., :1], [1, 1, 3]))
    if channels == 4:
        alpha = tf.case([(tf.equal(n, 4), lambda: image[..., 3:4]), (tf.equal(n, 2), lambda: image[..., 1:2])],
                        default=lambda: tf.ones_like(image[..., :1]))
        out = tf.concat([out, alpha], axis=-1)
    out.set_shape([None, None, channels])
    return out


def header_size(path) -> tuple[int, int, int] | None:
    """(width, height, channels) of an image file from its header, without decoding its pixels.

    PIL opens files lazily: `Image.open` reads the header only. The channels are those `decode_raw` gives
    (a palette image decodes to 3). Pillow's decompression-bomb warning is silenced (the caller decides).

    Args:
        path: str or Path. An image file.

    Returns:
        (width, height, channels), or None when PIL cannot open the file or refuses it as a decompression
        bomb (`data.files.check_images` then says why, naming the file).

    Example:

    >>> header_size("huge.png")  # doctest: +SKIP
    (12000, 12000, 3)
    """
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                channels = 3 if image.mode in ("P", "PA") else len(image.getbands())
                return image.size[0], image.size[1], channels
        except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
            return None


def decode_image(contents: tf.Tensor, channels: int) -> tf.Tensor:
    """Decodes image bytes inside a graph to float32 in [0, 1] with `channels` channels.

    Args:
        contents: scalar string tensor (e.g. from `tf.io.read_file`).
        channels: int. 1 (gray), 3 (RGB) or 4 (RGBA); see `convert_channels`.

    Returns:
        float32 tensor of shape (H, W, channels), channels static.

    Example:

    >>> image = decode_image(tf.io.read_file("a.png"), channels=3)  # doctest: +SKIP
    """
    return convert_channels(decode_raw(contents), channels)


"""Representative input images: int8 calibration and the parity check of an export.

Where they come from, in order:

1. a folder given by the user (`representative_data`): its images, spread
   evenly over the folder's natural order, resized to the export size (or,
   from Python, an array of images);
2. the run's training data (config.json's `data`): the first training images
   of the generator's input domain, without jitter (`paired_samples`, or
   `unpaired_samples` for a CycleGAN);
3. for the parity check only, when neither exists: built-in synthetic facade
   label maps (`synthetic_images`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfgan_translate.data import DataError, list_images, load_image, paired_samples, random_label_map
from tfgan_translate.io import from_uint8

log = logging.getLogger("tfgan_translate")


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if image.shape[:2] == tuple(size):
        return image.astype(np.float32)
    resized = tf.image.resize(image[None], size, method="bicubic", antialias=True)[0]
    return np.clip(resized.numpy(), -1.0, 1.0).astype(np.float32)


def folder_images(folder: str | Path, *, image_size: tuple[int, int], channels: int, count: int = 32) -> np.ndarray:
    """Up to `count` images of `folder`, evenly spread, as float32 (n, h, w, channels) in [-1, 1].

    Raises:
        FileNotFoundError: `folder` does not exist.
        ValueError: `folder` is not a folder or holds no images; a named file is unreadable.
    """
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(
            f"Invalid value for `representative_data`: {folder} does not exist. Expected a folder of images.")
    try:
        paths = list_images(folder)
    except DataError as error:
        raise ValueError(f"Invalid value for `representative_data`: {error}") from error
    picks = np.unique(np.linspace(0, len(paths) - 1, num=min(count, len(paths))).round().astype(int))
    return np.stack([_resize(load_image(paths[i], channels), image_size) for i in picks])


def array_images(images, *, image_size: tuple[int, int], channels: int, count: int = 32) -> np.ndarray:
    """Up to `count` images of a float (n, h, w, channels) array in [-1, 1], resized to `image_size`."""
    images = np.asarray(images, np.float32)
    if images.ndim != 4 or images.shape[0] == 0 or images.shape[-1] != channels or 0 in images.shape[1:3]:
        raise ValueError(f"Invalid value for `representative_data`: expected a non-empty (n, height, width, "
                         f"{channels}) array in [-1, 1], got shape {images.shape}.")
    return np.stack([_resize(np.clip(image, -1.0, 1.0), image_size) for image in images[:count]])


def training_images(config, *, direction: str, image_size: tuple[int, int], input_channels: int,
                    output_channels: int, count: int = 32) -> np.ndarray:
    """The input side of the first `count` training images of the run that `config` describes.

    Args:
        config: the run's config (Pix2PixConfig or CycleGANConfig).
        direction: str. "AtoB" or "BtoA" (data folders): the generator's input is
            domain A for "AtoB", B for "BtoA".
        image_size: (height, width) of the returned images.
        input_channels, output_channels: int. The generator's channels.
        count: int. At most this many images. Defaults to 32.

    Raises:
        ValueError: the config names no data, or the data cannot be read here
            (the message suggests `representative_data`).
    """
    from tfgan_translate.training.run import resolve_data

    data = getattr(config, "data", "")
    model = getattr(config, "model", "pix2pix")
    side = max(image_size)
    try:
        root = resolve_data(data, model)
        if model == "cyclegan":
            from tfgan_translate.data.unpaired import unpaired_samples

            a, b = (input_channels, output_channels) if direction == "AtoB" else (output_channels, input_channels)
            x = unpaired_samples(root, split="train", count=count, image_size=side, channels_a=a,
                                 channels_b=b)[0 if direction == "AtoB" else 1]  # (A, B) images: the input side
        else:
            x, _ = paired_samples(root, split="train", count=count, direction=direction, image_size=side,
                                  input_channels=input_channels, output_channels=output_channels)
    except Exception as error:  # unreadable or absent data of any kind (folders, TFDS): say so and how to go on
        raise ValueError(f"Cannot read the run's training data ({data!r}) for representative images: {error} "
                         "Pass `representative_data` (--representative-data DIR), a folder of input images.") from error
    return np.stack([_resize(image, image_size) for image in x])


def synthetic_images(count: int, image_size: tuple[int, int], channels: int, seed: int = 0) -> np.ndarray:
    """Built-in facade label maps as float32 (count, h, w, channels) in [-1, 1] (1 channel: grey, 4: opaque)."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        rgb = from_uint8(random_label_map(rng, max(16, *image_size)))
        image = rgb.mean(axis=-1, keepdims=True) if channels == 1 else np.pad(
            rgb, ((0, 0), (0, 0), (0, max(0, channels - 3))), constant_values=1.0)[..., :channels]  # extra: opaque
        images.append(_resize(image, image_size))
    return np.stack(images)


def gather(config, source, count: int, *, direction: str, image_size: tuple[int, int], channels: tuple[int, int],
           need: bool, least: int = 4):
    """(images, description): an export's calibration / parity images, from `source` or as listed above.

    Args:
        config: the run's config, or None (a model object).
        source: str, Path, array or None. `representative_data`.
        count: int. At most this many images.
        direction, image_size: as `training_images` takes them; channels: (input, output) channels.
        need: bool. int8 calibration needs them; without it only `least` images are drawn (for the parity
            check) and built-in synthetic label maps stand in for training data that cannot be read.
    """
    c_in, c_out = channels
    if isinstance(source, np.ndarray):
        return array_images(source, image_size=image_size, channels=c_in, count=count), "array"
    if source is not None:
        return folder_images(source, image_size=image_size, channels=c_in, count=count), f"folder {source}"
    count = count if need else least
    if getattr(config, "data", ""):
        try:
            images = training_images(config, direction=direction, image_size=image_size, input_channels=c_in,
                                     output_channels=c_out, count=count)
            return images, f"training data {config.data}"
        except ValueError as error:
            if need:
                raise
            log.warning("Parity measured on built-in synthetic label maps: %s", error)
    elif need and config is None:
        raise ValueError("Invalid value for `representative_data`: None. quantize='int8' needs representative "
                         "images: pass a folder of input images (--representative-data DIR), or export a run folder "
                         "whose config.json names its training data.")
    elif need:  # an imported run: no training data to draw on
        log.warning("int8 calibrated on built-in synthetic label maps: the run names no training data (an "
                    "imported run). Pass --representative-data DIR, images of the model's input domain, to "
                    "calibrate on what it will translate.")
    return synthetic_images(count, image_size, c_in), "built-in synthetic label maps"


__all__ = ["array_images", "folder_images", "gather", "synthetic_images", "training_images"]

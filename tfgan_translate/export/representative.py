"""Representative input images: int8 calibration and the parity check of an export.

Where they come from, in order:

1. a folder given by the user (`representative_data`): its images, spread
   evenly over the folder's natural order, resized to the export size (or,
   from Python, an array of images);
2. the run's training data (config.json's `data`): the first training images
   of the generator's input domain, without jitter (`paired_samples`, or
   `unpaired_samples` for a CycleGAN or CUT);
3. for the parity check only, when neither exists: built-in synthetic facade
   label maps (`synthetic_images`).

Parity (`measure`): how closely an exported generator reproduces the Keras generator it came from, on
`IMAGES` of them. Figures on images in [-1, 1]: the largest absolute difference, and the PSNR (dB) of the
exported output against the Keras output with both mapped to [0, 1] (the convention of the models'
`val_psnr`). Export aims (`TARGETS`, checked by the tests): SavedModel max abs diff <= 1e-5, TFLite float32
<= 1e-4, float16 PSNR >= 50 dB, int8 PSNR >= 30 dB, all with test-time dropout off (deterministic outputs).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfgan_translate.data import DataError, list_images, load_image, paired_samples, random_label_map
from tfgan_translate.evaluation.pairing import resize_to
from tfgan_translate.export.savedmodel import FLOAT_SIGNATURE
from tfgan_translate.export.tflite import TFLiteRunner
from tfgan_translate.io import from_uint8

log = logging.getLogger("tfgan_translate")
IMAGES = 4  # images the parity of an export is measured on


def synthetic_images(count: int, image_size: tuple[int, int], channels: int, seed: int = 0) -> np.ndarray:
    """Built-in facade label maps as float32 (count, h, w, channels) in [-1, 1] (1 channel: grey, 4: opaque)."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        rgb = from_uint8(random_label_map(rng, max(16, *image_size)))
        image = rgb.mean(axis=-1, keepdims=True) if channels == 1 else np.pad(
            rgb, ((0, 0), (0, 0), (0, max(0, channels - 3))), constant_values=1.0)[..., :channels]  # extra: opaque
        images.append(resize_to(image, *image_size))
    return np.stack(images)


def gather(config, source, count: int, *, direction: str, image_size: tuple[int, int], channels: tuple[int, int],
           need: bool):
    """(images, description): an export's calibration / parity images, from `source` or as listed above.

    Args:
        config: the run's config, or None (a model object).
        source: str, Path, array or None. `representative_data`.
        count: int. At most this many images.
        direction: str. "AtoB" or "BtoA" (data folders): the generator's input is domain A for "AtoB", B for
            "BtoA".
        image_size: (height, width) of the returned images.
        channels: (input, output) channels of the generator.
        need: bool. int8 calibration needs them; without it only `IMAGES` images are drawn (for the parity
            check) and built-in synthetic label maps stand in for training data that cannot be read.

    Returns:
        (float32 (n, height, width, C_in) images in [-1, 1], where they came from, in words).

    Raises:
        FileNotFoundError: the `source` folder does not exist.
        ValueError: a `source` folder without images or an array of the wrong shape; with `need`, training
            data that cannot be read (the message suggests `representative_data`) or none to draw on.
    """
    c_in, c_out = channels
    if isinstance(source, np.ndarray):
        if source.ndim != 4 or source.shape[0] == 0 or source.shape[-1] != c_in or 0 in source.shape[1:3]:
            raise ValueError(f"Invalid value for `representative_data`: expected a non-empty (n, height, width, "
                             f"{c_in}) array in [-1, 1], got shape {source.shape}.")
        images = np.clip(source[:count].astype(np.float32), -1.0, 1.0)
        return np.stack([resize_to(image, *image_size) for image in images]), "array"
    if source is not None:  # a folder: up to `count` of its images, spread evenly over its natural order
        if not Path(source).exists():
            raise FileNotFoundError(f"Invalid value for `representative_data`: {source} does not exist. Expected "
                                    "a folder of images.")
        try:
            paths = list_images(source)
        except DataError as error:
            raise ValueError(f"Invalid value for `representative_data`: {error}") from error
        picks = np.unique(np.linspace(0, len(paths) - 1, num=min(count, len(paths))).round().astype(int))
        return np.stack([resize_to(load_image(paths[i], c_in), *image_size) for i in picks]), f"folder {source}"
    count = count if need else IMAGES
    if getattr(config, "data", ""):  # the input side of the run's first training images, without jitter
        from tfgan_translate.training.run import resolve_data

        model, side = getattr(config, "model", "pix2pix"), max(image_size)
        try:
            root = resolve_data(config.data, model)
            if model in ("cyclegan", "cut"):  # unpaired
                from tfgan_translate.data.unpaired import unpaired_samples

                a, b = (c_in, c_out) if direction == "AtoB" else (c_out, c_in)
                x = unpaired_samples(root, split="train", count=count, image_size=side, channels_a=a,
                                     channels_b=b)[0 if direction == "AtoB" else 1]  # (A, B) images: the input side
            else:
                x, _ = paired_samples(root, split="train", count=count, direction=direction, image_size=side,
                                      input_channels=c_in, output_channels=c_out)
            return np.stack([resize_to(image, *image_size) for image in x]), f"training data {config.data}"
        except Exception as error:  # unreadable or absent data of any kind (folders, TFDS): say so and how to go on
            message = (f"Cannot read the run's training data ({config.data!r}) for representative images: {error} "
                       "Pass `representative_data` (--representative-data DIR), a folder of input images.")
            if need:
                raise ValueError(message) from error
            log.warning("Parity measured on built-in synthetic label maps: %s", message)
    elif need and config is None:
        raise ValueError("Invalid value for `representative_data`: None. quantize='int8' needs representative "
                         "images: pass a folder of input images (--representative-data DIR), or export a run folder "
                         "whose config.json names its training data.")
    elif need:  # an imported run: no training data to draw on
        log.warning("int8 calibrated on built-in synthetic label maps: the run names no training data (an "
                    "imported run). Pass --representative-data DIR, images of the model's input domain, to "
                    "calibrate on what it will translate.")
    return synthetic_images(count, image_size, c_in), "built-in synthetic label maps"


TARGETS = {
    "saved_model": {"max_abs_diff": 1e-5},
    "tflite_float32": {"max_abs_diff": 1e-4},
    "tflite_float16": {"psnr_db": 50.0},
    "tflite_int8": {"psnr_db": 30.0},
}


def max_abs_diff(reference, actual) -> float:
    """Largest |reference - actual| over all elements."""
    return float(np.max(np.abs(np.asarray(reference, np.float64) - np.asarray(actual, np.float64))))


def psnr(reference, actual) -> float:
    """PSNR in dB of `actual` against `reference`, both in [-1, 1], on the [0, 1] scale (inf when equal)."""
    mse = float(np.mean(((np.asarray(reference, np.float64) - np.asarray(actual, np.float64)) / 2.0) ** 2))
    return math.inf if mse == 0.0 else 10.0 * math.log10(1.0 / mse)


def measure(copy, saved_model, flatbuffers: dict, images: np.ndarray) -> dict:
    """{label: figures} of each written model against the Keras copy, with its target and whether it is met.

    Args:
        copy: the Keras inference copy that was exported (deterministic: test-time dropout off).
        saved_model: str, Path or None. The SavedModel folder written, if any.
        flatbuffers: {quantization: .tflite bytes}.
        images: float32 (n, H, W, C_in) in [-1, 1] at the .tflite files' size.

    Returns:
        {label: {"max_abs_diff", "psnr_db" (None: identical outputs; JSON has no inf), "target",
        "meets_target"}}, labels "saved_model" and "tflite_<float32|float16|int8>".
    """
    reference = np.asarray(copy(images, training=False))
    outputs = {}
    if saved_model is not None:
        serve = tf.saved_model.load(str(saved_model)).signatures[FLOAT_SIGNATURE]
        outputs["saved_model"] = serve(image=tf.constant(images))["output"].numpy()
    for name, content in flatbuffers.items():
        outputs[f"tflite_{'float32' if name == 'none' else name}"] = TFLiteRunner(content)(images)
    figures = {}
    for label, output in outputs.items():
        diff, value, target = max_abs_diff(reference, output), psnr(reference, output), TARGETS[label]
        figures[label] = {"max_abs_diff": diff, "psnr_db": value if math.isfinite(value) else None, "target": target,
                          "meets_target": diff <= target.get("max_abs_diff", math.inf)
                          and value >= target.get("psnr_db", -math.inf)}
        if not figures[label]["meets_target"]:
            log.warning("Parity of %s misses its target %s: %s", label, target, figures[label])
    return figures


__all__ = ["IMAGES", "TARGETS", "gather", "max_abs_diff", "measure", "psnr", "synthetic_images"]

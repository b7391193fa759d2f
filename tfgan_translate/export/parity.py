"""How closely an exported generator reproduces the Keras generator it came from.

Figures on images in [-1, 1]: the largest absolute difference, and the PSNR
(dB) of the exported output against the Keras output with both mapped to
[0, 1] (the convention of the models' `val_psnr`). Export aims (checked by the
tests): SavedModel max abs diff <= 1e-5, TFLite float32 <= 1e-4, float16 PSNR
>= 50 dB, int8 PSNR >= 30 dB, all with test-time dropout off (deterministic outputs).
"""

from __future__ import annotations

import logging
import math

import numpy as np

from tfgan_translate.export.savedmodel import FLOAT_SIGNATURE
from tfgan_translate.export.tflite import TFLiteRunner

log = logging.getLogger("tfgan_translate")
IMAGES = 4  # images the parity of an export is measured on

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
    diff = (np.asarray(reference, np.float64) - np.asarray(actual, np.float64)) / 2.0
    mse = float(np.mean(diff**2))
    return math.inf if mse == 0.0 else 10.0 * math.log10(1.0 / mse)


def compare(reference, actual) -> dict:
    """{"max_abs_diff", "psnr_db"} of one exported output against the Keras output."""
    reference, actual = np.asarray(reference), np.asarray(actual)
    if reference.shape != actual.shape:
        raise ValueError(f"Shapes differ: Keras output {reference.shape}, export output {actual.shape}.")
    value = psnr(reference, actual)
    return {"max_abs_diff": max_abs_diff(reference, actual), "psnr_db": value if math.isfinite(value) else None}


def meets_target(name: str, figures: dict) -> bool:
    """Whether `figures` (from `compare`) meet the aim in `TARGETS[name]`; psnr_db None means identical."""
    target = TARGETS.get(name, {})
    psnr_db = math.inf if figures["psnr_db"] is None else figures["psnr_db"]
    return (figures["max_abs_diff"] <= target.get("max_abs_diff", math.inf)
            and psnr_db >= target.get("psnr_db", -math.inf))


def measure(copy, saved_model, flatbuffers: dict, images: np.ndarray) -> dict:
    """{label: `compare` figures, target and whether it is met} of each written model against the Keras copy.

    Args:
        copy: the Keras inference copy that was exported (deterministic: test-time dropout off).
        saved_model: str, Path or None. The SavedModel folder written, if any.
        flatbuffers: {quantization: .tflite bytes}.
        images: float32 (n, H, W, C_in) in [-1, 1] at the .tflite files' size.
    """
    import tensorflow as tf

    reference = np.asarray(copy(images, training=False))
    figures = {}
    if saved_model is not None:
        serve = tf.saved_model.load(str(saved_model)).signatures[FLOAT_SIGNATURE]
        figures["saved_model"] = compare(reference, serve(image=tf.constant(images))["output"].numpy())
    for name, content in flatbuffers.items():
        figures[f"tflite_{'float32' if name == 'none' else name}"] = compare(reference, TFLiteRunner(content)(images))
    for label, values in figures.items():
        values["target"] = TARGETS[label]
        values["meets_target"] = meets_target(label, values)
        if not values["meets_target"]:
            log.warning("Parity of %s misses its target %s: %s", label, TARGETS[label], values)
    return figures


__all__ = ["IMAGES", "TARGETS", "compare", "max_abs_diff", "measure", "meets_target", "psnr"]

"""How closely an exported generator reproduces the Keras generator it came from.

Figures on images in [-1, 1]: the largest absolute difference, and the PSNR
(dB) of the exported output against the Keras output with both mapped to
[0, 1] (the convention of the models' `val_psnr`). Export aims (checked by the
tests): SavedModel max abs diff <= 1e-5, TFLite float32 <= 1e-4, float16 PSNR
>= 50 dB, int8 PSNR >= 30 dB, all with test-time dropout off (deterministic outputs).
"""

from __future__ import annotations

import math

import numpy as np

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


__all__ = ["TARGETS", "compare", "max_abs_diff", "meets_target", "psnr"]

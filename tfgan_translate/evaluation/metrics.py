"""Paired metrics of one translated image against its target: L1, PSNR, SSIM, sharpness.

L1, PSNR and SSIM are those the models log during validation
(`tfgan_translate.models.metrics.image_quality`), computed here one image at a
time so that every image gets its own figures:

- ``l1``: mean |target - prediction| with pixels in [-1, 1] (the training L1's
  units; multiply by 127.5 for 8-bit levels). 0 for identical images.
- ``psnr``: dB, on pixels mapped to [0, 1]. Identical images have an infinite
  PSNR; it is capped at `PSNR_CAP_DB` (100 dB) so that means and JSON stay finite.
- ``ssim``: structural similarity (11x11 Gaussian window, sigma 1.5), on pixels
  in [0, 1], averaged over channels. 1 for identical images. Needs height and
  width of at least 11.
- ``sharpness``: high-frequency energy of the prediction over that of the
  target (`sharpness_ratio`). About 1 when the output has as much fine detail
  as real images, well below 1 for blur, above 1 for noise or artefacts.

Example:

>>> y = np.zeros((32, 32, 3), np.float32)
>>> paired_metrics(y, y)["psnr"]
100.0
"""

from __future__ import annotations

import numpy as np

# Identical images have an infinite PSNR; reported as this (an MSE of 1e-10 on [0, 1] pixels).
PSNR_CAP_DB = 100.0
# Added to both energies of `sharpness_ratio` so flat images give 1 instead of 0 / 0. In squared
# [0, 1] units: one 8-bit step at a single pixel in a 32x32 image gives 4e-5, far above it.
SHARPNESS_EPS = 1e-8
PAIRED_METRICS = ("l1", "psnr", "ssim", "sharpness")


def _as_image(image, argument: str) -> np.ndarray:
    image = np.asarray(image, np.float32)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or min(image.shape) < 1:
        raise ValueError(f"Invalid value for argument `{argument}`. Received an array of shape {image.shape}. "
                         "Expected (H, W) or (H, W, C) with pixels in [-1, 1].")
    return image


def high_frequency_energy(image) -> float:
    """Mean squared Laplacian of an image: its energy in fine detail.

    The image is mapped to [0, 1] and filtered per channel with the 4-neighbour
    Laplacian [[0, 1, 0], [1, -4, 1], [0, 1, 0]] over its interior (no padding,
    so borders add nothing). In the frequency domain this filter's gain is
    4 (sin^2(pi u) + sin^2(pi v)) (u, v in cycles per pixel): 0 at DC, growing
    with frequency, so the result is the image's power spectrum weighted towards
    high frequencies.

    Args:
        image: array (H, W) or (H, W, C) in [-1, 1]; H, W >= 3.

    Returns:
        float, in squared [0, 1] pixel units (0 for a constant image).
    """
    image = (np.clip(_as_image(image, "image"), -1.0, 1.0).astype(np.float64) + 1.0) / 2.0
    if image.shape[0] < 3 or image.shape[1] < 3:
        raise ValueError(f"Invalid value for argument `image`: {image.shape[0]}x{image.shape[1]} is too small "
                         "for the 3x3 Laplacian; expected height and width of at least 3.")
    laplacian = (image[:-2, 1:-1] + image[2:, 1:-1] + image[1:-1, :-2] + image[1:-1, 2:]
                 - 4.0 * image[1:-1, 1:-1])
    return float(np.mean(laplacian**2))


def sharpness_ratio(prediction, target) -> float:
    """High-frequency energy of `prediction` over that of `target` (see `high_frequency_energy`).

    ``(E(prediction) + eps) / (E(target) + eps)`` with eps = `SHARPNESS_EPS`:
    1 for identical images (and for two flat ones), about 1 when the output is
    as detailed as the target, well below 1 when it is blurred, above 1 for
    noise, checkerboards or ringing. It does not say whether the detail is in
    the right place: L1/SSIM do.

    Args:
        prediction: array (H, W[, C]) in [-1, 1].
        target: array of the same shape, in [-1, 1].

    Returns:
        float >= 0.
    """
    prediction, target = _as_image(prediction, "prediction"), _as_image(target, "target")
    if prediction.shape != target.shape:
        raise ValueError(f"`prediction` has shape {prediction.shape} but `target` has {target.shape}; "
                         "expected the same shape.")
    return (high_frequency_energy(prediction) + SHARPNESS_EPS) / (high_frequency_energy(target) + SHARPNESS_EPS)


def paired_metrics(prediction, target) -> dict[str, float]:
    """L1, PSNR, SSIM and sharpness ratio of one prediction against its target.

    Args:
        prediction: array (H, W, C) (or (H, W)) in [-1, 1]; values outside are clipped.
        target: array of the same shape, in [-1, 1]. H and W >= 11 (SSIM's window).

    Returns:
        {"l1", "psnr", "ssim", "sharpness"} as floats; see the module docstring
        for units. PSNR is capped at `PSNR_CAP_DB`.

    Example:

    >>> x = np.random.uniform(-1, 1, (64, 64, 3))
    >>> m = paired_metrics(x, x)   # l1 0, psnr 100 (cap), ssim 1, sharpness 1  # doctest: +SKIP
    """
    from tfgan_translate.models.metrics import image_quality  # TensorFlow: imported on first use

    prediction, target = _as_image(prediction, "prediction"), _as_image(target, "target")
    if prediction.shape != target.shape:
        raise ValueError(f"`prediction` has shape {prediction.shape} but `target` has {target.shape}; "
                         "expected the same shape (resize first, see `evaluate_pairs`).")
    if min(target.shape[:2]) < 11:
        raise ValueError(f"Image of {target.shape[0]}x{target.shape[1]} pixels is too small for SSIM's 11x11 "
                         "window; expected height and width of at least 11.")
    quality = {k: float(v) for k, v in image_quality(target[None], prediction[None]).items()}
    return {"l1": quality["l1"], "psnr": min(quality["psnr"], PSNR_CAP_DB),  # +inf for identical images: capped
            "ssim": quality["ssim"], "sharpness": sharpness_ratio(np.clip(prediction, -1.0, 1.0), target)}

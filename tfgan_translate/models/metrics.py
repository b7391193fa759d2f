"""Per-batch image-quality metrics shared by the models' `test_step`s."""

import tensorflow as tf


def image_quality(target, prediction) -> dict[str, tf.Tensor]:
    """Mean L1, PSNR (dB) and SSIM of `prediction` against `target`.

    Args:
        target: (B, H, W, C) float tensor in [-1, 1].
        prediction: (B, H, W, C) float tensor in [-1, 1].

    Returns:
        {"l1": mean |target - prediction| in [-1, 1] units (as the training L1),
         "psnr": mean PSNR, "ssim": mean SSIM}, both on images mapped to [0, 1].
        SSIM needs H and W of at least 11 (its Gaussian window).
    """
    target = tf.cast(target, tf.float32)
    prediction = tf.clip_by_value(tf.cast(prediction, tf.float32), -1.0, 1.0)
    t01, p01 = (target + 1.0) / 2.0, (prediction + 1.0) / 2.0
    return {
        "l1": tf.reduce_mean(tf.abs(target - prediction)),
        "psnr": tf.reduce_mean(tf.image.psnr(t01, p01, max_val=1.0)),
        "ssim": tf.reduce_mean(tf.image.ssim(t01, p01, max_val=1.0)),
    }

"""Inception-v3 pool features for FID and KID, with a clear answer when the weights are missing.

`InceptionFeatures` wraps ``keras.applications.InceptionV3(include_top=False,
pooling="avg")``: each image in [-1, 1] (Inception's own input range) is
converted to 3 channels (gray repeated, alpha dropped), resized (bilinear) to
299 x 299 and mapped to its 2048-d average-pool feature vector.

Weights (`weights=`, the CLI's ``--feature-weights``):

- ``"imagenet"`` (default): Keras' ImageNet weights, taken from the Keras cache
  (``$KERAS_HOME/models/``, default ``~/.keras/models/``) or downloaded from
  storage.googleapis.com (87 MB). Offline, this fails within seconds with
  `FeatureWeightsUnavailable`, which says to pass ``--feature-weights PATH``.
- a path to a local ``.h5`` / ``.weights.h5`` file of the same network
  (``include_top=False``), e.g. `INCEPTION_WEIGHTS_FILE` fetched on another
  machine from `INCEPTION_WEIGHTS_URL`.
- None: random weights, for tests of the plumbing only; the numbers mean
  nothing and are comparable with nothing.

FID/KID values depend on the weights, the resize and the image size; compare
only figures computed the same way.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

log = logging.getLogger("tfgan_translate")

INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
INCEPTION_WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
                         + INCEPTION_WEIGHTS_FILE)
INCEPTION_SIZE = 299  # the network's native input size
FEATURE_DIM = 2048
_PROBE_TIMEOUT_S = 5.0  # connecting to the weights' host; offline machines fail fast or time out here
_DOWNLOAD_TIMEOUT_S = 60.0  # per socket operation during the download, so a stalled transfer errors


class FeatureWeightsUnavailable(RuntimeError):
    """The Inception-v3 ImageNet weights are neither cached nor downloadable."""


def keras_cache_candidates() -> list[Path]:
    """Where Keras keeps downloaded weights: $KERAS_HOME/models (default ~/.keras/models), then /tmp/.keras/models."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser()
    return [home / "models" / INCEPTION_WEIGHTS_FILE, Path("/tmp/.keras/models") / INCEPTION_WEIGHTS_FILE]


def _probe_download_host() -> str | None:
    """None when the weights' host accepts a connection, else why not (no data is transferred)."""
    host = urlsplit(INCEPTION_WEIGHTS_URL).hostname
    try:
        with socket.create_connection((host, 443), timeout=_PROBE_TIMEOUT_S):
            return None
    except OSError as error:
        return f"{type(error).__name__}: {error}"


def _unavailable(reason: str) -> FeatureWeightsUnavailable:
    return FeatureWeightsUnavailable(
        f"KID and FID need Inception-v3's ImageNet weights, which are not in the Keras cache "
        f"({keras_cache_candidates()[0]}) and could not be downloaded ({reason}). Download "
        f"{INCEPTION_WEIGHTS_URL} on a machine with network access and pass it with `--feature-weights PATH` "
        f"(Python: feature_weights=PATH), or copy it into {keras_cache_candidates()[0].parent}/."
    )


def resolve_feature_weights(weights):
    """Checks a `weights` value and returns what to hand to `keras.applications.InceptionV3`.

    Args:
        weights: "imagenet", a path to a local weights file, or None (random).

    Returns:
        "imagenet", a path string, or None.

    Raises:
        FileNotFoundError: `weights` is a path that does not exist.
        ValueError: `weights` is a folder or not an .h5 file.
        FeatureWeightsUnavailable: "imagenet" is not cached and its host cannot be reached.
    """
    if weights is None:
        return None
    if weights == "imagenet":
        cached = [path for path in keras_cache_candidates() if path.is_file()]
        if cached:
            return "imagenet"  # Keras finds (and hash-checks) the cached file without the network
        reason = _probe_download_host()
        if reason is not None:
            raise _unavailable(reason)
        return "imagenet"
    path = Path(str(weights)).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"Invalid value for `--feature-weights`: {path} does not exist. Expected a local Inception-v3 "
            f"weights file (include_top=False, .h5 or .weights.h5), e.g. {INCEPTION_WEIGHTS_FILE} from "
            f"{INCEPTION_WEIGHTS_URL}, or 'imagenet' to use the Keras cache / download."
        )
    if not path.is_file() or not path.name.endswith(".h5"):
        raise ValueError(f"Invalid value for `--feature-weights`: {path} is not an .h5 / .weights.h5 file of "
                         "Inception-v3 weights (include_top=False).")
    return str(path)


def build_inception(weights="imagenet", image_size: int = INCEPTION_SIZE):
    """InceptionV3(include_top=False, pooling="avg") in float32, whatever the global dtype policy.

    Args:
        weights: as for `resolve_feature_weights`.
        image_size: int >= 75. Input height and width. Defaults to 299.

    Raises:
        FeatureWeightsUnavailable, FileNotFoundError, ValueError: see `resolve_feature_weights`;
            ValueError also when a weights file does not fit the network.
    """
    import keras

    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 75:
        raise ValueError(f"Invalid value for argument `image_size`. Received: image_size={image_size!r}. "
                         "Expected an int >= 75 (Inception-v3's minimum; 299 is its native size).")
    resolved = resolve_feature_weights(weights)
    if resolved is None:
        log.warning("Inception-v3 with random weights: FID/KID from it only test the plumbing.")
    policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    previous_timeout = socket.getdefaulttimeout()
    try:
        if resolved == "imagenet":
            socket.setdefaulttimeout(_DOWNLOAD_TIMEOUT_S)
        return keras.applications.InceptionV3(include_top=False, pooling="avg", weights=resolved,
                                              input_shape=(image_size, image_size, 3))
    except Exception as error:
        if resolved == "imagenet":
            raise _unavailable(str(error).splitlines()[0] if str(error) else type(error).__name__) from error
        if resolved is not None:
            raise ValueError(f"Invalid value for `--feature-weights`: {resolved} could not be loaded into "
                             f"InceptionV3(include_top=False) ({type(error).__name__}: {error}).") from error
        raise
    finally:
        socket.setdefaulttimeout(previous_timeout)
        keras.config.set_dtype_policy(policy)


def to_rgb(image: np.ndarray) -> np.ndarray:
    """(H, W, C) with C in 1, 3, 4 (or (H, W)) -> (H, W, 3): gray repeated, alpha dropped."""
    image = np.asarray(image, np.float32)
    if image.ndim == 2:
        image = image[..., None]
    if image.ndim != 3 or image.shape[-1] not in (1, 3, 4):
        raise ValueError(f"Invalid image of shape {image.shape}: expected (H, W) or (H, W, C) with C in 1, 3, 4.")
    if image.shape[-1] == 1:
        return np.repeat(image, 3, axis=-1)
    return image[..., :3]


class InceptionFeatures:
    """Inception-v3 average-pool features of images in [-1, 1], for FID and KID.

    Args:
        weights: "imagenet" (Keras cache or download), a path to a local .h5 /
            .weights.h5 file, or None (random: tests only). Defaults to "imagenet".
        image_size: int. Images are resized (bilinear) to image_size x
            image_size. Defaults to 299 (Inception's native size); >= 75.
        batch_size: int. Images per forward pass. Defaults to 16.

    Call arguments:
        images: a sequence of (H, W, C) arrays in [-1, 1] (sizes may differ;
            C in 1, 3, 4), or an (N, H, W, C) array.

    Returns:
        (N, 2048) float64 array.

    Raises:
        FeatureWeightsUnavailable: weights="imagenet" offline without a cached copy.

    Example:

    >>> features = InceptionFeatures(weights="inception_notop.h5")  # doctest: +SKIP
    >>> features([load_image("a.png"), load_image("b.png")]).shape  # doctest: +SKIP
    (2, 2048)
    """

    def __init__(self, weights="imagenet", *, image_size: int = INCEPTION_SIZE, batch_size: int = 16):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"Invalid value for argument `batch_size`. Received: batch_size={batch_size!r}. "
                             "Expected a positive int.")
        self.weights = weights
        self.image_size = image_size
        self.batch_size = batch_size
        self.model = build_inception(weights, image_size)

    def _prepare(self, image) -> np.ndarray:
        import tensorflow as tf

        image = np.clip(to_rgb(image), -1.0, 1.0)
        if image.shape[:2] != (self.image_size, self.image_size):
            image = tf.image.resize(image, (self.image_size, self.image_size), method="bilinear").numpy()
        return image

    def __call__(self, images) -> np.ndarray:
        images = list(images)
        if not images:
            return np.zeros((0, FEATURE_DIM), np.float64)
        chunks = []
        for start in range(0, len(images), self.batch_size):
            batch = np.stack([self._prepare(image) for image in images[start:start + self.batch_size]])
            chunks.append(np.asarray(self.model(batch, training=False), np.float64))
        return np.concatenate(chunks)


__all__ = ["FEATURE_DIM", "INCEPTION_SIZE", "INCEPTION_WEIGHTS_FILE", "INCEPTION_WEIGHTS_URL",
           "FeatureWeightsUnavailable", "InceptionFeatures", "build_inception", "keras_cache_candidates",
           "resolve_feature_weights", "to_rgb"]

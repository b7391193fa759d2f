"""Inception-v3 pool features for FID and KID, with a clear answer when the weights are missing.

`InceptionFeatures` wraps ``keras.applications.InceptionV3(include_top=False,
pooling="avg")``: each image in [-1, 1] (Inception's own input range) is
converted to 3 channels (gray repeated, alpha dropped), resized (bilinear) to
299 x 299 and mapped to its 2048-d average-pool feature vector.

Weights (`weights=`, the CLI's ``--feature-weights``):

- ``"imagenet"`` (default): Keras' ImageNet weights, taken from the Keras cache
  (``$KERAS_HOME/models/``, default ``~/.keras/models/``) or downloaded there
  from storage.googleapis.com (87 MB) with `keras.utils.get_file`, which checks
  the file's hash. Offline, this fails within seconds (each network operation
  times out after `NETWORK_TIMEOUT_S`) with `FeatureWeightsUnavailable`, which
  says to pass ``--feature-weights PATH``.
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

import numpy as np

from tfgan_translate.data.checks import check_int

log = logging.getLogger("tfgan_translate")

INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
INCEPTION_WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
                         + INCEPTION_WEIGHTS_FILE)
INCEPTION_WEIGHTS_MD5 = "bcbd6486424b2319ff4ef7d526e38f63"  # the hash keras.applications.InceptionV3 checks
INCEPTION_SIZE = 299  # the network's native input size
FEATURE_DIM = 2048
NETWORK_TIMEOUT_S = 10.0  # per socket operation while fetching the weights: offline machines fail fast


class FeatureWeightsUnavailable(RuntimeError):
    """The Inception-v3 ImageNet weights are neither cached nor downloadable."""


def resolve_feature_weights(weights) -> str | None:
    """The weights file that `weights` names, fetched into the Keras cache for "imagenet".

    Args:
        weights: "imagenet", a path to a local weights file, or None (random).

    Returns:
        The path of an .h5 weights file, or None.

    Raises:
        FileNotFoundError: `weights` is a path that does not exist.
        ValueError: `weights` is a folder or not an .h5 file.
        FeatureWeightsUnavailable: "imagenet" is not cached and cannot be downloaded.
    """
    if weights is None:
        return None
    if weights == "imagenet":
        import keras

        previous = socket.getdefaulttimeout()
        socket.setdefaulttimeout(NETWORK_TIMEOUT_S)  # an unreachable or stalled host errors instead of hanging
        try:  # Keras finds (and hash-checks) a cached copy without the network
            return keras.utils.get_file(INCEPTION_WEIGHTS_FILE, INCEPTION_WEIGHTS_URL, cache_subdir="models",
                                        file_hash=INCEPTION_WEIGHTS_MD5)
        except Exception as error:
            cache = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")).expanduser() / "models"
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise FeatureWeightsUnavailable(
                f"KID and FID need Inception-v3's ImageNet weights, which are not in the Keras cache "
                f"({cache / INCEPTION_WEIGHTS_FILE}) and could not be downloaded ({reason}). Download "
                f"{INCEPTION_WEIGHTS_URL} on a machine with network access and pass it with `--feature-weights "
                f"PATH` (Python: feature_weights=PATH), or copy it into {cache}/.") from error
        finally:
            socket.setdefaulttimeout(previous)
    path = Path(str(weights)).expanduser()
    if not path.exists():
        raise FileNotFoundError(
            f"Invalid value for `--feature-weights`: {path} does not exist. Expected a local Inception-v3 "
            f"weights file (include_top=False, .h5 or .weights.h5), e.g. {INCEPTION_WEIGHTS_FILE} from "
            f"{INCEPTION_WEIGHTS_URL}, or 'imagenet' to use the Keras cache / download.")
    if not path.is_file() or not path.name.endswith(".h5"):
        raise ValueError(f"Invalid value for `--feature-weights`: {path} is not an .h5 / .weights.h5 file of "
                         "Inception-v3 weights (include_top=False).")
    return str(path)


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
        FeatureWeightsUnavailable, FileNotFoundError, ValueError: see `resolve_feature_weights`; ValueError also
            for a bad `image_size` or `batch_size`, or a weights file that does not fit the network.

    Example:

    >>> features = InceptionFeatures(weights="inception_notop.h5")  # doctest: +SKIP
    >>> features([load_image("a.png"), load_image("b.png")]).shape  # doctest: +SKIP
    (2, 2048)
    """

    def __init__(self, weights="imagenet", *, image_size: int = INCEPTION_SIZE, batch_size: int = 16):
        import keras

        self.batch_size = check_int(batch_size, "batch_size")
        self.image_size = check_int(image_size, "image_size", minimum=75)  # Inception-v3's minimum
        self.weights = weights
        path = resolve_feature_weights(weights)
        if path is None:
            log.warning("Inception-v3 with random weights: FID/KID from it only test the plumbing.")
        policy = keras.config.dtype_policy()
        keras.config.set_dtype_policy("float32")  # InceptionV3 in float32, whatever the global dtype policy
        try:
            self.model = keras.applications.InceptionV3(include_top=False, pooling="avg", weights=path,
                                                        input_shape=(image_size, image_size, 3))
        except Exception as error:
            if path is None:
                raise
            raise ValueError(f"Invalid value for `--feature-weights`: {path} could not be loaded into "
                             f"InceptionV3(include_top=False) ({type(error).__name__}: {error}).") from error
        finally:
            keras.config.set_dtype_policy(policy)

    def _prepare(self, image) -> np.ndarray:
        """(H, W) or (H, W, C) with C in 1, 3, 4 -> (size, size, 3): gray repeated, alpha dropped, resized."""
        import tensorflow as tf

        image = np.asarray(image, np.float32)
        image = image[..., None] if image.ndim == 2 else image
        if image.ndim != 3 or image.shape[-1] not in (1, 3, 4):
            raise ValueError(f"Invalid image of shape {image.shape}: expected (H, W) or (H, W, C) with C in 1, 3, 4.")
        image = np.clip(np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image[..., :3], -1.0, 1.0)
        if image.shape[:2] != (self.image_size, self.image_size):
            image = tf.image.resize(image, (self.image_size, self.image_size), method="bilinear").numpy()
        return image

    def __call__(self, images) -> np.ndarray:
        images, chunks = list(images), []
        for start in range(0, len(images), self.batch_size):  # images prepared one batch at a time
            batch = np.stack([self._prepare(image) for image in images[start:start + self.batch_size]])
            chunks.append(np.asarray(self.model(batch, training=False), np.float64))
        return np.concatenate(chunks) if chunks else np.zeros((0, FEATURE_DIM), np.float64)

"""CUT's patch sampling and projection head: the network F of PatchNCE (Park et al. 2020)."""

from collections.abc import Sequence

import keras
import tensorflow as tf
from keras import layers

from tfgan_translate.networks.base import Network
from tfgan_translate.networks.layers import check_positive, conv_init


def sample_patch_ids(height, width, num_patches: int, seed) -> tf.Tensor:
    """Random locations of a (height, width) feature map: the first `num_patches` of a random permutation.

    As the authors' `PatchSampleF`, the same locations serve every image of a batch and both the queries
    and the keys; all H * W locations when `num_patches` exceeds them. Locations count row by row
    (`h * width + w`, the order of the authors' NCHW -> NHWC flattening).

    Args:
        height, width: int or scalar int tensors. The feature map's size.
        num_patches: int. How many locations, >= 1.
        seed: shape-[2] int tensor, the stateless key (`rng.step_key(seed, step)`): a resumed run draws the
            same locations.

    Returns:
        (min(num_patches, H * W),) int32 flat indices, distinct.
    """
    positions = height * width
    order = tf.argsort(tf.random.stateless_uniform([positions], seed=seed))  # a uniformly random permutation
    return tf.cast(order[:tf.minimum(num_patches, positions)], tf.int32)


def gather_patches(features, ids) -> tf.Tensor:
    """The feature vectors of `features` (B, H, W, C) at the flat locations `ids` (P,): (B, P, C)."""
    shape = tf.shape(features)
    flat = tf.reshape(features, [shape[0], shape[1] * shape[2], shape[3]])
    return tf.gather(flat, ids, axis=1)


@keras.saving.register_keras_serializable(package="tfgan_translate")
class PatchNormalize(layers.Layer):
    """x / (||x||_2 + epsilon) along the last axis, in float32 (the authors' `Normalize(2)`).

    Args:
        epsilon: float. Added to the norm. Defaults to `1e-7` (the authors').
        **kwargs: `keras.layers.Layer` arguments.

    Input shape: (..., D). Output shape: (..., D), float32.
    """

    def __init__(self, epsilon: float = 1e-7, **kwargs):
        super().__init__(**{"dtype": "float32", **kwargs})
        self.epsilon = float(epsilon)

    def call(self, x):
        x = tf.cast(x, tf.float32)
        return x / (tf.norm(x, axis=-1, keepdims=True) + self.epsilon)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="tfgan_translate")
class PatchProjection(Network):
    """CUT's projection head F: per tapped encoder layer, a 2-layer MLP to unit vectors.

    For each layer l with C_l channels: Dense(`units`), ReLU, Dense(`units`), then x / (||x|| + 1e-7)
    (the authors' `PatchSampleF` with `use_mlp=True`, `nc=256`). Weights are xavier-normal with gain
    `init_gain` (PyTorch's `xavier_normal_`, untruncated), biases zero. The MLPs are built from the channel
    counts at construction (the authors build theirs at the first forward pass), so an optimizer over F can
    be built before training. A functional Keras model: one input and one output per layer.

    Args:
        feature_channels: sequence of int. C_l of each tapped layer, in order (e.g. the shapes of
            `ResNetGenerator.encoder(nce_layers)`'s outputs).
        units: int. Width of both Dense layers and of the output vectors. Defaults to `256`.
        init_gain: float. The xavier gain. Defaults to `0.02` (the authors' `--init_gain`).
        name: str. Model name. Defaults to `"patch_projection"`.
        **kwargs: `keras.Model` arguments (e.g. `trainable`).

    Call arguments:
        inputs: list of (B, P, C_l) tensors, the sampled patch features of each layer
            (`gather_patches`).

    Returns:
        list of (B, P, units) float32 tensors of unit vectors.

    Example:

    >>> f = PatchProjection([3, 128, 256], units=256)
    >>> [y.shape for y in f([tf.zeros([1, 64, c]) for c in (3, 128, 256)])]
    [TensorShape([1, 64, 256]), TensorShape([1, 64, 256]), TensorShape([1, 64, 256])]

    Reference: Park, Efros, Zhang, Zhu, "Contrastive Learning for Unpaired Image-to-Image Translation",
    ECCV 2020, Sec. 3.2 ("a two-layer MLP"); models/networks.py `PatchSampleF` of the authors' code.
    """

    def __init__(self, feature_channels: Sequence[int], units: int = 256, init_gain: float = 0.02,
                 name: str = "patch_projection", **kwargs):
        feature_channels = list(feature_channels)
        if not feature_channels:
            raise ValueError("Invalid value for argument `feature_channels`. Received: feature_channels=[]. "
                             "Expected one channel count per tapped layer.")
        for channels in feature_channels:
            check_positive("feature_channels", channels)
        check_positive("units", units)
        check_positive("init_gain", init_gain, number=True)

        # === Functional Model ===
        inputs, outputs = [], []
        for index, channels in enumerate(feature_channels):
            x = keras.Input(shape=(None, channels), name=f"features{index}")
            inputs.append(x)
            for step in (1, 2):
                x = layers.Dense(units, kernel_initializer=conv_init(init_gain, "xavier"), bias_initializer="zeros",
                                 name=f"mlp{index}_dense{step}")(x)
                if step == 1:
                    x = layers.ReLU(name=f"mlp{index}_relu")(x)
            outputs.append(PatchNormalize(name=f"mlp{index}_normalize")(x))
        super().__init__(inputs, outputs, locals(), name=name, **kwargs)  # each argument: an attribute, in the config

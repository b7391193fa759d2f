"""Batch and instance norm in training through TensorFlow's fused batch-norm kernel.

Keras computes training-mode batch norm from separate ops (moments, then scale and shift), and their
gradients are more element-wise passes over every feature map. TensorFlow's `FusedBatchNormV3` and its
gradient do each in one kernel. `set_fused_norm(model, True)` makes the stock
`keras.layers.BatchNormalization` layers and this package's `InstanceNormalization` layers of a built model
use it in training where it applies; the layers keep their class, config and weights.

- Batch norm: 4-D channels-last inputs in training with a scale and an offset, not synchronised across
  replicas, no mask or renormalisation. The output is normalised with the biased batch variance and the
  moving variance updated with it, as in Keras: the kernel returns the unbiased variance, rescaled by
  (n - 1) / n. pix2pix's training step ran 0.70 -> 0.60 s with it and `FusedAdam` (docs/benchmarks.md).
- Instance norm (without learned affine, as the networks build it): training batches of one sample
  (CycleGAN's batch 1), for which batch norm *is* instance norm; the ResNet generator's step ran 7 % faster.

Everything else is the layer's own computation; the results are the same up to float rounding.

Reference: Ioffe & Szegedy 2015, "Batch Normalization"; Ulyanov et al. 2016, "Instance Normalization".
"""

import keras
import tensorflow as tf
from keras import ops

from tfgan_translate.accelerate.winograd import replace_method
from tfgan_translate.networks.layers import InstanceNormalization, walk_layers


def _four_d(layer, inputs) -> bool:
    return len(inputs.shape) == 4 and layer.axis in (-1, 3) and keras.backend.backend() == "tensorflow"


def _fused(layer, inputs, scale, offset):
    """The fused kernel in training: (the output in the layer's compute dtype, the batch mean, the batch's unbiased
    variance), the statistics in float32, as Keras computes them under mixed precision."""
    y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
        ops.cast(inputs, "float32"), scale, offset, epsilon=layer.epsilon, is_training=True, data_format="NHWC")
    return ops.cast(y, layer.compute_dtype), mean, variance


def _batch_norm(layer, inputs, training=None, mask=None):
    """`BatchNormalization.call` through the fused kernel where it applies."""
    if not (training and layer.trainable and mask is None and not layer.synchronized and not layer.renorm
            and layer.center and layer.scale and _four_d(layer, inputs)):
        return type(layer).call(layer, inputs, training=training, mask=mask)
    y, mean, variance = _fused(layer, inputs, ops.cast(layer.gamma, "float32"), ops.cast(layer.beta, "float32"))
    count = ops.cast(ops.prod(ops.shape(inputs)[:3]), "float32")
    # unbiased -> biased; one value per channel has a biased variance of 0 (the kernel's would be n / 0)
    variance = ops.where(count > 1.0, variance * (count - 1.0) / ops.maximum(count, 1.0), 0.0)
    for moving, batch in ((layer.moving_mean, mean), (layer.moving_variance, variance)):
        moving.assign(moving * layer.momentum + ops.cast(batch, moving.dtype) * (1 - layer.momentum))
    return y


def _instance_norm(layer, inputs, training=None):
    """`InstanceNormalization.call` through the fused kernel for a training batch of one sample."""
    if not (training and inputs.shape[0] == 1 and not layer.center and not layer.scale and _four_d(layer, inputs)):
        return type(layer).call(layer, inputs, training=training)
    channels = inputs.shape[-1]
    return _fused(layer, inputs, tf.ones([channels]), tf.zeros([channels]))[0]


def set_fused_norm(model, enabled: bool) -> int:
    """Runs the batch and instance norms inside `model` through the fused kernel in training, or stops it.

    A call-time replacement of each layer's `call` (an attribute of the layer object): nothing of it is
    saved. Takes effect when a function calling the model is next traced.

    Args:
        model: keras.Model or Layer, searched recursively (`walk_layers`).
        enabled: bool. Replace (True) or restore the layers' own `call` (False).

    Returns:
        int: how many norm layers were set.

    Example:

    >>> from tfgan_translate.networks import UNetGenerator
    >>> set_fused_norm(UNetGenerator(depth=5, ngf=4), True)  # 3 encoder and 4 decoder batch norms
    7
    """
    norms = [layer for layer in walk_layers(model)
             if isinstance(layer, (keras.layers.BatchNormalization, InstanceNormalization))]
    for layer in norms:
        call = _batch_norm if isinstance(layer, keras.layers.BatchNormalization) else _instance_norm
        replace_method(layer, "call", call if enabled else None)
    return len(norms)


__all__ = ["set_fused_norm"]

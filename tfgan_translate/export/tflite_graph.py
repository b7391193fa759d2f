"""The generator as the TFLite converter gets it: the same outputs, in ops XNNPACK runs fast.

XNNPACK, the CPU delegate LiteRT applies by default, runs most of a
generator, but three of its layers convert to ops it runs slowly or not at all.
Before conversion, `tflite_copy` rewrites them:

- a "same"-padded stride-s `Conv2DTranspose` (the U-Net's), or a "valid"
  one and the `Cropping2D` after it (the ResNet's PyTorch-aligned ones) ->
  `SubPixelConv2DTranspose`: s*s CONV_2D + DEPTH_TO_SPACE instead of
  TRANSPOSE_CONV (`subpixel.py`); 2.4x faster for unet_256;
- `ReflectionPadding2D` -> `SliceReflectionPadding2D`: one-row and
  one-column SLICEs + CONCATENATION instead of MIRROR_PAD, which XNNPACK
  does not take, so each one split the graph between XNNPACK and TFLite's
  own kernels (resnet_9blocks: 20 of them); concatenations of at most 5
  inputs, the most XNNPACK's CONCATENATION takes;
- an unseeded `InferenceDropout` (test-time dropout on) -> `FloorDropout`:
  the mask as FLOOR(noise + 1 - rate), not GREATER_EQUAL + CAST, so that
  only RANDOM_UNIFORM stays outside XNNPACK;
- a nearest x2 `UpSampling2D` (resize-convs, CUT's blur up) ->
  `DepthToSpaceUpSampling2D`: CONCATENATION + DEPTH_TO_SPACE instead of the
  TILE that `ops.repeat` converts to, which XNNPACK does not take;
- a "valid" `AveragePooling2D` (CUT's blur filters) -> `BoxFilterPooling2D`:
  a DEPTHWISE_CONV_2D with a constant kernel, which XNNPACK also takes in
  int8 (its AVERAGE_POOL_2D is float only).

The rewrites are exact up to float rounding (`tests/test_export.py` checks
them against the Keras layers), and the trained model is not modified.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from tfgan_translate.export.subpixel import SubPixelConv2DTranspose, can_rewrite
from tfgan_translate.inference_mode import InferenceDropout
from tfgan_translate.networks import ReflectionPadding2D

MAX_CONCAT_INPUTS = 5


@keras.saving.register_keras_serializable(package="tfgan_translate")
class SliceReflectionPadding2D(ReflectionPadding2D):
    """`ReflectionPadding2D` built from one-pixel slices and a concatenation.

    Along each axis the result is `[x[p], ..., x[1], x, x[-2], ..., x[-1 - p]]`:
    the image mirrored about its edge rows, the edge not repeated. Same output
    and arguments as `ReflectionPadding2D`, in TFLite ops XNNPACK runs.

    Example:

    >>> x = keras.ops.reshape(keras.ops.arange(6.0), (1, 2, 3, 1))
    >>> bool(keras.ops.all(SliceReflectionPadding2D(1)(x) == ReflectionPadding2D(1)(x)))
    True
    """

    def call(self, inputs):
        x, p = inputs, self.padding
        for axis in (1, 2):
            def row(i, axis=axis, x=x):  # the one-pixel slice at index i (never -1) along `axis`
                index = [slice(None)] * 4
                index[axis] = slice(i, i + 1)
                return x[tuple(index)]

            pieces = [*map(row, range(p, 0, -1)), x, *map(row, range(-2, -2 - p, -1))]
            while len(pieces) > MAX_CONCAT_INPUTS:  # XNNPACK's CONCATENATION takes at most 5 inputs
                pieces = [ops.concatenate(pieces[:MAX_CONCAT_INPUTS], axis=axis), *pieces[MAX_CONCAT_INPUTS:]]
            x = ops.concatenate(pieces, axis=axis)
        return x


@keras.saving.register_keras_serializable(package="tfgan_translate")
class FloorDropout(InferenceDropout):
    """Unseeded `InferenceDropout` with its mask as `floor(noise + 1 - rate)` (1 where noise >= rate, else 0).

    `noise >= rate` converts to GREATER_EQUAL and CAST, which XNNPACK does not take; ADD and FLOOR it does, so
    only RANDOM_UNIFORM (and in a dynamic-size file the SHAPE it reads) stays outside the delegate.
    """

    def call(self, inputs):
        noise = tf.raw_ops.RandomUniform(shape=tf.shape(inputs), dtype=tf.float32, seed=0, seed2=0)
        keep = ops.floor(noise + (1.0 - self.rate))
        return inputs * keep * (1.0 / (1.0 - self.rate))


class DepthToSpaceUpSampling2D(keras.layers.UpSampling2D):
    """Nearest x2 `UpSampling2D` as 4 copies of the input along channels and DEPTH_TO_SPACE (same output).

    Only in the converter's copy, never saved, so not registered for serialization.
    """

    def call(self, inputs):
        return tf.nn.depth_to_space(ops.concatenate([inputs] * 4, axis=-1), 2)


class BoxFilterPooling2D(keras.layers.AveragePooling2D):
    """A "valid" `AveragePooling2D` as a depthwise convolution with the constant kernel 1 / (pool area).

    Only in the converter's copy, never saved, so not registered for serialization.
    """

    def call(self, inputs):
        (ph, pw), channels = self.pool_size, inputs.shape[-1]
        kernel = ops.full((ph, pw, channels, 1), 1.0 / (ph * pw), dtype=inputs.dtype)
        return ops.depthwise_conv(inputs, kernel, strides=self.strides, padding="valid")


# The `xnnpack` rewrites: {layer class (exactly): (its replacement, whether it replaces this layer exactly)}.
_XNNPACK_REWRITES = {
    ReflectionPadding2D: (SliceReflectionPadding2D, lambda layer: True),
    InferenceDropout: (FloorDropout, lambda layer: layer.seed is None and layer.rate > 0),
    keras.layers.UpSampling2D: (DepthToSpaceUpSampling2D, lambda layer: layer.interpolation == "nearest"
                                and tuple(layer.size) == (2, 2) and layer.data_format == "channels_last"),
    keras.layers.AveragePooling2D: (BoxFilterPooling2D, lambda layer: layer.padding == "valid"
                                    and layer.data_format == "channels_last"),
}


def _cropped_up_convolutions(model: keras.Model) -> dict[str, keras.layers.Cropping2D]:
    """{name of a "valid" Conv2DTranspose: the Cropping2D that alone consumes it}, for the pairs `can_rewrite` takes."""
    producers = {crop: crop.input._keras_history.operation for crop in model.layers
                 if isinstance(crop, keras.layers.Cropping2D)}
    return {producer.name: crop for crop, producer in producers.items()
            if len(producer._outbound_nodes) == 1 and can_rewrite(producer, crop.cropping)}


def tflite_copy(model: keras.Model, subpixel: bool = True, xnnpack: bool = True) -> keras.Model:
    """A clone of the functional `model` with the rewrites above (weights copied; `model` unchanged).

    Args:
        model: keras.Model. The inference copy of a generator.
        subpixel: bool. Rewrite the transposed convolutions `can_rewrite`
            accepts ("same" ones, and "valid" ones cropped back to stride x
            the input, the pair becoming one layer). Defaults to True.
        xnnpack: bool. Rewrite reflection padding, test-time dropout, nearest x2 upsampling and "valid"
            average pooling (`SliceReflectionPadding2D`, `FloorDropout`, `DepthToSpaceUpSampling2D`,
            `BoxFilterPooling2D`). Defaults to True.

    Returns:
        `model` itself when there is nothing to rewrite, else the clone.
    """
    pairs = _cropped_up_convolutions(model) if subpixel else {}
    crops = {crop.name for crop in pairs.values()}

    def replacement(layer):
        if subpixel and can_rewrite(layer):
            return SubPixelConv2DTranspose.replacing(layer)
        if layer.name in pairs:
            return SubPixelConv2DTranspose.replacing(layer, pairs[layer.name].cropping)
        if layer.name in crops:
            return keras.layers.Identity(name=layer.name)  # the crop is inside the sub-pixel layer now
        rewrite, exact = _XNNPACK_REWRITES.get(type(layer), (None, None))
        return rewrite.from_config(layer.get_config()) if xnnpack and rewrite and exact(layer) else None

    replacements = {layer.name: replacement(layer) for layer in model.layers}
    if all(new is None for new in replacements.values()):
        return model
    copy = keras.models.clone_model(model, clone_function=lambda layer: replacements[layer.name]
                                    or layer.__class__.from_config(layer.get_config()))
    copy.set_weights(model.get_weights())
    return copy


def describe(model: keras.Model, subpixel: bool) -> str:
    """What metadata.json says about the transposed convolutions of `model` as converted."""
    transposed = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2DTranspose)]
    if not transposed:
        return "none in the model"
    pairs = _cropped_up_convolutions(model) if subpixel else {}
    rewritten = sum(subpixel and (can_rewrite(layer) or layer.name in pairs) for layer in transposed)
    counts = {"converted as sub-pixel convolutions (stride*stride CONV_2D + DEPTH_TO_SPACE)": rewritten,
              "kept as TRANSPOSE_CONV": len(transposed) - rewritten}
    return "; ".join(f"{count} {what}" for what, count in counts.items() if count)


__all__ = ["BoxFilterPooling2D", "DepthToSpaceUpSampling2D", "FloorDropout", "SliceReflectionPadding2D", "describe",
           "tflite_copy"]

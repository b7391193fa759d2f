"""Anti-aliased resampling of CUT's networks: blur pooling down, bilinear x2 up.

CUT's generator and discriminator (Park et al. 2020, the authors' `Downsample` and `Upsample`) replace the
stride-2 convolutions by a stride-1 convolution and a fixed low-pass resampling (Zhang 2019):

- down: reflection padding 1, then each channel filtered by the binomial `[1, 2, 1] x [1, 2, 1] / 16` with
  stride 2 (`blur_downsample`; size `ceil(size / 2)`). That filter is the 2x2 box filter applied twice, so it
  is built of stock layers: `ReflectionPadding2D(1)`, `AveragePooling2D(2, strides=1)` and
  `AveragePooling2D(2, strides=2)` (in one dimension `((x[2k] + x[2k+1]) + (x[2k+1] + x[2k+2])) / 4`).
- up: replicate padding 1, a transposed convolution with `[1, 3, 3, 1] x [1, 3, 3, 1] / 16`, stride 2,
  cropped back to twice the size. In one dimension, output `2i` is `0.75 x[i] + 0.25 x[i - 1]` and `2i + 1`
  is `0.75 x[i] + 0.25 x[i + 1]`, edges clamped: exactly bilinear x2 resizing with half-pixel centres
  (`UpSampling2D(2, interpolation="bilinear")`). That stock layer cannot be traced at a dynamic height and
  width (Keras 3.15: "Using a symbolic `tf.Tensor` as a Python `bool`", so no dynamic-size export), so
  `blur_upsample` computes the same values as nearest x2 (`u[2i] = u[2i+1] = x[i]`), reflection padding 1
  (which repeats the edge of `u`: replicate padding) and the `[1, 2, 1] / 4` filter, again two 2x2 box
  filters: `(u[m-1] + 2 u[m] + u[m+1]) / 4` is `0.75 x[i] + 0.25 x[i -/+ 1]`.

`tests/test_networks_cut.py` checks both against a NumPy transcription of the authors' computation. Neither has
weights (the authors keep the down filter as a constant state-dict buffer); both run at any static or dynamic
size, and convert to TFLite ops XNNPACK runs (the export rewrites the reflection padding, and the box filters
as depthwise convolutions, which it also takes in int8: `export.tflite_graph`).

Reference: Park et al. 2020, "Contrastive Learning for Unpaired Image-to-Image Translation" (CUT);
Zhang 2019, "Making Convolutional Networks Shift-Invariant Again" (blur pooling).
"""

from keras import layers

from tfgan_translate.networks.layers import ReflectionPadding2D


def blur_downsample(x, name: str, strides: int = 2):
    """The authors' `Downsample` (filter size 3, stride 2): `{name}_pad`, `{name}_box` and `name`.

    Reflection padding 1 (`ReflectionPadding2D`), then the `[1, 2, 1] x [1, 2, 1] / 16` filter with stride
    2 as two 2x2 box filters (`AveragePooling2D`, strides 1 then 2). Height and width `size` become
    `ceil(size / 2)`; they must be at least 2. The output is the one of the layer named `name`. With
    `strides=1` the same filter without subsampling (the second half of `blur_upsample`).
    """
    x = ReflectionPadding2D(1, name=f"{name}_pad")(x)
    x = layers.AveragePooling2D(2, strides=1, name=f"{name}_box")(x)
    return layers.AveragePooling2D(2, strides=strides, name=name)(x)


def blur_upsample(x, name: str):
    """The authors' `Upsample` (filter size 4, stride 2), i.e. bilinear x2: `{name}_nearest`, `{name}_pad`,
    `{name}_box` and `name`.

    Nearest x2 (`UpSampling2D`), then reflection padding 1 and two 2x2 box filters with stride 1
    (`blur_downsample(..., strides=1)`). The output is the one of the layer named `name`.
    """
    x = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_nearest")(x)
    return blur_downsample(x, name, strides=1)


__all__ = ["blur_downsample", "blur_upsample"]

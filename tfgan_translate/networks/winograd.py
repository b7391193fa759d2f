"""3x3 stride-1 convolutions by Winograd's minimal filtering, F(4x4, 3x3).

A 3x3 convolution computes each output pixel with 9 multiply-adds per
input channel. Winograd's algorithm computes a 4x4 output tile from a 6x6
input tile with 36 instead of 144: the tile and the kernel are each moved
into a 6x6 "Winograd domain" by fixed linear maps, multiplied element-wise
there, and the product is mapped back:

    Y = A^T [ (G g G^T) * (B^T d B) ] A

with `d` a 6x6 input tile, `g` the 3x3 kernel and the matrices below (the
points 0, +-1, +-2 and infinity of Lavin & Gray). Summed over input
channels, the element-wise product becomes 36 matrix products of
(tiles x C_in) by (C_in x C_out): 4x fewer multiply-adds than the direct
convolution, in GEMMs that run near the CPU's peak.

`winograd_conv2d` does this for the forward pass and, through a custom
gradient, for both gradients: the input gradient is the same algorithm
with the kernel flipped and transposed (the "full" convolution of the
output gradient), and the kernel gradient contracts the Winograd-domain
input with the mapped-back output gradient over tiles, again 4x fewer
multiply-adds. On the 2-core CPU this project is measured on, one ResNet
block convolution (64x64x256, batch 1) takes 26 ms for forward + both
gradients against 55 ms for TensorFlow's oneDNN convolution
(`benchmarks/bench.py --winograd on off`).

The result equals the direct convolution up to float32 rounding: the
largest error is about 2e-5 of the largest output (the transforms'
coefficients reach 8, and each term is rounded). `WinogradConv2D` is a
`keras.layers.Conv2D` with the same weights that uses it where it pays:
float32, a 3x3 kernel, stride 1, no dilation, static spatial sizes and no
GPU (cuDNN picks its own Winograd kernels); everything else goes to
`Conv2D`.

Reference: Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural
Networks"; Winograd 1980, "Arithmetic Complexity of Computations".
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import layers

# F(4, 3) in one dimension: y = A^T [(G g) * (B^T d)] for a 6-sample d and 3-tap g.
TILE = 4  # outputs per tile and axis, m
ALPHA = TILE + 2  # inputs per tile and axis, m + r - 1
B_T = np.array([
    [4, 0, -5, 0, 1, 0],
    [0, -4, -4, 1, 1, 0],
    [0, 4, -4, -1, 1, 0],
    [0, -2, -1, 2, 1, 0],
    [0, 2, -1, -2, 1, 0],
    [0, 4, 0, -5, 0, 1],
], np.float64)
G = np.array([
    [1 / 4, 0, 0],
    [-1 / 6, -1 / 6, -1 / 6],
    [-1 / 6, 1 / 6, -1 / 6],
    [1 / 24, 1 / 12, 1 / 6],
    [1 / 24, -1 / 12, 1 / 6],
    [0, 0, 1],
], np.float64)
A_T = np.array([
    [1, 1, 1, 1, 1, 0],
    [0, 1, -1, 2, -2, 0],
    [0, 1, 1, 4, 4, 0],
    [0, 1, -1, 8, -8, 1],
], np.float64)

# Two dimensions: with row-major flattened tiles, B^T d B is kron(B^T, B^T) @ vec(d).
_INPUT = np.kron(B_T, B_T).astype(np.float32)    # (36, 36)
_KERNEL = np.kron(G, G).astype(np.float32)       # (36, 9)
_OUTPUT = np.kron(A_T, A_T).astype(np.float32)   # (16, 36)


def _tiles(x):
    """`(N, H + 2, W + 2, C)` -> the Winograd-domain input `(36, N * T * S, C)` and (T, S).

    T x S tiles of 6x6 inputs at stride 4 cover the `H x W` output (`T = ceil(H / 4)`);
    the input is zero-padded at the bottom and right to fill the last ones.
    Each tile is four rows of one 4-row block and two of the next: two reshapes
    and a concatenation per axis, no gather.
    """
    _, height, width, channels = x.shape
    t, s = -(-(height - 2) // TILE), -(-(width - 2) // TILE)
    rows, cols = TILE * t + TILE, TILE * s + TILE
    x = tf.pad(x, [[0, 0], [0, rows - height], [0, cols - width], [0, 0]])
    x = tf.concat([tf.reshape(x[:, :-TILE], [-1, t, TILE, cols, channels]),
                   tf.reshape(x[:, TILE:], [-1, t, TILE, cols, channels])[:, :, :2]], axis=2)
    x = tf.concat([tf.reshape(x[:, :, :, :-TILE], [-1, t, ALPHA, s, TILE, channels]),
                   tf.reshape(x[:, :, :, TILE:], [-1, t, ALPHA, s, TILE, channels])[:, :, :, :, :2]], axis=4)
    x = tf.reshape(tf.transpose(x, [2, 4, 0, 1, 3, 5]), [ALPHA * ALPHA, -1])   # (36, N*T*S*C)
    v = tf.matmul(tf.constant(_INPUT, x.dtype), x)
    return tf.reshape(v, [ALPHA * ALPHA, -1, channels]), (t, s)


def _untile(m, t, s, height, width):
    """The 36 products `(36, N * T * S, K)` -> the output `(N, height, width, K)`."""
    channels = m.shape[-1]
    y = tf.matmul(tf.constant(_OUTPUT, m.dtype), tf.reshape(m, [ALPHA * ALPHA, -1]))
    y = tf.transpose(tf.reshape(y, [TILE, TILE, -1, t, s, channels]), [2, 3, 0, 4, 1, 5])
    return tf.reshape(y, [-1, TILE * t, TILE * s, channels])[:, :height, :width]


def _untile_adjoint(dy, t, s):
    """The transpose of `_untile`: `(N, H, W, K)` -> `(36, N * T * S, K)`."""
    _, height, width, channels = dy.shape
    dy = tf.pad(dy, [[0, 0], [0, TILE * t - height], [0, TILE * s - width], [0, 0]])
    dy = tf.transpose(tf.reshape(dy, [-1, t, TILE, s, TILE, channels]), [2, 4, 0, 1, 3, 5])
    dm = tf.matmul(tf.constant(_OUTPUT, dy.dtype), tf.reshape(dy, [TILE * TILE, -1]), transpose_a=True)
    return tf.reshape(dm, [ALPHA * ALPHA, -1, channels])


def _kernel(w):
    """`(3, 3, C, K)` -> the Winograd-domain kernel `(36, C, K)`."""
    _, _, c_in, c_out = w.shape
    u = tf.matmul(tf.constant(_KERNEL, w.dtype), tf.reshape(w, [9, c_in * c_out]))
    return tf.reshape(u, [ALPHA * ALPHA, c_in, c_out])


def _forward(x, w):
    v, (t, s) = _tiles(x)
    return _untile(tf.matmul(v, _kernel(w)), t, s, x.shape[1] - 2, x.shape[2] - 2), v, (t, s)


@tf.custom_gradient
def _winograd_valid(x, w):
    y, v, (t, s) = _forward(x, w)

    def grad(dy):
        flipped = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2])
        dx, _, _ = _forward(tf.pad(dy, [[0, 0], [2, 2], [2, 2], [0, 0]]), flipped)
        du = tf.matmul(v, _untile_adjoint(dy, t, s), transpose_a=True)       # (36, C, K)
        dw = tf.matmul(tf.constant(_KERNEL, du.dtype), tf.reshape(du, [ALPHA * ALPHA, -1]), transpose_a=True)
        return dx, tf.reshape(dw, w.shape)

    return y, grad


def winograd_conv2d(inputs, kernel, padding: str = "valid"):
    """A 3x3 stride-1 convolution by F(4x4, 3x3), with Winograd-domain gradients.

    Args:
        inputs: float tensor `(batch, height, width, channels_in)` with static
            height, width and channels.
        kernel: tensor `(3, 3, channels_in, channels_out)`, same dtype.
        padding: str. `"valid"` or `"same"` (zero padding 1). Defaults to `"valid"`.

    Returns:
        `(batch, height - 2, width - 2, channels_out)` for "valid", `(batch,
        height, width, channels_out)` for "same": `tf.nn.conv2d(inputs, kernel,
        1, padding.upper())` up to float rounding.

    Raises:
        ValueError: for another kernel size or padding, a spatial size too
            small or not static.

    Example:

    >>> x = tf.random.normal((1, 10, 10, 4))
    >>> w = tf.random.normal((3, 3, 4, 8))
    >>> winograd_conv2d(x, w).shape
    TensorShape([1, 8, 8, 8])
    """
    if padding not in ("valid", "same"):
        raise ValueError(f"Invalid value for argument `padding`: expected 'valid' or 'same'. Received: padding={padding!r}")
    kernel = tf.convert_to_tensor(kernel, dtype=inputs.dtype)
    if tuple(kernel.shape[:2]) != (3, 3):
        raise ValueError(f"Invalid value for argument `kernel`: expected a 3x3 kernel. Received: shape={tuple(kernel.shape)}")
    if padding == "same":
        inputs = tf.pad(inputs, [[0, 0], [1, 1], [1, 1], [0, 0]])
    height, width = inputs.shape[1:3]
    if height is None or width is None or height < 3 or width < 3:
        raise ValueError("Invalid value for argument `inputs`: expected static height and width of at least 3 "
                         f"after padding. Received: shape={tuple(inputs.shape)}")
    return _winograd_valid(inputs, kernel)


@keras.saving.register_keras_serializable(package="tfgan_translate")
class WinogradConv2D(layers.Conv2D):
    """`keras.layers.Conv2D` that runs 3x3 stride-1 convolutions as `winograd_conv2d` on CPU.

    Same arguments, weights and outputs (up to float rounding) as `Conv2D`,
    so checkpoints are interchangeable. The Winograd path is taken when all
    hold: `winograd=True`, a 3x3 kernel, stride 1, no dilation, one group,
    "valid" or "same" padding, channels last, float32 compute, static input
    height and width, and no GPU visible to TensorFlow (cuDNN has its own
    Winograd kernels). Otherwise it is `Conv2D`.

    Args:
        *args: `keras.layers.Conv2D` arguments.
        winograd: bool. Allow the Winograd path. Exporters set it to False so
            that SavedModel and TFLite files hold plain CONV_2D ops.
            Defaults to `True`.
        **kwargs: `keras.layers.Conv2D` keyword arguments.

    Example:

    >>> conv = WinogradConv2D(8, 3, padding="same")
    >>> conv(tf.random.normal((1, 16, 16, 4))).shape
    TensorShape([1, 16, 16, 8])

    Reference: Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks".
    """

    def __init__(self, *args, winograd: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.winograd = bool(winograd)

    def uses_winograd(self, input_shape) -> bool:
        """Whether a call on inputs of `input_shape` takes the Winograd path."""
        return (self.winograd
                and tuple(self.kernel_size) == (3, 3)
                and tuple(self.strides) == (1, 1)
                and tuple(self.dilation_rate) == (1, 1)
                and self.groups == 1
                and self.padding in ("valid", "same")
                and self.data_format == "channels_last"
                and self.compute_dtype == "float32"
                and len(input_shape) == 4
                and None not in input_shape[1:]
                and min(input_shape[1:3]) >= (1 if self.padding == "same" else 3)
                and not tf.config.list_logical_devices("GPU"))

    def convolution_op(self, inputs, kernel):
        if self.uses_winograd(tuple(inputs.shape)):
            return winograd_conv2d(inputs, kernel, self.padding)
        return super().convolution_op(inputs, kernel)

    def get_config(self):
        return {**super().get_config(), "winograd": self.winograd}


def set_winograd(model: keras.Model, enabled: bool) -> int:
    """Allow or forbid the Winograd path in every `WinogradConv2D` inside `model`.

    Takes effect when a function calling the model is next traced (a fresh
    `tf.function`, or a recompiled `fit`).

    Args:
        model: keras.Model (or Layer), searched recursively: a generator, or a
            Pix2Pix / CycleGAN model holding generators.
        enabled: bool. The new `winograd` attribute of each layer.

    Returns:
        int: how many layers were set.

    Example:

    >>> from tfgan_translate.networks import resnet_generator
    >>> set_winograd(resnet_generator(n_blocks=2, ngf=8), False)  # 7x7, 3x3 stride 2 and block convs
    8
    """
    count = 0
    for layer in model._flatten_layers(include_self=True, recursive=True):
        if isinstance(layer, WinogradConv2D):
            layer.winograd = bool(enabled)
            count += 1
    return count


__all__ = ["A_T", "B_T", "G", "WinogradConv2D", "set_winograd", "winograd_conv2d"]

"""Stride-1 3x3 and 4x4 convolutions by Winograd's minimal filtering, F(4x4, 3x3) and F(3x3, 4x4).

A 3x3 convolution computes each output pixel with 9 multiply-adds per
input channel. Winograd's algorithm computes a 4x4 output tile from a 6x6
input tile with 36 instead of 144: the tile and the kernel are each moved
into a 6x6 "Winograd domain" by fixed linear maps, multiplied element-wise
there, and the product is mapped back:

    Y = A^T [ (G g G^T) * (B^T d B) ] A

with `d` a 6x6 input tile and `g` the kernel. Summed over input channels,
the element-wise product becomes 36 matrix products of (tiles x C_in) by
(C_in x C_out): 4x fewer multiply-adds than the direct convolution, in
GEMMs that run near the CPU's peak. A 4x4 kernel (the PatchGAN's two
stride-1 convolutions) takes F(3x3, 4x4): 3x3 outputs from the same 6x6
tiles, 36 products instead of 144 again.

`winograd_matrices(m, r)` builds B^T, G and A^T for F(m, r) by Toom-Cook
from the points 0, 1, -1, 2, -2 and infinity (for F(4, 3) these are Lavin &
Gray's matrices). `winograd_conv2d` uses them for the forward pass and,
through a custom gradient, for both gradients: the input gradient is the
same algorithm with the kernel flipped and transposed (the "full"
convolution of the output gradient), and the kernel gradient contracts the
Winograd-domain input with the mapped-back output gradient over tiles,
again 4x fewer multiply-adds. On the 2-core CPU this project is measured
on, one ResNet block convolution (64x64x256, batch 1) takes 26 ms for
forward + both gradients against 55 ms for TensorFlow's oneDNN convolution.

The result equals the direct convolution up to float32 rounding: the
largest error is about 2e-5 of the largest output (the transforms'
coefficients reach 8, and each term is rounded). `WinogradConv2D` is a
`keras.layers.Conv2D` with the same weights that uses it where it pays:
float32, a 3x3 or 4x4 kernel, stride 1, no dilation, at least 128 input
and output channels, static spatial sizes and no GPU or TPU (cuDNN and XLA pick their own
convolution algorithms); everything else goes to `Conv2D`.

Reference: Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural
Networks"; Winograd 1980, "Arithmetic Complexity of Computations".
"""

from __future__ import annotations

import functools
from fractions import Fraction

import keras
import numpy as np
import tensorflow as tf
from keras import layers

TILE_SIZES = {3: 4, 4: 3}  # kernel size r -> outputs per tile and axis m; both give 6x6 input tiles
# Below this the transforms cost more than the products save. Measured forward + both gradients (ms),
# direct vs Winograd: 64 channels at 64x64 4.5 vs 6.1, 128 at 64x64 13.0 vs 10.9, 256 at 64x64 55.6 vs 29.4.
MIN_CHANNELS = 128
POINTS = (0, 1, -1, 2, -2, 3, -3)  # interpolation points, in order of use; infinity is always added


def winograd_matrices(m: int, r: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """B^T, G and A^T of F(m, r): `A^T [(G g) * (B^T d)]` is the correlation of d with g.

    Toom-Cook with the first `m + r - 2` of `POINTS` and infinity: A^T
    evaluates the product polynomial's coefficients at the points, G
    evaluates the kernel scaled by 1 / prod(p_j - p_l), and B^T is solved
    for so that the identity holds for every d and g.

    Args:
        m: int. Outputs per tile, >= 1.
        r: int. Kernel taps, >= 1; `m + r - 2 <= len(POINTS)`.

    Returns:
        `(B_T, G, A_T)`, float64 arrays of shapes `(a, a)`, `(a, r)` and
        `(m, a)` with `a = m + r - 1`.

    Example:

    >>> B_T, G, A_T = winograd_matrices(4, 3)
    >>> d, g = np.arange(6.0), np.array([1.0, -2.0, 0.5])
    >>> np.allclose(A_T @ ((G @ g) * (B_T @ d)), [d[i:i + 3] @ g for i in range(4)])
    True
    """
    a = m + r - 1
    if m < 1 or r < 1 or a - 1 > len(POINTS):
        raise ValueError(f"Invalid tile: expected m >= 1, r >= 1 and m + r - 2 <= {len(POINTS)}. "
                         f"Received: m={m}, r={r}")
    points = POINTS[: a - 1]
    a_t, g = np.zeros((m, a)), np.zeros((a, r))
    for j, p in enumerate(points):
        scale = np.prod([p - q for q in points if q != p])
        a_t[:, j] = [p**i for i in range(m)]
        g[j] = [p**k / scale for k in range(r)]
    a_t[m - 1, a - 1] = g[a - 1, r - 1] = 1.0  # the point at infinity: leading coefficients
    # y_i = sum_k g_k d_(i+k) for all d, g <=> sum_j A^T[i, j] G[j, k] B^T[j, l] = [l == i + k]
    system = np.einsum("ij,jk->ikj", a_t, g).reshape(m * r, a)
    targets = np.array([[float(j == i + k) for j in range(a)] for i in range(m) for k in range(r)])
    b_t = np.linalg.lstsq(system, targets, rcond=None)[0]
    b_t = np.vectorize(lambda x: float(Fraction(x).limit_denominator(1000)))(b_t)
    return b_t, g, a_t


@functools.cache
def _transforms(r: int):
    """(m, a, input (a*a, a*a), kernel (a*a, r*r), output (m*m, a*a)) for a kernel of size r, float32."""
    m = TILE_SIZES[r]
    b_t, g, a_t = winograd_matrices(m, r)
    return m, m + r - 1, *(np.kron(x, x).astype(np.float32) for x in (b_t, g, a_t))


def _tiles(x, r):
    """`(N, H + r - 1, W + r - 1, C)` -> the Winograd-domain input `(a*a, N * T * S, C)` and (T, S).

    T x S tiles of a x a inputs at stride m cover the H x W output (`T = ceil(H / m)`);
    the input is zero-padded at the bottom and right to fill the last ones.
    Each tile is the m rows of one block and the first r - 1 of the next: two
    reshapes and a concatenation per axis, no gather.
    """
    m, a, input_map, _, _ = _transforms(r)
    _, height, width, channels = x.shape
    t, s = -(-(height - r + 1) // m), -(-(width - r + 1) // m)
    rows, cols = m * t + m, m * s + m
    x = tf.pad(x, [[0, 0], [0, rows - height], [0, cols - width], [0, 0]])
    x = tf.concat([tf.reshape(x[:, :-m], [-1, t, m, cols, channels]),
                   tf.reshape(x[:, m:], [-1, t, m, cols, channels])[:, :, : r - 1]], axis=2)
    x = tf.concat([tf.reshape(x[:, :, :, :-m], [-1, t, a, s, m, channels]),
                   tf.reshape(x[:, :, :, m:], [-1, t, a, s, m, channels])[:, :, :, :, : r - 1]], axis=4)
    x = tf.reshape(tf.transpose(x, [2, 4, 0, 1, 3, 5]), [a * a, -1])   # (a*a, N*T*S*C)
    v = tf.matmul(tf.constant(input_map, x.dtype), x)
    return tf.reshape(v, [a * a, -1, channels]), (t, s)


def _untile(products, r, t, s, height, width):
    """The a*a products `(a*a, N * T * S, K)` -> the output `(N, height, width, K)`."""
    m, a, _, _, output_map = _transforms(r)
    channels = products.shape[-1]
    y = tf.matmul(tf.constant(output_map, products.dtype), tf.reshape(products, [a * a, -1]))
    y = tf.transpose(tf.reshape(y, [m, m, -1, t, s, channels]), [2, 3, 0, 4, 1, 5])
    return tf.reshape(y, [-1, m * t, m * s, channels])[:, :height, :width]


def _untile_adjoint(dy, r, t, s):
    """The transpose of `_untile`: `(N, H, W, K)` -> `(a*a, N * T * S, K)`."""
    m, a, _, _, output_map = _transforms(r)
    _, height, width, channels = dy.shape
    dy = tf.pad(dy, [[0, 0], [0, m * t - height], [0, m * s - width], [0, 0]])
    dy = tf.transpose(tf.reshape(dy, [-1, t, m, s, m, channels]), [2, 4, 0, 1, 3, 5])
    dp = tf.matmul(tf.constant(output_map, dy.dtype), tf.reshape(dy, [m * m, -1]), transpose_a=True)
    return tf.reshape(dp, [a * a, -1, channels])


def _kernel(w):
    """`(r, r, C, K)` -> the Winograd-domain kernel `(a*a, C, K)`."""
    r, _, c_in, c_out = w.shape
    _, a, _, kernel_map, _ = _transforms(r)
    u = tf.matmul(tf.constant(kernel_map, w.dtype), tf.reshape(w, [r * r, c_in * c_out]))
    return tf.reshape(u, [a * a, c_in, c_out])


def _forward(x, w):
    r = w.shape[0]
    v, (t, s) = _tiles(x, r)
    y = _untile(tf.matmul(v, _kernel(w)), r, t, s, x.shape[1] - r + 1, x.shape[2] - r + 1)
    return y, v, (t, s)


@tf.custom_gradient
def _winograd_valid(x, w):
    y, v, (t, s) = _forward(x, w)

    def grad(dy):
        r = w.shape[0]
        _, a, _, kernel_map, _ = _transforms(r)
        with tf.control_dependencies([dy]):  # else it runs at the step's start and is kept through the forward pass
            flipped = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2])
        full = r - 1
        dx, _, _ = _forward(tf.pad(dy, [[0, 0], [full, full], [full, full], [0, 0]]), flipped)
        du = tf.matmul(v, _untile_adjoint(dy, r, t, s), transpose_a=True)       # (a*a, C, K)
        dw = tf.matmul(tf.constant(kernel_map, du.dtype), tf.reshape(du, [a * a, -1]), transpose_a=True)
        return dx, tf.reshape(dw, w.shape)

    return y, grad


def winograd_conv2d(inputs, kernel, padding: str = "valid"):
    """A stride-1 3x3 or 4x4 convolution by Winograd's algorithm, with Winograd-domain gradients.

    Args:
        inputs: float tensor `(batch, height, width, channels_in)` with static
            height, width and channels.
        kernel: tensor `(r, r, channels_in, channels_out)` with r = 3
            (F(4x4, 3x3)) or 4 (F(3x3, 4x4)), same dtype.
        padding: str. `"valid"` or `"same"` (zero padding as TensorFlow's:
            `(r - 1) // 2` before, the rest after). Defaults to `"valid"`.

    Returns:
        `(batch, height - r + 1, width - r + 1, channels_out)` for "valid",
        `(batch, height, width, channels_out)` for "same":
        `tf.nn.conv2d(inputs, kernel, 1, padding.upper())` up to float rounding.

    Raises:
        ValueError: for another kernel size or padding, or a spatial size
            that is not static or smaller than the kernel.

    Example:

    >>> x = tf.random.normal((1, 10, 10, 4))
    >>> w = tf.random.normal((3, 3, 4, 8))
    >>> winograd_conv2d(x, w).shape
    TensorShape([1, 8, 8, 8])
    """
    if padding not in ("valid", "same"):
        raise ValueError("Invalid value for argument `padding`: expected 'valid' or 'same'. "
                         f"Received: padding={padding!r}")
    kernel = tf.convert_to_tensor(kernel, dtype=inputs.dtype)
    r = kernel.shape[0]
    if r not in TILE_SIZES or kernel.shape[1] != r:
        raise ValueError(f"Invalid value for argument `kernel`: expected a 3x3 or 4x4 kernel. "
                         f"Received: shape={tuple(kernel.shape)}")
    if padding == "same":
        before = (r - 1) // 2
        inputs = tf.pad(inputs, [[0, 0], [before, r - 1 - before], [before, r - 1 - before], [0, 0]])
    height, width = inputs.shape[1:3]
    if height is None or width is None or height < r or width < r:
        raise ValueError(f"Invalid value for argument `inputs`: expected static height and width of at least {r} "
                         f"after padding. Received: shape={tuple(inputs.shape)}")
    return _winograd_valid(inputs, kernel)


@keras.saving.register_keras_serializable(package="tfgan_translate")
class WinogradConv2D(layers.Conv2D):
    """`keras.layers.Conv2D` that runs stride-1 3x3 and 4x4 convolutions as `winograd_conv2d` on CPU.

    Same arguments, weights and outputs (up to float rounding) as `Conv2D`,
    so checkpoints are interchangeable. The Winograd path is taken when all
    hold: `winograd=True`, a 3x3 or 4x4 kernel, stride 1, no dilation, one
    group, at least `MIN_CHANNELS` input and output channels, "valid" or
    "same" padding, channels last, float32 compute, static input height and
    width, and no GPU or TPU visible to TensorFlow (cuDNN and XLA pick their
    own convolution algorithms). Otherwise it is `Conv2D`.

    Args:
        *args: `keras.layers.Conv2D` arguments.
        winograd: bool. Allow the Winograd path. Exporters set it to False so
            that SavedModel and TFLite files hold plain CONV_2D ops.
            Defaults to `True`.
        **kwargs: `keras.layers.Conv2D` keyword arguments.

    Example:

    >>> conv = WinogradConv2D(128, 3, padding="same")
    >>> conv(tf.random.normal((1, 16, 16, 128))).shape
    TensorShape([1, 16, 16, 128])

    Reference: Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks".
    """

    def __init__(self, *args, winograd: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.winograd = bool(winograd)

    def uses_winograd(self, input_shape) -> bool:
        """Whether a call on inputs of `input_shape` takes the Winograd path."""
        r = self.kernel_size[0]
        return (self.winograd
                and r in TILE_SIZES and tuple(self.kernel_size) == (r, r)
                and tuple(self.strides) == (1, 1)
                and tuple(self.dilation_rate) == (1, 1)
                and self.groups == 1
                and self.padding in ("valid", "same")
                and self.data_format == "channels_last"
                and self.compute_dtype == "float32"
                and len(input_shape) == 4
                and None not in input_shape[1:]
                and min(input_shape[-1], self.filters) >= MIN_CHANNELS
                and min(input_shape[1:3]) >= (1 if self.padding == "same" else r)
                and not tf.config.list_logical_devices("GPU")
                and not tf.config.list_logical_devices("TPU"))

    def convolution_op(self, inputs, kernel):
        if self.uses_winograd(tuple(inputs.shape)):
            return winograd_conv2d(inputs, kernel, self.padding)
        return super().convolution_op(inputs, kernel)

    def get_config(self):
        return {**super().get_config(), "winograd": self.winograd}


def _all_layers(layer):
    """`layer` and every layer inside it, through the public `layers` attribute of models (depth first)."""
    yield layer
    for child in getattr(layer, "layers", ()):
        yield from _all_layers(child)


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
    for layer in _all_layers(model):
        if isinstance(layer, WinogradConv2D):
            layer.winograd = bool(enabled)
            count += 1
    return count


__all__ = ["MIN_CHANNELS", "TILE_SIZES", "WinogradConv2D", "set_winograd", "winograd_conv2d", "winograd_matrices"]

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
coefficients reach 8, and each term is rounded). `set_winograd(model, True)`
makes the stock `keras.layers.Conv2D` layers of a built model use it where it
pays (`uses_winograd`: float32, a 3x3 or 4x4 kernel, stride 1, no dilation,
at least 128 input and output channels, static spatial sizes, no GPU or TPU);
every other call is Keras' own convolution. The layers keep their class and
config, so nothing of this is saved with a model.

Reference: Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural
Networks"; Winograd 1980, "Arithmetic Complexity of Computations".
"""

import functools
import types
from fractions import Fraction

import keras
import numpy as np
import tensorflow as tf

from tfgan_translate.choices import check_choice
from tfgan_translate.networks.layers import walk_layers

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
        raise ValueError(f"Invalid value for arguments `m`, `r`. Received: m={m}, r={r}. Expected m >= 1, r >= 1 "
                         f"and m + r - 2 <= {len(POINTS)}.")
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
    check_choice("padding", padding, ("valid", "same"))
    kernel = tf.convert_to_tensor(kernel, dtype=inputs.dtype)
    r = kernel.shape[0]
    if r not in TILE_SIZES or kernel.shape[1] != r:
        raise ValueError(f"Invalid value for argument `kernel`. Received: a kernel of shape {tuple(kernel.shape)}. "
                         "Expected a 3x3 or 4x4 kernel.")
    if padding == "same":
        before = (r - 1) // 2
        inputs = tf.pad(inputs, [[0, 0], [before, r - 1 - before], [before, r - 1 - before], [0, 0]])
    height, width = inputs.shape[1:3]
    if height is None or width is None or height < r or width < r:
        raise ValueError(f"Invalid value for argument `inputs`. Received: inputs of shape {tuple(inputs.shape)} "
                         f"after padding. Expected static height and width of at least {r}.")
    return _winograd_valid(inputs, kernel)


def replace_method(layer, name: str, function) -> None:
    """Makes `function(layer, ...)` the layer object's method `name`, or with None restores its class's own."""
    if function is not None:
        setattr(layer, name, types.MethodType(function, layer))
    elif name in vars(layer):
        delattr(layer, name)


def uses_winograd(layer: keras.layers.Conv2D, input_shape) -> bool:
    """Whether `layer` (a `keras.layers.Conv2D`) called on inputs of `input_shape` can run as `winograd_conv2d`.

    All must hold: a 3x3 or 4x4 kernel, stride 1, no dilation, one group, at least `MIN_CHANNELS` input and
    output channels, "valid" or "same" padding, channels last, float32 compute, static input height and width,
    and no GPU or TPU visible to TensorFlow (cuDNN and XLA pick their own convolution algorithms).
    """
    r = layer.kernel_size[0]
    return (r in TILE_SIZES and tuple(layer.kernel_size) == (r, r)
            and tuple(layer.strides) == tuple(layer.dilation_rate) == (1, 1) and layer.groups == 1
            and layer.padding in ("valid", "same") and layer.data_format == "channels_last"
            and layer.compute_dtype == "float32"
            and len(input_shape) == 4 and None not in input_shape[1:]
            and min(input_shape[-1], layer.filters) >= MIN_CHANNELS
            and min(input_shape[1:3]) >= (1 if layer.padding == "same" else r)
            and not tf.config.list_logical_devices("GPU") and not tf.config.list_logical_devices("TPU"))


def _convolution_op(layer, inputs, kernel):
    """`Conv2D.convolution_op` through `winograd_conv2d` where `uses_winograd` allows it."""
    if uses_winograd(layer, tuple(inputs.shape)):
        return winograd_conv2d(inputs, kernel, layer.padding)
    return type(layer).convolution_op(layer, inputs, kernel)


def set_winograd(model, enabled: bool) -> int:
    """Runs every `keras.layers.Conv2D` inside `model` through `winograd_conv2d` where it applies, or stops it.

    A call-time replacement of each layer's `convolution_op` (an attribute of the layer object): the layer
    keeps its class, config and weights, so a model saved with it on equals one saved with it off. Which
    calls take the Winograd path is decided per call by `uses_winograd`. Takes effect when a function
    calling the model is next traced (a fresh `tf.function`, or a recompiled `fit`).

    Args:
        model: keras.Model or Layer, searched recursively (`walk_layers`): a network, or a Pix2Pix /
            CycleGAN model holding networks.
        enabled: bool. Replace (True) or restore Keras' own `convolution_op` (False).

    Returns:
        int: how many `Conv2D` layers were set.

    Example:

    >>> from tfgan_translate.networks import ResNetGenerator
    >>> set_winograd(ResNetGenerator(n_blocks=2, ngf=8), True)  # 7x7, two stride 2, 4 in blocks, 7x7
    8

    Reference: Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks".
    """
    convolutions = [layer for layer in walk_layers(model) if isinstance(layer, keras.layers.Conv2D)]
    for layer in convolutions:
        replace_method(layer, "convolution_op", _convolution_op if enabled else None)
    return len(convolutions)


__all__ = ["MIN_CHANNELS", "TILE_SIZES", "set_winograd", "uses_winograd", "winograd_conv2d", "winograd_matrices"]

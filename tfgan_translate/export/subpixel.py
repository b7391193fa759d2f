"""Transposed convolutions rewritten as sub-pixel convolutions, for fast TFLite files.

A stride-s transposed convolution with "same" padding computes each of its
s x s output phases (rows = s*m + a, columns = s*n + b) from a small
neighbourhood of the input with a subset of its kernel taps. So it equals s*s
ordinary stride-1 convolutions, one per phase, whose outputs are interleaved by
DEPTH_TO_SPACE (Shi et al. 2016, "Is the deconvolution layer the same as a
convolutional layer?"). The FLOPs are the same; what changes is the kernel that
runs them: XNNPACK's CONV_2D is far faster than its TRANSPOSE_CONV (for
pix2pix's unet_256, seven 4x4 stride-2 up-convolutions, the float32 .tflite
file ran 2.4x as fast on a 2-core CPU; docs/export.md has the current figures).

In one dimension, with kernel w of size k, stride s and
`pad = max(k - s, 0) // 2` (TensorFlow's "same"), output `y[s*m + r]` is
`sum(w[t] * x[m - d])` over the taps t with `t = s*d + r + pad`. Each phase r
is therefore a "valid" convolution over x padded by `max(d)` before and
`-min(d)` after, with the taps in reverse order of d.

TensorFlow on CPU (oneDNN) runs its own transposed convolution faster than
this rewrite, so only the TFLite converter gets it (`tflite_graph.tflite_copy`).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops


def phase_taps(kernel_size: int, stride: int, pad: int | None = None) -> list[list[tuple[int, int]]]:
    """For each output phase r in 0..stride-1, its (kernel index, input offset d) pairs.

    Output `y[stride * m + r]` sums `w[t] * x[m - d]` over the pairs (t, d) of
    phase r, with `t = stride * d + r + pad`.

    Args:
        kernel_size: int, >= `stride` (else a phase has no taps: ValueError).
        stride: int.
        pad: int or None. Rows the transposed convolution's output starts
            after the "full" one: TensorFlow's "same" padding when None
            (`max(kernel_size - stride, 0) // 2`), or e.g. the rows a
            `Cropping2D` removes after a "valid" one (PyTorch's `padding=1,
            output_padding=1` for a 3x3 kernel is pad 1).

    Raises:
        ValueError: if a phase would need input rows beyond one side only
            (the output would not be `stride` times the input).

    Example:

    >>> phase_taps(4, 2)
    [[(1, 0), (3, 1)], [(0, -1), (2, 0)]]
    """
    pad = max(kernel_size - stride, 0) // 2 if pad is None else pad
    taps = [[(t, (t - r - pad) // stride) for t in range(kernel_size) if (t - r - pad) % stride == 0]
            for r in range(stride)]
    for phase in taps:
        offsets = [d for _, d in phase]
        if not offsets or max(offsets) < 0 or min(offsets) > 0:
            raise ValueError(f"No exact sub-pixel rewrite for kernel_size={kernel_size}, stride={stride}, "
                             f"pad={pad}: phase offsets {offsets} do not straddle 0.")
    return taps


def can_rewrite(layer, crop=None) -> bool:
    """Whether this module rewrites `layer` (followed by a `Cropping2D` of `crop`, if given) exactly.

    That is a Conv2DTranspose with equal strides > 1 no larger than the
    kernel, no dilation, no output padding, channels last, and either "same"
    padding (`crop` None) or "valid" padding with `crop`
    ((top, bottom), (left, right)) cutting the output to stride x the input,
    like the ResNet generator's PyTorch-aligned up-convolutions.
    """
    if not isinstance(layer, keras.layers.Conv2DTranspose):
        return False
    config = layer.get_config()
    stride_h, stride_w = config["strides"]
    if not (stride_h == stride_w > 1 and min(config["kernel_size"]) >= stride_h
            and tuple(config["dilation_rate"]) == (1, 1) and config.get("output_padding") is None
            and config.get("data_format", "channels_last") == "channels_last"):
        return False
    if crop is None:
        return config["padding"] == "same"
    # Crops of at least 0 leaving stride x the input: every phase then has its tap at offset 0 (`phase_taps`).
    return config["padding"] == "valid" and all(min(before, after) >= 0 and k - before - after == stride_h
                                                for k, (before, after) in zip(config["kernel_size"], crop))


@keras.saving.register_keras_serializable(package="tfgan_translate")
class SubPixelConv2DTranspose(keras.layers.Layer):
    """A stride-s Conv2DTranspose ("same", or "valid" + crop) computed as s*s convolutions + depth-to-space.

    It holds the same weights as the `Conv2DTranspose` it replaces (kernel
    `(kh, kw, filters, in_channels)`, then bias `(filters,)`), so
    `set_weights` carries them over, and gives the same output up to float
    rounding. The per-phase kernels are slices of the kernel, which the TFLite
    converter folds into constants.

    Args:
        filters: int. Output channels.
        kernel_size: (int, int). Kernel height and width, each >= `stride`.
        stride: int. Upsampling factor, > 1.
        use_bias: bool. Whether a bias is added.
        pad: (int, int) or None. Per axis, where the output starts (see
            `phase_taps`); None is TensorFlow's "same". Defaults to None.

    Input shape:
        `(batch, height, width, in_channels)`.

    Output shape:
        `(batch, stride * height, stride * width, filters)`.

    Example:

    >>> up = keras.layers.Conv2DTranspose(8, 4, strides=2, padding="same")
    >>> x = keras.random.normal((1, 5, 6, 3))
    >>> y = up(x)
    >>> sub = SubPixelConv2DTranspose.replacing(up)
    >>> sub.build(x.shape)
    >>> sub.set_weights(up.get_weights())
    >>> float(ops.max(ops.abs(sub(x) - y))) < 1e-5
    True
    """

    def __init__(self, filters: int, kernel_size, stride: int, use_bias: bool = True, pad=None, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = tuple(int(k) for k in kernel_size)
        self.stride = int(stride)
        self.use_bias = bool(use_bias)
        self.pad = None if pad is None else tuple(int(p) for p in pad)
        self._taps = [phase_taps(k, self.stride, p) for k, p in zip(self.kernel_size, self.pad or (None, None))]

    @classmethod
    def replacing(cls, layer: keras.layers.Conv2DTranspose, crop=None) -> SubPixelConv2DTranspose:
        """The rewrite of `layer` (same name, dtype and configuration; weights still to be set).

        Args:
            layer: a Conv2DTranspose that `can_rewrite` accepts, or, with
                `crop`, a "valid" one.
            crop: ((top, bottom), (left, right)) or None. The `Cropping2D`
                that follows a "valid" `layer`; the pair is rewritten as one
                layer, which must then give `stride` times the input size.
        """
        config = layer.get_config()
        if not can_rewrite(layer, crop):
            raise ValueError(f"Layer {layer.name!r} cannot be rewritten as a sub-pixel convolution: it needs "
                             "'same' padding (or 'valid' padding and a crop back to stride x the input), equal "
                             "strides > 1 no larger than the kernel, no dilation and no output padding. "
                             f"Received: {config}, crop={crop}.")
        return cls(config["filters"], config["kernel_size"], config["strides"][0], use_bias=config["use_bias"],
                   pad=None if crop is None else (crop[0][0], crop[1][0]), name=layer.name, dtype=config.get("dtype"))

    def build(self, input_shape):
        kh, kw = self.kernel_size
        self.kernel = self.add_weight(name="kernel", shape=(kh, kw, self.filters, input_shape[-1]))
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer="zeros")

    def _phase(self, inputs, kernel, rows, cols):
        """One phase: pad, then a "valid" stride-1 convolution with the phase's taps."""
        # Tap i of the phase kernel reads x[m + i - max(d)], i.e. offset d = max(d) - i: taps by decreasing d.
        rows, cols = (sorted(taps, key=lambda pair: -pair[1]) for taps in (rows, cols))
        phase_kernel = ops.stack([ops.stack([kernel[t_row, t_col] for t_col, _ in cols]) for t_row, _ in rows])
        padded = ops.pad(inputs, [[0, 0], [rows[0][1], -rows[-1][1]], [cols[0][1], -cols[-1][1]], [0, 0]])
        return ops.conv(padded, phase_kernel, strides=1, padding="valid")

    def call(self, inputs):
        kernel = ops.transpose(self.kernel, (0, 1, 3, 2))  # (kh, kw, in, out), as ops.conv takes it
        phases = [self._phase(inputs, kernel, rows, cols) for rows in self._taps[0] for cols in self._taps[1]]
        outputs = ops.concatenate(phases, axis=-1)  # channel (a * s + b) * filters + c, as depth_to_space reads it
        if self.use_bias:
            outputs = outputs + ops.tile(self.bias, [self.stride * self.stride])
        return tf.nn.depth_to_space(outputs, self.stride)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "stride": self.stride, "use_bias": self.use_bias, "pad": self.pad}


__all__ = ["SubPixelConv2DTranspose", "can_rewrite", "phase_taps"]

"""A 4x4 stride-2 convolution on small maps: oneDNN's convolution against im2col + one matmul.

Times the forward pass and both gradients (input and kernel) at batch 1, in float32 and bfloat16, for
the map sizes of the U-Net's inner layers. The matmul form pads, cuts the 4x4 patches with
`tf.image.extract_patches` and multiplies them by the kernel as one (patches x 16 C_in) @ (16 C_in x
C_out) matrix product. It backs the "measured and left alone" table of docs/benchmarks.md.

    python benchmarks/conv_small_maps.py
"""

from __future__ import annotations

import os
import statistics
import timeit

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf

CASES = [(2, 512, 512), (4, 512, 512), (8, 512, 512), (16, 512, 512), (32, 256, 512)]  # (map, C_in, C_out)


def _with_gradients(forward):
    """A compiled function returning d(sum(y^2))/dx and d(sum(y^2))/dw for y = forward(x, w)."""
    @tf.function
    def step(x, w):
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            y = forward(x, w)
            loss = tf.reduce_sum(y * y)
        return tape.gradient(loss, [x, w])
    return step


def direct(x, w):
    return tf.nn.conv2d(x, w, 2, "SAME")  # 4x4, stride 2, pad 1 on each side at even sizes


def im2col(x, w):
    patches = tf.image.extract_patches(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), [1, 4, 4, 1], [1, 2, 2, 1],
                                       [1, 1, 1, 1], "VALID")
    n, height, width, k = patches.shape
    return tf.reshape(tf.reshape(patches, [-1, k]) @ tf.reshape(w, [k, -1]), [n, height, width, -1])


def milliseconds(step, x, w, repeats: int = 7, number: int = 5) -> float:
    step(x, w)  # trace and warm up
    return statistics.median(timeit.repeat(lambda: [g.numpy() for g in step(x, w)], repeat=repeats,
                                           number=number)) / number * 1e3


def main() -> None:
    steps = {"conv": _with_gradients(direct), "im2col + matmul": _with_gradients(im2col)}
    print(f"{'map':>7} {'channels':>10} {'dtype':>9}" + "".join(f"{name:>18}" for name in steps) + "  (ms)")
    for size, c_in, c_out in CASES:
        for dtype in (tf.float32, tf.bfloat16):
            x = tf.cast(tf.random.stateless_normal([1, size, size, c_in], seed=[0, 0]), dtype)
            w = tf.cast(tf.random.stateless_normal([4, 4, c_in, c_out], seed=[0, 1]) * 0.02, dtype)
            times = [milliseconds(step, x, w) for step in steps.values()]
            print(f"{size:>3}x{size:<3} {c_in:>4}->{c_out:<4} {dtype.name:>9}" + "".join(f"{t:>18.2f}" for t in times))


if __name__ == "__main__":
    main()

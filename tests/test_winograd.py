"""Tests of the Winograd convolutions (F(4x4, 3x3), F(3x3, 4x4)) against TensorFlow's direct one."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgan_translate.accelerate.winograd import (
    MIN_CHANNELS,
    set_winograd,
    uses_winograd,
    winograd_conv2d,
    winograd_matrices,
)
from tfgan_translate.networks import ResNetGenerator

# Lavin & Gray 2016, F(4x4, 3x3): the matrices winograd_matrices(4, 3) must reproduce.
LAVIN_B_T = np.array([[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                      [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]])
LAVIN_G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
                    [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])
LAVIN_A_T = np.array([[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]])


def _relative(expected, actual) -> float:
    expected, actual = np.asarray(expected, np.float64), np.asarray(actual, np.float64)
    return float(np.abs(expected - actual).max() / np.abs(expected).max())


def _conv_and_gradients(conv, x, w, dy):
    with tf.GradientTape() as tape:
        tape.watch([x, w])
        y = conv(x, w)
        loss = tf.reduce_sum(y * dy)
    return [y, *tape.gradient(loss, [x, w])]


def test_toom_cook_matrices_are_lavin_and_grays_for_f4_3():
    for actual, expected in zip(winograd_matrices(4, 3), (LAVIN_B_T, LAVIN_G, LAVIN_A_T)):
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("m, r", [(4, 3), (3, 4), (2, 3), (6, 3)])
def test_one_dimensional_transforms_compute_a_correlation_exactly(m, r):
    rng = np.random.default_rng(0)
    d, g = rng.normal(size=m + r - 1), rng.normal(size=r)
    b_t, g_matrix, a_t = winograd_matrices(m, r)
    direct = np.array([d[i:i + r] @ g for i in range(m)])
    np.testing.assert_allclose(a_t @ ((g_matrix @ g) * (b_t @ d)), direct, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("shape, r, padding, filters", [
    ((1, 18, 18, 16), 3, "valid", 8),    # whole tiles
    ((2, 13, 9, 5), 3, "valid", 6),      # batch 2, partial tiles, odd sizes
    ((3, 7, 11, 4), 3, "same", 3),
    ((1, 3, 3, 2), 3, "valid", 4),       # a single output pixel
    ((1, 1, 1, 3), 3, "same", 2),
    ((1, 12, 12, 8), 4, "valid", 8),     # F(3x3, 4x4): whole tiles
    ((2, 10, 7, 5), 4, "valid", 3),      # the PatchGAN's 31x31-like partial tiles
    ((1, 6, 9, 4), 4, "same", 6),        # TensorFlow's asymmetric "same" for an even kernel
])
def test_winograd_conv2d_matches_tf_conv2d_with_both_gradients(shape, r, padding, filters):
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(size=shape).astype(np.float32))
    w = tf.constant(rng.normal(size=(r, r, shape[-1], filters)).astype(np.float32))
    direct = lambda x, w: tf.nn.conv2d(x, w, 1, padding.upper())  # noqa: E731
    out_shape = direct(x, w).shape
    dy = tf.constant(rng.normal(size=out_shape).astype(np.float32))
    expected = _conv_and_gradients(direct, x, w, dy)
    actual = _conv_and_gradients(lambda x, w: winograd_conv2d(x, w, padding), x, w, dy)
    for name, e, a in zip(("output", "input gradient", "kernel gradient"), expected, actual):
        assert a.shape == e.shape, name
        assert _relative(e, a) < 1e-5, (name, _relative(e, a))


def test_winograd_conv2d_rejects_what_it_cannot_compute():
    x = tf.zeros((1, 8, 8, 2))
    with pytest.raises(ValueError, match=r"kernel.*\(5, 5, 2, 4\).*3x3 or 4x4"):
        winograd_conv2d(x, tf.zeros((5, 5, 2, 4)))
    with pytest.raises(ValueError, match="padding='causal'"):
        winograd_conv2d(x, tf.zeros((3, 3, 2, 4)), "causal")
    with pytest.raises(ValueError, match=r"inputs.*\(1, 3, 8, 2\).*at least 4"):
        winograd_conv2d(tf.zeros((1, 3, 8, 2)), tf.zeros((4, 4, 2, 4)))


@pytest.mark.parametrize("kwargs, dtype, winograd", [
    (dict(kernel_size=3, padding="same"), "float32", True),
    (dict(kernel_size=3, padding="valid", use_bias=False), "float32", True),
    (dict(kernel_size=4), "float32", True),
    (dict(kernel_size=3, strides=2), "float32", False),
    (dict(kernel_size=7), "float32", False),
    (dict(kernel_size=3, dilation_rate=2), "float32", False),
    (dict(kernel_size=3, filters=MIN_CHANNELS // 2), "float32", False),  # too few channels to pay
    (dict(kernel_size=3, padding="same"), "mixed_bfloat16", False),
])
def test_conv2d_takes_the_winograd_path_only_where_it_applies_and_keeps_its_identity(kwargs, dtype, winograd):
    x = tf.constant(np.random.default_rng(2).normal(size=(2, 16, 12, MIN_CHANNELS)).astype(np.float32))
    kwargs = {"filters": MIN_CHANNELS, **kwargs}
    layer = keras.layers.Conv2D(bias_initializer="random_normal", dtype=dtype, **kwargs)
    model = keras.Sequential([keras.Input(x.shape[1:]), layer])
    expected, config = np.asarray(layer(x)), layer.get_config()
    assert uses_winograd(layer, tuple(x.shape)) is winograd
    assert uses_winograd(layer, (None, None, None, MIN_CHANNELS)) is False  # dynamic sizes go to Conv2D
    assert set_winograd(model, True) == 1
    tolerance = 2e-5 * float(np.abs(expected).max()) if winograd else 0.0  # the fallback is Conv2D itself
    np.testing.assert_allclose(layer(x), expected, rtol=0, atol=tolerance)
    assert type(layer) is keras.layers.Conv2D and layer.get_config() == config  # a speed-up, not identity
    set_winograd(model, False)
    np.testing.assert_array_equal(layer(x), expected)


def test_resnet_generator_trains_alike_with_and_without_winograd():
    keras.utils.set_random_seed(0)
    g = ResNetGenerator(n_blocks=2, ngf=MIN_CHANNELS // 4, image_size=32)  # blocks of 4 * ngf channels
    x = tf.constant(np.random.default_rng(3).uniform(-1, 1, (1, 32, 32, 3)).astype(np.float32))

    def step():
        with tf.GradientTape() as tape:
            y = g(x, training=True)
            loss = tf.reduce_mean(tf.abs(y - x))
        return [y, *tape.gradient(loss, g.trainable_weights)]

    assert set_winograd(g, True) == 8  # 7x7, 3x3 stride 2 and the four block convolutions
    convolutions = [layer for layer in g.layers if isinstance(layer, keras.layers.Conv2D)]
    assert sum(uses_winograd(layer, (1, 8, 8, MIN_CHANNELS)) for layer in convolutions) == 4
    fast = tf.function(step)()
    set_winograd(g, False)
    direct = tf.function(step)()
    for i, (a, b) in enumerate(zip(direct, fast)):
        # biases before instance norm have zero gradient: only rounding noise there, hence the absolute floor
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-4 * float(np.abs(a).max()) + 1e-6, err_msg=str(i))


def test_patch_gan_trains_alike_with_and_without_winograd():
    from tfgan_translate.networks import PatchGANDiscriminator

    keras.utils.set_random_seed(0)
    d = PatchGANDiscriminator(input_channels=3, condition_channels=3, ndf=MIN_CHANNELS // 4, image_size=32)
    x = tf.constant(np.random.default_rng(4).uniform(-1, 1, (2, 32, 32, 6)).astype(np.float32))

    def step():
        with tf.GradientTape() as tape:
            tape.watch(x)
            logits = d(x, training=True)
            loss = tf.reduce_mean(tf.square(logits - 1.0))
        return [logits, *tape.gradient(loss, [x, *d.trainable_weights])]

    convolutions = [layer for layer in d.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [layer.name for layer in convolutions if uses_winograd(layer, (2, 6, 6, MIN_CHANNELS))] == ["conv4"]
    set_winograd(d, True)
    fast = tf.function(step)()
    set_winograd(d, False)
    direct = tf.function(step)()
    for i, (a, b) in enumerate(zip(direct, fast)):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-4 * float(np.abs(a).max()) + 1e-6, err_msg=str(i))


def test_winograd_gradients_are_deterministic():
    # Exact resume needs a step to give the same numbers every time it runs.
    x = tf.constant(np.random.default_rng(5).normal(size=(1, 10, 10, MIN_CHANNELS)).astype(np.float32))
    w = tf.constant(np.random.default_rng(6).normal(size=(3, 3, MIN_CHANNELS, MIN_CHANNELS)).astype(np.float32))
    dy = tf.ones((1, 8, 8, MIN_CHANNELS))
    step = tf.function(lambda x, w: _conv_and_gradients(winograd_conv2d, x, w, dy))
    first, second = step(x, w), step(x, w)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)

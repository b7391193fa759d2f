"""GAN, L1 and gradient-penalty losses against hand-computed values."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfgan_translate import losses

REAL = np.array([[2.0, -1.0], [0.5, 0.0]], np.float32)
FAKE = np.array([[-3.0, 1.0], [0.0, 4.0]], np.float32)


def _bce(logit, label):
    p = 1.0 / (1.0 + math.exp(-logit))
    return -(label * math.log(p) + (1 - label) * math.log(1 - p))


def test_vanilla_matches_binary_cross_entropy_by_hand():
    expected_real = np.mean([_bce(v, 1.0) for v in REAL.ravel()])
    expected_fake = np.mean([_bce(v, 0.0) for v in FAKE.ravel()])
    d_real, d_fake = losses.discriminator_losses(REAL, FAKE, "vanilla")
    assert float(d_real) == pytest.approx(expected_real, rel=1e-5)
    assert float(d_fake) == pytest.approx(expected_fake, rel=1e-5)
    g = losses.generator_adversarial_loss(FAKE, "vanilla")
    assert float(g) == pytest.approx(np.mean([_bce(v, 1.0) for v in FAKE.ravel()]), rel=1e-5)


def test_lsgan_is_squared_distance_to_one_and_zero():
    d_real, d_fake = losses.discriminator_losses(REAL, FAKE, "lsgan")
    assert float(d_real) == pytest.approx(np.mean((REAL - 1) ** 2))  # (1 + 4 + .25 + 1) / 4
    assert float(d_real) == pytest.approx(1.5625)
    assert float(d_fake) == pytest.approx(np.mean(FAKE**2))  # (9 + 1 + 0 + 16) / 4
    assert float(losses.generator_adversarial_loss(FAKE, "lsgan")) == pytest.approx(np.mean((FAKE - 1) ** 2))


def test_wgangp_is_signed_mean():
    d_real, d_fake = losses.discriminator_losses(REAL, FAKE, "wgangp")
    assert float(d_real) == pytest.approx(-REAL.mean())
    assert float(d_fake) == pytest.approx(FAKE.mean())
    assert float(losses.generator_adversarial_loss(FAKE, "wgangp")) == pytest.approx(-FAKE.mean())


def test_unknown_gan_mode_names_argument():
    with pytest.raises(ValueError, match=r"gan_mode='hinge'"):
        losses.adversarial_loss(REAL, True, "hinge")


def test_l1_is_mean_absolute_error():
    y = np.array([0.0, 1.0, -1.0, 0.5], np.float32)
    p = np.array([0.5, 1.0, 1.0, 0.0], np.float32)
    assert float(losses.l1_loss(y, p)) == pytest.approx((0.5 + 0 + 2 + 0.5) / 4)


def test_gradient_penalty_of_linear_critic_is_known():
    # D(z) = sum(w * z): its gradient is w everywhere, so GP = (||w|| - 1)^2 exactly.
    w = tf.constant(np.full((1, 2, 2, 1), 0.25, np.float32))

    def critic(z, training=True):
        return tf.reduce_sum(z * w, axis=[1, 2, 3])

    real = tf.random.normal([3, 2, 2, 1])
    fake = tf.random.normal([3, 2, 2, 1])
    gp = losses.gradient_penalty(critic, real, fake)
    assert float(gp) == pytest.approx((0.5 - 1.0) ** 2, rel=1e-5)  # ||w|| = sqrt(4 * 0.0625) = 0.5


def test_gradient_penalty_ignores_condition_channels():
    w = tf.constant(np.full((1, 2, 2, 2), 0.5, np.float32))

    def critic(z, training=True):
        return tf.reduce_sum(z * w, axis=[1, 2, 3])

    cond = tf.random.normal([2, 2, 2, 1])
    gp = losses.gradient_penalty(critic, tf.zeros([2, 2, 2, 1]), tf.ones([2, 2, 2, 1]), condition=cond)
    # Gradient w.r.t. the image channel only: 4 entries of 0.5 -> norm 1 -> penalty 0.
    assert float(gp) == pytest.approx(0.0, abs=1e-6)

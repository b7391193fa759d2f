"""CycleGAN: image pool semantics, loss terms by hand, train step, saving, schedule resume."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import tiny_cyclegan

from tfgan_translate import CycleGAN, PatchGANDiscriminator, ResNetGenerator
from tfgan_translate.models import ImagePool
from tfgan_translate.models.schedules import LinearDecaySchedule


# --------------------------------------------------------------------------- image pool
def _push(pool, values):
    batch = tf.constant(np.asarray(values, np.float32).reshape(-1, 1, 1, 1))
    return pool(batch).numpy().ravel().tolist()


def test_pool_returns_first_images_as_they_are_then_swaps_about_half():
    pool = ImagePool(50, (1, 1, 1))
    query = tf.function(pool.__call__)
    first = [query(tf.fill([1, 1, 1, 1], float(i))).numpy().item() for i in range(50)]
    assert first == list(range(50))  # filling: store and return
    assert sorted(pool.images.numpy().ravel().tolist()) == list(range(50)) and int(pool.count.numpy()) == 50

    swapped, pushed = 0, set(range(50))
    for i in range(50, 650):
        out = query(tf.fill([1, 1, 1, 1], float(i))).numpy().item()
        pushed.add(i)
        swapped += out != i
        if out != i:
            assert out in pushed and out < i  # an older generated image, not invented
    assert 0.42 < swapped / 600 < 0.58  # p = 0.5
    stored = set(pool.images.numpy().ravel().tolist())
    assert stored <= pushed and len(stored) == 50  # the pool only ever holds pushed images, no duplicates


def test_pool_handles_a_batch_that_crosses_the_fill_boundary():
    pool = ImagePool(3, (1, 1, 1))
    out = _push(pool, [1, 2])
    assert out == [1, 2]
    out = _push(pool, [3, 4, 5])
    assert out[0] == 3 and int(pool.count.numpy()) == 3
    assert all(o == v or o in (1, 2, 3, 4) for o, v in zip(out[1:], [4, 5]))


def test_pool_size_zero_passes_through_and_bad_sizes_are_explained():
    images = tf.random.uniform([2, 4, 4, 3])
    np.testing.assert_array_equal(ImagePool(0, (4, 4, 3))(images).numpy(), images.numpy())
    with pytest.raises(ValueError, match="pool_size=-1"):
        ImagePool(-1, (4, 4, 3))
    with pytest.raises(ValueError, match="image_shape"):
        ImagePool(2, (4, 4))


# --------------------------------------------------------------------------- losses by hand
def _affine(scale, shift, channels=3, name=None):
    """A fixed 'generator' x -> scale * x + shift."""
    x = keras.Input((None, None, channels))
    return keras.Model(x, keras.layers.Lambda(lambda t: scale * t + shift)(x), name=name)


def _mean_critic(offset, channels=3, name=None):
    """A fixed 'discriminator': one logit per pixel, mean over channels + offset."""
    x = keras.Input((None, None, channels))
    return keras.Model(x, keras.layers.Lambda(lambda t: tf.reduce_mean(t, -1, keepdims=True) + offset)(x),
                       name=name)


def test_generator_objective_matches_hand_computation():
    model = CycleGAN(_affine(0.5, 0.1), _affine(2.0, -0.2), _mean_critic(0.3), _mean_critic(-0.1),
                     lambda_cycle=10.0, lambda_identity=0.5, pool_size=0, image_size=2)
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, (2, 2, 2, 3)).astype(np.float32), rng.uniform(-1, 1, (2, 2, 2, 3)).astype(np.float32)
    G = lambda t: 0.5 * t + 0.1  # noqa: E731
    F = lambda t: 2.0 * t - 0.2  # noqa: E731
    fake_b, fake_a = G(a), F(b)
    d_b = fake_b.mean(-1) - 0.1  # D_B judges B images
    d_a = fake_a.mean(-1) + 0.3
    lsgan_g = np.mean((d_b - 1) ** 2) + np.mean((d_a - 1) ** 2)
    cycle = np.abs(F(fake_b) - a).mean() + np.abs(G(fake_a) - b).mean()
    identity = np.abs(G(b) - b).mean() + np.abs(F(a) - a).mean()
    expected = lsgan_g + 10 * cycle + 0.5 * 10 * identity

    total = model._generator_loss(tf.constant(a), tf.constant(b), tf.constant(fake_a), tf.constant(fake_b))
    assert float(total) == pytest.approx(expected, rel=1e-5)
    results = {k: float(v.result()) for k, v in model._trackers.items()}
    assert results["cycle_a_loss"] == pytest.approx(np.abs(F(fake_b) - a).mean(), rel=1e-5)
    assert results["identity_b_loss"] == pytest.approx(np.abs(G(b) - b).mean(), rel=1e-5)
    assert results["g_gan_loss"] == pytest.approx(np.mean((d_b - 1) ** 2), rel=1e-5)


def test_discriminator_loss_is_halved_lsgan():
    model = CycleGAN(_affine(1, 0), _affine(1, 0), _mean_critic(0.0), _mean_critic(0.5), pool_size=0, image_size=2)
    real = np.full((1, 2, 2, 3), 0.2, np.float32)
    fake = np.full((1, 2, 2, 3), -0.4, np.float32)
    loss = model._discriminator_loss(model.discriminator_b, tf.constant(real), tf.constant(fake), "d_b")
    assert float(loss) == pytest.approx(0.5 * ((0.2 + 0.5 - 1) ** 2 + (-0.4 + 0.5) ** 2), rel=1e-5)


# --------------------------------------------------------------------------- the model
def _unpaired(n=4, size=32, seed=0, channels=(3, 3)):
    rng = np.random.default_rng(seed)
    return (rng.uniform(-1, 1, (n, size, size, channels[0])).astype(np.float32),
            rng.uniform(-1, 1, (n, size, size, channels[1])).astype(np.float32))


def _eager(model):
    """Train steps run eagerly: no tracing, cheap on CPU for the few steps these tests take (the traced step is
    exercised by every `train()` run: test_cycle_gan_learns, test_accelerate, test_resume)."""
    model.run_eagerly = True
    return model


def test_train_step_updates_all_four_networks_and_reports_every_term():
    model = _eager(tiny_cyclegan())
    before = [[w.numpy().copy() for w in net.trainable_weights] for net in model.generators + model.discriminators]
    a, b = _unpaired()
    history = model.fit(tf.data.Dataset.from_tensor_slices((a, b)).batch(2), epochs=1, verbose=0,
                        validation_data=(a[:2], b[:2])).history
    for term in ("gen_loss", "g_gan_loss", "f_gan_loss", "cycle_a_loss", "cycle_b_loss", "identity_a_loss",
                 "identity_b_loss", "d_a_loss", "d_b_loss", "val_reconstruction_a_l1", "val_reconstruction_b_l1"):
        assert term in history and np.isfinite(history[term][-1]), term
    for old, net in zip(before, model.generators + model.discriminators):
        assert any(not np.allclose(o, w.numpy()) for o, w in zip(old, net.trainable_weights)), net.name
    assert int(model.pool_a.count.numpy()) == 4 and int(model.pool_b.count.numpy()) == 4


def test_identity_off_and_different_channels():
    model = _eager(tiny_cyclegan(lambda_identity=0.0, channels=(1, 3)))
    a, b = _unpaired(channels=(1, 3))
    logs = model.train_on_batch(a[:2], b[:2], return_dict=True)
    assert "identity_a_loss" not in logs and np.isfinite(logs["gen_loss"])
    assert model.translate(b[:1], "BtoA").shape == (1, 32, 32, 1)
    with pytest.raises(ValueError, match="identity loss needs equal channels"):
        tiny_cyclegan(lambda_identity=0.5, channels=(1, 3))


def test_mismatched_networks_are_explained():
    g = ResNetGenerator(n_blocks=1, ngf=4)
    f = ResNetGenerator(n_blocks=1, ngf=4, input_channels=1)
    d = PatchGANDiscriminator(condition_channels=0, ndf=4)
    with pytest.raises(ValueError, match="Invalid `generator_f`"):
        CycleGAN(g, f, d, d, image_size=32)


def test_keras_round_trip_keeps_pools_optimizers_and_outputs(tmp_path):
    model = _eager(tiny_cyclegan(pool_size=3))
    a, b = _unpaired()
    model.fit(tf.data.Dataset.from_tensor_slices((a, b)).batch(2), epochs=1, verbose=0)
    model.save(tmp_path / "cyc.keras")
    loaded = keras.saving.load_model(tmp_path / "cyc.keras")
    assert isinstance(loaded, CycleGAN)
    np.testing.assert_array_equal(loaded.pool_a.images.numpy(), model.pool_a.images.numpy())
    assert int(loaded.pool_b.count.numpy()) == 3
    assert int(loaded.g_optimizer.iterations) == int(loaded.d_optimizer.iterations) == 2
    for name in ("g_optimizer", "d_optimizer"):
        for x, y in zip(getattr(model, name).variables, getattr(loaded, name).variables):
            np.testing.assert_array_equal(x.numpy(), y.numpy())
    for direction in ("AtoB", "BtoA"):
        np.testing.assert_allclose(loaded.translate(a[:1], direction), model.translate(a[:1], direction), atol=1e-6)


def test_resume_mid_decay_gives_the_uninterrupted_learning_rate(tmp_path):
    """Linear decay is a function of the saved step counter, so a resumed run continues the schedule."""
    schedule = LinearDecaySchedule(1e-3, steps_per_epoch=2, n_epochs=2, n_epochs_decay=4)
    model = tiny_cyclegan(pool_size=2)
    model.compile(g_optimizer=keras.optimizers.Adam(schedule, beta_1=0.5),
                  d_optimizer=keras.optimizers.Adam(LinearDecaySchedule.from_config(schedule.get_config()),
                                                    beta_1=0.5), run_eagerly=True)
    a, b = _unpaired()
    data = tf.data.Dataset.from_tensor_slices((a, b)).batch(2).repeat()
    model.fit(data, steps_per_epoch=2, epochs=3, verbose=0)  # stops in the decay phase (epoch 3 of 2 + 4)
    model.save(tmp_path / "mid.keras")

    resumed = _eager(keras.saving.load_model(tmp_path / "mid.keras"))
    # After 6 steps the next epoch is the 4th: factor 1 - (4 - 2) / (4 + 1), as an uninterrupted run has.
    assert float(resumed.g_optimizer.learning_rate) == pytest.approx(float(schedule(6)), rel=1e-6)
    assert float(schedule(6)) == pytest.approx(1e-3 * (1 - 2 / 5), rel=1e-6)
    resumed.fit(data, steps_per_epoch=2, epochs=5, initial_epoch=3, verbose=0)
    for opt in ("g_optimizer", "d_optimizer"):
        assert int(getattr(resumed, opt).iterations) == 10
        assert float(getattr(resumed, opt).learning_rate) == pytest.approx(float(schedule(10)), rel=1e-6)

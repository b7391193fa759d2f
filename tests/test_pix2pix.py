"""Pix2Pix: train_step terms, the ablation objectives, overfitting, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import random_pairs, tiny_pix2pix

from tfgan_translate import PatchGANDiscriminator, Pix2Pix, UNetGenerator


def _dataset(x, y, batch=2):
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch).repeat()


def _eager(model):
    """Steps run eagerly: no tracing, cheap on CPU for a step or three. The traced step of every objective
    stays covered by test_each_objective_trains_and_reports_its_terms, the wgangp one by its test."""
    model.run_eagerly = True
    return model


@pytest.mark.parametrize("objective, expected, absent", [
    ("l1", {"g_loss", "g_l1_loss"}, {"d_loss", "g_gan_loss"}),
    ("gan", {"g_loss", "g_gan_loss", "d_loss", "d_real", "d_fake"}, {"g_l1_loss"}),
    ("cgan", {"g_gan_loss", "d_real_loss", "d_fake_loss"}, {"g_l1_loss"}),
    ("l1+gan", {"g_gan_loss", "g_l1_loss", "d_loss"}, set()),
    ("l1+cgan", {"g_gan_loss", "g_l1_loss", "d_loss", "d_real", "d_fake"}, set()),
])
def test_each_objective_trains_and_reports_its_terms(objective, expected, absent):
    model = tiny_pix2pix(objective)
    x, y = random_pairs()
    history = model.fit(_dataset(x, y), steps_per_epoch=2, epochs=1, verbose=0).history
    assert expected <= set(history), sorted(history)
    assert not absent & set(history)
    assert all(np.isfinite(v[-1]) for v in history.values())
    if "g_gan_loss" in history and "g_l1_loss" in history:
        # g_loss = gan + 100 * l1, averaged over the same steps
        assert history["g_loss"][-1] == pytest.approx(history["g_gan_loss"][-1] + 100 * history["g_l1_loss"][-1],
                                                      rel=1e-4)


def test_conditional_discriminator_sees_input_and_output():
    model = tiny_pix2pix("l1+cgan", channels=(1, 3))
    assert model.discriminator.input_shape[-1] == 4
    model = tiny_pix2pix("l1+gan", channels=(1, 3))
    assert model.discriminator.input_shape[-1] == 3


def test_discriminator_channel_mismatch_is_explained():
    g = UNetGenerator(depth=5, ngf=8)
    d = PatchGANDiscriminator(input_channels=3, condition_channels=0, ndf=8)
    with pytest.raises(ValueError, match="expected the generator's input"):
        Pix2Pix(g, d, objective="l1+cgan")
    with pytest.raises(ValueError, match="pass `discriminator`"):
        Pix2Pix(g, None, objective="cgan")
    with pytest.raises(ValueError, match="objective='l2'"):
        Pix2Pix(g, d, objective="l2")


def test_one_step_updates_d_then_g():
    model = _eager(tiny_pix2pix("l1+cgan"))
    g_before = [w.numpy().copy() for w in model.generator.trainable_weights]
    d_before = [w.numpy().copy() for w in model.discriminator.trainable_weights]
    x, y = random_pairs()
    model.train_on_batch(x, y)
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(g_before, model.generator.trainable_weights))
    assert any(not np.allclose(a, b.numpy()) for a, b in zip(d_before, model.discriminator.trainable_weights))
    assert int(model.g_optimizer.iterations) == 1 and int(model.d_optimizer.iterations) == 1


def test_d_loss_is_halved_sum_of_its_terms():
    model = _eager(tiny_pix2pix("cgan", gan_mode="lsgan"))
    x, y = random_pairs()
    logs = model.train_on_batch(x, y, return_dict=True)
    assert logs["d_loss"] == pytest.approx(0.5 * (logs["d_real_loss"] + logs["d_fake_loss"]), rel=1e-5)


def test_wgangp_adds_gradient_penalty():
    model = tiny_pix2pix("l1+cgan", gan_mode="wgangp", norm="instance")
    x, y = random_pairs()
    logs = model.train_on_batch(x, y, return_dict=True)
    assert logs["d_gp_loss"] > 0 and np.isfinite(logs["d_loss"])


def test_overfits_a_tiny_batch():
    model = tiny_pix2pix("l1+cgan", dropout=0.0, lr=5e-3)
    x, y = random_pairs(n=2)
    start = model.evaluate(x, y, verbose=0, return_dict=True)["l1"]
    history = model.fit(_dataset(x, y), steps_per_epoch=10, epochs=12, verbose=0).history["g_l1_loss"]
    assert history[-1] < 0.4 * history[0], history
    assert model.evaluate(x, y, verbose=0, return_dict=True)["l1"] < 0.5 * start


def test_test_step_reports_l1_psnr_ssim():
    model = tiny_pix2pix("l1")
    x, y = random_pairs()
    logs = model.evaluate(x, y, batch_size=2, verbose=0, return_dict=True)
    assert set(logs) >= {"l1", "psnr", "ssim"}
    fake = model.predict(x, verbose=0)
    assert logs["l1"] == pytest.approx(np.mean(np.abs(fake - y)), rel=1e-3)  # dropout is on: roughly equal
    assert -1.0 <= logs["ssim"] <= 1.0


def test_keras_round_trip_keeps_outputs_and_optimizer_state(tmp_path):
    model = _eager(tiny_pix2pix("l1+cgan", dropout=0.0))
    x, y = random_pairs()
    model.fit(_dataset(x, y), steps_per_epoch=3, epochs=1, verbose=0)
    path = tmp_path / "p2p.keras"
    model.save(path)
    loaded = _eager(keras.saving.load_model(path))

    assert isinstance(loaded, Pix2Pix) and loaded.objective == "l1+cgan"
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    for name in ("g_optimizer", "d_optimizer"):
        before, after = getattr(model, name), getattr(loaded, name)
        assert int(after.iterations) == int(before.iterations) == 3
        assert len(after.variables) == len(before.variables)
        for a, b in zip(before.variables, after.variables):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    # Both continue identically from the restored state.
    keras.utils.set_random_seed(1)
    model.train_on_batch(x, y)
    keras.utils.set_random_seed(1)
    loaded.train_on_batch(x, y)
    for a, b in zip(model.generator.weights, loaded.generator.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)

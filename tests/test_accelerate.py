"""tfgan_translate.accelerate: speed-ups switched on a built model, equal results, and never saved with it."""

from __future__ import annotations

import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from tfgan_translate.accelerate import FusedAdam, accelerate, set_fused_norm
from tfgan_translate.networks import InstanceNormalization, PatchGANDiscriminator, ResNetGenerator, UNetGenerator
from tfgan_translate.networks.layers import walk_layers


def _outputs_and_gradients(layer, x, training):
    """(output, [d loss / d x, d loss / d weights]) for loss = sum(output ** 3), as float32 numpy."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.cast(layer(x, training=training), tf.float32)
        loss = tf.reduce_sum(y**3)
    return y.numpy(), [g.numpy() for g in tape.gradient(loss, [x, *layer.trainable_weights])]


def _replaced(model) -> list[str]:
    """The layers whose computation a speed-up replaced (an attribute of the layer object)."""
    return [layer.name for layer in walk_layers(model) if {"call", "convolution_op"} & set(vars(layer))]


@pytest.mark.parametrize("build", [
    lambda: UNetGenerator(depth=4, ngf=4, norm="batch"),
    lambda: ResNetGenerator(n_blocks=1, ngf=4, norm="instance", upsample="resize"),
    lambda: PatchGANDiscriminator(ndf=4, n_layers=2, norm="batch"),
])
def test_a_network_saved_accelerated_equals_one_saved_plain(build, tmp_path):
    keras.utils.set_random_seed(1)
    plain = build()
    keras.utils.set_random_seed(1)
    fast = build()
    counts = accelerate(fast)
    assert counts["winograd"] > 0 and counts["fused_norm"] > 0 and _replaced(fast)
    config = fast.get_config()
    assert config == plain.get_config()
    assert not [key for key in config if any(word in key for word in ("winograd", "fused", "layer_settings"))]
    assert {type(layer).__module__.split(".")[0] for layer in walk_layers(fast)} <= {"keras", "tfgan_translate"}
    assert not any(type(layer).__name__.startswith(("Winograd", "Fused")) for layer in walk_layers(fast))
    for name, network in (("plain", plain), ("fast", fast)):
        network.save(tmp_path / f"{name}.keras")
    saved = [json.loads(zipfile.ZipFile(tmp_path / f"{name}.keras").read("config.json")) for name in ("plain", "fast")]
    assert saved[0] == saved[1]
    loaded = keras.saving.load_model(tmp_path / "fast.keras")
    assert not _replaced(loaded)
    for a, b in zip(loaded.weights, plain.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_accelerate_switches_off_again_and_reaches_the_optimizers():
    from conftest import tiny_pix2pix

    model = tiny_pix2pix()
    model.compile(g_optimizer=keras.optimizers.LossScaleOptimizer(FusedAdam(fused=False)), d_optimizer=FusedAdam())
    assert accelerate(model)["fused_adam"] == 2 and model.g_optimizer.inner_optimizer.fused and _replaced(model)
    assert accelerate(model, winograd=False, fused_norm=False, fused_adam=False)["fused_adam"] == 2
    assert not _replaced(model) and not model.d_optimizer.fused


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_fused_batch_norm_matches_keras_batch_norm(policy):
    x = tf.constant(np.random.default_rng(3).normal(1.0, 3.0, (2, 6, 5, 4)).astype("float32"))
    keras_bn, fused_bn = (layers.BatchNormalization(momentum=0.9, epsilon=1e-5, gamma_initializer="random_normal",
                                                    beta_initializer="random_normal", dtype=policy)
                          for _ in range(2))
    keras_bn.build(x.shape)
    fused_bn.build(x.shape)
    fused_bn.set_weights(keras_bn.get_weights())
    assert set_fused_norm(keras.Sequential([keras.Input(x.shape[1:]), fused_bn]), True) == 1
    for training in (True, True, False):  # two training calls move the moving statistics, then inference uses them
        y_keras, grads_keras = _outputs_and_gradients(keras_bn, x, training)
        y_fused, grads_fused = _outputs_and_gradients(fused_bn, x, training)
        np.testing.assert_allclose(y_fused, y_keras, atol=1e-5 if policy == "float32" else 2e-2)
        for expected, actual in zip(grads_keras, grads_fused):
            np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-4)
        for expected, actual in zip(keras_bn.non_trainable_weights, fused_bn.non_trainable_weights):
            np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)
    assert abs(float(fused_bn.moving_variance.numpy().mean()) - 1.0) > 0.1  # the statistics did move


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_fused_instance_norm_at_batch_1_matches_the_plain_one(policy):
    x = tf.constant(np.random.default_rng(2).normal(3.0, 2.0, (1, 6, 5, 4)).astype("float32"))
    plain, fused = InstanceNormalization(dtype=policy), InstanceNormalization(dtype=policy)
    assert set_fused_norm(keras.Sequential([keras.Input(x.shape[1:]), fused]), True) == 1
    y_plain, grads_plain = _outputs_and_gradients(plain, x, True)
    y_fused, grads_fused = _outputs_and_gradients(fused, x, True)
    np.testing.assert_allclose(y_fused, y_plain, atol=1e-5 if policy == "float32" else 2e-2)
    np.testing.assert_allclose(grads_fused[0], grads_plain[0], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("winograd", [True, False])
def test_train_accelerates_the_model_as_the_config_says(synth_dir, tmp_path, winograd):
    from tfgan_translate.config import CycleGANConfig
    from tfgan_translate.training.run import train

    config = CycleGANConfig(data=str(synth_dir), image_size=32, load_size=36, netG="resnet_1blocks", ngf=4, ndf=4,
                            epochs=1, steps_per_epoch=1, batch_size=1, validation_steps=1, precision="float32",
                            strategy="none", winograd=winograd)
    model = train(config, tmp_path / "run", verbose=0).model
    convolutions = [layer for layer in walk_layers(model) if isinstance(layer, layers.Conv2D)]
    assert len(convolutions) == 2 * 6 + 2 * 5  # generators: 7x7 x2, stride 2 x2, 2 in the block; PatchGANs: 5
    assert all(("convolution_op" in vars(layer)) is winograd for layer in convolutions)
    assert all("call" in vars(layer) for layer in walk_layers(model) if isinstance(layer, InstanceNormalization))
    assert model.g_optimizer.fused and model.g_optimizer.epsilon == config.adam_epsilon == 1e-8

"""Every class the package registers with Keras survives a save/load round trip."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

import tfgan_translate.export.tflite_graph
import tfgan_translate.models  # noqa: F401
from tfgan_translate.accelerate import FusedAdam
from tfgan_translate.export.subpixel import SubPixelConv2DTranspose
from tfgan_translate.export.tflite_graph import FloorDropout, SliceReflectionPadding2D
from tfgan_translate.inference_mode import ImageStatisticsNormalization, InferenceDropout
from tfgan_translate.models import CycleGAN, ImagePool, LinearDecaySchedule, Pix2Pix
from tfgan_translate.models.cut import CUT
from tfgan_translate.networks import (
    InstanceNormalization,
    NoiseDropout,
    PatchGANDiscriminator,
    ReflectionPadding2D,
    ResNetGenerator,
    UNetGenerator,
)
from tfgan_translate.networks.base import Network
from tfgan_translate.networks.patch_projection import PatchNormalize, PatchProjection

_RNG = np.random.default_rng(0)


def _x(*shape):
    return _RNG.uniform(-1, 1, shape).astype("float32")


def _layer_case(layer, shape):
    """A one-layer model around `layer`, and an input for it."""
    return keras.Sequential([keras.Input(shape), layer]), _x(1, *shape)


def _tiny_cyclegan():
    g, f = ResNetGenerator(n_blocks=1, ngf=4, name="g"), ResNetGenerator(n_blocks=1, ngf=4, name="f")
    d_a = PatchGANDiscriminator(condition_channels=0, ndf=4, n_layers=1, norm="instance", name="d_a")
    d_b = PatchGANDiscriminator(condition_channels=0, ndf=4, n_layers=1, norm="instance", name="d_b")
    model = CycleGAN(g, f, d_a, d_b, pool_size=2, image_size=16)
    model.compile(g_optimizer=FusedAdam(2e-4, beta_1=0.5), d_optimizer=FusedAdam(2e-4, beta_1=0.5))
    return model, _x(1, 16, 16, 3)


def _tiny_cut():
    g = ResNetGenerator(n_blocks=1, ngf=4, downsample="blur", upsample="blur", init="xavier")
    d = PatchGANDiscriminator(condition_channels=0, ndf=4, n_layers=1, norm="instance", downsample="blur")
    model = CUT(g, d, nce_layers=(0, 4, 8), num_patches=8)
    model.compile(g_optimizer=FusedAdam(2e-4, beta_1=0.5), d_optimizer=keras.optimizers.Adam(2e-4))
    return model, _x(1, 16, 16, 3)


def _tiny_pix2pix():
    g = UNetGenerator(depth=4, ngf=4, dropout=0.0)
    model = Pix2Pix(g, PatchGANDiscriminator(ndf=4, n_layers=1))
    model.compile(g_optimizer=FusedAdam(2e-4, beta_1=0.5), d_optimizer=keras.optimizers.Adam(2e-4))
    return model, _x(1, 16, 16, 3)


# One case per registered class: a model holding it, and an input (None: not a layer, compared by config).
CASES = {
    "InstanceNormalization": lambda: _layer_case(InstanceNormalization(), (4, 4, 3)),
    "ReflectionPadding2D": lambda: _layer_case(ReflectionPadding2D(2), (4, 4, 3)),
    "NoiseDropout": lambda: _layer_case(NoiseDropout(0.5, at_inference=False), (4, 4, 3)),
    "SubPixelConv2DTranspose": lambda: _layer_case(SubPixelConv2DTranspose(4, (4, 4), 2), (4, 4, 3)),
    "SliceReflectionPadding2D": lambda: _layer_case(SliceReflectionPadding2D(1), (4, 4, 3)),
    "FloorDropout": lambda: _layer_case(FloorDropout(0.0), (4, 4, 3)),  # unseeded: rate 0 keeps every unit
    "InferenceDropout": lambda: _layer_case(InferenceDropout(0.5, seed=3), (4, 4, 3)),  # seeded: repeatable masks
    "ImageStatisticsNormalization": lambda: _layer_case(ImageStatisticsNormalization(), (4, 4, 3)),
    "ImagePool": lambda: (ImagePool(0, (4, 4, 3)), None),
    "UNetGenerator": lambda: (UNetGenerator(depth=4, ngf=4, norm="instance", upsample="resize"), _x(1, 16, 16, 3)),
    "ResNetGenerator": lambda: (ResNetGenerator(n_blocks=2, ngf=4, norm="batch"), _x(1, 8, 8, 3)),
    "PatchGANDiscriminator": lambda: (PatchGANDiscriminator(ndf=4, kind="pixel", norm="none"), _x(1, 8, 8, 6)),
    "Pix2Pix": _tiny_pix2pix,
    "CycleGAN": _tiny_cyclegan,
    "CUT": _tiny_cut,
    "PatchProjection": lambda: (PatchProjection([3, 8], units=4), [_x(1, 5, 3), _x(1, 5, 8)]),
    "PatchNormalize": lambda: _layer_case(PatchNormalize(), (5, 3)),
    "FusedAdam": lambda: (FusedAdam(3e-4, beta_1=0.4), None),
    "LinearDecaySchedule": lambda: (LinearDecaySchedule(2e-4, steps_per_epoch=3, n_epochs=2, n_epochs_decay=2), None),
}


def test_every_registered_class_has_a_round_trip_case():
    registered = {name.split(">", 1)[1] for name in keras.saving.get_custom_objects()
                  if name.startswith("tfgan_translate>")}
    assert registered == set(CASES), f"add a case for {sorted(registered - set(CASES))}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_save_load_round_trip(name, tmp_path):
    obj, x = CASES[name]()
    if x is None:  # an object without a forward pass: its serialized form rebuilds an equal object
        clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(obj))
        assert type(clone) is type(obj)
        assert clone.get_config() == obj.get_config()
        if isinstance(obj, LinearDecaySchedule):
            assert [float(clone(s)) for s in range(12)] == [float(obj(s)) for s in range(12)]
        return
    expected = np.asarray(obj(x, training=False))
    path = tmp_path / f"{name}.keras"
    obj.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is type(obj)
    np.testing.assert_array_equal(np.asarray(loaded(x, training=False)), expected)
    if isinstance(obj, Network):
        assert loaded.get_config() == obj.get_config()


def test_a_checkpoint_from_before_issue_20_loads(tmp_path):
    """Written by tests/fixtures/before_issue20/make.py: WinogradConv2D / FusedBatchNormalization layers, a
    `layer_settings` key and a FusedAdam that was a keras.optimizers.Adam. It loads into the stock layers."""
    import shutil

    from tfgan_translate.training.checkpoints import load_checkpoint_file

    fixture = Path(__file__).parent / "fixtures" / "before_issue20"
    shutil.copy(fixture / "pix2pix.keras", tmp_path / "latest.keras")
    model = load_checkpoint_file(tmp_path / "latest.keras")
    expected = np.load(fixture / "expected.npz")
    np.testing.assert_array_equal(np.asarray(model.generator(expected["x"], training=False)), expected["y"])
    for i, variable in enumerate(model.g_optimizer.variables):
        np.testing.assert_array_equal(variable.numpy(), expected[f"g{i}"])
    assert isinstance(model.g_optimizer, FusedAdam) and model.g_optimizer.epsilon == 1e-7  # as saved
    assert "layer_settings" not in model.generator.get_config()
    assert {type(layer).__name__ for layer in model.discriminator.layers} >= {"Conv2D", "BatchNormalization"}
    assert (tmp_path / "latest.keras").read_bytes() == (fixture / "pix2pix.keras").read_bytes()  # not rewritten


def test_network_reloads_under_the_dtype_policy_it_was_built_with(tmp_path):
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        g = ResNetGenerator(n_blocks=1, ngf=4)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    g.save(tmp_path / "g.keras")
    loaded = keras.saving.load_model(tmp_path / "g.keras")  # under the float32 global policy
    assert loaded.get_layer("stem_conv").compute_dtype == "bfloat16"
    assert loaded.compute_policy == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"  # restored

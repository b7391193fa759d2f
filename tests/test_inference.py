"""Translating at any size: padding / resizing to the generator's size rule and back."""

import numpy as np
import pytest

from tfgan_translate.inference import translate_array
from tfgan_translate.training.callbacks import image_grid, to_rgb_uint8


class Recorder:
    """A stand-in generator that checks its input size and returns -input."""

    def __init__(self, multiple):
        self.multiple = multiple
        self.shapes = []

    def __call__(self, batch, training=False):
        batch = np.asarray(batch)
        assert batch.shape[1] % self.multiple == 0 and batch.shape[2] % self.multiple == 0, batch.shape
        self.shapes.append(batch.shape)
        return -batch


@pytest.mark.parametrize("height, width", [(32, 32), (30, 20), (5, 70), (1, 1), (33, 64)])
def test_pad_meets_size_rule_and_crops_back_exactly(height, width):
    g = Recorder(16)
    image = np.random.default_rng(0).uniform(-1, 1, (height, width, 3)).astype(np.float32)
    out = translate_array(g, image, 16, fit="pad")
    assert out.shape == (height, width, 3)
    np.testing.assert_allclose(out, -image)  # padding never leaks into the kept region
    assert g.shapes[0][1:3] == (max(16, -(-height // 16) * 16), max(16, -(-width // 16) * 16))


@pytest.mark.parametrize("height, width", [(30, 20), (5, 70), (64, 48)])
def test_resize_meets_size_rule_and_restores_size(height, width):
    g = Recorder(16)
    image = np.full((height, width, 1), 0.5, np.float32)
    out = translate_array(g, image, 16, fit="resize")
    assert out.shape == (height, width, 1)
    np.testing.assert_allclose(out, -0.5, atol=1e-5)


def test_bad_fit_and_empty_image():
    with pytest.raises(ValueError, match="fit='crop'"):
        translate_array(Recorder(4), np.zeros((4, 4, 3)), 4, fit="crop")
    with pytest.raises(ValueError, match=r"got shape \(0, 4, 3\)"):
        translate_array(Recorder(4), np.zeros((0, 4, 3)), 4)


def test_grid_layout_and_channel_display():
    a = np.full((2, 4, 5, 1), -1.0, np.float32)  # black, gray-scale
    b = np.full((2, 4, 5, 4), 1.0, np.float32)  # white RGBA
    grid = image_grid([a, b], gap=1)
    assert grid.shape == (2 * 4 + 1, 2 * 5 + 1, 3) and grid.dtype == np.uint8
    assert (grid[:4, :5] == 0).all() and (grid[:4, 6:] == 255).all()
    assert to_rgb_uint8(np.zeros((1, 1, 1, 2))).shape == (1, 1, 1, 3)


def test_generator_for_picks_g_or_f_by_data_direction():
    from types import SimpleNamespace

    import keras

    from tfgan_translate.inference import generator_for

    g, f = (keras.Sequential([keras.Input((None, None, 3)), keras.layers.Identity()]) for _ in range(2))
    cyc = SimpleNamespace(generator_g=g, generator_f=f)
    assert generator_for(cyc, None, "AtoB") is g
    assert generator_for(cyc, "AtoB", "AtoB") is g and generator_for(cyc, "BtoA", "AtoB") is f
    assert generator_for(cyc, "AtoB", "BtoA") is f  # trained BtoA: G maps B -> A
    p2p = SimpleNamespace(generator=g)
    assert generator_for(p2p, "BtoA", "BtoA") is g
    assert generator_for(g) is g  # a bare generator
    with pytest.raises(ValueError, match="has one generator"):
        generator_for(p2p, "BtoA", "AtoB")
    with pytest.raises(ValueError, match="direction='AB'"):
        generator_for(p2p, "AB")

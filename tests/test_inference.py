"""Translating at any size: padding / resizing to the generator's size rule and back."""

import numpy as np
import pytest

from tfgan_translate.data.files import image_grid, to_rgb_uint8
from tfgan_translate.inference import translate_array


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


# ------------------------------------------------------------------ images smaller than the network (issue 19, item 5)
@pytest.mark.parametrize("netG, smallest", [("resnet_2blocks", 8), ("unet_32", 32)])
def test_images_smaller_than_the_network_translate_at_their_size(netG, smallest, tmp_path):
    """A ResNet generator's reflection pads need more pixels than they add: images under 8 px crashed inside
    TensorFlow (MirrorPad). They are padded to the network's smallest input and cropped back, from Python
    and through `translate_files`."""
    from PIL import Image

    from tfgan_translate.inference import minimum_size, translate_files
    from tfgan_translate.networks import build_generator

    g = build_generator(netG, ngf=4, dropout=0.0)
    assert minimum_size(g) == smallest
    rng = np.random.default_rng(0)
    folder = tmp_path / "small"
    folder.mkdir()
    for height, width in ((1, 1), (3, 5), (7, 7), (1, 9)):
        x = rng.uniform(-1, 1, (height, width, 3)).astype(np.float32)
        for fit in ("pad", "resize"):
            y = translate_array(g, x, fit=fit)
            assert y.shape == (height, width, 3) and np.isfinite(y).all(), (netG, fit, height, width)
        Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8)).save(folder / f"{height}x{width}.png")
    written = translate_files(g, folder, tmp_path / "out")
    assert sorted(p.name for p in written) == ["1x1.png", "1x9.png", "3x5.png", "7x7.png"]
    assert {p.name: Image.open(p).size for p in written} == {"1x1.png": (1, 1), "3x5.png": (5, 3), "7x7.png": (7, 7),
                                                             "1x9.png": (9, 1)}

"""Tests of tfgan_translate.data: files, transforms and the paired pipeline.

Images are tiny (32-64 px) and written to tmp_path with PIL.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfgan_translate.data import (
    IMAGE_EXTENSIONS,
    PREPROCESS_MODES,
    DataError,
    list_images,
    load_image,
    paired_dataset,
    paired_file_count,
    paired_samples,
    preprocess,
    resolve_paired_split,
    save_image,
    validate_images,
)

FACADES = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "facades"
A_COLOUR = (200, 10, 10)
B_COLOUR = (10, 200, 60)
PERM = [2, 0, 1]  # B = A with its channels permuted


# --------------------------------------------------------------------------- helpers


def write(path: Path, pixels: np.ndarray, **options) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, **options)
    return path


def constant(colour, height=32, width=32) -> np.ndarray:
    return np.broadcast_to(np.array(colour, np.uint8), (height, width, len(colour))).copy()


def noise(seed, height=48, width=48, channels=3) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, channels), dtype=np.uint8)


def write_constant_aligned(folder: Path, count=3, suffix=".png", size=32) -> Path:
    pair = np.concatenate([constant(A_COLOUR, size, size), constant(B_COLOUR, size, size)], axis=1)
    for i in range(count):
        write(folder / f"{i}{suffix}", pair)
    return folder


def write_noise_aligned(folder: Path, count=2, height=48, width=48) -> Path:
    for i in range(count):
        a = noise(i, height, width)
        write(folder / f"{i}.png", np.concatenate([a, a[..., PERM]], axis=1))
    return folder


def unit(colour) -> np.ndarray:
    return np.array(colour, np.float32) / 127.5 - 1.0


def elements(dataset) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = zip(*dataset.as_numpy_iterator(), strict=True)
    return np.concatenate(xs), np.concatenate(ys)


# --------------------------------------------------------------------------- listing and files


def test_list_images_natural_order_and_filter(tmp_path):
    for name in ["10.png", "2.png", "1.JPG", "b.bmp", "notes.txt", "x.tif"]:
        write(tmp_path / name, constant((1, 2, 3), 4, 4), format="PNG")
    (tmp_path / "sub").mkdir()
    assert [p.name for p in list_images(tmp_path)] == ["1.JPG", "2.png", "10.png", "b.bmp"]
    assert ".jpg" in IMAGE_EXTENSIONS and ".tif" not in IMAGE_EXTENSIONS


def test_list_images_missing_and_empty(tmp_path):
    with pytest.raises(DataError, match=f"{tmp_path / 'nope'} does not exist"):
        list_images(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"No images \(.jpg, .jpeg, .png.*empty"):
        list_images(tmp_path / "empty")


def test_save_and_load_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    for channels in (1, 3, 4):
        image = rng.uniform(-1, 1, (8, 10, channels)).astype(np.float32)
        path = save_image(image, tmp_path / "out" / f"c{channels}.png")
        loaded = load_image(path, channels=channels)
        assert loaded.shape == (8, 10, channels) and loaded.dtype == np.float32
        np.testing.assert_allclose(loaded, image, atol=1 / 127.5 + 1e-6)
    assert not list((tmp_path / "out").glob("*.tmp"))
    with pytest.raises(ValueError, match="`path`"):
        save_image(np.zeros((4, 4, 3)), tmp_path / "x.tiff")
    with pytest.raises(DataError, match="missing.png"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="Received: channels=2"):
        load_image(path, channels=2)


def _gray(rgb):
    return rgb[..., :3] @ np.array([0.2989, 0.5870, 0.1140], np.float32)


@pytest.mark.parametrize("kind", ["gray", "gray_alpha", "rgb", "rgba", "gray16", "rgb_jpeg", "palette"])
def test_channel_conversion(tmp_path, kind):
    """Every source kind converts to 1, 3 and 4 channels with the right values."""
    rgb8 = noise(1, 6, 7)
    alpha8 = noise(2, 6, 7, 1)[..., 0]
    if kind == "gray":
        path, source = write(tmp_path / "g.png", rgb8[..., 0]), rgb8[..., :1] / 255.0
    elif kind == "gray_alpha":
        pixels = np.stack([rgb8[..., 0], alpha8], -1)
        path, source = write(tmp_path / "ga.png", pixels, format="PNG"), pixels / 255.0
    elif kind == "rgb":
        path, source = write(tmp_path / "c.bmp", rgb8), rgb8 / 255.0
    elif kind == "rgba":
        pixels = np.dstack([rgb8, alpha8])
        path, source = write(tmp_path / "c.png", pixels), pixels / 255.0
    elif kind == "gray16":
        values = np.array([[0, 1000, 30000, 60000, 65535, 257, 12345]] * 6, np.uint16)
        path, source = write(tmp_path / "g16.png", values), values[..., None] / 65535.0
    elif kind == "palette":
        image = Image.fromarray(rgb8).convert("P")
        path = tmp_path / "p.png"
        image.save(path)
        source = np.asarray(image.convert("RGB")) / 255.0
    else:
        path = write(tmp_path / "c.jpg", constant((30, 120, 220), 8, 8), quality=100)
        source = np.asarray(Image.open(path).convert("RGB")) / 255.0
    source = source.astype(np.float32)
    colour = source[..., :3] if source.shape[-1] >= 3 else np.repeat(source[..., :1], 3, -1)
    has_alpha = source.shape[-1] in (2, 4)
    alpha = source[..., -1:] if has_alpha else np.ones_like(source[..., :1])
    expected = {
        1: _gray(source)[..., None] if source.shape[-1] >= 3 else source[..., :1],
        3: colour,
        4: np.concatenate([colour, alpha], -1),
    }
    for channels, want in expected.items():
        got = load_image(path, channels=channels)
        assert got.shape == want.shape[:2] + (channels,)
        np.testing.assert_allclose((got + 1) / 2, want, atol=2e-5 if kind == "gray16" else 1e-4)
    if kind == "gray16":  # 16-bit precision is kept, not rounded to 8 bits
        assert abs((load_image(path, 1)[0, 1, 0] + 1) / 2 - 1000 / 65535) < 1e-6


def test_validate_images_reports_each_problem(tmp_path, caplog):
    good = write(tmp_path / "good.png", constant((1, 2, 3), 8, 16))
    odd = write(tmp_path / "odd.png", constant((1, 2, 3), 8, 257))
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"this is not a JPEG at all" * 10)
    truncated = write(tmp_path / "trunc.jpg", noise(0, 64, 64), quality=90)
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    cmyk = tmp_path / "cmyk.jpg"
    Image.fromarray(noise(0, 8, 8)).convert("CMYK").save(cmyk)

    assert validate_images([good, odd]) == ([good, odd], [])
    with pytest.raises(DataError, match=r"odd.png: aligned A\|B image has odd width 257; expected an even width"):
        validate_images([good, odd], aligned=True)
    for bad, reason in [(garbage, "not a readable image"), (truncated, "corrupt"), (cmyk, "CMYK")]:
        with pytest.raises(DataError, match=f"{bad.name}: .*{reason}"):
            validate_images([good, bad])
    with caplog.at_level(logging.WARNING, logger="tfgan_translate"):
        ok, skipped = validate_images([good, garbage, truncated, odd], aligned=True, skip_bad=True)
    assert ok == [good] and [p for p, _ in skipped] == [garbage, truncated, odd]
    assert "Skipped 3 of 4" in caplog.text


# --------------------------------------------------------------------------- transforms


def test_preprocess_same_crop_and_flip_for_all_images():
    a = tf.constant(noise(3, 40, 40) / 255.0, tf.float32)
    gray = tf.image.rgb_to_grayscale(a)
    seen = set()
    for i in range(12):
        seed = tf.constant([7, i])
        x, g = preprocess([a, gray], mode="crop", image_size=32, flip=True, seed=seed)
        assert x.shape == (32, 32, 3) and g.shape == (32, 32, 1)
        np.testing.assert_allclose(tf.image.rgb_to_grayscale((x + 1) / 2), (g + 1) / 2, atol=1e-6)
        # The crop is a window of the source, possibly mirrored.
        source = a.numpy() * 2 - 1
        found = [
            (top, left, flipped)
            for top in range(9) for left in range(9) for flipped in (False, True)
            if np.allclose((np.flip(x, 1) if flipped else x), source[top:top + 32, left:left + 32], atol=1e-6)
        ]
        assert len(found) == 1
        seen.add(found[0])
        again = preprocess([a, gray], mode="crop", image_size=32, flip=True, seed=seed)
        np.testing.assert_array_equal(x, again[0])
    assert len(seen) > 6 and {f for _, _, f in seen} == {False, True}


def test_preprocess_argument_errors():
    image = tf.zeros([8, 8, 3])
    with pytest.raises(ValueError, match=r"Received: preprocess='zoom'"):
        preprocess([image], mode="zoom")
    with pytest.raises(ValueError, match=r"Received: load_size=16. Expected load_size >= image_size \(32\)"):
        preprocess([image], mode="resize_and_crop", load_size=16, image_size=32)


# --------------------------------------------------------------------------- paired datasets


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_aligned_split_halves_and_direction(tmp_path, direction):
    write_constant_aligned(tmp_path / "train", count=3)
    ds = paired_dataset(tmp_path, direction=direction, image_size=32, load_size=36, batch_size=2)
    assert ds.element_spec[0].shape.as_list() == [None, 32, 32, 3]
    assert int(ds.cardinality()) == 2
    x, y = elements(ds)
    assert x.shape == y.shape == (3, 32, 32, 3) and x.dtype == np.float32
    want_x, want_y = (A_COLOUR, B_COLOUR) if direction == "AtoB" else (B_COLOUR, A_COLOUR)
    np.testing.assert_allclose(x, np.broadcast_to(unit(want_x), x.shape), atol=2e-3)
    np.testing.assert_allclose(y, np.broadcast_to(unit(want_y), y.shape), atol=2e-3)


@pytest.mark.parametrize("mode", PREPROCESS_MODES)
def test_modes_give_squares_with_same_jitter(tmp_path, mode):
    """y == x with permuted channels after every jitter: same crop, same flip."""
    write_noise_aligned(tmp_path / "train", count=2, height=48, width=40)
    ds = paired_dataset(tmp_path, image_size=32, load_size=40, preprocess=mode, batch_size=4, repeat=True, seed=1)
    x, y = next(iter(ds.take(1)))
    x, y = x.numpy(), y.numpy()
    assert x.shape == y.shape == (4, 32, 32, 3)
    assert x.min() >= -1 and x.max() <= 1 and y.min() >= -1 and y.max() <= 1
    np.testing.assert_allclose(y, x[..., PERM], atol=1e-5)


def test_scale_width_rule_keeps_aspect_then_crops(tmp_path):
    """A 32x64 (w x h) image: width -> 32, height -> 64, vertical crop only."""
    a = noise(5, 64, 32)
    write(tmp_path / "0.png", np.concatenate([a, a], axis=1))
    ds = paired_dataset(tmp_path, split=None, image_size=32, preprocess="scale_width", flip=False, shuffle=False)
    x, _ = next(iter(ds))
    source = a / 127.5 - 1
    assert any(np.allclose(x[0], source[top:top + 32], atol=1e-4) for top in range(33))


def test_jpeg_aligned(tmp_path):
    write_constant_aligned(tmp_path / "train", count=2, suffix=".jpg")
    x, y = elements(paired_dataset(tmp_path, image_size=32, load_size=32, batch_size=2))
    assert x.shape == y.shape == (2, 32, 32, 3)
    inner = (slice(None), slice(4, -4), slice(4, -4))  # JPEG blurs colours across the A|B seam
    np.testing.assert_allclose(x[inner], np.broadcast_to(unit(A_COLOUR), x[inner].shape), atol=0.06)
    np.testing.assert_allclose(y[inner], np.broadcast_to(unit(B_COLOUR), y[inner].shape), atol=0.06)


def test_channels_in_dataset(tmp_path):
    """Gray A -> input_channels=3 (tiled); RGBA B -> output_channels=1 (gray, alpha dropped)."""
    for i in range(2):
        write(tmp_path / "A" / f"{i}.png", constant((100,), 32, 32)[..., 0])
        write(tmp_path / "B" / f"{i}.png", constant((30, 120, 220, 40), 32, 32))
    x, y = elements(paired_dataset(tmp_path, image_size=32, preprocess="none", input_channels=3, output_channels=1))
    assert x.shape == (2, 32, 32, 3) and y.shape == (2, 32, 32, 1)
    np.testing.assert_allclose(x, 100 / 127.5 - 1, atol=1e-4)
    np.testing.assert_allclose(y, (30 * 0.2989 + 120 * 0.587 + 220 * 0.114) / 127.5 - 1, atol=1e-3)
    x, y = elements(paired_dataset(tmp_path, image_size=32, preprocess="none", direction="BtoA",
                                   input_channels=4, output_channels=1))
    assert x.shape == (2, 32, 32, 4) and y.shape == (2, 32, 32, 1)
    np.testing.assert_allclose(x[0, 0, 0], unit((30, 120, 220, 40)), atol=1e-4)


@pytest.mark.parametrize("layout", ["A/B", "A/split", "split/A"])
def test_two_folder_layouts_pair_by_name(tmp_path, layout):
    a_dir, b_dir = {
        "A/B": (tmp_path / "A", tmp_path / "B"),
        "A/split": (tmp_path / "A" / "train", tmp_path / "B" / "train"),
        "split/A": (tmp_path / "train" / "A", tmp_path / "train" / "B"),
    }[layout]
    for i in range(4):  # A as PNG, B as BMP: matched by name without extension
        write(a_dir / f"{i}.png", constant((20 * i, 10, 10)))
        write(b_dir / f"{i}.bmp", constant((20 * i + 5, 10, 10)))
    assert resolve_paired_split(tmp_path, "train").layout == "two_folder"
    x, y = elements(paired_dataset(tmp_path, image_size=32, load_size=36, batch_size=3))
    assert x.shape == (4, 32, 32, 3)
    np.testing.assert_allclose(y[..., 0] - x[..., 0], 5 / 127.5, atol=2e-3)
    assert sorted(np.round((x[:, 0, 0, 0] + 1) * 127.5)) == [0, 20, 40, 60]


def test_split_resolution(tmp_path):
    write_constant_aligned(tmp_path / "d" / "train", 2)
    write_constant_aligned(tmp_path / "d" / "val", 1)
    assert resolve_paired_split(tmp_path / "d", "train") == ("aligned", tmp_path / "d" / "train", None)
    assert resolve_paired_split(tmp_path / "d", "test").folder_a == tmp_path / "d" / "val"
    write_constant_aligned(tmp_path / "e" / "test", 1)
    assert resolve_paired_split(tmp_path / "e", "val").folder_a == tmp_path / "e" / "test"
    write_constant_aligned(tmp_path / "flat", 2)
    for split in ("train", "test", None):  # images directly in the folder: split ignored
        assert resolve_paired_split(tmp_path / "flat", split).folder_a == tmp_path / "flat"
    assert paired_file_count(tmp_path / "flat", "test") == 2
    write_constant_aligned(tmp_path / "only_train" / "train", 1)
    with pytest.raises(DataError, match=r"No paired data for split='test'.*Looked for: .*only_train/test/ \(aligned"):
        resolve_paired_split(tmp_path / "only_train", "test")
    with pytest.raises(ValueError, match="Received: split='a/b'"):
        resolve_paired_split(tmp_path / "flat", "a/b")


def test_folder_errors(tmp_path):
    with pytest.raises(DataError, match="missing does not exist"):
        paired_dataset(tmp_path / "missing")
    (tmp_path / "empty" / "train").mkdir(parents=True)
    with pytest.raises(DataError, match=r"No images .* in .*empty/train"):
        paired_dataset(tmp_path / "empty")


def test_argument_errors(tmp_path):
    write_constant_aligned(tmp_path, 1)
    with pytest.raises(ValueError, match=r"Invalid value for argument `direction`. Received: direction='AB'. "
                                         r"Expected one of \['AtoB', 'BtoA'\]."):
        paired_dataset(tmp_path, direction="AB")
    with pytest.raises(ValueError, match="Received: input_channels=2"):
        paired_dataset(tmp_path, input_channels=2)
    with pytest.raises(ValueError, match="Received: batch_size=0"):
        paired_dataset(tmp_path, batch_size=0)
    with pytest.raises(ValueError, match="Received: preprocess='zoom'"):
        paired_dataset(tmp_path, preprocess="zoom")


def _write_bad_files(folder: Path) -> dict[str, Path]:
    write_constant_aligned(folder, count=3)
    bad = {
        "garbage": folder / "garbage.jpg",
        "truncated": write(folder / "truncated.jpg", noise(0, 64, 128), quality=90),
        "odd": write(folder / "odd.png", constant(A_COLOUR, 32, 65)),
    }
    bad["garbage"].write_bytes(b"\x00garbage" * 50)
    bad["truncated"].write_bytes(bad["truncated"].read_bytes()[:700])
    return bad


@pytest.mark.parametrize("kind", ["garbage", "truncated", "odd"])
def test_bad_file_names_the_file(tmp_path, kind):
    folder = tmp_path / "train"
    bad = _write_bad_files(folder)
    for other in set(bad) - {kind}:
        bad[other].unlink()
    with pytest.raises(DataError, match=str(bad[kind].name)) as info:
        paired_dataset(tmp_path)
    assert str(bad[kind]) in str(info.value)
    if kind == "odd":
        assert "aligned A|B image has odd width 65; expected an even width" in str(info.value)


def test_skip_bad_files_counts_and_skips(tmp_path, caplog):
    _write_bad_files(tmp_path / "train")
    with caplog.at_level(logging.WARNING, logger="tfgan_translate"):
        ds = paired_dataset(tmp_path, image_size=32, load_size=32, skip_bad_files=True, batch_size=2)
    assert "Skipped 3 of 6" in caplog.text and "garbage.jpg" in caplog.text
    x, _ = elements(ds)
    assert x.shape[0] == 3
    np.testing.assert_allclose(x, np.broadcast_to(unit(A_COLOUR), x.shape), atol=2e-3)
    assert paired_file_count(tmp_path, skip_bad_files=True) == 3


def test_two_folder_name_mismatch(tmp_path, caplog):
    for name in ["1", "2", "a_only"]:
        write(tmp_path / "A" / f"{name}.png", constant(A_COLOUR))
    for name in ["1", "2", "b_only"]:
        write(tmp_path / "B" / f"{name}.jpg", constant(B_COLOUR))
    with pytest.raises(DataError, match=r"do not match.*\['a_only'\].*\['b_only'\]"):
        paired_dataset(tmp_path)
    with caplog.at_level(logging.WARNING, logger="tfgan_translate"):
        ds = paired_dataset(tmp_path, image_size=32, skip_bad_files=True)
    assert "Skipped 2 of 6" in caplog.text and "a_only.png" in caplog.text
    assert elements(ds)[0].shape[0] == 2
    write(tmp_path / "A" / "1.bmp", constant(A_COLOUR))
    with pytest.raises(DataError, match=r"several files in .*A are named '1' \(1.bmp, 1.png\)"):
        paired_dataset(tmp_path)


def test_two_folder_size_mismatch(tmp_path):
    write(tmp_path / "A" / "1.png", constant(A_COLOUR, 32, 32))
    write(tmp_path / "B" / "1.png", constant(B_COLOUR, 32, 40))
    with pytest.raises(DataError, match=r"A/1.png: size 32x32 differs from .*B/1.png \(40x32\)"):
        paired_dataset(tmp_path)


def test_crop_needs_large_enough_images(tmp_path):
    write_constant_aligned(tmp_path, count=1, size=32)
    with pytest.raises(DataError, match=r"0.png: each half .* is 32x32 .* smaller than 48x48"):
        paired_dataset(tmp_path, preprocess="crop", image_size=48)


def test_determinism(tmp_path):
    write_noise_aligned(tmp_path, count=5, height=40, width=40)

    def make(seed):
        return paired_dataset(tmp_path, image_size=32, load_size=40, batch_size=2, seed=seed)

    first, same = make(3), make(3)
    epoch1, epoch1_again = elements(first), elements(same)
    np.testing.assert_array_equal(epoch1[0], epoch1_again[0])
    np.testing.assert_array_equal(epoch1[1], epoch1_again[1])
    epoch2, epoch2_again = elements(first), elements(same)  # a second pass: new order and jitter, reproducible
    assert not np.array_equal(epoch1[0], epoch2[0])
    np.testing.assert_array_equal(epoch2[0], epoch2_again[0])
    assert not np.array_equal(epoch1[0], elements(make(4))[0])


def test_paired_samples_are_unjittered(tmp_path):
    write_noise_aligned(tmp_path / "test", count=3, height=40, width=40)
    x, y = paired_samples(tmp_path, split="test", count=2, image_size=32, direction="BtoA", input_channels=1)
    assert x.shape == (2, 32, 32, 1) and y.shape == (2, 32, 32, 3)
    plain = paired_dataset(tmp_path, split="test", image_size=32, preprocess="none", flip=False, shuffle=False,
                           direction="BtoA", input_channels=1, batch_size=2)
    want_x, want_y = next(iter(plain))
    np.testing.assert_allclose(x, want_x, atol=1e-6)
    np.testing.assert_allclose(y, want_y, atol=1e-6)
    assert paired_samples(tmp_path, split="val", count=10, image_size=32)[0].shape[0] == 3


@pytest.mark.skipif(
    not FACADES.is_dir(), reason=f"facades data set not found at {FACADES} (shared/ is not in a fresh clone)"
)
def test_facades_batches():
    ds = paired_dataset(FACADES, split="train", direction="BtoA", image_size=64, load_size=72, batch_size=4)
    assert int(ds.cardinality()) == -(-paired_file_count(FACADES, "train") // 4)
    for x, y in ds.take(3):
        assert x.shape == y.shape == (4, 64, 64, 3)
        assert -1 <= float(tf.reduce_min(x)) and float(tf.reduce_max(y)) <= 1  # noqa: SIM300
    x, y = paired_samples(FACADES, split="val", count=2, image_size=64, direction="BtoA")
    assert x.shape == (2, 64, 64, 3)


def test_endless_streams_replay_on_every_iteration_and_finite_ones_reshuffle(synth_dir):
    """`fit` under a strategy iterates the training stream twice (build, then train): both must agree."""
    from tfgan_translate.data import unpaired_dataset

    def first_batches(ds, n=4):
        return np.concatenate([x.numpy() for x, _ in ds.take(n)])

    endless = paired_dataset(synth_dir, image_size=32, load_size=36, batch_size=2, seed=3, repeat=True)
    np.testing.assert_array_equal(first_batches(endless), first_batches(endless))
    unpaired = unpaired_dataset(synth_dir, image_size=32, load_size=36, batch_size=2, seed=3, repeat=True)
    np.testing.assert_array_equal(first_batches(unpaired), first_batches(unpaired))
    assert int(endless.cardinality()) == int(unpaired.cardinality()) == tf.data.INFINITE_CARDINALITY
    # One pass per iteration: a new order (and new jitter) for each epoch.
    one_pass = paired_dataset(synth_dir, image_size=32, load_size=36, batch_size=12, seed=3)
    assert not np.array_equal(first_batches(one_pass, 1), first_batches(one_pass, 1))
    # The replayed stream is the one a single pass of the same seed starts with.
    np.testing.assert_array_equal(first_batches(endless, 6), first_batches(
        paired_dataset(synth_dir, image_size=32, load_size=36, batch_size=2, seed=3), 6))


def test_train_with_skip_bad_files_counts_steps_from_the_files(synth_dir, tmp_path):
    """skip_bad_files makes the dataset's cardinality unknown: train() counts its steps from the files."""
    from tfgan_translate.config import Pix2PixConfig
    from tfgan_translate.training.run import train

    config = Pix2PixConfig(data=str(synth_dir), skip_bad_files=True, image_size=32, load_size=36, netG="unet_32",
                           ngf=8, ndf=8, epochs=1)
    result = train(config, tmp_path / "run", verbose=0)
    assert int(result.model.g_optimizer.iterations) == paired_file_count(synth_dir, "train") == 12

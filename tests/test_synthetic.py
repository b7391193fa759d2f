"""Tests of the built-in synthetic facades (tfgan_translate.data.synthetic)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tfgan_translate.data import DataError, paired_dataset, random_label_map, render_photo, write_synthetic_dataset
from tfgan_translate.data.synthetic import writer
from tfgan_translate.data.synthetic.facades import CLASS_NAMES, PALETTE, label_map_classes
from tfgan_translate.data.synthetic.writer import MARKER_FILENAME


def test_label_maps_are_deterministic_palette_images():
    a = random_label_map(np.random.default_rng(7), 64)
    b = random_label_map(7, 64)
    assert a.shape == (64, 64, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, random_label_map(8, 64))
    colours = {tuple(c) for c in a.reshape(-1, 3)}
    assert colours <= {tuple(c) for c in PALETTE}
    assert len(colours) >= 5  # background, wall, windows, door, cornice at least
    assert random_label_map(0, 32).shape == (32, 32, 3)
    with pytest.raises(ValueError, match="Received: size=8"):
        random_label_map(0, 8)


def test_render_photo_is_a_function_of_the_label_map():
    labels = np.stack([random_label_map(seed, 48) for seed in range(3)])
    photos = render_photo(labels)
    assert photos.shape == labels.shape and photos.dtype == np.uint8
    for label, photo in zip(labels, photos, strict=True):
        np.testing.assert_array_equal(render_photo(label.copy()), photo)  # same map -> same photo
        assert len({tuple(c) for c in photo.reshape(-1, 3)}) > 3 * len({tuple(c) for c in label.reshape(-1, 3)})
    # Slightly off colours (e.g. JPEG) are read as the nearest palette colour.
    jittered = np.clip(labels[0].astype(int) + np.random.default_rng(0).integers(-4, 5, labels[0].shape), 0, 255)
    np.testing.assert_array_equal(render_photo(jittered.astype(np.uint8)), photos[0])
    np.testing.assert_array_equal(label_map_classes(PALETTE[None]), np.arange(len(CLASS_NAMES))[None])
    with pytest.raises(ValueError, match="label_map"):
        render_photo(np.zeros((8, 8)))


def test_write_synthetic_dataset_files_and_mapping(tmp_path):
    root = write_synthetic_dataset(tmp_path / "synth", n_train=4, n_test=2, size=32, seed=3)
    assert root == tmp_path / "synth"
    assert sorted(p.name for p in (root / "train").iterdir()) == [f"{i:04d}.png" for i in range(4)]
    assert len(list((root / "test").iterdir())) == 2
    assert "render_photo" in (root / "README.txt").read_text()
    assert json.loads((root / MARKER_FILENAME).read_text())["seed"] == 3
    for path in (root / "train").iterdir():
        pair = np.asarray(Image.open(path))
        assert pair.shape == (32, 64, 3)
        np.testing.assert_array_equal(pair[:, 32:], render_photo(pair[:, :32]))  # B = render(A)
    first = np.asarray(Image.open(root / "train" / "0000.png"))
    np.testing.assert_array_equal(first[:, :32], random_label_map(np.random.default_rng([3, 0, 0]), 32))
    assert [p.name for p in tmp_path.iterdir()] == ["synth"]  # no temporary folders left


def test_write_synthetic_dataset_is_idempotent_and_regenerates(tmp_path):
    root = write_synthetic_dataset(tmp_path / "s", n_train=2, n_test=1, size=32)
    stamp = (root / "train" / "0000.png").stat().st_mtime_ns
    write_synthetic_dataset(tmp_path / "s", n_train=2, n_test=1, size=32)
    assert (root / "train" / "0000.png").stat().st_mtime_ns == stamp
    before = (root / "train" / "0000.png").read_bytes()
    write_synthetic_dataset(tmp_path / "s", n_train=3, n_test=1, size=32, seed=1)
    assert len(list((root / "train").iterdir())) == 3
    assert (root / "train" / "0000.png").read_bytes() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_write_synthetic_dataset_never_overwrites_other_data(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("precious")
    with pytest.raises(DataError, match="refusing to overwrite"):
        write_synthetic_dataset(tmp_path / "mine", n_train=1, n_test=0, size=16)
    assert (tmp_path / "mine" / "keep.txt").read_text() == "precious"
    with pytest.raises(ValueError, match="Received: n_train=-1"):
        write_synthetic_dataset(tmp_path / "x", n_train=-1)


def test_interrupted_write_leaves_nothing(tmp_path, monkeypatch):
    real = writer.synthetic_pair

    def failing(seed, index, size, split):
        if index == 2:
            raise KeyboardInterrupt
        return real(seed, index, size, split)

    monkeypatch.setattr(writer, "synthetic_pair", failing)  # where the writer looks it up
    with pytest.raises(KeyboardInterrupt):
        write_synthetic_dataset(tmp_path / "s", n_train=4, n_test=1, size=16)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(writer, "synthetic_pair", real)
    write_synthetic_dataset(tmp_path / "s", n_train=4, n_test=1, size=16)
    assert len(list((tmp_path / "s" / "train").iterdir())) == 4


def test_paired_dataset_reads_synthetic_data(tmp_path):
    root = write_synthetic_dataset(tmp_path / "synth", n_train=3, n_test=2, size=32, seed=0)
    ds = paired_dataset(root, split="test", image_size=32, preprocess="none", flip=False, shuffle=False, batch_size=2)
    x, y = next(iter(ds))
    first = np.asarray(Image.open(root / "test" / "0000.png")).astype(np.float32) / 127.5 - 1
    np.testing.assert_allclose(x[0], first[:, :32], atol=1e-5)  # AtoB: label map -> photo
    np.testing.assert_allclose(y[0], first[:, 32:], atol=1e-5)
    assert int(paired_dataset(root, image_size=32, load_size=36).cardinality()) == 3

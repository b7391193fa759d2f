"""Tests of the unpaired (CycleGAN) pipeline, its TFDS source and the built-in unpaired sets.

Images are tiny (32-48 px). Each file is a distinct constant colour where a test
needs to know which file an example came from: channel 0 = 10 * file index + 10,
channel 1 = 0 for domain A and 200 for domain B (constant images survive every
resize, crop and flip unchanged).
"""

from __future__ import annotations

import json
import logging
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfgan_translate.data import (
    DataError,
    permute_palette,
    random_shapes_map,
    render_photo,
    resolve_unpaired_source,
    true_mapping,
    unpaired_dataset,
    unpaired_file_counts,
    unpaired_samples,
    unpaired_steps_per_epoch,
    write_synthetic_unpaired_dataset,
)
from tfgan_translate.data.synthetic.facades import PALETTE, label_map_classes
from tfgan_translate.data.synthetic.shapes import PALETTE_PERMUTATION, SHAPE_PALETTE
from tfgan_translate.data.synthetic.writer import MARKER_FILENAME

B_GREEN = 200


# --------------------------------------------------------------------------- helpers


def write(path: Path, pixels: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


def coded(index: int, domain: str, height=32, width=32) -> np.ndarray:
    colour = (10 * index + 10, 0 if domain == "A" else B_GREEN, 50)
    return np.broadcast_to(np.array(colour, np.uint8), (height, width, 3)).copy()


def write_domain(folder: Path, count: int, domain: str, **size) -> Path:
    for i in range(count):
        write(folder / f"{i}.png", coded(i, domain, **size))
    return folder


def decode_ids(images: np.ndarray, domain: str) -> list[int]:
    """File index of each constant image of a batch; checks the domain channel."""
    pixels = np.rint((images + 1.0) * 127.5)
    assert np.all(pixels == pixels[:, :1, :1]), "images are not constant"
    green = 0 if domain == "A" else B_GREEN
    np.testing.assert_array_equal(pixels[:, 0, 0, 1], green)
    return [int(v) // 10 - 1 for v in pixels[:, 0, 0, 0]]


def epoch_ids(dataset) -> list[tuple[int, int]]:
    pairs = []
    for a, b in dataset.as_numpy_iterator():
        pairs += list(zip(decode_ids(a, "A"), decode_ids(b, "B"), strict=True))
    return pairs


# --------------------------------------------------------------------------- CycleGAN layout


def test_epoch_is_max_of_domains_and_covers_every_file(tmp_path):
    write_domain(tmp_path / "trainA", 3, "A", height=40, width=36)
    write_domain(tmp_path / "trainB", 7, "B")
    assert resolve_unpaired_source(tmp_path, "train") == ("unaligned", tmp_path / "trainA", tmp_path / "trainB", None)
    assert unpaired_file_counts(tmp_path, "train") == (3, 7)
    ds = unpaired_dataset(tmp_path, image_size=32, load_size=36, batch_size=2)
    assert ds.element_spec[0].shape.as_list() == [None, 32, 32, 3]
    assert int(ds.cardinality()) == 4 == unpaired_steps_per_epoch(3, 7, batch_size=2)
    for _ in range(2):  # every epoch, not only the first
        pairs = epoch_ids(ds)
        assert len(pairs) == 7
        assert sorted(b for _, b in pairs) == list(range(7))  # the larger domain: each file once
        counts = Counter(a for a, _ in pairs)  # the smaller one: repeated, 7 // 3 or 7 // 3 + 1 times
        assert sorted(counts) == [0, 1, 2] and set(counts.values()) <= {2, 3}
    # A the larger domain; drop_remainder; repeat never ends.
    write_domain(tmp_path / "testA", 5, "A")
    write_domain(tmp_path / "testB", 2, "B")
    test = unpaired_dataset(tmp_path, split="test", image_size=32, batch_size=2, drop_remainder=True)
    assert int(test.cardinality()) == 2
    assert int(unpaired_dataset(tmp_path, image_size=32, repeat=True).cardinality()) == tf.data.INFINITE_CARDINALITY


def test_domains_are_shuffled_independently(tmp_path):
    write_domain(tmp_path / "trainA", 6, "A")
    write_domain(tmp_path / "trainB", 6, "B")
    ds = unpaired_dataset(tmp_path, image_size=32, preprocess="none", batch_size=3, seed=1)
    epochs = [epoch_ids(ds) for _ in range(3)]
    for pairs in epochs:
        assert sorted(a for a, _ in pairs) == sorted(b for _, b in pairs) == list(range(6))
        assert any(a != b for a, b in pairs)  # not the file-name pairing
    assert len({tuple(pairs) for pairs in epochs}) == 3  # a new pairing every epoch
    # Without shuffling: file order, cycling, both domains.
    plain = unpaired_dataset(tmp_path, image_size=32, preprocess="none", shuffle=False, batch_size=4)
    assert epoch_ids(plain) == [(i, i) for i in range(6)]


def test_jitter_is_independent_for_a_and_b(tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    write(tmp_path / "trainA" / "0.png", noise)
    write(tmp_path / "trainB" / "0.png", noise)  # the same image in both domains
    ds = unpaired_dataset(tmp_path, image_size=32, preprocess="crop", flip=True, repeat=True, batch_size=10)
    a, b = next(iter(ds))
    same = [np.array_equal(a[i], b[i]) for i in range(10)]
    assert sum(same) <= 2  # same crop and flip by chance: probability 1/162 each
    source = noise / 127.5 - 1.0
    windows = [source[t:t + 32, s:s + 32] for t in range(9) for s in range(9)]
    for image in (a[0].numpy(), b[0].numpy()):  # each is a crop of the file, maybe mirrored
        assert any(np.allclose(image, w, atol=1e-5) or np.allclose(image[:, ::-1], w, atol=1e-5) for w in windows)


def test_determinism_by_seed(tmp_path):
    noise = np.random.default_rng(1).integers(0, 256, (5, 40, 40, 3), dtype=np.uint8)
    for i in range(5):
        write(tmp_path / "trainA" / f"{i}.png", noise[i])
        write(tmp_path / "trainB" / f"{i}.png", noise[4 - i, ::-1])
    write(tmp_path / "trainB" / "5.png", noise[0, :, ::-1])

    def make(seed):
        return unpaired_dataset(tmp_path, image_size=32, load_size=40, batch_size=3, seed=seed)

    def elements(ds):
        return [np.concatenate(part) for part in zip(*ds.as_numpy_iterator(), strict=True)]

    first, same = make(3), make(3)
    epoch1, epoch1_again = elements(first), elements(same)
    epoch2, epoch2_again = elements(first), elements(same)
    for got, want in zip(epoch1 + epoch2, epoch1_again + epoch2_again, strict=True):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(epoch1[0], epoch2[0]) and not np.array_equal(epoch1[1], epoch2[1])
    assert not np.array_equal(epoch1[0], elements(make(4))[0])


def test_channels_and_split_fallbacks(tmp_path):
    write_domain(tmp_path / "valA", 2, "A")
    write(tmp_path / "valB" / "0.png", np.full((32, 32), 90, np.uint8))  # grayscale file
    assert resolve_unpaired_source(tmp_path, "test").source_a == tmp_path / "valA"
    a, b = next(iter(unpaired_dataset(tmp_path, split="test", image_size=32, channels_a=4, channels_b=1,
                                      batch_size=2)))
    assert a.shape == (2, 32, 32, 4) and b.shape == (2, 32, 32, 1)
    np.testing.assert_allclose(a[..., 3], 1.0, atol=1e-5)  # opaque alpha added
    np.testing.assert_allclose(b, 90 / 127.5 - 1, atol=1e-4)


def test_resolution_errors(tmp_path):
    with pytest.raises(DataError, match="missing does not exist"):
        unpaired_dataset(tmp_path / "missing")
    write_domain(tmp_path / "half" / "trainA", 1, "A")
    with pytest.raises(DataError, match=r"Found .*half/trainA/ but not .*half/trainB/"):
        unpaired_dataset(tmp_path / "half")
    (tmp_path / "nothing" / "other").mkdir(parents=True)
    with pytest.raises(DataError, match=r"No unpaired data for split='test' in .*nothing\. Looked for: "
                                        r".*nothing/testA/ \+ .*nothing/testB/; .*nothing/valA/ \+ .*valB/; "
                                        r".*nothing/test/ \(aligned A\|B images\).*tfds:cycle_gan/NAME"):
        resolve_unpaired_source(tmp_path / "nothing", "test")
    with pytest.raises(ValueError, match="Received: split='a/b'"):
        resolve_unpaired_source(tmp_path, "a/b")


# --------------------------------------------------------------------------- paired sets used unpaired


def test_aligned_set_used_unpaired_splits_halves_and_breaks_pairs(tmp_path):
    for i in range(5):
        write(tmp_path / "train" / f"{i}.png", np.concatenate([coded(i, "A"), coded(i, "B")], axis=1))
    assert resolve_unpaired_source(tmp_path, "train") == ("aligned", tmp_path / "train", None, None)
    assert unpaired_file_counts(tmp_path) == (5, 5)
    ds = unpaired_dataset(tmp_path, image_size=32, load_size=36, batch_size=2, seed=2)
    assert int(ds.cardinality()) == 3
    epochs = [epoch_ids(ds) for _ in range(3)]  # decode_ids checks: a = left halves, b = right halves
    for pairs in epochs:
        assert sorted(a for a, _ in pairs) == sorted(b for _, b in pairs) == list(range(5))
    assert sum(a == b for pairs in epochs for a, b in pairs) < 15  # the file's own pair is not kept
    a, b = unpaired_samples(tmp_path, split="train", count=2, image_size=16)  # samples: halves of files 0, 1
    assert decode_ids(a, "A") == decode_ids(b, "B") == [0, 1]


def test_two_folder_set_used_unpaired_needs_no_matching_names(tmp_path):
    write_domain(tmp_path / "A", 2, "A")
    for i, name in enumerate(["x", "y", "z"]):
        write(tmp_path / "B" / f"{name}.jpg", coded(i, "B"))
    assert resolve_unpaired_source(tmp_path, "train").layout == "two_folder"
    assert unpaired_file_counts(tmp_path, "train") == (2, 3)
    a, b = next(iter(unpaired_dataset(tmp_path, image_size=32, preprocess="none", batch_size=3)))
    assert a.shape == b.shape == (3, 32, 32, 3)


# --------------------------------------------------------------------------- bad data


def test_bad_data_errors_name_the_folder_or_file(tmp_path):
    write_domain(tmp_path / "trainA", 2, "A")
    (tmp_path / "trainB").mkdir()
    with pytest.raises(DataError, match=r"No images .* in .*trainB"):
        unpaired_dataset(tmp_path)
    write_domain(tmp_path / "trainB", 2, "B")
    corrupt = tmp_path / "trainB" / "broken.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(DataError, match=r"trainB/broken.png: unreadable or corrupt image.*skip_bad_files=True"):
        unpaired_dataset(tmp_path, image_size=32)
    with pytest.raises(DataError, match=r"0.png: the image is 32x32 .* smaller than 48x48"):
        unpaired_dataset(tmp_path, image_size=48, preprocess="crop", skip_bad_files=False)
    for argument, value in [("channels_a", 2), ("channels_b", 5), ("batch_size", 0), ("seed", -1),
                            ("preprocess", "zoom")]:
        with pytest.raises(ValueError, match=f"Invalid value for argument `{argument}`. Received: {argument}="):
            unpaired_dataset(tmp_path, **{argument: value})


def test_skip_bad_files_counts_and_keeps_the_epoch_length(tmp_path, caplog):
    write_domain(tmp_path / "trainA", 3, "A")
    write_domain(tmp_path / "trainB", 4, "B")
    (tmp_path / "trainA" / "garbage.jpg").write_bytes(b"not an image" * 20)
    write(tmp_path / "trainB" / "odd.bmp", coded(0, "B")).write_bytes(b"BM" + b"\x00" * 30)
    with caplog.at_level(logging.WARNING, logger="tfgan_translate"):
        ds = unpaired_dataset(tmp_path, image_size=32, skip_bad_files=True, batch_size=3)
    assert "Skipped 2 of 9" in caplog.text and "garbage.jpg" in caplog.text
    assert "3 A and 4 B images remain" in caplog.text
    assert unpaired_file_counts(tmp_path, skip_bad_files=True) == (3, 4)
    assert int(ds.cardinality()) == 2
    assert sorted(b for _, b in epoch_ids(ds)) == [0, 1, 2, 3]
    for name in ("trainA/0.png", "trainA/1.png", "trainA/2.png"):
        (tmp_path / name).unlink()
    with pytest.raises(DataError, match=r"No usable images in .*trainA: all 1 files were skipped as bad"):
        unpaired_dataset(tmp_path, skip_bad_files=True)


def test_skip_mode_backstop_keeps_the_epoch_length(tmp_path, monkeypatch):
    """A file that passes validation but fails in TensorFlow is dropped; the epoch still has max(|A|, |B|)."""
    from tfgan_translate.data import unpaired

    write_domain(tmp_path / "trainA", 2, "A")
    write_domain(tmp_path / "trainB", 3, "B")
    (tmp_path / "trainB" / "9.png").write_bytes(b"not an image" * 20)
    monkeypatch.setattr(unpaired, "check_images", lambda paths, **kwargs: (list(paths), []))  # validation misses it
    ds = unpaired_dataset(tmp_path, image_size=32, skip_bad_files=True, batch_size=2)
    assert int(ds.cardinality()) == 2
    pairs = epoch_ids(ds)
    assert len(pairs) == 4 and {b for _, b in pairs} <= {0, 1, 2}


# --------------------------------------------------------------------------- samples


def test_unpaired_samples_are_unjittered_and_fixed(tmp_path):
    noise = np.random.default_rng(2).integers(0, 256, (4, 40, 48, 3), dtype=np.uint8)
    for i in range(3):
        write(tmp_path / "testA" / f"{i}.png", noise[i])
    write(tmp_path / "testB" / "0.png", noise[3])
    a, b = unpaired_samples(tmp_path, split="test", count=2, image_size=32, channels_b=1)
    assert a.shape == (2, 32, 32, 3) and b.shape == (1, 32, 32, 1) and a.dtype == np.float32
    plain = unpaired_dataset(tmp_path, split="test", image_size=32, preprocess="none", flip=False, shuffle=False,
                             channels_b=1, batch_size=2)
    want_a, want_b = next(iter(plain))
    np.testing.assert_allclose(a, want_a, atol=1e-6)
    np.testing.assert_allclose(b[0], want_b[0], atol=1e-6)
    again = unpaired_samples(tmp_path, split="test", count=2, image_size=32, channels_b=1)
    np.testing.assert_array_equal(a, again[0])
    with pytest.raises(ValueError, match="Received: count=0"):
        unpaired_samples(tmp_path, count=0)


# --------------------------------------------------------------------------- TFDS


def test_tfds_mock_source():
    tfds = pytest.importorskip("tensorflow_datasets", reason="TFDS tests need the test extra: pip install -e '.[test]'")
    with tfds.testing.mock_data(num_examples=5):  # random images of random sizes (5-49 px a side)
        path = "tfds:cycle_gan/horse2zebra"
        assert resolve_unpaired_source(path, "train") == ("tfds", "trainA", "trainB", "cycle_gan/horse2zebra")
        assert resolve_unpaired_source(path, "test")[1:3] == ("testA", "testB")
        assert unpaired_file_counts(path, "train") == (5, 5)
        ds = unpaired_dataset(path, image_size=32, load_size=36, batch_size=2, channels_b=1)
        assert int(ds.cardinality()) == 3
        batches = list(ds.as_numpy_iterator())
        assert [a.shape[0] for a, _ in batches] == [2, 2, 1]
        for a, b in batches:
            assert a.shape[1:] == (32, 32, 3) and b.shape[1:] == (32, 32, 1)
            assert -1 <= a.min() and a.max() <= 1 and a.std() > 0.1  # random noise images  # noqa: SIM300
        a, b = unpaired_samples(path, split="test", count=3, image_size=16)
        assert a.shape == b.shape == (3, 16, 16, 3)


def test_tfds_source_reads_the_right_splits():
    """A mocked builder with constant images: trainA (3) and trainB (4) go to a and b."""
    tfds = pytest.importorskip("tensorflow_datasets", reason="TFDS tests need the test extra: pip install -e '.[test]'")
    sizes = {"trainA": 3, "trainB": 4}

    def as_dataset(self, split, decoders=None, **kwargs):
        domain = str(split)[-1]
        images = [tf.io.encode_png(coded(i, domain, 20, 24)) for i in range(sizes[str(split)])]
        return tf.data.Dataset.from_tensor_slices({"image": tf.stack(images), "label": tf.zeros(len(images), tf.int64)})

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        ds = unpaired_dataset("tfds:cycle_gan/horse2zebra", image_size=32, load_size=36, batch_size=2)
        assert int(ds.cardinality()) == 2
        for _ in range(2):
            pairs = epoch_ids(ds)  # checks: a from trainA, b from trainB
            assert sorted(b for _, b in pairs) == [0, 1, 2, 3] and {a for a, _ in pairs} == {0, 1, 2}


def test_tfds_errors(monkeypatch):
    pytest.importorskip("tensorflow_datasets", reason="TFDS tests need the test extra: pip install -e '.[test]'")
    with pytest.raises(ValueError, match=r"Received: path='tfds:'"):
        unpaired_dataset("tfds:")
    with pytest.raises(DataError, match=r"TFDS data set 'no_such_dataset_xyz' .* could not be found"):
        unpaired_dataset("tfds:no_such_dataset_xyz")
    with pytest.raises(ValueError, match="Received: split=None"):
        resolve_unpaired_source("tfds:cycle_gan/horse2zebra", None)
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # as if not installed
    with pytest.raises(ImportError, match=r"tensorflow-datasets.*pip install \"tfgan_translate\[tfds\]\""):
        unpaired_dataset("tfds:cycle_gan/horse2zebra")


# --------------------------------------------------------------------------- built-in unpaired sets


@pytest.mark.parametrize("kind", ["palette", "facades"])
def test_synthetic_unpaired_layout_and_truth(tmp_path, kind):
    root = write_synthetic_unpaired_dataset(tmp_path / "set", n_train=4, n_test=3, size=32, seed=1, kind=kind)
    names = [f"{i:04d}.png" for i in range(4)]
    for folder, count in [("trainA", 4), ("trainB", 4), ("testA", 3), ("testB", 3), ("testA_truth", 3)]:
        assert sorted(p.name for p in (root / folder).iterdir()) == names[:count]
    assert json.loads((root / MARKER_FILENAME).read_text())["kind"] == kind
    assert "testA_truth" in (root / "README.txt").read_text()
    mapping = permute_palette if kind == "palette" else render_photo
    palette = SHAPE_PALETTE if kind == "palette" else PALETTE

    def read(folder, i):
        return np.asarray(Image.open(root / folder / f"{i:04d}.png"))

    for i in range(3):
        a = read("testA", i)
        assert a.shape == (32, 32, 3)
        assert {tuple(c) for c in a.reshape(-1, 3)} <= {tuple(c) for c in palette}  # A: flat palette colours
        np.testing.assert_array_equal(read("testA_truth", i), mapping(a))  # the hidden truth is T(a)
        assert not np.array_equal(read("testB", i), mapping(a))  # B is T of OTHER scenes: unpaired
    if kind == "palette":  # B scenes are shapes scenes in the permuted palette
        b = read("trainB", 0)
        classes = label_map_classes(b, SHAPE_PALETTE[list(PALETTE_PERMUTATION)])
        np.testing.assert_array_equal(SHAPE_PALETTE[list(PALETTE_PERMUTATION)][classes], b)
        np.testing.assert_array_equal(read("trainA", 0), random_shapes_map(np.random.default_rng([1, 0, 0, 0]), 32))
    assert unpaired_file_counts(root, "test") == (3, 3)  # testA_truth is not read
    a, _ = unpaired_samples(root, split="test", count=2, image_size=32)  # float [-1, 1] in, float out
    truth = np.stack([read("testA_truth", i) for i in range(2)]) / 127.5 - 1
    np.testing.assert_allclose(true_mapping(a, kind), truth, atol=1e-6)


def test_synthetic_unpaired_idempotent_and_safe(tmp_path):
    root = write_synthetic_unpaired_dataset(tmp_path / "s", n_train=2, n_test=1, size=16, kind="palette")
    stamp = (root / "trainA" / "0000.png").stat().st_mtime_ns
    write_synthetic_unpaired_dataset(tmp_path / "s", n_train=2, n_test=1, size=16, kind="palette")
    assert (root / "trainA" / "0000.png").stat().st_mtime_ns == stamp
    before = (root / "trainB" / "0000.png").read_bytes()
    write_synthetic_unpaired_dataset(tmp_path / "s", n_train=2, n_test=1, size=16, kind="facades")
    assert (root / "trainB" / "0000.png").read_bytes() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]  # no temporary folders left
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("precious")
    with pytest.raises(DataError, match="refusing to overwrite"):
        write_synthetic_unpaired_dataset(tmp_path / "mine", n_train=1, n_test=0, size=16)
    with pytest.raises(ValueError, match="Received: kind='zebra'"):
        write_synthetic_unpaired_dataset(tmp_path / "x", kind="zebra")
    with pytest.raises(ValueError, match="Received: n_test=-1"):
        write_synthetic_unpaired_dataset(tmp_path / "x", n_test=-1)


def test_true_mapping_and_palette_permutation():
    a = random_shapes_map(0, 32)
    classes = label_map_classes(a, SHAPE_PALETTE)
    assert len(np.unique(classes)) == 4  # sky, ground, box, disc all present
    b = permute_palette(a)
    np.testing.assert_array_equal(b, SHAPE_PALETTE[np.array(PALETTE_PERMUTATION)[classes]])
    assert np.all(np.any(a != b, axis=-1))  # every pixel changes colour
    np.testing.assert_array_equal(true_mapping(a, "palette"), b)
    np.testing.assert_array_equal(true_mapping(a[None], "facades")[0], render_photo(a))
    floats = a.astype(np.float32) / 127.5 - 1
    np.testing.assert_allclose(true_mapping(floats, "palette"), b / 127.5 - 1, atol=1e-6)
    with pytest.raises(ValueError, match="Received: kind='x'"):
        true_mapping(a, "x")

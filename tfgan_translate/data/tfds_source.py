"""Reading TensorFlow Datasets (TFDS) as a source of unpaired images: ``"tfds:cycle_gan/NAME"``.

`tfgan_translate.data.layout` decides that a path is a TFDS one and which split pair it names; this
module loads the builder and reads the images.

The unpaired pipeline reads a TFDS data set whose splits come in domain pairs
(``trainA``/``trainB``, ``testA``/``testB``, as ``cycle_gan/*`` has) and whose
examples hold an ``"image"`` feature (uint8, any size). Images are read still
encoded (``tfds.decode.SkipDecoding``), so they go through the same decoding,
channel conversion and jitter as image files, and the in-memory cache and the
shuffle buffer that hold a whole domain cost its encoded size (tens of MB for
cycle_gan), not its pixels.

``tensorflow_datasets`` is imported only when a ``tfds:`` path is used; install
it with ``pip install "tfgan_translate[tfds]"``. The data folder is the
``TFDS_DATA_DIR`` environment variable when set, else TFDS's default
(``~/tensorflow_datasets``). A data set that is not prepared there is downloaded
and prepared on first use (network access needed).

Example:

>>> ds = unpaired_dataset("tfds:cycle_gan/horse2zebra", split="train")  # doctest: +SKIP

Tests run offline under ``tfds.testing.mock_data``, which makes random images.
"""

from __future__ import annotations

import os
from typing import Any

import tensorflow as tf

from tfgan_translate.data.files import DataError

IMAGE_FEATURE = "image"
_INSTALL_HINT = 'pip install "tfgan_translate[tfds]"'


def load_builder(name: str) -> Any:
    """The prepared TFDS builder of `name`, downloading and preparing it if needed.

    The data folder is $TFDS_DATA_DIR when set, else TFDS's default.

    Raises:
        ImportError: without tensorflow-datasets, saying which extra to install.
        DataError: when the data set or config does not exist, or cannot be
            downloaded and prepared (for instance without network access).
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError as error:
        raise ImportError(f"Reading a 'tfds:' data path needs the tensorflow-datasets package ({error}). "
                          f"Install it with: {_INSTALL_HINT}") from error
    data_dir = os.environ.get("TFDS_DATA_DIR") or None
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as error:  # DatasetNotFoundError, unknown config (ValueError)...
        first_line = str(error).strip().splitlines()[0].rstrip(".") if str(error).strip() else type(error).__name__
        raise DataError(f"TFDS data set {name!r} (path='tfds:{name}') could not be found: {first_line}. "
                        "Expected a name such as 'cycle_gan/horse2zebra'.") from error
    if not builder.is_prepared():
        try:
            builder.download_and_prepare()
        except Exception as error:
            raise DataError(f"TFDS data set {name!r} is not prepared in {data_dir or 'the TFDS default data folder'} "
                            f"and downloading it failed: {type(error).__name__}: {error}. Downloading needs network "
                            f"access (and the importlib_resources package, installed by {_INSTALL_HINT}); or prepare "
                            "it elsewhere and point TFDS_DATA_DIR at it.") from error
    return builder


def encoded_images(builder: Any, split: str) -> tuple[tf.data.Dataset, int]:
    """The still-encoded images of one split, in the data set's order, and their number.

    Returns:
        `(dataset, count)`: a dataset of scalar string tensors (PNG or JPEG
        bytes of the "image" feature) and the number of examples.

    Raises:
        DataError: when the split has no "image" feature or no examples.
    """
    import tensorflow_datasets as tfds  # importable: `load_builder` made the builder

    features = builder.info.features
    if IMAGE_FEATURE not in features:
        raise DataError(f"TFDS data set {builder.info.full_name} has no {IMAGE_FEATURE!r} feature "
                        f"(features: {sorted(features.keys())}); unpaired data reads images from 'image'.")
    dataset = builder.as_dataset(split=split, shuffle_files=False, decoders={IMAGE_FEATURE: tfds.decode.SkipDecoding()})
    dataset = dataset.map(lambda example: example[IMAGE_FEATURE])
    splits = builder.info.splits
    count = int(splits[split].num_examples) if split in splits else int(dataset.cardinality())
    if count < 0:  # unknown: count once (the records are not decoded)
        count = int(dataset.reduce(tf.constant(0, tf.int64), lambda n, _: n + 1))
    if count == 0:
        raise DataError(f"TFDS split {builder.info.full_name}:{split} holds no examples.")
    return dataset, count


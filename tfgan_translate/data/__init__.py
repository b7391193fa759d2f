"""Input pipelines: image files, shared jitter, paired and unpaired data sets, built-in synthetic data.

This package sits at the bottom of the import graph: from tfgan_translate it
imports only `io` (atomic writes, the pixel convention) and `choices`.

- `files`: list, validate (errors name the file), load and save image files.
- `decoding`: in-graph decoding, channel conversion, the halves of an A|B file.
- `layout`: finding the data: aligned A|B, A/ + B/, trainA/ + trainB/, TFDS, built-in sets.
- `transforms`: the reference's preprocess modes (same crop and flip for a pair).
- `stream`: the one tf.data stream of both pipelines (shuffle, seeds, skip, replay, map, batch).
- `paired`: pix2pix `(x, y)` datasets from aligned A|B files or A/ + B/ folders.
- `unpaired`: CycleGAN `(a, b)` datasets from trainA/ + trainB/ folders, a paired
  set used unpaired, or TFDS ``"tfds:cycle_gan/NAME"`` (read by `tfds_source`).
- `synthetic`: procedural facade label maps -> rendered photos, written offline;
  unpaired sets with a hidden true mapping ("facades" and the easy "palette").

Example:

>>> root = write_synthetic_dataset("data/synth", n_train=20, n_test=4, size=64)  # doctest: +SKIP
>>> ds = paired_dataset(root, split="train", image_size=64, load_size=72)      # doctest: +SKIP
"""

from tfgan_translate.data.decoding import decode_image
from tfgan_translate.data.files import (
    IMAGE_EXTENSIONS,
    DataError,
    list_images,
    load_image,
    save_image,
    validate_images,
)
from tfgan_translate.data.layout import UnpairedSource, resolve_paired_split, resolve_unpaired_source
from tfgan_translate.data.paired import paired_dataset, paired_file_count, paired_samples
from tfgan_translate.data.synthetic import (
    UNPAIRED_KINDS,
    known_mapping_errors,
    permute_palette,
    random_label_map,
    random_shapes_map,
    render_photo,
    true_mapping,
    write_synthetic_dataset,
    write_synthetic_unpaired_dataset,
)
from tfgan_translate.data.transforms import PREPROCESS_MODES, preprocess
from tfgan_translate.data.unpaired import (
    unpaired_dataset,
    unpaired_file_counts,
    unpaired_samples,
    unpaired_steps_per_epoch,
)

__all__ = [
    "IMAGE_EXTENSIONS",
    "PREPROCESS_MODES",
    "UNPAIRED_KINDS",
    "DataError",
    "UnpairedSource",
    "decode_image",
    "known_mapping_errors",
    "list_images",
    "load_image",
    "paired_dataset",
    "paired_file_count",
    "paired_samples",
    "permute_palette",
    "preprocess",
    "random_label_map",
    "random_shapes_map",
    "render_photo",
    "resolve_paired_split",
    "resolve_unpaired_source",
    "save_image",
    "true_mapping",
    "unpaired_dataset",
    "unpaired_file_counts",
    "unpaired_samples",
    "unpaired_steps_per_epoch",
    "validate_images",
    "write_synthetic_dataset",
    "write_synthetic_unpaired_dataset",
]

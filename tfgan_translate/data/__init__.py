"""Input pipelines: image files, shared jitter, paired data sets, built-in synthetic data.

This package sits at the bottom of the import graph: it imports nothing else
from tfgan_translate.

- `files`: list, validate, decode (in-graph) and load/save image files.
- `transforms`: the reference's preprocess modes (same crop and flip for a pair).
- `replay`: endless streams that yield the same elements on every iteration.
- `paired`: pix2pix `(x, y)` datasets from aligned A|B files or A/ + B/ folders.
- `unpaired`: CycleGAN `(a, b)` datasets from trainA/ + trainB/ folders, a paired
  set used unpaired, or TFDS ``"tfds:cycle_gan/NAME"`` (`tfds_source`).
- `synthetic`: procedural facade label maps -> rendered photos, written offline;
  unpaired sets with a hidden true mapping ("facades" and the easy "palette").
"""

from tfgan_translate.data.files import (
    IMAGE_EXTENSIONS,
    DataError,
    decode_image,
    list_images,
    load_image,
    save_image,
    validate_images,
)
from tfgan_translate.data.paired import (
    paired_dataset,
    paired_file_count,
    paired_samples,
    resolve_paired_split,
)
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
    UnpairedSource,
    resolve_unpaired_source,
    unpaired_dataset,
    unpaired_file_counts,
    unpaired_samples,
    unpaired_steps_per_epoch,
)

__all__ = [
    "DataError",
    "IMAGE_EXTENSIONS",
    "PREPROCESS_MODES",
    "UNPAIRED_KINDS",
    "UnpairedSource",
    "decode_image",
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
    "known_mapping_errors",
    "write_synthetic_dataset",
    "write_synthetic_unpaired_dataset",
]

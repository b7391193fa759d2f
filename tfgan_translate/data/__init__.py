"""Input pipelines: image files, shared jitter, paired data sets, built-in synthetic data.

This package sits at the bottom of the import graph: it imports nothing else
from tfgan_translate.

- `files`: list, validate, decode (in-graph) and load/save image files.
- `transforms`: the reference's preprocess modes (same crop and flip for a pair).
- `paired`: pix2pix `(x, y)` datasets from aligned A|B files or A/ + B/ folders.
- `synthetic`: procedural facade label maps -> rendered photos, written offline.
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
from tfgan_translate.data.synthetic import random_label_map, render_photo, write_synthetic_dataset
from tfgan_translate.data.transforms import PREPROCESS_MODES, preprocess

__all__ = [
    "DataError",
    "IMAGE_EXTENSIONS",
    "PREPROCESS_MODES",
    "decode_image",
    "list_images",
    "load_image",
    "paired_dataset",
    "paired_file_count",
    "paired_samples",
    "preprocess",
    "random_label_map",
    "render_photo",
    "resolve_paired_split",
    "save_image",
    "validate_images",
    "write_synthetic_dataset",
]

"""Input pipelines: image files, shared jitter, paired and unpaired data sets, built-in synthetic data.

This package sits at the bottom of the import graph: from tfgan_translate it
imports only `io` (atomic writes, the pixel convention), `choices` and `lazy`: the
public names below are imported on first use, so ``import tfgan_translate.data`` is light.

- `files`: list, validate (errors name the file), load and save image files.
- `decoding`: in-graph decoding, channel conversion, the halves of an A|B file.
- `layout`: finding the data: aligned A|B, A/ + B/, trainA/ + trainB/, TFDS, built-in sets.
- `transforms`: the reference's preprocess modes (same crop and flip for a pair).
- `checks`: the argument checks shared by the data functions.
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

from tfgan_translate.lazy import lazy_exports

_MODULES = {
    "decoding": ["decode_image"],
    "files": ["IMAGE_EXTENSIONS", "DataError", "list_images", "load_image", "save_image", "validate_images"],
    "layout": ["UnpairedSource", "resolve_paired_split", "resolve_unpaired_source"],
    "paired": ["paired_dataset", "paired_file_count", "paired_samples"],
    "unpaired": ["unpaired_dataset", "unpaired_file_counts", "unpaired_samples", "unpaired_steps_per_epoch"],
    "transforms": ["PREPROCESS_MODES", "preprocess"],
    "synthetic.facades": ["random_label_map", "render_photo"],
    "synthetic.shapes": ["permute_palette", "random_shapes_map"],
    "synthetic.writer": ["UNPAIRED_KINDS", "known_mapping_errors", "true_mapping", "write_synthetic_dataset",
                         "write_synthetic_unpaired_dataset"],
}
_EXPORTS = {name: f"{__name__}.{module}" for module, names in _MODULES.items() for name in names}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

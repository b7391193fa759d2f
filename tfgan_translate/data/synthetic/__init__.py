"""Built-in procedural data sets: facade label maps (A) -> rendered "photos" (B), and unpaired sets.

One module per set and one for writing them: `facades` (label maps and `render_photo`), `shapes` (the
easy unpaired set and `permute_palette`), `kinds` (the unpaired kinds and their true mappings),
`writer` (the data set folders).

Everything is generated offline from a seed, so tests, demos and benchmarks run
without downloads. The mapping is KNOWN: ``B = render_photo(A)`` is a pure
function of the label map (see `facades`), so pix2pix can learn it exactly, and
an unpaired (CycleGAN) variant has a hidden true mapping to score against.

Unpaired (CycleGAN) sets (`write_synthetic_unpaired_dataset`) write domain A
images and the true mapping of OTHER images as domain B, plus the true
translations of the test A images for scoring (`true_mapping`). Two kinds:
"facades" (T = `render_photo`, realistic, hard to learn unpaired at small
sizes) and "palette" (shapes scenes of four big flat regions, T = a fixed
permutation of their palette, `permute_palette`; a tiny CycleGAN learns it in a
few hundred CPU steps at 32 px, so tests can check that the cycle objective
finds the right mapping).

Example:

>>> label = random_label_map(0, 64)            # (64, 64, 3) uint8, from seed 0
>>> photo = render_photo(label)                # (64, 64, 3) uint8
>>> root = write_synthetic_dataset("data/synth", n_train=200, n_test=20)  # doctest: +SKIP
>>> ds = paired_dataset(root, split="train", direction="AtoB")            # doctest: +SKIP
>>> shapes = write_synthetic_unpaired_dataset("data/shapes", size=32, kind="palette")  # doctest: +SKIP
"""

from __future__ import annotations

from tfgan_translate.data.synthetic.facades import (
    CLASS_NAMES,
    PALETTE,
    label_map_classes,
    random_label_classes,
    random_label_map,
    render_photo,
)
from tfgan_translate.data.synthetic.kinds import UNPAIRED_KINDS, known_mapping_errors, true_mapping
from tfgan_translate.data.synthetic.shapes import (
    PALETTE_PERMUTATION,
    SHAPE_CLASS_NAMES,
    SHAPE_PALETTE,
    permute_palette,
    random_shapes_classes,
    random_shapes_map,
)
from tfgan_translate.data.synthetic.writer import (
    MARKER_FILENAME,
    synthetic_pair,
    synthetic_unpaired_image,
    write_synthetic_dataset,
    write_synthetic_unpaired_dataset,
)

__all__ = [
    "CLASS_NAMES",
    "MARKER_FILENAME",
    "PALETTE",
    "PALETTE_PERMUTATION",
    "SHAPE_CLASS_NAMES",
    "SHAPE_PALETTE",
    "UNPAIRED_KINDS",
    "known_mapping_errors",
    "label_map_classes",
    "permute_palette",
    "random_label_classes",
    "random_label_map",
    "random_shapes_classes",
    "random_shapes_map",
    "render_photo",
    "synthetic_pair",
    "synthetic_unpaired_image",
    "true_mapping",
    "write_synthetic_dataset",
    "write_synthetic_unpaired_dataset",
]

"""The built-in unpaired kinds: each a scene generator for domain A and the hidden true mapping A -> B.

- "facades": A = facade label maps (`facades.random_label_map`), T = `facades.render_photo`.
- "palette": A = shapes scenes (`shapes.random_shapes_map`), T = `shapes.permute_palette`.

`true_mapping` applies T (for evaluation), `known_mapping_errors` scores a translator against it on a
set written by `write_synthetic_unpaired_dataset`.

Example:

>>> a = random_shapes_map(0, 32)
>>> np.array_equal(true_mapping(a, "palette"), permute_palette(a))
True
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from tfgan_translate.choices import check_choice
from tfgan_translate.data.files import DataError, list_images, load_image
from tfgan_translate.data.synthetic.facades import random_label_map, render_photo
from tfgan_translate.data.synthetic.shapes import permute_palette, random_shapes_map
from tfgan_translate.io import from_uint8, to_uint8

# kind -> (domain A image generator, true mapping A -> B)
UNPAIRED = {"facades": (random_label_map, render_photo), "palette": (random_shapes_map, permute_palette)}
UNPAIRED_KINDS = tuple(UNPAIRED)


def true_mapping(a_images, kind: str = "facades") -> np.ndarray:
    """The hidden true translation A -> B of a built-in unpaired set, for evaluation.

    kind="facades" is `render_photo` (label map -> photo); kind="palette" is
    `permute_palette` (shapes -> the same shapes in permuted colours).

    Args:
        a_images: array (H, W, 3) or (N, H, W, 3) of domain-A images: uint8 in
            [0, 255], or float in [-1, 1] (as the datasets and models give them;
            quantised to uint8 first).
        kind: str. "facades" or "palette". Defaults to "facades".

    Returns:
        np.ndarray of the same shape: uint8 for uint8 input, float32 in
        [-1, 1] for float input.

    Example:

    >>> a, _ = unpaired_samples(root, split="test", count=8, image_size=32)  # doctest: +SKIP
    >>> error = np.abs(generator.predict(a) - true_mapping(a, "palette")).mean()  # doctest: +SKIP
    """
    check_choice("kind", kind, UNPAIRED_KINDS)
    mapping = UNPAIRED[kind][1]
    images = np.asarray(a_images)
    if images.dtype == np.uint8:
        return mapping(images)
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(f"Invalid value for argument `a_images`. Received an array of dtype {images.dtype}. "
                         "Expected uint8 in [0, 255] or float in [-1, 1].")
    return from_uint8(mapping(to_uint8(images)))


def known_mapping_errors(translate: Callable[[np.ndarray], np.ndarray], root: str | Path) -> dict[str, float]:
    """How close a translation A -> B gets to the hidden true mapping of a built-in unpaired set.

    Scores `translate` on the held-out testA images against `testA_truth/`
    (T of each), next to two fixed baselines: the identity (output = input)
    and the mean training image of domain B (the best constant guess).

    Args:
        translate: callable mapping a (N, H, W, 3) float32 batch in [-1, 1] to
            the same shape (e.g. a CycleGAN's `generator_g`).
        root: str or Path. A folder written by `write_synthetic_unpaired_dataset`.

    Returns:
        {"G": mean |translate(a) - T(a)|, "identity": mean |a - T(a)|,
         "mean_image": mean |mean(trainB) - T(a)|}, in [-1, 1] units.

    Example:

    >>> # errors = known_mapping_errors(cyclegan.generator_g, "data/synth_palette")
    """
    root = Path(root)
    if not (root / "testA_truth").is_dir():
        raise DataError(f"{root} has no testA_truth/: expected a folder written by write_synthetic_unpaired_dataset.")
    a, truth, train_b = (np.stack([load_image(path, 3) for path in list_images(root / folder)])
                         for folder in ("testA", "testA_truth", "trainB"))
    outputs = {"G": np.asarray(translate(a)), "identity": a, "mean_image": train_b.mean(axis=0)[None]}
    return {name: float(np.abs(output - truth).mean()) for name, output in outputs.items()}


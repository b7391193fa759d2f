"""The shapes scenes: the easy built-in unpaired set ("synth:palette"), with a hidden palette permutation.

Scenes of four big flat regions (sky, ground, a box, a disc) in the colours of `SHAPE_PALETTE`; the
true mapping A -> B recolours them by `PALETTE_PERMUTATION` (`permute_palette`). A tiny CycleGAN learns
it in a few hundred CPU steps at 32 px, so tests can check that the cycle objective finds the right
mapping.

Example:

>>> a = random_shapes_map(0, 32)
>>> permute_palette(a).shape      # sky turns green, ground yellow, box red, disc blue
(32, 32, 3)
"""

from __future__ import annotations

import numpy as np

from tfgan_translate.data.checks import check_int
from tfgan_translate.data.synthetic.facades import MIN_SIZE, label_map_classes

# The flat colour of each shape class.
SHAPE_COLOURS = {"sky": (40, 60, 160), "ground": (70, 170, 60), "box": (220, 200, 60), "disc": (210, 60, 50)}
SHAPE_CLASS_NAMES = tuple(SHAPE_COLOURS)
SHAPE_PALETTE = np.array(list(SHAPE_COLOURS.values()), np.uint8)
# The hidden mapping of kind="palette": class c, painted SHAPE_PALETTE[c] in domain A,
# is painted SHAPE_PALETTE[PALETTE_PERMUTATION[c]] in domain B (sky -> green,
# ground -> yellow, box -> red, disc -> blue). Every class changes colour.
PALETTE_PERMUTATION = (1, 2, 3, 0)
SKY, GROUND, BOX, DISC = range(len(SHAPE_CLASS_NAMES))


def random_shapes_map(rng, size: int = 256) -> np.ndarray:
    """A random scene of a few big flat regions in the colours of `SHAPE_PALETTE`.

    Sky everywhere, one box (30-55% of the side), one disc (radius 12-20% of
    the side) drawn over it, and a ground band over the bottom 20-35%. The
    classes differ in area, position and shape, so a colour permutation
    between two domains of such scenes is identifiable from the images alone.

    Args:
        rng: np.random.Generator, or an int seed.
        size: int. Height and width in pixels, >= 16. Defaults to 256.

    Returns:
        np.ndarray uint8 of shape (size, size, 3).

    Example:

    >>> random_shapes_map(0, 32).shape
    (32, 32, 3)
    """
    check_int(size, "size", MIN_SIZE)
    rng = np.random.default_rng(rng)
    yy, xx = np.mgrid[:size, :size].astype(np.float32) + 0.5
    classes = np.full((size, size), SKY, dtype=np.uint8)
    height, width = rng.uniform(0.3, 0.55, 2) * size
    top, left = rng.uniform(0.0, 0.7 * size - height), rng.uniform(0.0, size - width)
    classes[(yy >= top) & (yy < top + height) & (xx >= left) & (xx < left + width)] = BOX
    radius = rng.uniform(0.12, 0.2) * size
    cy, cx = rng.uniform(radius, 0.75 * size - radius), rng.uniform(radius, size - radius)
    classes[(yy - cy) ** 2 + (xx - cx) ** 2 < radius ** 2] = DISC
    classes[yy >= rng.uniform(0.65, 0.8) * size] = GROUND
    return SHAPE_PALETTE[classes]


def permute_palette(label_map: np.ndarray) -> np.ndarray:
    """Recolours a shapes scene with `PALETTE_PERMUTATION`: the true mapping of kind="palette".

    Args:
        label_map: array (H, W, 3) or (N, H, W, 3), uint8 colours of
            `SHAPE_PALETTE` (others are read as the nearest palette colour).

    Returns:
        np.ndarray uint8 of the same shape.

    Example:

    >>> a = random_shapes_map(0, 32)
    >>> b = permute_palette(a)    # sky turns green, ground yellow, box red, disc blue
    """
    classes = label_map_classes(label_map, SHAPE_PALETTE)
    return SHAPE_PALETTE[np.asarray(PALETTE_PERMUTATION, np.uint8)[classes]]


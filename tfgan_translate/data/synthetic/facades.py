"""The synthetic facades: random facade label maps (A) and the "photos" rendered from them (B).

The mapping is KNOWN: ``B = render_photo(A)`` is a pure function of the label map (it depends only on
the class of each pixel, the pixel's position and the classes around it), so pix2pix can learn it
exactly, and an unpaired (CycleGAN) variant has a hidden true mapping to score against.

Label maps (`random_label_map`) are flat colours from `PALETTE`, one per class of
`CLASS_NAMES`: a wall under a cornice, a grid of windows with sills, some rows
with balconies, a door and shop windows on the ground floor, background around.
Photos (`render_photo`) add position-dependent appearance: a sky gradient,
bricks with mortar lines and per-brick tone, glass with reflections and white
frames, wooden door planks, railing bars, stone mouldings, and shadows cast
under cornices, sills and balconies.

Example:

>>> rng = np.random.default_rng(0)
>>> label = random_label_map(rng, 64)          # (64, 64, 3) uint8
>>> photo = render_photo(label)                # (64, 64, 3) uint8
>>> photo.shape
(64, 64, 3)
"""

from __future__ import annotations

import numpy as np

from tfgan_translate.data.checks import check_int

# The flat label-map colour of each class.
CLASS_COLOURS = {
    "background": (20, 20, 120), "wall": (60, 110, 255), "window": (0, 220, 255), "door": (255, 150, 0),
    "balcony": (170, 255, 80), "cornice": (255, 60, 60), "sill": (230, 230, 40),
}
CLASS_NAMES = tuple(CLASS_COLOURS)
PALETTE = np.array(list(CLASS_COLOURS.values()), np.uint8)
BACKGROUND, WALL, WINDOW, DOOR, BALCONY, CORNICE, SILL = range(len(CLASS_NAMES))
MIN_SIZE = 16  # the smallest side of a generated image


# --------------------------------------------------------------------------- label maps


def _box(classes: np.ndarray, cls: int, top: float, bottom: float, left: float, right: float) -> None:
    """Paints [top, bottom) x [left, right) (rounded, at least 1 pixel) with `cls`."""
    size_h, size_w = classes.shape
    # int(): under numpy < 2, round() of a numpy float gives a float
    y0, x0 = int(round(top)), int(round(left))
    y1, x1 = max(int(round(bottom)), y0 + 1), max(int(round(right)), x0 + 1)
    classes[max(y0, 0):min(y1, size_h), max(x0, 0):min(x1, size_w)] = cls


def random_label_map(rng, size: int = 256) -> np.ndarray:
    """A random facade label map in flat palette colours (see the module docstring for what it holds).

    Args:
        rng: np.random.Generator, or an int seed (anything `np.random.default_rng` takes).
        size: int. Height and width in pixels, >= 16. Defaults to 256.

    Returns:
        np.ndarray uint8 of shape (size, size, 3); every pixel is a row of `PALETTE`.

    Example:

    >>> random_label_map(np.random.default_rng(1), 32).shape
    (32, 32, 3)
    """
    check_int(size, "size", MIN_SIZE)
    rng = np.random.default_rng(rng)
    s = float(size)
    classes = np.full((size, size), BACKGROUND, dtype=np.uint8)

    left = rng.uniform(0.0, 0.14) * s
    right = s - rng.uniform(0.0, 0.14) * s
    top = rng.uniform(0.04, 0.28) * s
    _box(classes, WALL, top, s, left, right)
    cornice_h = max(2.0, rng.uniform(0.025, 0.05) * s)
    overhang = max(1.0, 0.02 * s)
    _box(classes, CORNICE, top, top + cornice_h, left - overhang, right + overhang)

    ground = rng.uniform(0.17, 0.26) * s  # ground-floor height
    y0, y1 = top + cornice_h + 0.03 * s, s - ground
    rows, cols = int(rng.integers(2, 6)), int(rng.integers(2, 7))
    cell_h, cell_w = (y1 - y0) / rows, (right - left) / cols
    win_w, win_h = rng.uniform(0.35, 0.65) * cell_w, rng.uniform(0.45, 0.72) * cell_h
    sill_h = max(1.0, 0.012 * s)
    balcony_rows = rng.random(rows) < 0.3
    for row in range(rows):
        yc = y0 + (row + 0.5) * cell_h
        w_top, w_bottom = yc - win_h / 2, yc + win_h / 2
        for col in range(cols):
            xc = left + (col + 0.5) * cell_w
            _box(classes, WINDOW, w_top, w_bottom, xc - win_w / 2, xc + win_w / 2)
            if balcony_rows[row]:
                _box(classes, BALCONY, w_bottom - 0.3 * win_h, w_bottom + sill_h,
                     xc - 0.65 * win_w, xc + 0.65 * win_w)
            else:
                _box(classes, SILL, w_bottom, w_bottom + sill_h, xc - 0.6 * win_w, xc + 0.6 * win_w)

    door_col = int(rng.integers(0, cols))
    door_w = min(rng.uniform(0.5, 0.8) * cell_w, 0.2 * s)
    door_h = ground * rng.uniform(0.7, 0.9)
    door_x = left + (door_col + 0.5) * cell_w
    _box(classes, DOOR, s - door_h, s, door_x - door_w / 2, door_x + door_w / 2)
    shop_h = ground * rng.uniform(0.4, 0.6)
    for col in range(cols):
        if col != door_col:
            xc = left + (col + 0.5) * cell_w
            _box(classes, WINDOW, s - ground * 0.85, s - ground * 0.85 + shop_h, xc - win_w * 0.6, xc + win_w * 0.6)
    return PALETTE[classes]


def label_map_classes(label_map: np.ndarray, palette: np.ndarray | None = None) -> np.ndarray:
    """Class index of each pixel of a label map: the nearest colour of `palette`.

    Args:
        label_map: array (H, W, 3) or (N, H, W, 3) of RGB values, uint8 in [0, 255].
        palette: array (n_classes, 3) uint8, or None for `PALETTE` (the facades).
            Defaults to None.

    Returns:
        np.ndarray uint8 of shape (H, W) or (N, H, W).

    Raises:
        ValueError: for another shape.
    """
    colours = np.asarray(label_map).astype(np.int32)
    if colours.ndim not in (3, 4) or colours.shape[-1] != 3:
        raise ValueError(f"Invalid value for argument `label_map`. Received an array of shape {colours.shape}. "
                         "Expected (H, W, 3) or (N, H, W, 3) RGB palette colours.")
    palette = np.asarray(PALETTE if palette is None else palette, np.uint8).astype(np.int32)
    # The nearest palette colour: the exact one for a palette colour, e.g. for a label map saved as JPEG the closest.
    distances = np.stack([((colours - colour) ** 2).sum(axis=-1, dtype=np.int32) for colour in palette])
    return distances.argmin(axis=0).astype(np.uint8)


# --------------------------------------------------------------------------- rendering


def _shift(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """mask moved by (dy, dx) on its last two axes; edges repeat the border."""
    height, width = mask.shape[-2:]
    pad = [(0, 0)] * (mask.ndim - 2) + [(max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0))]
    padded = np.pad(mask, pad, mode="edge")
    top, left = max(-dy, 0), max(-dx, 0)
    return padded[..., top:top + height, left:left + width]


def _near(mask: np.ndarray, k: int) -> np.ndarray:
    """Pixels within k (horizontally or vertically) of a True pixel of `mask`."""
    out = mask.copy()
    for d in range(1, k + 1):
        out |= _shift(mask, d, 0) | _shift(mask, -d, 0) | _shift(mask, 0, d) | _shift(mask, 0, -d)
    return out


def _hash(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A pseudo-random value in [0, 1) per pair of integers (exact integer arithmetic, no RNG)."""
    h = a.astype(np.uint32) * np.uint32(0x9E3779B1) ^ b.astype(np.uint32) * np.uint32(0x85EBCA77)
    h ^= h >> np.uint32(15)
    h *= np.uint32(0x2C1B3C6D)
    h ^= h >> np.uint32(12)
    return (h >> np.uint32(8)).astype(np.float32) / np.float32(1 << 24)


def _rgb(*values) -> np.ndarray:
    return np.asarray(values, np.float32)


def render_photo(label_map: np.ndarray) -> np.ndarray:
    """Renders the "photo" of a facade label map: the data set's true mapping A -> B.

    A pure function of the label map: the same map always gives the same photo
    (integer hashing and plain arithmetic, so also across machines). Colours not
    in `PALETTE` are read as the nearest palette colour.

    Args:
        label_map: array of shape (H, W, 3) or (N, H, W, 3), uint8 palette colours
            (as made by `random_label_map`).

    Returns:
        np.ndarray uint8 of the same shape: the rendered photo(s).

    Example:

    >>> label = random_label_map(np.random.default_rng(0), 64)
    >>> np.array_equal(render_photo(label), render_photo(label.copy()))
    True
    """
    classes = label_map_classes(label_map)
    shape = classes.shape
    height, width = shape[-2:]
    all_py = np.broadcast_to(np.arange(height, dtype=np.float32)[:, None], shape)
    all_px = np.broadcast_to(np.arange(width, dtype=np.float32)[None, :], shape)
    unit = max(1, round(height / 128))  # frame width: 2 px at 256
    brick_h = max(2, height // 32)
    brick_w = 2 * brick_h
    photo = np.empty((*shape, 3), np.float32)
    background, wall, window, door, balcony, cornice, sill = (classes == c for c in range(len(CLASS_NAMES)))

    def paint(mask, colour):
        """colour: an RGB triple, or a function (py, px) -> (n, 3) of the masked pixels."""
        if mask.any():
            photo[mask] = colour(all_py[mask], all_px[mask]) if callable(colour) else colour

    # Sky: a vertical gradient, blue at the top, pale near the horizon.
    top, horizon = _rgb(105, 155, 225), _rgb(205, 220, 235)
    paint(background, lambda py, px: top + (horizon - top) * (py / height)[:, None])

    # Wall: staggered bricks with mortar lines and a tone per brick.
    def bricks(py, px):
        row = np.floor(py / brick_h)
        x = px + (row % 2) * (brick_w // 2)
        col = np.floor(x / brick_w)
        tone = (_hash(row, col) - 0.5) * 36.0
        mortar = (py % brick_h == 0) | (x % brick_w == 0)
        return np.where(mortar[:, None], _rgb(212, 202, 186), _rgb(178, 104, 78) + tone[:, None])

    paint(wall, bricks)

    # Windows: dark glass, lighter towards the top, diagonal reflections, white frames.
    def glass(py, px):
        reflection = ((px + py) % (4 * brick_w)) < brick_w
        return _rgb(38, 52, 72) + (1.0 - py / height)[:, None] * _rgb(25, 25, 30) + reflection[:, None] * 28.0

    paint(window, glass)
    paint(window & _near(~window, unit), _rgb(236, 234, 224))

    # Door: wooden planks with dark joints and a dark outline.
    paint(door, lambda py, px: _rgb(112, 70, 40) - (px % brick_h == 0)[:, None] * 30.0)
    paint(door & _near(~door, unit), _rgb(60, 36, 20))

    # Balconies: railing bars over a dark recess, a top rail.
    bar_step = max(2, brick_h // 2)
    paint(balcony, lambda py, px: np.where((px % bar_step == 0)[:, None], _rgb(24, 24, 28), _rgb(70, 70, 78)))
    paint(balcony & ~_shift(balcony, 1, 0), _rgb(30, 30, 34))  # the pixel above is not balcony

    # Cornice: stone mouldings (stripes), a shaded lower edge.
    paint(cornice, lambda py, px: _rgb(226, 216, 196) - (py % 3 == 0)[:, None] * 22.0)
    paint(cornice & ~_shift(cornice, -1, 0), _rgb(150, 140, 125))  # the pixel below is not cornice

    # Sills: light stone.
    paint(sill, _rgb(232, 226, 210))

    # Light: from above, the building darkens towards the ground; cast shadows
    # on the wall and windows just under cornices, sills and balconies.
    light = np.where(background, np.float32(1.0), np.float32(1.04) - np.float32(0.14) * all_py / height)
    occluder = cornice | sill | balcony
    shadow = np.logical_or.reduce([_shift(occluder, d, 0) for d in range(1, 2 * unit + 2)]) & (wall | window)
    light = np.where(shadow, light * np.float32(0.72), light)
    photo *= light[..., None]
    return np.clip(np.rint(photo), 0, 255).astype(np.uint8)


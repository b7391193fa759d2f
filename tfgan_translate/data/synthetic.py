"""Built-in procedural data sets: facade label maps (A) -> rendered "photos" (B), and unpaired sets.

Everything is generated offline from a seed, so tests, demos and benchmarks run
without downloads. The mapping is KNOWN: ``B = render_photo(A)`` is a pure
function of the label map (it depends only on the class of each pixel, the
pixel's position and the classes around it), so pix2pix can learn it exactly,
and an unpaired (CycleGAN) variant has a hidden true mapping to score against.

Label maps (`random_label_map`) are flat colours from `PALETTE`, one per class of
`CLASS_NAMES`: a wall under a cornice, a grid of windows with sills, some rows
with balconies, a door and shop windows on the ground floor, background around.
Photos (`render_photo`) add position-dependent appearance: a sky gradient,
bricks with mortar lines and per-brick tone, glass with reflections and white
frames, wooden door planks, railing bars, stone mouldings, and shadows cast
under cornices, sills and balconies.

Unpaired (CycleGAN) sets (`write_synthetic_unpaired_dataset`) write domain A
images and the true mapping of OTHER images as domain B, plus the true
translations of the test A images for scoring (`true_mapping`). Two kinds:
"facades" (T = `render_photo`, realistic, hard to learn unpaired at small
sizes) and "palette" (shapes scenes of four big flat regions, T = a fixed
permutation of their palette, `permute_palette`; a tiny CycleGAN learns it in a
few hundred CPU steps at 32 px, so tests can check that the cycle objective
finds the right mapping).

Example:

>>> rng = np.random.default_rng(0)
>>> label = random_label_map(rng, 64)          # (64, 64, 3) uint8
>>> photo = render_photo(label)                # (64, 64, 3) uint8
>>> root = write_synthetic_dataset("data/synth", n_train=200, n_test=20)  # doctest: +SKIP
>>> ds = paired_dataset(root, split="train", direction="AtoB")            # doctest: +SKIP
>>> shapes = write_synthetic_unpaired_dataset("data/shapes", size=32, kind="palette")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

from tfgan_translate.data.files import DataError, to_uint8

CLASS_NAMES = ("background", "wall", "window", "door", "balcony", "cornice", "sill")
# Flat label-map colour of each class, in the order of CLASS_NAMES.
PALETTE = np.array(
    [
        [20, 20, 120],  # background
        [60, 110, 255],  # wall
        [0, 220, 255],  # window
        [255, 150, 0],  # door
        [170, 255, 80],  # balcony
        [255, 60, 60],  # cornice
        [230, 230, 40],  # sill
    ],
    dtype=np.uint8,
)
BACKGROUND, WALL, WINDOW, DOOR, BALCONY, CORNICE, SILL = range(len(CLASS_NAMES))

MARKER_FILENAME = ".synthetic.json"
_FORMAT_VERSION = 1
_MIN_SIZE = 16


# --------------------------------------------------------------------------- label maps


def _box(classes: np.ndarray, cls: int, top: float, bottom: float, left: float, right: float) -> None:
    """Paints [top, bottom) x [left, right) (rounded, at least 1 pixel) with `cls`."""
    size_h, size_w = classes.shape
    y0, x0 = int(round(top)), int(round(left))
    y1, x1 = max(int(round(bottom)), y0 + 1), max(int(round(right)), x0 + 1)
    classes[max(y0, 0):min(y1, size_h), max(x0, 0):min(x1, size_w)] = cls


def random_label_classes(rng, size: int = 256) -> np.ndarray:
    """A random facade as a (size, size) array of class indices (see `CLASS_NAMES`)."""
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
    return classes


def random_label_map(rng, size: int = 256) -> np.ndarray:
    """A random facade label map in flat palette colours.

    Args:
        rng: np.random.Generator, or an int seed (anything `np.random.default_rng` takes).
        size: int. Height and width in pixels, >= 16. Defaults to 256.

    Returns:
        np.ndarray uint8 of shape (size, size, 3); every pixel is a row of `PALETTE`.

    Example:

    >>> random_label_map(np.random.default_rng(1), 32).shape
    (32, 32, 3)
    """
    _check_size(size)
    return PALETTE[random_label_classes(rng, size)]


def _colour_codes(colours: np.ndarray) -> np.ndarray:
    colours = np.asarray(colours).astype(np.int64)
    return (colours[..., 0] << 16) | (colours[..., 1] << 8) | colours[..., 2]


def label_map_classes(label_map: np.ndarray, palette: np.ndarray | None = None) -> np.ndarray:
    """Class index of each pixel of a label map: the nearest colour of `palette`.

    Args:
        label_map: array (..., H, W, 3) of RGB values, uint8 in [0, 255].
        palette: array (n_classes, 3) uint8, or None for `PALETTE` (the facades).
            Defaults to None.

    Returns:
        np.ndarray uint8 of shape (..., H, W).
    """
    palette = PALETTE if palette is None else np.asarray(palette, np.uint8)
    palette_codes = _colour_codes(palette)
    colours = np.asarray(label_map)[..., :3].astype(np.int32)
    codes = _colour_codes(colours)
    order = np.argsort(palette_codes)
    position = np.clip(np.searchsorted(palette_codes[order], codes), 0, len(order) - 1)
    classes = order[position].astype(np.uint8)
    inexact = palette_codes[classes] != codes
    if inexact.any():  # e.g. a label map saved as JPEG: nearest palette colour
        distance = ((colours[inexact][:, None, :] - palette.astype(np.int32)) ** 2).sum(axis=-1)
        classes[inexact] = distance.argmin(axis=-1)
    return classes


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
    label_map = np.asarray(label_map)
    if label_map.ndim not in (3, 4) or label_map.shape[-1] != 3:
        raise ValueError(
            f"Invalid value for argument `label_map`. Received an array of shape {label_map.shape}. "
            "Expected (H, W, 3) or (N, H, W, 3) RGB palette colours."
        )
    classes = label_map_classes(label_map)
    shape = classes.shape
    height, width = shape[-2:]
    all_py = np.broadcast_to(np.arange(height, dtype=np.float32)[:, None], shape)
    all_px = np.broadcast_to(np.arange(width, dtype=np.float32)[None, :], shape)
    unit = max(1, round(height / 128))  # frame width: 2 px at 256
    brick_h = max(2, height // 32)
    brick_w = 2 * brick_h
    photo = np.empty(shape + (3,), np.float32)
    masks = [classes == c for c in range(len(CLASS_NAMES))]

    def paint(mask, colour):
        """colour: an RGB triple, or a function (py, px) -> (n, 3) of the masked pixels."""
        if mask.any():
            photo[mask] = colour(all_py[mask], all_px[mask]) if callable(colour) else colour

    # Sky: a vertical gradient, blue at the top, pale near the horizon.
    top, horizon = _rgb(105, 155, 225), _rgb(205, 220, 235)
    paint(masks[BACKGROUND], lambda py, px: top + (horizon - top) * (py / height)[:, None])

    # Wall: staggered bricks with mortar lines and a tone per brick.
    def bricks(py, px):
        row = np.floor(py / brick_h)
        x = px + (row % 2) * (brick_w // 2)
        col = np.floor(x / brick_w)
        tone = (_hash(row, col) - 0.5) * 36.0
        mortar = (py % brick_h == 0) | (x % brick_w == 0)
        return np.where(mortar[:, None], _rgb(212, 202, 186), _rgb(178, 104, 78) + tone[:, None])

    paint(masks[WALL], bricks)

    # Windows: dark glass, lighter towards the top, diagonal reflections, white frames.
    def glass(py, px):
        reflection = ((px + py) % (4 * brick_w)) < brick_w
        return _rgb(38, 52, 72) + (1.0 - py / height)[:, None] * _rgb(25, 25, 30) + reflection[:, None] * 28.0

    window = masks[WINDOW]
    paint(window, glass)
    paint(window & _near(~window, unit), _rgb(236, 234, 224))

    # Door: wooden planks with dark joints and a dark outline.
    door = masks[DOOR]
    paint(door, lambda py, px: _rgb(112, 70, 40) - (px % brick_h == 0)[:, None] * 30.0)
    paint(door & _near(~door, unit), _rgb(60, 36, 20))

    # Balconies: railing bars over a dark recess, a top rail.
    balcony = masks[BALCONY]
    bar_step = max(2, brick_h // 2)
    paint(balcony, lambda py, px: np.where((px % bar_step == 0)[:, None], _rgb(24, 24, 28), _rgb(70, 70, 78)))
    paint(balcony & ~_shift(balcony, 1, 0), _rgb(30, 30, 34))  # the pixel above is not balcony

    # Cornice: stone mouldings (stripes), a shaded lower edge.
    cornice = masks[CORNICE]
    paint(cornice, lambda py, px: _rgb(226, 216, 196) - (py % 3 == 0)[:, None] * 22.0)
    paint(cornice & ~_shift(cornice, -1, 0), _rgb(150, 140, 125))  # the pixel below is not cornice

    # Sills: light stone.
    paint(masks[SILL], _rgb(232, 226, 210))

    # Light: from above, the building darkens towards the ground; cast shadows
    # on the wall and windows just under cornices, sills and balconies.
    light = np.where(masks[BACKGROUND], np.float32(1.0), np.float32(1.04) - np.float32(0.14) * all_py / height)
    occluder = cornice | masks[SILL] | balcony
    shadow = np.zeros_like(occluder)
    for d in range(1, 2 * unit + 2):
        shadow |= _shift(occluder, d, 0)
    shadow &= masks[WALL] | window
    light = np.where(shadow, light * np.float32(0.72), light)
    photo *= light[..., None]
    return np.clip(np.rint(photo), 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------- shapes: the easy unpaired set

SHAPE_CLASS_NAMES = ("sky", "ground", "box", "disc")
# Flat colours of the shape classes, in the order of SHAPE_CLASS_NAMES.
SHAPE_PALETTE = np.array(
    [
        [40, 60, 160],  # sky
        [70, 170, 60],  # ground
        [220, 200, 60],  # box
        [210, 60, 50],  # disc
    ],
    dtype=np.uint8,
)
# The hidden mapping of kind="palette": class c, painted SHAPE_PALETTE[c] in domain A,
# is painted SHAPE_PALETTE[PALETTE_PERMUTATION[c]] in domain B (sky -> green,
# ground -> yellow, box -> red, disc -> blue). Every class changes colour.
PALETTE_PERMUTATION = (1, 2, 3, 0)
SKY, GROUND, BOX, DISC = range(len(SHAPE_CLASS_NAMES))


def random_shapes_classes(rng, size: int = 256) -> np.ndarray:
    """A random scene of a few big flat regions as a (size, size) array of class indices.

    Sky everywhere, one box (30-55% of the side), one disc (radius 12-20% of
    the side) drawn over it, and a ground band over the bottom 20-35%. The
    classes differ in area, position and shape, so a colour permutation
    between two domains of such scenes is identifiable from the images alone.

    Args:
        rng: np.random.Generator, or an int seed.
        size: int. Height and width in pixels, >= 16. Defaults to 256.

    Returns:
        np.ndarray uint8 of shape (size, size); values index `SHAPE_CLASS_NAMES`.
    """
    _check_size(size)
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
    return classes


def random_shapes_map(rng, size: int = 256) -> np.ndarray:
    """A random shapes scene (`random_shapes_classes`) in the colours of `SHAPE_PALETTE`.

    Example:

    >>> random_shapes_map(0, 32).shape
    (32, 32, 3)
    """
    return SHAPE_PALETTE[random_shapes_classes(rng, size)]


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
    label_map = np.asarray(label_map)
    if label_map.ndim not in (3, 4) or label_map.shape[-1] != 3:
        raise ValueError(
            f"Invalid value for argument `label_map`. Received an array of shape {label_map.shape}. "
            "Expected (H, W, 3) or (N, H, W, 3) RGB palette colours."
        )
    classes = label_map_classes(label_map, SHAPE_PALETTE)
    return SHAPE_PALETTE[np.asarray(PALETTE_PERMUTATION, np.uint8)[classes]]


UNPAIRED_KINDS = ("facades", "palette")
# kind -> (domain A image generator, true mapping A -> B)
_UNPAIRED = {"facades": (random_label_map, render_photo), "palette": (random_shapes_map, permute_palette)}


def _check_kind(kind) -> str:
    if kind not in UNPAIRED_KINDS:
        raise ValueError(
            f"Invalid value for argument `kind`. Received: kind={kind!r}. Expected one of {list(UNPAIRED_KINDS)}."
        )
    return kind


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
    mapping = _UNPAIRED[_check_kind(kind)][1]
    images = np.asarray(a_images)
    if images.dtype == np.uint8:
        return mapping(images)
    if not np.issubdtype(images.dtype, np.floating):
        raise ValueError(
            f"Invalid value for argument `a_images`. Received an array of dtype {images.dtype}. "
            "Expected uint8 in [0, 255] or float in [-1, 1]."
        )
    return mapping(to_uint8(images)).astype(np.float32) / 127.5 - 1.0


# --------------------------------------------------------------------------- data set folders


def _check_size(size) -> None:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < _MIN_SIZE:
        raise ValueError(f"Invalid value for argument `size`. Received: size={size!r}. Expected an int >= {_MIN_SIZE}.")


def _check_counts(n_train, n_test, seed) -> None:
    for name, value in (("n_train", n_train), ("n_test", n_test), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"Invalid value for argument `{name}`. Received: {name}={value!r}. Expected an int >= 0.")
    if n_train + n_test == 0:
        raise ValueError(
            "Invalid values for arguments `n_train` and `n_test`. Received: n_train=0, n_test=0. "
            "Expected at least one image."
        )


_SPLIT_IDS = {"train": 0, "test": 1}


def synthetic_pair(seed: int, index: int, size: int = 256, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """(label map, photo) of example `index` of a split, as `write_synthetic_dataset` writes it."""
    label = random_label_map(np.random.default_rng([seed, _SPLIT_IDS[split], index]), size)
    return label, render_photo(label)


def synthetic_unpaired_image(
    seed: int, index: int, size: int = 256, split: str = "train", domain: str = "A", kind: str = "facades"
) -> np.ndarray:
    """Image `index` of a domain of a split, as `write_synthetic_unpaired_dataset` writes it.

    Domain A image i is made by the kind's generator from
    ``default_rng([seed, split id, 0, i])``; domain B image i is the true
    mapping of ANOTHER scene, from ``default_rng([seed, split id, 1, i])``.
    """
    make, mapping = _UNPAIRED[_check_kind(kind)]
    scene = make(np.random.default_rng([seed, _SPLIT_IDS[split], {"A": 0, "B": 1}[domain], index]), size)
    return scene if domain == "A" else mapping(scene)


_README = """\
Synthetic facades (generated by tfgan_translate.data.synthetic; do not edit).

Layout: aligned pairs, train/ and test/; each PNG is {width}x{size} pixels:
  left half  (A) = label map, flat colours of the classes {classes}
  right half (B) = photo rendered from the label map by render_photo(A)
Direction AtoB translates labels -> photo (the real facades data set is BtoA).

The mapping A -> B is a pure function (position-dependent textures, frames and
shadows), so a perfect translator exists. Parameters: n_train={n_train},
n_test={n_test}, size={size}, seed={seed}. Example i of a split comes from
numpy.random.default_rng([seed, 0 for train / 1 for test, i]).
"""

_UNPAIRED_README = """\
Synthetic unpaired data, kind={kind!r} (generated by tfgan_translate.data.synthetic; do not edit).

Layout (CycleGAN): trainA/ trainB/ testA/ testB/, {size}x{size} PNGs, plus
testA_truth/: for evaluation only, the true translation of each testA image
(same file name). Domain B images are translations of OTHER scenes than the
domain A images, so the two domains are unpaired.
  {description}
Parameters: n_train={n_train}, n_test={n_test} per domain, size={size},
seed={seed}. Domain A image i of a split comes from
numpy.random.default_rng([seed, 0 for train / 1 for test, 0, i]); domain B
image i is the true mapping of the scene from default_rng([seed, split, 1, i]).
"""

_KIND_DESCRIPTIONS = {
    "facades": "A = facade label maps (flat colours of {classes}); B = photos rendered by\n"
               "  render_photo (true mapping T = render_photo; hard to learn unpaired at small sizes).",
    "palette": "A = shapes scenes (flat colours of {shape_classes}: sky, a box, a disc, ground);\n"
               "  B = the same kind of scenes with the palette permuted (true mapping T =\n"
               "  permute_palette: sky -> green, ground -> yellow, box -> red, disc -> blue).",
}


def _marker(n_train: int, n_test: int, size: int, seed: int, **extra) -> dict:
    return {"generator": "tfgan_translate.data.synthetic", "version": _FORMAT_VERSION,
            "n_train": n_train, "n_test": n_test, "size": size, "seed": seed, **extra}


def _read_marker(folder: Path) -> dict | None:
    try:
        return json.loads((folder / MARKER_FILENAME).read_text())
    except (OSError, ValueError):
        return None


def _save_png(pixels: np.ndarray, path: Path) -> None:
    Image.fromarray(pixels).save(path, compress_level=1)


def _write_set(out_dir: Path, marker: dict, fill) -> Path:
    """Writes a generated set atomically unless `out_dir` already holds one with `marker`.

    `fill(folder)` writes the files into a temporary sibling folder; the marker
    is written last, then the folder is renamed into place (replacing an older
    generated set, never anything else).
    """
    if out_dir.exists():
        existing = _read_marker(out_dir)
        if existing == marker:
            return out_dir
        if existing is None and (not out_dir.is_dir() or any(out_dir.iterdir())):
            raise DataError(
                f"{out_dir} exists and is not a synthetic data set made by tfgan_translate "
                f"(no {MARKER_FILENAME}); refusing to overwrite it. Choose another folder."
            )
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir()
        fill(tmp)
        (tmp / MARKER_FILENAME).write_text(json.dumps(marker, indent=2) + "\n")  # last: marks it complete
        _swap_into_place(tmp, out_dir, marker)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def write_synthetic_dataset(
    out_dir: str | Path,
    *,
    n_train: int = 200,
    n_test: int = 20,
    size: int = 256,
    seed: int = 0,
) -> Path:
    """Writes the synthetic facades as an aligned paired data set (idempotent, atomic).

    Creates ``out_dir/train/0000.png ...``, ``out_dir/test/0000.png ...`` (each
    A|B: label map left, photo right, 2*size x size pixels), ``README.txt`` and
    a marker file recording the parameters. If `out_dir` already holds a set made
    with the same parameters, nothing is written; other parameters regenerate it.
    The set is built in a temporary sibling folder and renamed into place, so an
    interrupted run never leaves a partial set behind.

    Args:
        out_dir: str or Path. Folder to create (or to reuse).
        n_train: int. Training pairs. Defaults to 200.
        n_test: int. Test pairs. Defaults to 20.
        size: int. Side of each half in pixels, >= 16. Defaults to 256.
        seed: int >= 0. Generator seed. Defaults to 0.

    Returns:
        `out_dir` as a Path.

    Raises:
        ValueError: for an invalid argument.
        DataError: when `out_dir` exists and holds something else (never overwritten).

    Example:

    >>> root = write_synthetic_dataset("data/synth", n_train=200, n_test=20, size=256)  # doctest: +SKIP
    >>> x, y = next(iter(paired_dataset(root, split="train")))                          # doctest: +SKIP
    """
    _check_counts(n_train, n_test, seed)
    _check_size(size)
    marker = _marker(int(n_train), int(n_test), int(size), int(seed))

    def fill(folder: Path) -> None:
        for split, count in (("train", n_train), ("test", n_test)):
            (folder / split).mkdir()
            for index in range(count):
                label, photo = synthetic_pair(seed, index, size, split)
                _save_png(np.concatenate([label, photo], axis=1), folder / split / f"{index:04d}.png")
        (folder / "README.txt").write_text(_README.format(width=2 * size, classes=", ".join(CLASS_NAMES), **marker))

    return _write_set(Path(out_dir), marker, fill)


def write_synthetic_unpaired_dataset(
    out_dir: str | Path,
    *,
    n_train: int = 200,
    n_test: int = 20,
    size: int = 256,
    seed: int = 0,
    kind: str = "facades",
) -> Path:
    """Writes a built-in unpaired (CycleGAN) data set with a hidden true mapping (idempotent, atomic).

    Kinds (T is the true mapping A -> B, `true_mapping(a, kind)`):

    - "facades": A = facade label maps, B = `render_photo` of OTHER label maps;
      T = `render_photo`. Realistic but hard: a short CycleGAN run at 32-64 px
      does not get closer to T than the mean image.
    - "palette": A = shapes scenes (`random_shapes_map`: sky, a box, a disc and
      ground in flat colours), B = other such scenes with the palette permuted;
      T = `permute_palette`. Easy: a tiny ResNet CycleGAN learns it in a few
      hundred CPU steps at 32 px, for tests of the cycle objective.

    Creates ``trainA/ trainB/ testA/ testB/`` (``0000.png ...``, size x size,
    n_train / n_test images per domain), ``testA_truth/`` holding T of each
    testA image under the same file name (for evaluation only: no data reader
    looks at it), ``README.txt`` and a marker file. Same idempotence and
    atomicity as `write_synthetic_dataset`.

    Args:
        out_dir: str or Path. Folder to create (or to reuse).
        n_train: int. Training images per domain. Defaults to 200.
        n_test: int. Test images per domain. Defaults to 20.
        size: int. Image side in pixels, >= 16. Defaults to 256.
        seed: int >= 0. Generator seed. Defaults to 0.
        kind: str. "facades" or "palette". Defaults to "facades".

    Returns:
        `out_dir` as a Path.

    Raises:
        ValueError: for an invalid argument.
        DataError: when `out_dir` exists and holds something else (never overwritten).

    Example:

    >>> root = write_synthetic_unpaired_dataset("data/shapes", n_train=200, n_test=20,
    ...                                         size=32, kind="palette")            # doctest: +SKIP
    >>> ds = unpaired_dataset(root, split="train", image_size=32, load_size=36)     # doctest: +SKIP
    """
    _check_counts(n_train, n_test, seed)
    _check_size(size)
    _check_kind(kind)
    marker = _marker(int(n_train), int(n_test), int(size), int(seed), layout="unpaired", kind=kind)

    def fill(folder: Path) -> None:
        for split, count in (("train", n_train), ("test", n_test)):
            for domain in ("A", "B"):
                (folder / f"{split}{domain}").mkdir()
                for index in range(count):
                    image = synthetic_unpaired_image(seed, index, size, split, domain, kind)
                    _save_png(image, folder / f"{split}{domain}" / f"{index:04d}.png")
        (folder / "testA_truth").mkdir()
        for path in sorted((folder / "testA").iterdir()):
            _save_png(true_mapping(np.asarray(Image.open(path)), kind), folder / "testA_truth" / path.name)
        description = _KIND_DESCRIPTIONS[kind].format(
            classes=", ".join(CLASS_NAMES), shape_classes=", ".join(SHAPE_CLASS_NAMES))
        (folder / "README.txt").write_text(_UNPAIRED_README.format(description=description, **marker))

    return _write_set(Path(out_dir), marker, fill)


def known_mapping_errors(translate, root: str | Path) -> dict[str, float]:
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
    from tfgan_translate.data.files import list_images, load_image

    root = Path(root)
    if not (root / "testA_truth").is_dir():
        raise DataError(f"{root} has no testA_truth/: expected a folder written by write_synthetic_unpaired_dataset.")
    a = np.stack([load_image(p, 3) for p in list_images(root / "testA")])
    truth = np.stack([load_image(p, 3) for p in list_images(root / "testA_truth")])
    mean_b = np.mean([load_image(p, 3) for p in list_images(root / "trainB")], axis=0)
    translated = np.asarray(translate(a))
    return {
        "G": float(np.abs(translated - truth).mean()),
        "identity": float(np.abs(a - truth).mean()),
        "mean_image": float(np.abs(mean_b[None] - truth).mean()),
    }


def _swap_into_place(tmp: Path, out_dir: Path, marker: dict) -> None:
    """Renames `tmp` to `out_dir`, replacing an older synthetic set."""
    old = None
    if out_dir.exists():
        old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        out_dir.rename(old)
    try:
        tmp.rename(out_dir)
    except OSError:
        if _read_marker(out_dir) != marker:  # not a concurrent run that made the same set
            if old is not None and not out_dir.exists():
                old.rename(out_dir)
                old = None
            raise
    finally:
        if old is not None and old.exists():
            shutil.rmtree(old, ignore_errors=True)

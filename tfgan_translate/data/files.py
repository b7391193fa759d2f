"""Image files: listing, validating (every error names the file), loading and saving.

Shared by the paired (pix2pix) and unpaired (CycleGAN) pipelines. Every file is
checked with PIL when a dataset is built (`validate_images`, `check_in_chunks`), so
a broken file fails with a message naming it before training starts instead of deep
inside a TensorFlow op. Eager loading for inference (`load_image`) decodes with the
input pipeline's functions (`tfgan_translate.data.decoding`), so a model sees the
same pixels in training and in `translate`.

Pixels handed to and returned by models are float32 in [-1, 1] (`load_image`,
`save_image`), converted by the pixel convention of `tfgan_translate.io`.

Example:

>>> paths = list_images("data/facades/train")          # doctest: +SKIP
>>> good, skipped = validate_images(paths, aligned=True)  # doctest: +SKIP
>>> image = load_image(good[0], channels=3)             # (H, W, 3) in [-1, 1]  # doctest: +SKIP
"""

from __future__ import annotations

import concurrent.futures
import functools
import logging
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image, ImageDraw, ImageOps

from tfgan_translate.data.checks import check_channels
from tfgan_translate.data.decoding import decode_image, from_unit
from tfgan_translate.io import atomic_file, listing, to_uint8

logger = logging.getLogger("tfgan_translate")

# Extensions of still-image formats that `tf.io.decode_image` reads (case-insensitive).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp")
# PIL format names matching IMAGE_EXTENSIONS.
_TF_FORMATS = {"JPEG", "PNG", "BMP", "GIF", "WEBP"}


class DataError(ValueError):
    """A data folder or image file that cannot be used, with the path and the reason."""


# --------------------------------------------------------------------------- listing


def _image_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]


def existing_folder(path: str | Path, expected: str = "a folder of images") -> Path:
    """`path` as a Path; DataError unless it is an existing folder (the message says what is `expected`)."""
    folder = Path(path)
    if not folder.exists():
        raise DataError(f"Data folder {folder} does not exist.")
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder; expected {expected}.")
    return folder


def has_images(folder: str | Path) -> bool:
    """Whether `folder` is a folder holding at least one image file directly."""
    return Path(folder).is_dir() and bool(_image_files(Path(folder)))


def list_images(folder: str | Path) -> list[Path]:
    """The image files directly inside `folder`, in natural order ("2.jpg" < "10.jpg").

    Args:
        folder: str or Path. A folder of images; subfolders are not searched.

    Returns:
        A non-empty list of Paths with one of `IMAGE_EXTENSIONS`.

    Raises:
        DataError: when `folder` does not exist, is not a folder, or holds no images.

    Example:

    >>> list_images("data/facades/train")[:2]  # doctest: +SKIP
    [PosixPath('data/facades/train/1.jpg'), PosixPath('data/facades/train/2.jpg')]
    """
    folder = existing_folder(folder)
    paths = _image_files(folder)
    if not paths:
        raise DataError(f"No images ({', '.join(IMAGE_EXTENSIONS)}) in {folder}.")

    def natural_order(path):  # "2.jpg" before "10.jpg"
        parts = re.split(r"(\d+)", path.name.lower())
        return tuple(int(p) if i % 2 else p for i, p in enumerate(parts)), path.name

    return sorted(paths, key=natural_order)


# --------------------------------------------------------------------------- validation


def _inspect(path: Path) -> tuple[int, int, str | None]:
    """`_inspect_file` of one path, cached on (path, size, mtime)."""
    try:
        stat = path.stat()
    except OSError as error:
        return 0, 0, f"cannot be read ({error.strerror or error})"
    return _inspect_file(str(path.absolute()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=200_000)
def _inspect_file(path: str, size: int, mtime_ns: int) -> tuple[int, int, str | None]:
    """(width, height, problem) of one file, opened and fully decoded with PIL; problem None: TensorFlow decodes it.

    `size` and `mtime_ns` key the cache.
    """
    try:
        with Image.open(path) as image:
            (width, height), fmt, mode = image.size, image.format, image.mode
            frames = getattr(image, "n_frames", 1)
            rules = [  # what TensorFlow does not decode
                (fmt not in _TF_FORMATS, f"unsupported format {fmt}; expected JPEG, PNG, BMP, GIF or WebP"),
                (frames > 1, f"animated image ({frames} frames); expected a still image"),
                (fmt == "JPEG" and mode == "CMYK", "CMYK JPEG is not supported; convert it to RGB"),
                (fmt == "BMP" and mode not in ("L", "RGB", "RGBA"),
                 f"{mode!r}-mode BMP is not supported; expected 8-bit gray, 24- or 32-bit"),
                (width <= 0 or height <= 0, f"empty image ({width}x{height})"),
            ]
            problem = next((reason for broken, reason in rules if broken), None)
            if problem is None:
                image.load()  # full decode: finds truncated and corrupt files
    except Image.DecompressionBombError as error:
        return 0, 0, f"too large to decode ({error})"
    except Exception as error:  # PIL raises OSError, SyntaxError, ValueError, EOFError...
        text = str(error) or type(error).__name__
        if "cannot identify image file" in text:
            text = "not a readable image file"
        return 0, 0, f"unreadable or corrupt image ({text})"
    return width, height, problem


def _check(path: Path, aligned: bool, min_size: int) -> str | None:
    """The first rule a file breaks (`_inspect`), or None."""
    width, height, problem = _inspect(path)
    if problem is not None:
        return problem
    if aligned and width % 2:
        return f"aligned A|B image has odd width {width}; expected an even width (A and B side by side)"
    part_width = width // 2 if aligned else width
    if min(part_width, height) < min_size:
        what = "each half of the aligned A|B image" if aligned else "the image"
        return (f"{what} is {part_width}x{height} (width x height), smaller than "
                f"{min_size}x{min_size} needed for a random crop of image_size={min_size}")
    return None


def report_skipped(skipped: Sequence[tuple[Path, str]], total: int, note: str = "") -> None:
    """Logs one warning with the number of skipped files and the first few reasons."""
    if not skipped:
        return
    logger.warning("Skipped %d of %d image files (skip_bad_files=True)%s: %s", len(skipped), total, note,
                   listing([f"{path}: {reason}" for path, reason in skipped], sep="; "))


def validate_images(paths: Iterable[str | Path], *, aligned: bool = False,
                    skip_bad: bool = False) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Checks that every file decodes fully and fits the layout, before any training.

    Each file is opened and fully decoded with PIL (catching truncated and
    corrupt files, files that are not images, formats or modes TensorFlow does
    not decode: animated images, CMYK JPEG, palette BMP) and its size checked.
    Results are cached per (path, file size, mtime), so validating a folder a
    second time is nearly free.

    Args:
        paths: iterable of str or Path. The files to check.
        aligned: bool. The files hold A|B side by side, so their width must be
            even. Defaults to `False`.
        skip_bad: bool. Return bad files in `skipped` (and log a warning with
            their count) instead of raising on the first one. Defaults to `False`.

    Returns:
        `(good, skipped)`: the usable paths in their input order, and a list of
        `(path, reason)` for the others (empty unless `skip_bad=True`).

    Raises:
        DataError: naming the first bad file and why, when `skip_bad=False`.

    Example:

    >>> good, skipped = validate_images(list_images("data/train"), aligned=True)  # doctest: +SKIP
    """
    paths = [Path(p) for p in paths]
    good, skipped = check_images(paths, aligned=aligned, skip_bad=skip_bad, min_size=0)
    report_skipped(skipped, len(paths))
    return good, skipped


def reject(skipped: list, skip_bad: bool, path: Path, reason: str) -> None:
    """Adds `(path, reason)` to `skipped` when `skip_bad`, else raises the DataError naming the file."""
    if not skip_bad:
        raise DataError(f"{path}: {reason}. (Set skip_bad_files=True to skip bad files.)")
    skipped.append((path, reason))


def check_images(paths: Sequence[Path], *, aligned: bool, skip_bad: bool, min_size: int):
    """`validate_images` without the warning (callers report skipped files themselves)."""
    with concurrent.futures.ThreadPoolExecutor(min(8, 2 * (os.cpu_count() or 1))) as pool:
        reasons = list(pool.map(functools.partial(_check, aligned=aligned, min_size=min_size), paths))  # in threads
    good, skipped = [], []
    for path, reason in zip(paths, reasons, strict=True):
        if reason is None:
            good.append(path)
        else:
            reject(skipped, skip_bad, path, reason)
    return good, skipped


def check_in_chunks(candidates: Sequence, check: Callable[[Sequence], tuple[list, list]], *,
                    limit: int | None = None) -> tuple[list, list]:
    """Validates `candidates` with `check`: all at once, or with `limit`, chunk by chunk until that many are good.

    The one validation loop of both pipelines: a dataset validates every file, a preview
    (`limit`) only as many as it needs from the start of the list.

    Args:
        candidates: sequence of what `check` takes: file paths, or (A file, B file) pairs.
        check: function of a slice of `candidates` returning `(good, skipped)` like `check_images`;
            it raises `DataError` for a bad file unless it skips bad files.
        limit: int or None. Stop once this many are good and return only those. Defaults to None.

    Returns:
        `(good, skipped)`: the good candidates in input order (at most `limit`) and the
        `(path, reason)` of the skipped files.

    Example:

    >>> check = functools.partial(check_images, aligned=True, skip_bad=False, min_size=1)  # doctest: +SKIP
    >>> first_four, _ = check_in_chunks(list_images("data/facades/test"), check, limit=4)  # doctest: +SKIP
    """
    chunk = max(1, len(candidates)) if limit is None else max(limit, 8)
    good, skipped = [], []
    for start in range(0, len(candidates), chunk):
        ok, bad = check(candidates[start:start + chunk])
        good += ok
        skipped += bad
        if limit is not None and len(good) >= limit:
            return good[:limit], skipped
    return good, skipped


def check_pairs(pairs: Sequence[tuple[Path, Path]], *, skip_bad: bool, min_size: int):
    """`check_images` for (A file, B file) pairs: both files good and of the same size; returns (good, skipped)."""
    good_a, bad_a = check_images([a for a, _ in pairs], aligned=False, skip_bad=skip_bad, min_size=min_size)
    good_b, bad_b = check_images([b for _, b in pairs], aligned=False, skip_bad=skip_bad, min_size=min_size)
    usable, good, skipped = set(good_a + good_b), [], bad_a + bad_b
    for a, b in pairs:
        if a not in usable or b not in usable:
            continue
        (width_a, height_a, _), (width_b, height_b, _) = _inspect(a), _inspect(b)  # cached by check_images
        if (width_a, height_a) == (width_b, height_b):
            good.append((a, b))
        else:
            reject(skipped, skip_bad, a, f"size {width_a}x{height_a} differs from {b} ({width_b}x{height_b}); "
                                         "the A and B images of a pair must have the same width and height")
    return good, skipped


# --------------------------------------------------------------------------- eager I/O


def load_image(path: str | Path, channels: int = 3) -> np.ndarray:
    """Reads one image file for inference, as float32 in [-1, 1].

    Uses the same decoding and channel conversion as the training pipeline.

    Args:
        path: str or Path. A JPEG, PNG, BMP, GIF or WebP file.
        channels: int. 1, 3 or 4. Defaults to 3.

    Returns:
        np.ndarray float32 of shape (H, W, channels) in [-1, 1].

    Raises:
        DataError: naming the file when it is missing, unreadable or corrupt.

    Example:

    >>> x = load_image("photo.jpg", channels=3)  # doctest: +SKIP
    """
    channels = check_channels(channels)
    path = Path(path)
    if not path.is_file():
        raise DataError(f"Image file {path} does not exist.")
    validate_images([path])
    image = decode_image(tf.constant(path.read_bytes()), channels)
    return from_unit(image.numpy())


_SAVE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".webp": "WEBP"}


def save_image(image, path: str | Path) -> Path:
    """Writes an image in [-1, 1] to an 8-bit file, atomically (`io.atomic_file`).

    The format follows the suffix: .png (default choice, lossless), .jpg/.jpeg
    (lossy, quality 95, no alpha), .bmp, .webp (lossless). Missing parent folders
    are created.

    Args:
        image: array-like (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), values in [-1, 1].
        path: str or Path of the file to write.

    Returns:
        The Path written.

    Raises:
        ValueError: for another shape or suffix, or alpha with JPEG.

    Example:

    >>> save_image(np.zeros((64, 64, 3)), "out/gray.png")  # doctest: +SKIP
    """
    path = Path(path)
    fmt = _SAVE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"Invalid value for argument `path`. Received: path={str(path)!r}. "
                         f"Expected a file name ending in one of {sorted(_SAVE_FORMATS)}.")
    pixels = to_uint8(image)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    if not (pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[-1] in (3, 4))):
        raise ValueError(f"Invalid value for argument `image`. Received an array of shape {np.shape(image)}. "
                         "Expected (H, W) or (H, W, C) with C in 1, 3, 4.")
    if fmt == "JPEG" and pixels.ndim == 3 and pixels.shape[-1] == 4:
        raise ValueError(f"Cannot save a 4-channel (RGBA) image as JPEG: {path}. Use .png.")
    options = {"JPEG": {"quality": 95}, "PNG": {"compress_level": 4}, "WEBP": {"lossless": True}}.get(fmt, {})
    with atomic_file(path) as tmp:
        Image.fromarray(pixels).save(tmp, format=fmt, **options)
    return path


def to_rgb_uint8(images) -> np.ndarray:
    """Images (..., H, W, C) in [-1, 1] with any C -> (..., H, W, 3) uint8 for display.

    One channel is shown as gray, four as RGB (alpha dropped), other counts show
    their first three channels (or the first, as gray, when fewer than three).
    """
    images = np.asarray(images, dtype=np.float32)
    return to_uint8(images[..., :3] if images.shape[-1] >= 3 else np.repeat(images[..., :1], 3, axis=-1))


def image_grid(columns, labels=None, cell: int | None = None, gap: int = 2) -> np.ndarray:
    """Lays out images in [-1, 1] on white: `columns[j][i]` is row i, column j (the one grid builder).

    Used by the training previews (columns of sample batches) and the evaluation report.

    Args:
        columns: sequence of columns, each a (B, H, W, C) array or a sequence of (H, W, C) arrays
            (C: any count, shown as `to_rgb_uint8`).
        labels: one text per column, drawn in a band above it. Defaults to None (no band).
        cell: int or None. Fit every image into a cell x cell square (aspect kept, centred); None:
            every image at its own size (all of one size). Defaults to None.
        gap: int. White pixels between tiles. Defaults to 2.

    Returns:
        (height, width, 3) uint8 array.

    Example:

    >>> image_grid([np.zeros((2, 8, 8, 3)), np.ones((2, 8, 8, 1))], gap=1).shape
    (17, 17, 3)
    """
    tiles = [[Image.fromarray(to_rgb_uint8(image)) for image in column] for column in columns]
    if cell is not None:
        tiles = [[ImageOps.pad(tile, (cell, cell), color=(255, 255, 255)) for tile in column] for column in tiles]
    (width, height), top = tiles[0][0].size, 14 if labels else 0
    size = (len(tiles) * (width + gap) - gap, top + max(map(len, tiles)) * (height + gap) - gap)
    grid = Image.new("RGB", size, (255, 255, 255))
    for c, column in enumerate(tiles):
        if labels:
            ImageDraw.Draw(grid).text((c * (width + gap) + 3, 1), str(labels[c]), fill=(0, 0, 0))
        for r, tile in enumerate(column):
            grid.paste(tile, (c * (width + gap), top + r * (height + gap)))
    return np.asarray(grid)

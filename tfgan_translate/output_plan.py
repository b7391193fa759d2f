"""Where `translate` writes and what it may replace: the output plan, checked before anything is translated.

`translate_paths` (behind `inference.translate_files` and `tfgan-translate translate`) writes
OUTPUT/<stem>.png and never writes over a file it did not write itself:

- an output folder that is an input folder, or inside one (symbolic links resolved), is refused, as is an
  output that would be the input file;
- inputs sharing a stem (``1.jpg``, ``1.png``) get distinct names: the first in natural order keeps
  ``1.png``, the next ``1_png.png`` (then ``1_png_2.png``, ...), each logged (`output_names`);
- a file already at an output name is replaced only if an earlier `translate` wrote it (its PNG carries
  ``Software: tfgan-translate translate``, `is_translate_output`) or with ``overwrite=True``
  (``--overwrite``); otherwise nothing is written and the error names the file.

Every input is checked before the first is translated (`plan_outputs`): first its width and height, read
from its header (nothing decoded), against `memory_budget` (``--memory-budget``: the decoded image must fit
it, `tiling_plan.image_too_large`), then the files within it are decoded with PIL. A bad or too large file
stops the run before any output is written, naming the file (with its size and ``--memory-budget`` for a
too large one) and ``--skip-bad-files``; with ``skip_bad_files=True`` such files are skipped and counted
(`Translated.skipped`).
"""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import numpy as np
import tensorflow as tf
from PIL import Image, PngImagePlugin

from tfgan_translate.data import DataError, list_images
from tfgan_translate.data.decoding import check_channels, decode_image, from_unit, header_size
from tfgan_translate.data.files import check_images
from tfgan_translate.io import atomic_file, listing, to_uint8
from tfgan_translate.tiling_plan import DEFAULT_MEMORY_BUDGET_MB, TOO_LARGE, check_memory_budget, image_too_large

log = logging.getLogger("tfgan_translate")

SOFTWARE = "tfgan-translate translate"  # the PNG text chunk marking our outputs (key "Software")
SKIP_ADVICE = ("Pass --skip-bad-files (skip_bad_files=True from Python) to skip and count unreadable (and too "
               "large) images.")


class Translated(list):
    """The output paths written, in input order (a plain list of Paths), and what else happened.

    Attributes:
        output_dir: Path. Where they were written.
        skipped: list of (input Path, reason): unreadable images, and images too large for the memory budget,
            left out (`skip_bad_files`).
        renamed: list of (input Path, output Path): inputs sharing a stem with an earlier one, written under
            another name.
    """

    def __init__(self, paths=(), output_dir: Path | None = None, skipped=(), renamed=()):
        super().__init__(paths)
        self.output_dir, self.skipped, self.renamed = output_dir, list(skipped), list(renamed)

    def summary(self) -> str:
        """'Wrote N image(s) to DIR', then '; skipped K unreadable: a.png, b.jpg' ('unreadable or too large'
        when the memory budget refused some) and the renamed ones."""
        text = f"Wrote {len(self)} image(s) to {self.output_dir}"
        if self.skipped:
            large = any(reason.startswith(TOO_LARGE) for _, reason in self.skipped)
            what = "unreadable or too large for --memory-budget" if large else "unreadable"
            skipped = [path.name for path, _ in self.skipped]
            text += f"; skipped {len(self.skipped)} {what} (--skip-bad-files): {listing(skipped, 10)}"
        if self.renamed:
            renamed = [f"{source.name} -> {target.name}" for source, target in self.renamed]
            text += f"; {len(self.renamed)} renamed (their stem was taken): {listing(renamed, 10)}"
        return text


def _check_output_folder(inputs: Path, output_dir: Path) -> None:
    """Refuses an output folder that is a file, is the input folder or lies inside it (links resolved)."""
    if output_dir.exists() and not output_dir.is_dir():
        raise ValueError(f"Invalid value for `output`: {output_dir} is a file. Expected a folder (created if "
                         "missing) for the translated images.")
    if not inputs.is_dir():
        return
    source, target = inputs.resolve(), output_dir.resolve()
    if target == source or source in target.parents:
        where = "is the input folder" if target == source else f"is inside the input folder {inputs}"
        raise ValueError(f"Invalid value for `output`: {output_dir} {where}. Expected a folder outside {inputs}: "
                         "translate never writes among its inputs (their outputs could replace them).")


def output_names(paths: list[Path]) -> tuple[list[str], list[int]]:
    """OUTPUT file names for input `paths`: <stem>.png, and for a stem already taken <stem>_<ext>[_N].png.

    Names are compared case-insensitively (two names differing only in case are one file on macOS and
    Windows). The first input in the given order keeps its stem.

    Returns:
        (the names, in the order of `paths`; the indices of the inputs that were renamed).

    Example:

    >>> output_names([Path("1.jpg"), Path("1.png"), Path("2.png")])
    (['1.png', '1_png.png', '2.png'], [1])
    """
    taken, names, renamed = set(), [], []
    for i, path in enumerate(paths):
        name = f"{path.stem}.png"
        if name.casefold() in taken:
            renamed.append(i)
            base = f"{path.stem}_{path.suffix.lstrip('.').lower() or 'file'}"
            candidates = (f"{base}_{n}.png" if n > 1 else f"{base}.png" for n in itertools.count(1))
            name = next(candidate for candidate in candidates if candidate.casefold() not in taken)
        taken.add(name.casefold())
        names.append(name)
    return names, renamed


def is_translate_output(path: Path) -> bool:
    """Whether `path` is a PNG written by `translate` (its "Software" text chunk says so)."""
    try:
        with Image.open(path) as image:
            return image.format == "PNG" and image.info.get("Software") == SOFTWARE
    except (OSError, SyntaxError, ValueError):
        return False


def _check_targets(paths: list[Path], targets: list[Path], overwrite: bool) -> None:
    """Refuses targets that are an input, or an existing file `translate` did not write (unless `overwrite`)."""
    sources = {path.resolve() for path in paths}
    for path, target in zip(paths, targets, strict=True):
        if target.resolve() in sources:
            raise ValueError(f"Invalid value for `output`: writing {target} would replace the input "
                             f"{path if target.resolve() == path.resolve() else target}. Expected an output folder "
                             "that holds no input.")
    folders = [t for t in targets if t.is_dir()]
    if folders:
        raise ValueError(f"Invalid value for `output`: {folders[0]} is a folder. Expected the output name of "
                         f"{paths[targets.index(folders[0])]} to be free or a file; move the folder away.")
    foreign = [t for t in targets if t.is_symlink() or (t.exists() and not is_translate_output(t))]
    if foreign and not overwrite:
        more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
        raise ValueError(f"Invalid value for `output`: {foreign[0]}{more} exists and translate did not write it. "
                         "Expected output names that are free or hold an earlier translate's outputs: choose another "
                         "--output, move the file, or pass --overwrite (overwrite=True) to replace such files. "
                         "Nothing was written.")


def _too_large(path: Path, memory_budget: float | None, channels: int | None) -> str | None:
    """Why `path` is too large to decode within `memory_budget` MiB, from its header (nothing decoded), or None."""
    header = None if memory_budget is None else header_size(path)  # (width, height, channels) or None
    # None: no bound, or unreadable (`check_images` says why).
    return None if header is None else image_too_large(*header[:2], memory_budget, channels, file_channels=header[2])


def save_output(image: np.ndarray, path: Path) -> Path:
    """Writes a translated (H, W, C) image in [-1, 1] as an 8-bit PNG marked as translate's, atomically.

    Converted to 8 bits a band of rows at a time, so a 4096 x 4096 image needs no second float copy.
    """
    image = image.reshape(*image.shape[:2], -1)  # (H, W) -> (H, W, 1)
    if image.shape[-1] not in (1, 3, 4):
        raise ValueError(f"Invalid image: expected 1, 3 or 4 output channels to write {path}, got {image.shape[-1]}.")
    pixels = np.empty(image.shape, np.uint8)
    for start in range(0, len(image), 256):
        pixels[start:start + 256] = to_uint8(image[start:start + 256])
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", SOFTWARE)
    with atomic_file(path) as tmp:
        Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(tmp, format="PNG", pnginfo=info,
                                                                                 compress_level=4)
    return path


_DECODERS: dict = {}  # channels -> compiled decoder


def _load(path: Path, channels: int, memory_budget: float | None = None) -> np.ndarray:
    """`data.load_image` (`from_unit(decode_image(...))`) compiled, with 40 % of its peak memory on a large image.

    Compiled, TensorFlow frees each intermediate as soon as it is used, and the result is not copied out
    (a read-only array on TensorFlow's buffer): about 0.3 GB above the image itself for a 4096 x 4096 PNG
    instead of 1.1 GB. The pixels are the training pipeline's, which decodes compiled too (an eager
    `load_image` differs from both by up to 1 ulp). An image too large for `memory_budget` MiB (the file
    may have changed since the plan) is refused before anything is decoded.
    """
    # Too large (by its header), else unreadable (PIL's checks, which only then open it).
    reason = _too_large(path, memory_budget, channels) or next(
        (why for _, why in check_images([path], aligned=False, skip_bad=True, min_size=1)[1]), None)
    if reason is not None:
        raise DataError(f"{path}: {reason}.")
    if channels not in _DECODERS:
        _DECODERS[channels] = tf.function(lambda contents: from_unit(decode_image(contents, channels)), autograph=False)
    try:
        return np.asarray(_DECODERS[channels](tf.io.read_file(str(path))))
    except tf.errors.OpError as error:
        raise DataError(f"{path}: TensorFlow cannot decode it ({error.message}).") from None


def translate_paths(translate, inputs: str | Path, output_dir: str | Path, *, input_channels: int,
                    aligned: bool = False, left_half: bool = True, skip_bad_files: bool = False,
                    overwrite: bool = False, memory_budget: float | None = DEFAULT_MEMORY_BUDGET_MB) -> Translated:
    """Reads an image file or every image of a folder, translates each, writes OUTPUT_DIR/<stem>.png.

    Before anything is translated: the output folder is checked (not an input folder, nor inside one), every
    output name is checked (free, or an earlier translate's output, or `overwrite`), every input's size is read
    from its header against `memory_budget`, and every input within it is decoded once (a bad or too large one
    stops here without `skip_bad_files`). See the module docstring.

    Args:
        translate: function from one (H, W, input_channels) float32 image in
            [-1, 1] to the translated image of the same height and width.
        inputs: str or Path. An image file or a folder of images.
        output_dir: str or Path. Created if missing.
        input_channels: int. Images are converted to this many channels.
        aligned: bool. Inputs are A|B pairs side by side: translate one half.
        left_half: bool. With `aligned`, the half to translate: the left (A)
            or the right (B).
        skip_bad_files: bool. Skip and count unreadable and too large images (`Translated.skipped`). Defaults
            to False.
        overwrite: bool. Replace existing files at the output names that translate did not write.
            Defaults to False.
        memory_budget: float or None. MiB one decoded image may take, at `tiling_plan.IMAGE_BYTES_PER_VALUE`
            bytes a value in `input_channels` channels; a larger image is refused before it is decoded,
            naming the file, its size and --memory-budget (`tiling_plan.image_too_large`). None: no bound.
            Defaults to `tiling_plan.DEFAULT_MEMORY_BUDGET_MB`.

    Returns:
        `Translated`: the written paths, in input order.

    Raises:
        FileNotFoundError: `inputs` does not exist.
        ValueError: a bad `memory_budget`; the output folder is a file, an input folder or inside one; an output
            name holds a file translate did not write (without `overwrite`) or an input.
        DataError: an unreadable or too large image without `skip_bad_files` (named, with the flag), or no
            readable one.
    """
    input_channels = check_channels(input_channels, "input_channels")
    check_memory_budget(memory_budget)
    paths, targets, written = plan_outputs(inputs, output_dir, skip_bad_files=skip_bad_files, overwrite=overwrite,
                                           memory_budget=memory_budget, input_channels=input_channels)
    written.output_dir.mkdir(parents=True, exist_ok=True)
    for path, target in zip(paths, targets, strict=True):
        try:
            image = _load(path, input_channels, memory_budget)
        except DataError as error:
            if not skip_bad_files:
                raise DataError(f"{error} {SKIP_ADVICE}") from None
            written.skipped.append((path, str(error)))
            log.warning("Skipped %s", error)
            continue
        if aligned:
            half = image.shape[1] // 2
            image = image[:, :half] if left_half else image[:, half:2 * half]
        written.append(save_output(translate(image), target))
    if not written and written.skipped:
        first = written.skipped[0]
        raise DataError(f"Nothing was translated: all {len(written.skipped)} image(s) of the input are unreadable or "
                        f"too large (first: {first[0]}: {first[1]}).")
    return written


def plan_outputs(inputs: str | Path, output_dir: str | Path, *, skip_bad_files: bool = False,
                 overwrite: bool = False, memory_budget: float | None = DEFAULT_MEMORY_BUDGET_MB,
                 input_channels: int | None = None) -> tuple[list[Path], list[Path], Translated]:
    """Lists and checks the inputs and the output names of a translation, writing nothing (see `translate_paths`).

    Args:
        memory_budget: float or None. MiB one decoded image may take (see `translate_paths`).
        input_channels: int or None. The generator's input channels, for `memory_budget`; None (before the
            model is loaded): one channel, the least an image can take, so nothing is refused that the
            generator's channels would allow (`translate_paths` checks again with them).

    Returns:
        (the readable inputs, in order; their output files; a `Translated` with nothing written yet, holding the
        output folder, the inputs left out (`skip_bad_files`) and the inputs whose stem another input took),
        which `translate_paths` fills.

    Raises:
        The errors of `translate_paths`, before any work.
    """
    inputs, output_dir = Path(inputs), Path(output_dir)
    if not (inputs.is_dir() or inputs.is_file()):
        raise FileNotFoundError(f"Invalid value for `input`: {inputs} is neither an image file nor a folder.")
    paths = list_images(inputs) if inputs.is_dir() else [inputs]
    _check_output_folder(inputs, output_dir)
    # Every input checked before the first is translated. Sizes first, from the headers: an image too large for
    # `memory_budget` is never decoded, not even by the PIL check that follows for the others.
    large = {path: reason for path in paths if (reason := _too_large(path, memory_budget, input_channels))}
    good, bad = check_images([p for p in paths if p not in large], aligned=False, skip_bad=True, min_size=1)
    order = {path: i for i, path in enumerate(paths)}
    bad = sorted([*bad, *large.items()], key=lambda item: order[item[0]])
    if bad and not skip_bad_files:
        count = f" ({len(bad)} unreadable or too large images in all)" if len(bad) > 1 else ""
        raise DataError(f"{bad[0][0]}: {bad[0][1]}{count}. Nothing was written. {SKIP_ADVICE}")
    for path, reason in bad:
        log.warning("Skipped %s: %s", path, reason)
    if bad and not good:
        raise DataError(f"Nothing to translate: all {len(bad)} image(s) of {inputs} are unreadable or too large "
                        f"(first: {bad[0][0]}: {bad[0][1]}).")
    names, renamed = output_names(good)
    targets = [output_dir / name for name in names]
    for i in renamed:
        log.warning("%s: its stem is taken by another input; writing %s", good[i], targets[i])
    _check_targets(good, targets, overwrite)
    return good, targets, Translated((), output_dir, bad, [(good[i], targets[i]) for i in renamed])

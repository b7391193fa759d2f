"""Translating image files with a trained generator, at any image size, without touching the user's files.

Generators only take sizes that are multiples of their size rule (2**depth
for a U-Net, 4 for a ResNet generator), and no smaller than their smallest
input (`minimum_size`: the size rule for a U-Net, 8 for a ResNet generator,
whose reflection pads need more pixels than they add). `translate_array`
meets the rule in one of two documented ways and always returns an image of
the input's size, however small (1 x 1 included):

- ``fit="pad"`` (default): reflect-pad bottom and right up to the next
  multiple (at least the smallest input), translate, crop back. Pixels keep
  their scale; the padding only gives the network context at the borders.
  Padding wider than the image reflects again (a 1-pixel side repeats its edge).
- ``fit="resize"``: resize (bicubic) to the nearest multiple (at least the
  smallest input), translate, resize back. Useful when the image is much
  smaller than the multiple (e.g. a 50x70 image and unet_256).

An image whose pass would need more memory than `memory_budget` (or any image, given `tile`) is translated in
overlapping tiles blended without seams, with whole-image instance-norm statistics (`tfgan_translate.tiling`).

A Keras generator runs as `inference_mode.inference_generator` makes it: pix2pix's dropout on or off
(`test_dropout`) and batch norm on each image's own statistics or the moving ones (`test_batch_norm`); unset,
the generator's run's setting (`training.run.load_run` records it), else the pix2pix paper's protocol (dropout
on, each image's statistics). An export (`ExportedModel`) runs as it was exported.

`translate_paths` (behind `translate_files` and `tfgan-translate translate`) writes OUTPUT/<stem>.png and
never writes over a file it did not write itself:

- an output folder that is an input folder, or inside one (symbolic links resolved), is refused, as is an
  output that would be the input file;
- inputs sharing a stem (``1.jpg``, ``1.png``) get distinct names: the first in natural order keeps
  ``1.png``, the next ``1_png.png`` (then ``1_png_2.png``, ...), each logged;
- a file already at an output name is replaced only if an earlier `translate` wrote it (its PNG carries
  ``Software: tfgan-translate translate``) or with ``overwrite=True`` (``--overwrite``); otherwise nothing is
  written and the error names the file. Re-running into the same folder replaces its own earlier outputs.

Every input is checked before the first is translated: its size read from its header against `memory_budget`
(the decoded image must fit it too, `tiling_plan.image_too_large`: a larger one is refused before it is
decoded), then decoded with PIL. A bad file stops the run before any output is written, naming the file and
``--skip-bad-files``; with ``skip_bad_files=True`` bad files are skipped and counted (`Translated.skipped`).

The files (plan, checks, writing) live in `tfgan_translate.output_plan`; one pass or tiles, in `tiling`.
"""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfgan_translate.choices import DIRECTIONS, FITS, check_choice
from tfgan_translate.inference_mode import inference_generator, is_keras_generator
from tfgan_translate.networks import size_multiple
from tfgan_translate.output_plan import Translated, translate_paths
from tfgan_translate.tiling import translate_in_budget
from tfgan_translate.tiling_plan import DEFAULT_MEMORY_BUDGET_MB, check_memory_budget, check_tiling, minimum_size

log = logging.getLogger("tfgan_translate")


def reflect_pad(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Mirror-pads an (H, W, C) image at the bottom and right to (height, width), as a (1, height, width, C) batch.

    numpy's "reflect" mode reflects repeatedly, so pads larger than the image work too; a 1-pixel-wide image,
    which has nothing to reflect, repeats its edge. An image already of that size is not copied.
    """
    if image.shape[:2] == (height, width):
        return image[None]
    mode = "reflect" if min(image.shape[:2]) > 1 else "edge"
    return np.pad(image, ((0, height - image.shape[0]), (0, width - image.shape[1]), (0, 0)), mode=mode)[None]


def generator_for(model, direction: str | None = None, trained_direction: str = "AtoB") -> keras.Model:
    """The generator of `model` that translates in `direction`, named after the data folders.

    A run trained with `direction=trained_direction` has G mapping that way:
    Pix2Pix has only G (`.generator`); a CycleGAN has G (`.generator_g`) and F
    (`.generator_f`) for the opposite way; a bare generator model is G.

    Args:
        model: a Pix2Pix, a CycleGAN or a generator `keras.Model`.
        direction: str or None. "AtoB" or "BtoA"; None means G's direction.
        trained_direction: str. The run's `config.direction`. Defaults to "AtoB".

    Raises:
        ValueError: a direction other than G's for a model with one generator.

    Example:

    >>> g = generator_for(cycle_gan, "BtoA")  # cycle_gan.generator_f for a run trained AtoB  # doctest: +SKIP
    """
    if direction is not None:
        check_choice("direction", direction, DIRECTIONS)
    forward = direction is None or direction == trained_direction
    if hasattr(model, "generator_g") and hasattr(model, "generator_f"):
        return model.generator_g if forward else model.generator_f
    if not forward:
        raise ValueError(f"Invalid value for argument `direction`. Received: direction={direction!r}. This model was "
                         f"trained {trained_direction} and has one generator; only a CycleGAN translates both ways "
                         f"(for pix2pix, train with --direction {direction}).")
    generator = getattr(model, "generator", model)
    if not isinstance(generator, keras.Model):
        raise TypeError(f"Invalid model: expected a Pix2Pix, a CycleGAN or a generator keras.Model, "
                        f"got {type(model).__name__}.")
    return generator


def check_image(image) -> np.ndarray:
    """`image` as float32; ValueError unless it is an (H, W, C) array with H, W >= 1."""
    image = np.asarray(image, np.float32)
    if image.ndim != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"Invalid image: expected a (H, W, C) array with H, W >= 1, got shape {image.shape}.")
    return image


def _prepare(generator, multiple, tile, overlap, memory_budget, test_dropout, test_batch_norm, seed):
    """(the network that runs, its size rule, its smallest input), every argument checked before any work.

    The network is a Keras generator's `inference_generator` copy, any other callable as it is.
    """
    multiple = size_multiple(generator) if multiple is None else multiple
    if is_keras_generator(generator):
        generator = inference_generator(generator, test_dropout, test_batch_norm, seed=seed)
    elif (test_dropout, test_batch_norm, seed) != (None, None, None):
        raise ValueError(f"Invalid value for argument `test_dropout`, `test_batch_norm` or `seed`. Received: "
                         f"test_dropout={test_dropout!r}, test_batch_norm={test_batch_norm!r}, seed={seed!r} for a "
                         f"{type(generator).__name__}. Expected None: only a Keras generator's test-time setting can "
                         "be chosen here (an export runs as it was exported).")
    smallest = minimum_size(generator, multiple)
    check_tiling(tile, overlap, multiple, minimum=smallest)
    check_memory_budget(memory_budget)
    return generator, multiple, smallest


def translate_array(generator, image: np.ndarray, multiple: int | None = None, fit: str = "pad", *,
                    tile: int | None = None, overlap: int | None = None,
                    memory_budget: float | None = DEFAULT_MEMORY_BUDGET_MB, test_dropout: str | None = None,
                    test_batch_norm: str | None = None, seed: int | None = None) -> np.ndarray:
    """Runs `generator` on one (H, W, C) image in [-1, 1] of any size, in bounded memory.

    Args:
        generator: a Keras model (or callable) taking (1, H', W', C).
        image: (H, W, C) float array in [-1, 1], H and W >= 1.
        multiple: int or None. Height and width the generator needs to be divisible by; None asks the
            generator (`UNetGenerator` / `ResNetGenerator` know it). The image is padded or resized to at
            least the generator's `minimum_size` too. Defaults to None.
        fit: str. "pad" or "resize" (see the module docstring). Defaults to "pad".
        tile: int or None. Translate in overlapping `tile` x `tile` tiles (a multiple of `multiple`, at least
            the generator's `minimum_size`); None: only when the image needs more than `memory_budget`.
            Defaults to None.
        overlap: int or None. Least overlap of neighbouring tiles in pixels (`tiling.translate_tiled`); None:
            `tile // 4`, at least 32. Defaults to None.
        memory_budget: float or None. MiB one pass of a Keras generator may use (`tiling.activation_bytes`
            estimates it); an image that needs more is tiled, in tiles no smaller than the generator's
            `minimum_size`. None: tile only with `tile`. The image is already decoded here: refusing images
            too large to decode is `translate_files`'s. Defaults to `tiling_plan.DEFAULT_MEMORY_BUDGET_MB`.
        test_dropout: "on", "off" or None. A Keras generator's dropout at test time (`inference_mode`); None:
            its run's setting, else "on". Defaults to None.
        test_batch_norm: "image", "moving" or None. Its batch norm on each image's own statistics (tiles: the
            whole image's) or on the moving ones; None: its run's setting, else "image". Defaults to None.
        seed: int or None. Repeatable test-time dropout masks; None: fresh noise. Defaults to None.

    Returns:
        (H, W, C_out) float32 array in [-1, 1].

    Raises:
        ValueError: a bad `fit`, `tile`, `overlap`, `memory_budget` or test-time setting, or an empty image.

    Example:

    >>> y = translate_array(ResNetGenerator(9), x, tile=512, overlap=64)  # x: (4096, 4096, 3)  # doctest: +SKIP
    """
    check_choice("fit", fit, FITS)
    generator, multiple, smallest = _prepare(generator, multiple, tile, overlap, memory_budget, test_dropout,
                                             test_batch_norm, seed)
    image = check_image(image)
    height, width = image.shape[:2]
    if fit == "pad":
        batch = reflect_pad(image, *(max(smallest, -(-side // multiple) * multiple) for side in (height, width)))
        return translate_in_budget(generator, batch, multiple, tile, overlap, memory_budget)[:height, :width]
    size = [max(smallest, int(round(side / multiple)) * multiple) for side in (height, width)]
    batch = tf.clip_by_value(tf.image.resize(image[None], size, method="bicubic"), -1.0, 1.0).numpy()
    output = translate_in_budget(generator, batch, multiple, tile, overlap, memory_budget)
    return np.clip(tf.image.resize(output[None], (height, width), method="bicubic").numpy()[0], -1.0, 1.0)


def translate_files(generator, inputs: str | Path, output_dir: str | Path, *, fit: str = "pad", aligned: bool = False,
                    direction: str = "AtoB", tile: int | None = None, overlap: int | None = None,
                    memory_budget: float | None = DEFAULT_MEMORY_BUDGET_MB, skip_bad_files: bool = False,
                    overwrite: bool = False, test_dropout: str | None = None, test_batch_norm: str | None = None,
                    seed: int | None = None) -> Translated:
    """Translates one image file or every image in a folder; writes OUTPUT_DIR/<stem>.png (see `translate_paths`).

    Args:
        generator: the trained generator (a `UNetGenerator` or `ResNetGenerator`: it knows its size rule
            and input channels; images are converted to those channels).
        inputs: str or Path. An image file or a folder of images.
        output_dir: str or Path. Created if missing; not an input folder nor inside one.
        fit: "pad" or "resize".
        aligned: bool. Inputs are A|B pairs side by side: translate the half
            that `direction` takes as input (A, the left, for "AtoB").
        direction: "AtoB" or "BtoA"; only used with `aligned`.
        tile, overlap, memory_budget: tiling, as `translate_array`. `memory_budget` (MiB) bounds each
            decoded image too: one whose size (read from its header) needs more, at
            `tiling_plan.IMAGE_BYTES_PER_VALUE` bytes a value in the generator's input channels, is refused
            before it is decoded (`tiling_plan.image_too_large`); None: no bound.
        skip_bad_files: bool. Skip and count unreadable images, and images too large for `memory_budget`,
            instead of stopping. Defaults to False.
        overwrite: bool. Replace files at the output names that `translate` did not write. Defaults to False.
        test_dropout, test_batch_norm, seed: how the generator runs at test time, as `translate_array`
            (None: the generator's run's setting, else dropout on and each image's own statistics).

    Returns:
        `Translated`: the written paths, in input order (a list), with what was skipped and renamed.

    Example:

    >>> written = translate_files(generator, "photos/", "translated/", tile=512)  # doctest: +SKIP
    """
    generator, multiple, _ = _prepare(generator, None, tile, overlap, memory_budget, test_dropout, test_batch_norm,
                                      seed)  # checked before any file is read

    written = translate_paths(lambda image: translate_array(generator, image, multiple, fit=fit, tile=tile,
                                                            overlap=overlap, memory_budget=memory_budget),
                              inputs, output_dir, input_channels=int(generator.input_shape[-1]), aligned=aligned,
                              left_half=direction == "AtoB", skip_bad_files=skip_bad_files, overwrite=overwrite,
                              memory_budget=memory_budget)
    log.info("Translated %d image(s) into %s", len(written), output_dir)
    return written

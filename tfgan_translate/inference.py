"""Translating image files with a trained generator, at any image size.

Generators only take sizes that are multiples of their size rule (2**depth
for a U-Net, 4 for a ResNet generator). `translate_array` meets the rule in
one of two documented ways and always returns an image of the input's size:

- ``fit="pad"`` (default): reflect-pad bottom and right up to the next
  multiple, translate, crop back. Pixels keep their scale; the padding only
  gives the network context at the borders.
- ``fit="resize"``: resize (bicubic) to the nearest multiple (at least one
  multiple), translate, resize back. Useful when the image is much smaller
  than the multiple (e.g. a 50x70 image and unet_256).
"""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from tfgan_translate.choices import DIRECTIONS, FITS, check_choice
from tfgan_translate.data import list_images, load_image, save_image
from tfgan_translate.networks import size_multiple

log = logging.getLogger("tfgan_translate")


def _next_multiple(n: int, multiple: int) -> int:
    return max(multiple, -(-n // multiple) * multiple)


def reflect_pad(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Mirror-pads an (H, W, C) image at the bottom and right to (height, width), as a (1, height, width, C) batch.

    numpy's "reflect" mode reflects repeatedly, so pads larger than the image work too; a 1-pixel-wide image,
    which has nothing to reflect, repeats its edge.
    """
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
    check_choice("trained_direction", trained_direction, DIRECTIONS)
    forward = direction is None or direction == trained_direction
    if hasattr(model, "generator_g") and hasattr(model, "generator_f"):
        return model.generator_g if forward else model.generator_f
    if not forward:
        raise ValueError(
            f"Invalid value for argument `direction`. Received: direction={direction!r}. This model was trained "
            f"{trained_direction} and has one generator; only a CycleGAN translates both ways (for pix2pix, "
            f"train with --direction {direction})."
        )
    generator = getattr(model, "generator", model)
    if not isinstance(generator, keras.Model):
        raise TypeError(f"Invalid model: expected a Pix2Pix, a CycleGAN or a generator keras.Model, "
                        f"got {type(model).__name__}.")
    return generator


def translate_array(generator, image: np.ndarray, multiple: int | None = None, fit: str = "pad") -> np.ndarray:
    """Runs `generator` on one (H, W, C) image in [-1, 1] of any size.

    Args:
        generator: a Keras model (or callable) taking (1, H', W', C).
        image: (H, W, C) float array in [-1, 1], H and W >= 1.
        multiple: int or None. Height and width the generator needs to be divisible by; None asks the
            generator (`UNetGenerator` / `ResNetGenerator` know it). Defaults to None.
        fit: str. "pad" or "resize" (see the module docstring). Defaults to "pad".

    Returns:
        (H, W, C_out) float32 array in [-1, 1].
    """
    check_choice("fit", fit, FITS)
    multiple = size_multiple(generator) if multiple is None else multiple
    image = np.asarray(image, np.float32)
    if image.ndim != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"Invalid image: expected a (H, W, C) array with H, W >= 1, got shape {image.shape}.")
    height, width = image.shape[:2]
    if fit == "pad":
        batch = reflect_pad(image, _next_multiple(height, multiple), _next_multiple(width, multiple))
        output = np.asarray(generator(batch, training=False))[0]
        return output[:height, :width]
    target_h = max(multiple, int(round(height / multiple)) * multiple)
    target_w = max(multiple, int(round(width / multiple)) * multiple)
    batch = tf.image.resize(image[None], (target_h, target_w), method="bicubic")
    output = generator(tf.clip_by_value(batch, -1.0, 1.0), training=False)
    output = tf.image.resize(output, (height, width), method="bicubic")
    return np.clip(np.asarray(output)[0], -1.0, 1.0)


def translate_files(generator, inputs: str | Path, output_dir: str | Path, *, fit: str = "pad", aligned: bool = False,
                    direction: str = "AtoB") -> list[Path]:
    """Translates one image file or every image in a folder; writes OUTPUT_DIR/<stem>.png.

    Args:
        generator: the trained generator (a `UNetGenerator` or `ResNetGenerator`: it knows its size rule
            and input channels; images are converted to those channels).
        inputs: str or Path. An image file or a folder of images.
        output_dir: str or Path. Created if missing.
        fit: "pad" or "resize".
        aligned: bool. Inputs are A|B pairs side by side: translate the half
            that `direction` takes as input (A, the left, for "AtoB").
        direction: "AtoB" or "BtoA"; only used with `aligned`.

    Returns:
        The written paths, in input order.
    """
    multiple = size_multiple(generator)
    written = translate_paths(lambda image: translate_array(generator, image, multiple, fit=fit), inputs, output_dir,
                              input_channels=int(generator.input_shape[-1]), aligned=aligned,
                              left_half=direction == "AtoB")
    log.info("Translated %d image(s) into %s", len(written), output_dir)
    return written


def translate_paths(translate, inputs: str | Path, output_dir: str | Path, *, input_channels: int,
                    aligned: bool = False, left_half: bool = True) -> list[Path]:
    """Reads an image file or every image of a folder, translates each, writes OUTPUT_DIR/<stem>.png.

    Args:
        translate: function from one (H, W, input_channels) float32 image in
            [-1, 1] to the translated image of the same height and width.
        inputs: str or Path. An image file or a folder of images.
        output_dir: str or Path. Created if missing.
        input_channels: int. Images are converted to this many channels.
        aligned: bool. Inputs are A|B pairs side by side: translate one half.
        left_half: bool. With `aligned`, the half to translate: the left (A)
            or the right (B).

    Returns:
        The written paths, in input order.
    """
    inputs = Path(inputs)
    if inputs.is_dir():
        paths = list_images(inputs)
    elif inputs.is_file():
        paths = [inputs]
    else:
        raise FileNotFoundError(f"Invalid value for `input`: {inputs} is neither an image file nor a folder.")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in paths:
        image = load_image(path, input_channels)
        if aligned:
            half = image.shape[1] // 2
            image = image[:, :half] if left_half else image[:, half:2 * half]
        written.append(save_image(translate(image), output_dir / f"{path.stem}.png"))
    return written

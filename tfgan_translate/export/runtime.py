"""Running an export (SavedModel folder or .tflite file) on image files: `translate --model`.

`load_export(path)` reads the metadata.json beside the model for its channels,
size rule and fixed size, and gives an `ExportedModel` that translates images
of any size:

- SavedModel, or a .tflite converted with a dynamic size: like `translate
  --checkpoint`: mirror-pad bottom and right to the next multiple of the size
  rule and crop back (`fit="pad"`), or resize there and back (`fit="resize"`).
- .tflite with a fixed input of S_h x S_w (the default export): an image that
  fits inside it is mirror-padded to exactly S_h x S_w and cropped back
  (`fit="pad"`); a larger image, or any image with `fit="resize"`, is resized
  (bicubic) to S_h x S_w and the output resized back to the image's size.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfgan_translate.choices import FITS, check_choice
from tfgan_translate.export.metadata import read_metadata
from tfgan_translate.export.savedmodel import FLOAT_SIGNATURE
from tfgan_translate.export.tflite import TFLiteRunner
from tfgan_translate.inference import reflect_pad, translate_array, translate_paths

log = logging.getLogger("tfgan_translate")


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image, np.float32)
    if image.ndim != 3 or image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"Invalid image: expected a (H, W, C) array with H, W >= 1, got shape {image.shape}.")
    return image


class ExportedModel:
    """An exported generator, callable like the Keras generator on float32 NHWC batches in [-1, 1].

    Attributes:
        path: Path of the SavedModel folder or .tflite file.
        format: "saved_model" or "tflite".
        metadata: dict from metadata.json, or None.
        input_channels, output_channels: int.
        multiple: int. The size rule (height and width multiples of it).
        image_size: (height, width) of a fixed-size .tflite, else None.
        input_domain: "A" or "B": the half of an aligned A|B image the generator takes.
    """

    def __init__(self, path: Path, fmt: str, metadata: dict | None, num_threads: int | None = None):
        self.path, self.format, self.metadata = path, fmt, metadata
        meta = metadata or {}
        self.multiple = meta.get("size_rule", {}).get("multiple")
        self.input_domain = meta.get("model", {}).get("input_domain", "A")
        if fmt == "saved_model":
            if metadata is None:
                raise ValueError(f"No metadata.json of a tfgan-translate export beside {path}: it gives the "
                                 "generator's size rule. Use the folder written by `tfgan-translate export`.")
            self._serve = tf.saved_model.load(str(path)).signatures[FLOAT_SIGNATURE]
            self.image_size = None
            self.input_channels = int(meta["input"]["channels"])
            self.output_channels = int(meta["output"]["channels"])
        else:
            self._runner = TFLiteRunner(path, num_threads=num_threads)
            self.image_size = self._runner.image_size
            self.input_channels = self._runner.input_channels
            self.output_channels = meta.get("output", {}).get("channels")
            if self.multiple is None:
                if self.image_size is None:
                    raise ValueError(f"No metadata.json beside the dynamic-size model {path}: it gives the "
                                     "generator's size rule.")
                self.multiple = int(np.gcd(*self.image_size))

    def __call__(self, batch, training: bool = False) -> np.ndarray:
        batch = np.asarray(batch, np.float32)
        if self.format == "saved_model":
            return self._serve(image=tf.constant(batch))["output"].numpy()
        return self._runner(batch)

    def translate_array(self, image: np.ndarray, fit: str = "pad") -> np.ndarray:
        """(H, W, C_in) float image in [-1, 1], any size -> (H, W, C_out) float32 in [-1, 1]."""
        check_choice("fit", fit, FITS)
        image = _check_image(image)
        if self.image_size is None:
            return translate_array(self, image, self.multiple, fit=fit)
        height, width = image.shape[:2]
        size_h, size_w = self.image_size
        if fit == "pad" and height <= size_h and width <= size_w:
            return self(reflect_pad(image, size_h, size_w))[0, :height, :width]
        resized = tf.image.resize(image[None], (size_h, size_w), method="bicubic")
        output = self(np.clip(resized.numpy(), -1.0, 1.0))
        output = tf.image.resize(output, (height, width), method="bicubic")
        return np.clip(output.numpy()[0], -1.0, 1.0)


def load_export(path: str | Path, num_threads: int | None = None) -> ExportedModel:
    """Opens an export: a .tflite file, a SavedModel folder, or the export folder holding saved_model/.

    The metadata.json is read from the .tflite's folder, or from the SavedModel
    folder or its parent.

    Security: a SavedModel is a program, not data. Its graph runs with this
    process's rights, and TensorFlow graphs can read and write files
    (`tf.io.read_file`, `tf.io.write_file`, ...), so loading and running one
    (`translate --model DIR`, `evaluate --model DIR`) is like running a script
    from whoever made it: load only exports you made or trust. A metadata.json
    beside it says what the folder claims to be, not that it is safe (anyone
    can write one). A `.tflite` is run with builtin ops only
    (the ones `export` writes): the interpreter refuses a file that asks for
    TensorFlow (Flex) ops, and builtin ops compute on tensors and touch no
    files, so a .tflite is data, though a crafted one may still crash the
    interpreter.

    Args:
        path: str or Path. A .tflite file, a SavedModel folder, or an export
            folder holding saved_model/.
        num_threads: int or None. Interpreter threads for a .tflite. Defaults
            to None (every core).

    Returns:
        An `ExportedModel`: `translate_array`, channels, input domain, metadata.

    Raises:
        FileNotFoundError: `path` does not exist.
        ValueError: `path` is neither a .tflite file nor a SavedModel folder.

    Example:

    >>> model = load_export("exports/facades/generator_float32.tflite")  # doctest: +SKIP
    >>> y = model.translate_array(x)  # doctest: +SKIP
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Invalid value for `model`: {path} does not exist. Expected a .tflite file or a "
                                "SavedModel folder written by `tfgan-translate export`.")
    if path.is_file():
        if path.suffix != ".tflite":
            raise ValueError(f"Invalid value for `model`: {path} is not a .tflite file or a SavedModel folder.")
        return ExportedModel(path, "tflite", read_metadata(path.parent), num_threads)
    if (path / "saved_model" / "saved_model.pb").is_file():
        return ExportedModel(path / "saved_model", "saved_model", read_metadata(path), num_threads)
    if (path / "saved_model.pb").is_file():
        return ExportedModel(path, "saved_model", read_metadata(path) or read_metadata(path.parent), num_threads)
    raise ValueError(f"Invalid value for `model`: {path} is a folder without saved_model.pb (nor saved_model/). "
                     "Expected a .tflite file or a SavedModel folder written by `tfgan-translate export`.")


def translate_files_with_export(model: ExportedModel, inputs: str | Path, output_dir: str | Path, *,
                                fit: str = "pad", aligned: bool = False) -> list[Path]:
    """Translates one image file or every image in a folder with an export; writes OUTPUT_DIR/<stem>.png.

    Args:
        model: ExportedModel from `load_export`.
        inputs: str or Path. An image file or a folder of images.
        output_dir: str or Path. Created if missing.
        fit: "pad" or "resize" (see the module docstring).
        aligned: bool. Inputs are A|B pairs side by side: translate the half the
            generator takes as input (metadata's `input_domain`; A is the left).

    Returns:
        The written paths, in input order; each image has its input's size.
    """
    written = translate_paths(lambda image: model.translate_array(image, fit=fit), inputs, output_dir,
                              input_channels=model.input_channels, aligned=aligned,
                              left_half=model.input_domain == "A")
    log.info("Translated %d image(s) into %s with %s", len(written), output_dir, model.path)
    return written


__all__ = ["ExportedModel", "load_export", "translate_files_with_export"]

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

from tfgan_translate.choices import FITS, InferenceMode, check_choice
from tfgan_translate.export.folder import read_metadata
from tfgan_translate.export.savedmodel import FLOAT_SIGNATURE
from tfgan_translate.export.tflite import TFLiteRunner
from tfgan_translate.inference import Translated, check_image, reflect_pad, translate_array, translate_paths
from tfgan_translate.tiling_plan import DEFAULT_MEMORY_BUDGET_MB, check_tiling

log = logging.getLogger("tfgan_translate")


class ExportedModel:
    """An exported generator, callable like the Keras generator on float32 NHWC batches in [-1, 1].

    Attributes:
        path: Path of the SavedModel folder or .tflite file.
        format: "saved_model" or "tflite".
        metadata: dict from metadata.json, or None.
        input_channels, output_channels: int.
        multiple: int. The size rule (height and width multiples of it).
        minimum_size: int. The smallest height and width it runs at (from metadata.json; an export that does not
            record it: `multiple`).
        image_size: (height, width) of a fixed-size .tflite, else None.
        input_domain: "A" or "B": the half of an aligned A|B image the generator takes.
        inference_mode: `InferenceMode` or None. How it runs at test time, fixed at export: metadata.json's (an
            export written before the setting: its noise policy and the moving statistics); None: no metadata.
    """

    def __init__(self, path: Path, fmt: str, metadata: dict | None, num_threads: int | None = None):
        self.path, self.format, self.metadata = path, fmt, metadata
        meta = metadata or {}
        rule = meta.get("size_rule", {})
        self.multiple = rule.get("multiple")
        self.input_domain = meta.get("model", {}).get("input_domain", "A")
        self.output_channels = meta.get("output", {}).get("channels")
        self._warned_tiles = False
        if fmt == "saved_model":
            if metadata is None:
                raise ValueError(f"No metadata.json of a tfgan-translate export beside {path}: it gives the "
                                 "generator's size rule. Use the folder written by `tfgan-translate export`.")
            serve = tf.saved_model.load(str(path)).signatures[FLOAT_SIGNATURE]
            self._run = lambda batch: serve(image=tf.constant(batch))["output"].numpy()
            self.image_size = None
            self.input_channels = int(meta["input"]["channels"])
        else:
            self._run = TFLiteRunner(path, num_threads=num_threads)
            self.image_size = self._run.image_size
            self.input_channels = self._run.input_channels
            if self.multiple is None:
                if self.image_size is None:
                    raise ValueError(f"No metadata.json beside the dynamic-size model {path}: it gives the "
                                     "generator's size rule.")
                self.multiple = int(np.gcd(*self.image_size))
        self.minimum_size = rule.get("minimum_size", self.multiple)
        self.inference_mode = None  # no metadata.json
        if "inference" in meta:
            self.inference_mode = InferenceMode(meta["inference"]["test_dropout"], meta["inference"]["test_batch_norm"])
        elif "noise" in meta:  # an export written before the test-time setting: its noise policy, moving statistics
            self.inference_mode = InferenceMode(meta["noise"].get("policy", "off"), "moving")

    def check_inference_mode(self, test_dropout: str | None = None, test_batch_norm: str | None = None) -> None:
        """Raises ValueError when a test-time setting asked for (not None) is not the one this export runs."""
        InferenceMode.of(None, test_dropout, test_batch_norm)  # valid values first
        mode = self.inference_mode
        for name, asked, exported in (("test_dropout", test_dropout, mode and mode.dropout),
                                      ("test_batch_norm", test_batch_norm, mode and mode.batch_norm)):
            if asked is not None and asked != exported:
                flag = "--" + name.replace("_", "-")
                has = f"was exported with {flag} {exported}" if mode else "has no metadata.json saying how it runs"
                raise ValueError(f"Invalid value for `{flag}`. Received: {name}={asked!r}. {self.path} {has}: an "
                                 f"export runs as it was exported; export the run again with {flag} {asked}.")

    def __call__(self, batch, training: bool = False) -> np.ndarray:
        return self._run(np.asarray(batch, np.float32))

    def translate_array(self, image: np.ndarray, fit: str = "pad", *, tile: int | None = None,
                        overlap: int | None = None) -> np.ndarray:
        """(H, W, C_in) float image in [-1, 1], any size -> (H, W, C_out) float32 in [-1, 1].

        Args:
            image: (H, W, C_in) float array in [-1, 1].
            fit: "pad" or "resize" (see the module docstring). Defaults to "pad".
            tile: int or None. Translate in overlapping `tile` x `tile` tiles blended without seams
                (`tiling.translate_tiled`): a multiple of the size rule for a SavedModel or a dynamic-size
                .tflite; the input size for a fixed-size .tflite (whose larger images are then tiled instead
                of resized). An export cannot be tiled on its own, nor given whole-image instance-norm
                statistics: its tiles normalise by their own (a warning says so). Defaults to None.
            overlap: int or None. Least overlap of neighbouring tiles (`tiling.translate_tiled`). Defaults to None.

        Raises:
            ValueError: a bad `fit`, `tile` or `overlap`, or an empty image.
        """
        check_choice("fit", fit, FITS)
        image = check_image(image)
        self._check_tile(tile, overlap)
        if self.image_size is None:
            return translate_array(self, image, self.multiple, fit=fit, tile=tile, overlap=overlap, memory_budget=None)
        height, width = image.shape[:2]
        size_h, size_w = self.image_size
        if fit == "pad" and height <= size_h and width <= size_w:
            return self(reflect_pad(image, size_h, size_w))[0, :height, :width]
        if tile is not None:  # tiles of exactly the fixed size: pad to at least one tile first
            padded = reflect_pad(image, max(height, size_h), max(width, size_w))[0]
            return translate_array(self, padded, self.multiple, fit=fit, tile=tile, overlap=overlap,
                                   memory_budget=None)[:height, :width]
        output = self(np.clip(tf.image.resize(image[None], (size_h, size_w), method="bicubic").numpy(), -1.0, 1.0))
        return np.clip(tf.image.resize(output, (height, width), method="bicubic").numpy()[0], -1.0, 1.0)

    def _check_tile(self, tile, overlap) -> None:
        """Refuses a `tile` or `overlap` this export cannot take; warns once when its tiles normalise on their own."""
        if tile is None and overlap is None:
            return
        if self.image_size is not None and tile is not None and tile != self.image_size[0]:
            raise ValueError(f"Invalid value for `tile`. Received: tile={tile!r}. {self.path} has a fixed "
                             f"{self.image_size[0]}x{self.image_size[1]} input: expected tile={self.image_size[0]} "
                             "(or a SavedModel / --dynamic-size export for other tiles).")
        if self.image_size is not None and self.image_size[0] != self.image_size[1]:
            raise ValueError(f"Invalid value for `tile`: {self.path} has a non-square fixed input "
                             f"{self.image_size[0]}x{self.image_size[1]}; tiles are square.")
        check_tiling(tile, overlap, self.multiple, label="export", minimum=self.minimum_size)
        norm = ((self.metadata or {}).get("training_config") or {}).get("norm")
        mode = self.inference_mode
        per_image = norm == "instance" or (norm == "batch" and mode is not None and mode.batch_norm == "image")
        if per_image and not self._warned_tiles:
            self._warned_tiles = True
            log.warning("%s normalises each tile by its own statistics (%s runs inside the export): colours may "
                        "differ from tile to tile. translate --checkpoint RUN tiles with the whole image's "
                        "statistics.", self.path, "instance norm" if norm == "instance" else "batch norm on each "
                        "image's statistics")


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
    saved = path / "saved_model" if (path / "saved_model" / "saved_model.pb").is_file() else path
    if (saved / "saved_model.pb").is_file():  # metadata.json in the export folder: the SavedModel's or its parent
        return ExportedModel(saved, "saved_model", read_metadata(saved) or read_metadata(saved.parent), num_threads)
    raise ValueError(f"Invalid value for `model`: {path} is a folder without saved_model.pb (nor saved_model/). "
                     "Expected a .tflite file or a SavedModel folder written by `tfgan-translate export`.")


def translate_files_with_export(model: ExportedModel, inputs: str | Path, output_dir: str | Path, *,
                                fit: str = "pad", aligned: bool = False, tile: int | None = None,
                                overlap: int | None = None, skip_bad_files: bool = False,
                                overwrite: bool = False,
                                memory_budget: float | None = DEFAULT_MEMORY_BUDGET_MB) -> Translated:
    """Translates one image file or every image in a folder with an export; writes OUTPUT_DIR/<stem>.png.

    The files are handled as by `translate --checkpoint` (`inference.translate_paths`): the output folder is
    not an input folder nor inside one, no two inputs share an output name, and only translate's own earlier
    outputs are replaced unless `overwrite`.

    Args:
        model: ExportedModel from `load_export`.
        inputs: str or Path. An image file or a folder of images.
        output_dir: str or Path. Created if missing.
        fit: "pad" or "resize" (see the module docstring).
        aligned: bool. Inputs are A|B pairs side by side: translate the half the
            generator takes as input (metadata's `input_domain`; A is the left).
        tile, overlap: int or None. Tiling, as `ExportedModel.translate_array`. Defaults to None.
        skip_bad_files: bool. Skip and count unreadable images instead of stopping. Defaults to False.
        overwrite: bool. Replace files at the output names that translate did not write. Defaults to False.
        memory_budget: float or None. MiB an image's decoded pixels may take; a larger image is refused
            before decoding (`inference.translate_files`); None: no bound. Defaults to 256.

    Returns:
        `inference.Translated`: the written paths, in input order (a list); each image has its input's size.

    Example:

    >>> translate_files_with_export(load_export("exports/facades"), "photos/", "out/")  # doctest: +SKIP
    """
    model._check_tile(tile, overlap)  # before any file is read
    written = translate_paths(lambda image: model.translate_array(image, fit=fit, tile=tile, overlap=overlap),
                              inputs, output_dir, input_channels=model.input_channels, aligned=aligned,
                              left_half=model.input_domain == "A", skip_bad_files=skip_bad_files,
                              overwrite=overwrite, memory_budget=memory_budget)
    log.info("Translated %d image(s) into %s with %s", len(written), output_dir, model.path)
    return written


__all__ = ["ExportedModel", "load_export", "translate_files_with_export"]

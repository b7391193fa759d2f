"""`export_generator`: a trained generator -> SavedModel + .tflite files + metadata.json, atomically.

An export folder::

    OUT/
      saved_model/               TensorFlow SavedModel: serving_default (float) and translate_image (uint8)
      generator_float32.tflite   TFLite, builtin ops only (also _float16, _int8 when asked)
      metadata.json              model, channels, normalisation, size rule, test-time mode, training config,
                                 versions, parity figures measured at export, the files written (written last)
      anything else              the user's (notes, samples): kept when the folder is exported again

What `export_generator` does:

1. Load the model (run folder or .keras file) and pick the generator of the direction.
2. Make the inference copy: float32, dynamic input size, in the test-time mode (`choices.InferenceMode`:
   dropout on or off, batch norm on each image's statistics or the moving ones; the run's unless given);
   the trained model is left as it is.
3. Gather representative images (int8 calibration, parity check).
4. In a staging folder beside OUT: write the SavedModel, convert the .tflite
   files, measure parity against the Keras copy, write metadata.json (which
   lists the files written); hard-link (or copy) into it every file of an
   earlier export in OUT that that export did not write.
5. Swap the staging folder in for OUT (an earlier export there is replaced only now).

Before any of this, OUT is checked: a folder holding files but no export is refused, and so is an earlier
export holding a file of the user's under a name this export writes; an earlier export that a killed export
left renamed aside (`.OUT.old-PID-RANDOM-CHECK`, the process gone) is put back. Only once nothing can be
refused any more (just before step 4) are the staging and old folders of processes that are gone deleted
from OUT's parent (`io.remove_stale_temporaries`: names that prove themselves ours, never a user's file).

The folder's side (checks, the user's files, stale staging) is `export.folder`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import logging
import platform
from importlib import metadata as importlib_metadata
from pathlib import Path

import keras
import numpy as np

from tfgan_translate.choices import InferenceMode
from tfgan_translate.data.checks import is_int
from tfgan_translate.export import folder, representative, savedmodel, tflite_graph
from tfgan_translate.export import tflite as tflite_module  # `tflite` is an argument of export_generator
from tfgan_translate.export import web as web_page  # `web` is an argument of export_generator
from tfgan_translate.export.generator import inference_copy
from tfgan_translate.export.latency import tflite_entry
from tfgan_translate.inference import generator_for
from tfgan_translate.io import PIXEL_SCALE, listing, staged_folder
from tfgan_translate.networks import NoiseDropout, size_multiple
from tfgan_translate.networks.layers import check_positive
from tfgan_translate.tiling_plan import minimum_size

log = logging.getLogger("tfgan_translate")

SAVED_MODEL_DIR = "saved_model"
EXPORTS_ROOT = Path("exports")


@dataclasses.dataclass
class ExportResult:
    """What `export_generator` wrote: the folder, its files and the metadata (parity figures included).

    `kept` lists the entries of an earlier export in the folder that it had not written (the user's
    files, relative paths, folders ending with "/"): they are in the new export too.
    """

    out_dir: Path
    saved_model: Path | None
    tflite: dict[str, Path]
    metadata: dict
    kept: list[str] = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        """What was written, with file sizes and the parity figures, as `tfgan-translate export` prints it."""
        lines = [f"Export written to {self.out_dir}"]
        if self.saved_model is not None:
            lines.append(f"  {self.saved_model}/  (signatures: serving_default float [-1, 1]; translate_image uint8, "
                         "any size)")
        for path in self.tflite.values():
            entry = self.metadata["tflite"]["files"][path.name]
            report, ms = entry["xnnpack"], entry["latency"]
            delegation = "whole in XNNPACK" if report["fully_delegated"] else (
                f"XNNPACK: {report['partitions']} partitions, outside it "
                f"{', '.join(op['op'] for op in report['not_delegated'])}")
            timing = (f", {ms['median_ms_1_thread']} ms on 1 thread, {ms['median_ms_all_cores']} ms on "
                      f"{ms['cores']}" if ms else "")
            lines.append(f"  {path}  ({entry['bytes'] / 1e6:.2f} MB, {entry['macs'] / 1e9:.3g} GMAC, "
                         f"{delegation}{timing})")
        lines.append(f"  {self.out_dir / folder.METADATA_FILENAME}")
        if "index.html" in self.metadata.get(folder.FILES_KEY, []):
            lines.append(f"  {self.out_dir / 'index.html'}  (web page: serve the folder, e.g. python -m http.server "
                         f"-d {self.out_dir}, and open http://localhost:8000/)")
        if self.kept:
            lines.append(f"  kept from the earlier export (files it did not write): {listing(self.kept)}")
        for name, figures in self.metadata["parity"].items():
            if isinstance(figures, dict) and "max_abs_diff" in figures:
                psnr = figures["psnr_db"]
                lines.append(f"  parity {name}: max abs diff {figures['max_abs_diff']:.2e}, "
                             f"PSNR {'identical' if psnr is None else f'{psnr:.1f} dB'}"
                             f"{'' if figures['meets_target'] else '  (misses its target)'}")
        return "\n".join(lines)


def versions() -> dict:
    """Versions of the packages an export depends on."""
    found = {"python": platform.python_version()}
    for name in ("tfgan_translate", "tensorflow", "tensorflow-cpu", "keras", "ai-edge-litert", "numpy"):
        with contextlib.suppress(importlib_metadata.PackageNotFoundError):
            found[name] = importlib_metadata.version(name)
    import tensorflow as tf

    found["tensorflow_runtime"] = tf.__version__
    return found


def _load(run_or_checkpoint):
    """(config, model, source, run name) from a run folder, a .keras file or a model object."""
    if isinstance(run_or_checkpoint, keras.Model):
        return None, run_or_checkpoint, None, None
    from tfgan_translate.training.run import load_run

    path = Path(run_or_checkpoint)
    if not path.exists():
        raise FileNotFoundError(f"Invalid value for `run_or_checkpoint`: {path} does not exist. Expected a run "
                                "folder (config.json + checkpoints/latest.keras) or a .keras file.")
    config, model = load_run(path)
    resolved = path.resolve()  # checkpoints/NAME.keras is named after its run folder
    run = resolved.parent.parent if not resolved.is_dir() and resolved.parent.name == "checkpoints" else resolved
    return config, model, str(path), run.name if run.is_dir() else run.stem


def _image_size(image_size, config, generator, multiple: int, netG: str) -> tuple[int, int]:
    """The fixed TFLite input size: argument, else the config's training size, else the generator's, else ~256."""
    fixed = tuple(generator.input_shape[1:3])
    if image_size is None:
        image_size = getattr(config, "image_size", None) or (
            fixed if None not in fixed else -(-256 // multiple) * multiple)
    size = (image_size, image_size) if is_int(image_size) else tuple(image_size)
    if len(size) != 2 or not all(is_int(v) and v > 0 for v in size):
        raise ValueError(f"Invalid value for argument `image_size`. Received: image_size={image_size!r}. "
                         "Expected a positive int or a (height, width) pair.")
    if any(int(v) % multiple for v in size):
        raise ValueError(f"Invalid value for argument `image_size`. Received: image_size={image_size!r}. "
                         f"{netG} needs height and width divisible by {multiple}.")
    return int(size[0]), int(size[1])


def export_generator(run_or_checkpoint, out_dir: str | Path | None = None, *, direction: str | None = None,
                     saved_model: bool | None = None, tflite: bool = True, quantize=("none",),
                     representative_data: str | Path | np.ndarray | None = None, representative_count: int = 32,
                     test_dropout: str | None = None, test_batch_norm: str | None = None,
                     image_size: int | tuple[int, int] | None = None, dynamic_size: bool = False,
                     subpixel: bool = True, benchmark: bool = False, web: bool = False,
                     web_runtime: str | Path | None = None) -> ExportResult:
    """Exports a trained generator as a SavedModel and/or TFLite files, with metadata.json.

    Args:
        run_or_checkpoint: str, Path or keras.Model. A run folder (config.json +
            checkpoints/latest.keras), a `.keras` file, or a Pix2Pix / CycleGAN /
            generator model object (then `out_dir` is required).
        out_dir: str, Path or None. The export folder, replaced atomically; it
            must be new, empty or an earlier export. Files of an earlier export
            that it did not write (notes, samples: anything its metadata.json
            does not list) are kept. Defaults to `exports/<run-name>`
            (`exports/<run-name>-<direction>` for a CycleGAN's F), relative to
            the current folder.
        direction: str or None. "AtoB" or "BtoA", named after the data folders;
            None: the run's training direction (G). The other direction is
            a CycleGAN's F; a Pix2Pix has only G (see `generator_for`).
        saved_model: bool or None. Write `saved_model/`. None: True unless `web`. Defaults to None.
        tflite: bool. Write the `.tflite` files. Defaults to True.
        quantize: str or sequence of "none" (float32), "float16", "int8": which
            .tflite files. Defaults to ("none",).
        representative_data: str, Path, np.ndarray or None. A folder of input
            images (or, from Python, a float32 (n, H, W, C_in) array in [-1, 1])
            for int8 calibration and the parity check. Defaults to the run's
            training data.
        representative_count: int. At most this many calibration images. Defaults to 32.
        test_dropout: "on", "off" or None. pix2pix's dropout in the export:
            "on" (the paper's noise, new on every run; RANDOM_UNIFORM in
            TFLite; parity is then not measured) or "off" (deterministic).
            None: the run's `test_dropout`, else "on". Defaults to None.
        test_batch_norm: "image", "moving" or None. Batch norm on each image's
            own statistics (the paper) or on the moving ones. None: the run's
            `test_batch_norm`, else "image". Defaults to None.
        image_size: int, (height, width) or None. Input size of the .tflite
            files. Defaults to the training image size. The SavedModel takes
            any size either way.
        dynamic_size: bool. Convert the .tflite files with a dynamic height and
            width (resize the interpreter's input before use). Defaults to False.
        subpixel: bool. Convert each transposed convolution of the .tflite
            files into stride*stride convolutions + DEPTH_TO_SPACE (the same
            output; 2.4x as fast for unet_256 on XNNPACK, see
            `export.subpixel`). False keeps TRANSPOSE_CONV. Defaults to True.
        benchmark: bool. Measure each .tflite file's median latency on 1
            thread and on every core (`export.latency`) into metadata.json.
            Defaults to False.
        web: bool. Make the folder a web page that translates in the browser
            with LiteRT.js (`export.web`: index.html, translate.js,
            model.json beside the fixed-size .tflite files). Defaults to False.
        web_runtime: str, Path or None. With `web`, a local `@litertjs/core`
            folder (node_modules/@litertjs/core) whose files the page loads
            are copied into litertjs/. None: the page loads the pinned
            version from the CDN (`web.CDN_ROOT`). Defaults to None.

    Returns:
        An `ExportResult(out_dir, saved_model, tflite, metadata, kept)`.

    Raises:
        FileNotFoundError: the run or checkpoint, or the representative folder, does not exist.
        ValueError: an invalid argument, a representative folder without images,
            int8 without any representative images, an `out_dir` holding files but
            no export, or an earlier export holding a file of the user's under a name
            this export writes.

    Example:

    >>> result = export_generator("runs/facades", quantize=("none", "float16", "int8"))  # doctest: +SKIP
    >>> result.metadata["parity"]["tflite_int8"]["psnr_db"]  # doctest: +SKIP
    57.2
    """
    # 1. Arguments and the generator.
    saved_model = not web if saved_model is None else saved_model
    if web and (dynamic_size or not tflite):
        raise ValueError(f"Invalid value for `web`: True with {'dynamic_size=True' if tflite else 'tflite=False'}. "
                         "Expected fixed-size .tflite files: LiteRT.js takes static shapes only.")
    if web_runtime is not None and not web:
        raise ValueError("Invalid value for `web_runtime`: given without `web`. Expected web=True with it.")
    runtime = web_page.runtime_files(web_runtime) if web_runtime is not None else None
    if not (saved_model or tflite):
        raise ValueError("Nothing to export: `saved_model` and `tflite` are both False.")
    InferenceMode.of(None, test_dropout, test_batch_norm)  # checked before anything is loaded
    quantize = tflite_module.check_quantizations(quantize) if tflite else ()
    check_positive("representative_count", representative_count)
    config, model, source, run_name = _load(run_or_checkpoint)
    trained_direction = getattr(config, "direction", "AtoB")
    generator = generator_for(model, direction, trained_direction)
    direction = direction or trained_direction
    if out_dir is None:
        if run_name is None:
            raise ValueError("Invalid value for `out_dir`: None. Pass `out_dir` when exporting a model object.")
        out_dir = EXPORTS_ROOT / (run_name if direction == trained_direction else f"{run_name}-{direction}")
    out_dir = Path(out_dir)
    folder.prepare_out_dir(out_dir, {folder.METADATA_FILENAME, *(tflite_module.FILE_NAMES[name] for name in quantize),
                              *((SAVED_MODEL_DIR,) if saved_model else ()),
                              *(web_page.FILE_NAMES if web else ())})
    netG, multiple = getattr(generator, "reference_name", generator.name), size_multiple(generator)
    size = _image_size(image_size, config, generator, multiple, netG)
    c_in, c_out = int(generator.input_shape[-1]), int(generator.output_shape[-1])

    # 2. The inference copy in the test-time mode: the one asked for, else the run's (`load_run` records it).
    copy = inference_copy(generator, test_dropout, test_batch_norm)
    mode = copy.inference_mode
    dropout = [layer for layer in generator.layers if isinstance(layer, NoiseDropout) and layer.rate > 0]
    random = bool(dropout) and mode.dropout == "on"

    # 3. Representative images.
    calibration, rep_source = representative.gather(config, representative_data, representative_count,
                                                    direction=direction, image_size=size, channels=(c_in, c_out),
                                                    need="int8" in quantize)

    # 4. Write everything into a staging folder, then 5. swap it in (what dead exports left: deleted first).
    folder.remove_stale_staging(out_dir)
    with staged_folder(out_dir) as staging:
        files = {}
        if saved_model:
            savedmodel.write_saved_model(copy, staging / SAVED_MODEL_DIR, multiple)
            log.info("SavedModel written (%s, %s)", savedmodel.FLOAT_SIGNATURE, savedmodel.IMAGE_SIGNATURE)
        if quantize:
            files = tflite_module.convert(copy, quantize, image_size=None if dynamic_size else size,
                                          representative=calibration, subpixel=subpixel)
            for name, content in files.items():
                (staging / tflite_module.FILE_NAMES[name]).write_bytes(content)
            log.info("TFLite written: %s", ", ".join(tflite_module.FILE_NAMES[n] for n in files))
        if web:
            web_page.write_page(staging, models={("float32" if n == "none" else n): tflite_module.FILE_NAMES[n]
                                                 for n in files},
                                size=size, channels=(c_in, c_out), direction=direction, runtime=runtime)
        figures = {"skipped": "test-time dropout on: outputs are random by design; export with --test-dropout "
                              "off (test_dropout='off') to compare"} if random else representative.measure(
            copy, staging / SAVED_MODEL_DIR if saved_model else None, files, calibration[:representative.IMAGES])
        figures["images"] = {"count": int(min(len(calibration), representative.IMAGES)), "size": list(size),
                             "source": rep_source}
        kind = "cyclegan" if hasattr(model, "generator_g") and hasattr(model, "generator_f") else (
            "cut" if hasattr(model, "projection") else "pix2pix" if hasattr(model, "generator") else "generator")
        metadata = {
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "source": source,
            "model": {"kind": kind, "direction": direction, "trained_direction": trained_direction,
                      "input_domain": direction[0], "generator": netG, "name": generator.name},
            "input": {"channels": c_in, "layout": "NHWC", "range": [-1.0, 1.0],
                      "normalisation": f"x = pixel / {PIXEL_SCALE} - 1 (uint8 [0, 255] -> [-1, 1])"},
            "output": {"channels": c_out, "layout": "NHWC", "range": [-1.0, 1.0],
                       "denormalisation": f"pixel = round((y + 1) * {PIXEL_SCALE}), clipped to [0, 255]"},
            "size_rule": {"multiple": multiple, "minimum_size": minimum_size(generator, multiple),
                          "description": f"height and width must be multiples of {multiple}"},
            "inference": {"test_dropout": mode.dropout, "test_batch_norm": mode.batch_norm,
                          "dropout_layers": len(dropout), "rates": sorted({layer.rate for layer in dropout}),
                          "batch_norm_layers": sum(isinstance(layer, keras.layers.BatchNormalization)
                                                   for layer in generator.layers),
                          "random": random, "description": mode.describe()},
            "saved_model": ({"path": SAVED_MODEL_DIR,
                             "signatures": savedmodel.signatures_description(multiple, c_in, c_out)}
                            if saved_model else None),
            "tflite": ({"size": "dynamic" if dynamic_size else "fixed", "image_size": list(size),
                        "size_description": ("any height and width meeting the size rule: call "
                                             "interpreter.resize_tensor_input(index, [1, H, W, C]) then "
                                             "allocate_tensors()" if dynamic_size else
                                             f"fixed input of {size[0]}x{size[1]} (height x width)"),
                        "files": {tflite_module.FILE_NAMES[n]: tflite_entry(content, n, size, benchmark)
                                  for n, content in files.items()},
                        "transposed_convolutions": tflite_graph.describe(copy, subpixel)}
                       if files else None),
            "parity": figures,
            "training_config": config.to_dict() if config is not None else None,
            "versions": versions(),
            # What the export wrote: what a re-export may replace.
            folder.FILES_KEY: sorted([*folder.list_entries(staging), folder.METADATA_FILENAME]),
        }
        folder.write_metadata(staging, metadata)
        metadata = folder.read_metadata(staging)  # as a reader sees it: format tag added, JSON types
        kept = folder.carry_over(out_dir, staging)
    log.info("Export written to %s", out_dir)
    return ExportResult(out_dir, out_dir / SAVED_MODEL_DIR if saved_model else None,
                        {name: out_dir / tflite_module.FILE_NAMES[name] for name in files}, metadata, kept)


__all__ = ["EXPORTS_ROOT", "SAVED_MODEL_DIR", "ExportResult", "export_generator"]

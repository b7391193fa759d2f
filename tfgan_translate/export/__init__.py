"""Exporting trained generators: SavedModel, TFLite (LiteRT) and metadata, and running the exports.

- `export_generator(run_or_checkpoint, out_dir, ...)`: writes OUT/saved_model/,
  OUT/generator_<float32|float16|int8>.tflite and OUT/metadata.json, atomically.
- `generator_for(model, direction)`: the generator of a Pix2Pix / CycleGAN to export.
- `load_export(path)`: an exported .tflite or SavedModel as a callable, for `translate --model`.

One concept per file: `generator` (selection, the test-time mode, size rule),
`padding` (in-graph mirror padding), `savedmodel`, `tflite`, `representative`
(calibration images), `parity`, `metadata`, `folder` (what an export folder holds: the user's
files kept, stale staging removed), `exporter` (the steps in order), `runtime` (using an export).

Example:

>>> from tfgan_translate import export_generator
>>> result = export_generator("runs/facades", quantize=("none", "float16", "int8"))  # doctest: +SKIP
>>> sorted(p.name for p in result.out_dir.iterdir())  # doctest: +SKIP
['generator_float16.tflite', 'generator_float32.tflite', 'generator_int8.tflite', 'metadata.json', 'saved_model']
"""

from tfgan_translate.choices import DIRECTIONS, TEST_BATCH_NORMS, TEST_DROPOUTS
from tfgan_translate.export.exporter import (
    EXPORTS_ROOT,
    SAVED_MODEL_DIR,
    ExportResult,
    export_generator,
)
from tfgan_translate.export.generator import (
    generator_for,
    inference_copy,
    size_rule,
)
from tfgan_translate.export.metadata import METADATA_FILENAME, read_metadata
from tfgan_translate.export.runtime import (
    ExportedModel,
    load_export,
    translate_files_with_export,
)
from tfgan_translate.export.savedmodel import FLOAT_SIGNATURE, IMAGE_SIGNATURE
from tfgan_translate.export.tflite import FILE_NAMES, QUANTIZATIONS, TFLiteRunner

__all__ = [
    "DIRECTIONS",
    "EXPORTS_ROOT",
    "FILE_NAMES",
    "FLOAT_SIGNATURE",
    "IMAGE_SIGNATURE",
    "METADATA_FILENAME",
    "QUANTIZATIONS",
    "SAVED_MODEL_DIR",
    "TEST_BATCH_NORMS",
    "TEST_DROPOUTS",
    "ExportResult",
    "ExportedModel",
    "TFLiteRunner",
    "export_generator",
    "generator_for",
    "inference_copy",
    "load_export",
    "read_metadata",
    "size_rule",
    "translate_files_with_export",
]

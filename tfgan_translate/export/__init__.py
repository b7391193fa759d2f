"""Exporting trained generators: SavedModel, TFLite (LiteRT) and metadata, and running the exports.

- `export_generator(run_or_checkpoint, out_dir, ...)`: writes OUT/saved_model/,
  OUT/generator_<float32|float16|int8>.tflite and OUT/metadata.json, atomically.
- `generator_for(model, direction)`: the generator of a Pix2Pix / CycleGAN to export.
- `load_export(path)`: an exported .tflite or SavedModel as a callable, for `translate --model`.

One concept per file: `generator` (the float32 copy in the test-time mode), `savedmodel` (with its
in-graph mirror padding), `tflite`, `tflite_graph` and `subpixel` (the graph the converter gets), `representative`
(calibration images and parity), `folder` (what an export folder holds, metadata.json, the user's
files kept, stale staging removed), `web` (the browser page of `--web`, LiteRT.js), `exporter` (the steps
in order), `runtime` (using an export).

Example:

>>> from tfgan_translate import export_generator
>>> result = export_generator("runs/facades", quantize=("none", "float16", "int8"))  # doctest: +SKIP
>>> sorted(p.name for p in result.out_dir.iterdir())  # doctest: +SKIP
['generator_float16.tflite', 'generator_float32.tflite', 'generator_int8.tflite', 'metadata.json', 'saved_model']
"""

from tfgan_translate.export.exporter import ExportResult, export_generator
from tfgan_translate.export.folder import read_metadata
from tfgan_translate.export.generator import inference_copy
from tfgan_translate.export.runtime import ExportedModel, load_export, translate_files_with_export
from tfgan_translate.export.tflite import TFLiteRunner
from tfgan_translate.inference import generator_for

__all__ = ["ExportResult", "ExportedModel", "TFLiteRunner", "export_generator", "generator_for", "inference_copy",
           "load_export", "read_metadata", "translate_files_with_export"]

"""metadata.json: what an export holds and how to feed it, written last into the export folder.

A folder is a complete export when its metadata.json exists and names
`FORMAT`: the exporter writes that file after every model file, inside a
staging folder that is only renamed into place once complete. Its `files`
entry lists what the export wrote (`list_entries`); everything else in the
folder is the user's, and a re-export keeps it (`written_by_export`).
"""

from __future__ import annotations

import json
import platform
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np

from tfgan_translate.export.delegation import xnnpack_report
from tfgan_translate.export.latency import count_macs, latency
from tfgan_translate.export.tflite import FLOAT_IN_INT8, TFLiteRunner
from tfgan_translate.io import write_json

METADATA_FILENAME = "metadata.json"
FORMAT = "tfgan_translate.export"
FORMAT_VERSION = 1
FILES_KEY = "files"  # the entries an export wrote, as `list_entries` gives them
# What an export can write, for an earlier export whose metadata.json has no `files` entry.
_LEGACY_NAMES = ("metadata.json", "generator_float32.tflite", "generator_float16.tflite", "generator_int8.tflite")
_LEGACY_FOLDER = "saved_model/"


def versions() -> dict:
    """Versions of the packages an export depends on."""
    found = {"python": platform.python_version()}
    for name in ("tfgan_translate", "tensorflow", "tensorflow-cpu", "keras", "ai-edge-litert", "numpy"):
        try:
            found[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    import tensorflow as tf

    found["tensorflow_runtime"] = tf.__version__
    return found


def tflite_entry(content: bytes, quantize: str, image_size: tuple[int, int], benchmark: bool = False) -> dict:
    """What metadata.json says about one .tflite file: how a runtime feeds it, what runs it, what it costs.

    Args:
        content: bytes. The .tflite file.
        quantize: str. Its quantization ("none", "float16" or "int8").
        image_size: (height, width). Its input size, or for a dynamic-size file the size its MACs, XNNPACK
            report and latency are measured at.
        benchmark: bool. Measure its latency (`latency.latency`). Defaults to False.

    Returns:
        {"quantization", "ops", "signature", "input", "output" (each {"name": signature key, "tensor",
        "dtype", "shape" (None: any size), "range", "layout", "channel_order"}), "bytes", "macs",
        "measured_at", "xnnpack" (`delegation.xnnpack_report`), "latency" (None unless `benchmark`)}.
    """
    interpreter = TFLiteRunner(content, 1, size=image_size).interpreter
    (signature, keys), = interpreter.get_signature_list().items()

    def tensor(details, key):
        channels = int(details["shape"][-1])
        return {"name": key, "tensor": details["name"], "dtype": np.dtype(details["dtype"]).name,
                "shape": [None if side < 0 else int(side) for side in details["shape_signature"]],
                "range": [-1.0, 1.0], "layout": "NHWC",
                "channel_order": {1: "grey", 3: "RGB", 4: "RGBA"}.get(channels, f"{channels} channels")}

    return {
        "quantization": {"none": "float32", "float16": "float16 weights, float32 compute on CPU",
                         "int8": f"int8 weights and activations, but {', '.join(FLOAT_IN_INT8)} in float32 (XNNPACK "
                                 "does not take them quantized); float32 input and output"}[quantize],
        "ops": "TFLITE_BUILTINS_INT8" if quantize == "int8" else "TFLITE_BUILTINS",
        "signature": signature,
        "input": tensor(interpreter.get_input_details()[0], keys["inputs"][0]),
        "output": tensor(interpreter.get_output_details()[0], keys["outputs"][0]),
        "bytes": len(content),
        "macs": count_macs(content, image_size),
        "measured_at": list(image_size),
        "xnnpack": xnnpack_report(content, image_size),
        "latency": latency(content, image_size) if benchmark else None,
    }


def write_metadata(folder: str | Path, values: dict) -> Path:
    """Writes `values` (plus the format tag) as folder/metadata.json and returns the path."""
    path = Path(folder) / METADATA_FILENAME
    document = {"format": FORMAT, "format_version": FORMAT_VERSION, **values}
    return write_json(path, document)  # JSON has no inf/nan: a PSNR of None means the outputs were identical


def read_metadata(folder: str | Path) -> dict | None:
    """The metadata of the export in `folder`, or None when it has none (or another tool's JSON)."""
    path = Path(folder) / METADATA_FILENAME
    if not path.is_file():
        return None
    try:
        values = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"Export metadata {path} is unreadable: {error}") from error
    return values if isinstance(values, dict) and values.get("format") == FORMAT else None


def is_export(folder: str | Path) -> bool:
    """Whether `folder` holds a complete export written by `export_generator`."""
    return read_metadata(folder) is not None


def list_entries(folder: str | Path) -> list[str]:
    """Every file and folder under `folder`, as sorted POSIX paths relative to it; folders end with "/".

    Symbolic links are listed as entries, never followed.

    Example:

    >>> list_entries("exports/facades")  # doctest: +SKIP
    ['generator_float32.tflite', 'saved_model/', 'saved_model/fingerprint.pb', 'saved_model/saved_model.pb', ...]
    """
    folder = Path(folder)
    return sorted(path.relative_to(folder).as_posix() + ("/" if path.is_dir() and not path.is_symlink() else "")
                  for path in folder.rglob("*"))  # rglob does not descend into symbolic links to folders


def written_by_export(metadata: dict | None):
    """A predicate on `list_entries` paths: whether the export with this metadata wrote that entry.

    Args:
        metadata: dict or None. An export's metadata (`read_metadata`). Without a `files` entry (an export
            made before exports listed their files), everything an export can write counts as written:
            saved_model/ and all below it, the generator_*.tflite files and metadata.json.

    Returns:
        A function of a relative path (folders ending with "/") returning a bool.

    Example:

    >>> ours = written_by_export(read_metadata("exports/facades"))  # doctest: +SKIP
    >>> ours("NOTES.txt"), ours("saved_model/saved_model.pb")  # doctest: +SKIP
    (False, True)
    """
    files = (metadata or {}).get(FILES_KEY)
    if isinstance(files, list):
        listed = set(files)
        return lambda entry: entry in listed
    return lambda entry: entry in _LEGACY_NAMES or entry.startswith(_LEGACY_FOLDER)


__all__ = ["FILES_KEY", "FORMAT", "FORMAT_VERSION", "METADATA_FILENAME", "is_export", "list_entries",
           "read_metadata", "tflite_entry", "versions", "write_metadata", "written_by_export"]

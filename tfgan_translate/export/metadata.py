"""metadata.json: what an export holds and how to feed it, written last into the export folder.

A folder is a complete export when its metadata.json exists and names
`FORMAT`: the exporter writes that file after every model file, inside a
staging folder that is only renamed into place once complete.
"""

from __future__ import annotations

import json
import platform
from importlib import metadata as importlib_metadata
from pathlib import Path

from tfgan_translate.io import write_json

METADATA_FILENAME = "metadata.json"
FORMAT = "tfgan_translate.export"
FORMAT_VERSION = 1


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


__all__ = ["FORMAT", "FORMAT_VERSION", "METADATA_FILENAME", "is_export", "read_metadata", "versions",
           "write_metadata"]

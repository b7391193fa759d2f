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
           "read_metadata", "versions", "write_metadata", "written_by_export"]

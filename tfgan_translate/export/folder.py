"""What an export folder holds (metadata.json), and getting it ready: the user's files kept, stale staging.

A folder is a complete export when its metadata.json exists and names `FORMAT`: the exporter writes that
file after every model file, inside a staging folder that is only renamed into place once complete.

An export folder holds what its metadata.json lists (``files``: what `export_generator` wrote) and anything
else the user put there (notes, samples). When the folder is exported again:

- `prepare_out_dir`: a folder holding files but no export is refused, then an earlier export that a killed
  export left renamed aside (`.OUT.old-PID-RANDOM-CHECK`, the process gone) is put back, then an export that
  would replace a file of the user's (`user_entries`) is refused;
- `remove_stale_staging`: the staging and old folders of processes that are gone are deleted
  (`io.remove_stale_temporaries`: only names that prove themselves ours, never a user's look-alike such as
  `.photos.old-2023`), called once every refusal has been decided, just before the export is written;
- `user_entries`: the entries of the earlier export that it did not write (the user's);
- `carry_over`: hard-links (or copies) them into the staging folder, so the new export holds them too and an
  interrupted export loses none.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from tfgan_translate.io import listing, our_temporary, pid_alive, remove_stale_temporaries, write_json

log = logging.getLogger("tfgan_translate")
METADATA_FILENAME = "metadata.json"
FORMAT = "tfgan_translate.export"
FORMAT_VERSION = 1
FILES_KEY = "files"  # the entries an export wrote, as `list_entries` gives them
# What an export can write, for an earlier export whose metadata.json has no `files` entry.
_LEGACY_NAMES = ("metadata.json", "generator_float32.tflite", "generator_float16.tflite", "generator_int8.tflite")
_LEGACY_FOLDER = "saved_model/"


def _left_aside(entry: Path, name: str) -> bool:
    """Whether `entry` is a complete export `io.staged_folder` set aside as `name`'s old folder (`io.our_temporary`),
    its process gone."""
    found = our_temporary(entry)
    if found is None or found[:2] != (name, "old") or pid_alive(found[2]) or not entry.is_dir():
        return False
    try:
        return is_export(entry)
    except ValueError:  # an unreadable metadata.json: not a complete export
        return False


def _restore_interrupted_swap(out_dir: Path) -> None:
    """Puts back the earlier export that an export killed between its two renames left as `.OUT.old-PID-...`."""
    if out_dir.exists() or out_dir.is_symlink() or not out_dir.parent.is_dir():
        return
    aside = [entry for entry in out_dir.parent.iterdir() if _left_aside(entry, out_dir.name)]
    if aside:
        newest = max(aside, key=lambda path: path.stat().st_mtime)
        newest.rename(out_dir)
        log.warning("Restored the earlier export %s from %s, where an export that was killed while swapping "
                    "folders had left it.", out_dir, newest.name)


def prepare_out_dir(out_dir: Path, names: set[str]) -> None:
    """Refuses `out_dir` unless it is new, empty or an earlier export holding no file of the user's under one of
    `names` (what this export writes); restores an export that a killed swap left aside. Deletes nothing."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"Invalid value for `out_dir`: {out_dir} exists and is not a folder. Expected a new, "
                         "empty or earlier export folder.")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not is_export(out_dir):
        raise ValueError(f"Invalid value for `out_dir`: {out_dir} holds files but no {METADATA_FILENAME} of an "
                         "earlier export; an export is written into a folder of its own, so choose a new or empty "
                         "folder.")
    _restore_interrupted_swap(out_dir)  # only where there is no `out_dir`; what it puts back is an export
    check_no_clash(out_dir, user_entries(out_dir), names)


def remove_stale_staging(out_dir: Path) -> list[Path]:
    """Deletes the staging and old folders (and files) that processes which are gone left beside `out_dir`.

    Call it once the export can no longer be refused: a refused export removes nothing.
    """
    removed = remove_stale_temporaries(out_dir.parent)
    if removed:
        log.info("Removed %d temporary folder(s) or file(s) left in %s by a process that is gone: %s", len(removed),
                 out_dir.parent, listing([path.name for path in removed]))
    return removed


def user_entries(out_dir: Path) -> list[str]:
    """The top-most entries of the export in `out_dir` that it did not write (`written_by_export`)."""
    ours = written_by_export(read_metadata(out_dir))  # no folder: no metadata and no entries
    kept: list[str] = []
    for entry in list_entries(out_dir):  # sorted: a folder comes before what it holds
        if not ours(entry) and not any(entry.startswith(folder) for folder in kept if folder.endswith("/")):
            kept.append(entry)
    return kept


def check_no_clash(out_dir: Path, kept: list[str], names: set[str]) -> None:
    """Refuses to export when a file of the user's in `out_dir` has a name this export writes."""
    clashes = [entry for entry in kept if entry.rstrip("/") in names]
    if clashes:
        raise ValueError(f"Invalid value for `out_dir`: {out_dir} holds {listing(clashes)}, which the earlier export "
                         f"there did not write ({METADATA_FILENAME} does not list it) and this export would replace. "
                         "Expected no such file of your own: move or rename it, or choose another folder.")


def _link_or_copy(source, target) -> None:
    try:
        os.link(source, target)  # the same file system (OUT and the staging folder share a parent): no copy
    except OSError:
        shutil.copy2(source, target)


def carry_over(out_dir: Path, staging: Path) -> list[str]:
    """Hard-links (or copies) into `staging` the entries of the export in `out_dir` that it did not write.

    The originals stay where they are until the swap, so an interrupted export loses none of them.
    """
    kept = user_entries(out_dir)
    for entry in kept:
        source, target = out_dir / entry.rstrip("/"), staging / entry.rstrip("/")
        if target.exists() or target.is_symlink():
            check_no_clash(out_dir, [entry], {entry.rstrip("/")})
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        elif source.is_dir():
            shutil.copytree(source, target, symlinks=True, copy_function=_link_or_copy)
        else:
            _link_or_copy(source, target)
    if kept:
        log.info("Kept from the earlier export in %s (files it did not write): %s", out_dir, listing(kept))
    return kept


def write_metadata(folder: str | Path, values: dict) -> Path:
    """Writes `values` (plus the format tag) as folder/metadata.json and returns the path."""
    # JSON has no inf/nan: a PSNR of None means the outputs were identical
    return write_json(Path(folder) / METADATA_FILENAME, {"format": FORMAT, "format_version": FORMAT_VERSION, **values})


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
        return set(files).__contains__
    return lambda entry: entry in _LEGACY_NAMES or entry.startswith(_LEGACY_FOLDER)


__all__ = ["FILES_KEY", "FORMAT", "FORMAT_VERSION", "METADATA_FILENAME", "carry_over", "check_no_clash", "is_export",
           "list_entries", "prepare_out_dir", "read_metadata", "remove_stale_staging", "user_entries",
           "write_metadata", "written_by_export"]

"""Read PyTorch `.pth` state dicts into numpy arrays, without torch and without running the file's pickle.

`torch.save` writes a pickle, and unpickling a file runs whatever callables it names. This reader unpickles
with an allow-list, as `torch.load(weights_only=True)` does: the pickle may name `collections.OrderedDict`,
torch's tensor and parameter rebuild functions (replaced here by functions that only record their
arguments), the `torch.*Storage` classes and `torch.<dtype>` globals. Any other global is refused with
`UnsafeCheckpointError` the moment the pickle names it, before it is called, and no tensor data is read until
the whole pickle has passed. The tensors are then cut out of the raw storages with numpy.

Both layouts `torch.save` writes are read:

- the zip archive (the default since torch 1.6): `<root>/data.pkl` holds the pickle, whose storages are
  persistent ids `("storage", torch.FloatStorage, key, location, numel)`; `<root>/data/<key>` holds each
  storage's raw bytes, uncompressed, in the byte order named by `<root>/byteorder` (little when absent);
- the legacy stream (`_use_new_zipfile_serialization=False`, and every file before torch 1.6): five pickles
  in a row (torch's magic number, the protocol version 1001, a dict of system info, the object whose
  storages are persistent ids `("storage", torch.FloatStorage, key, location, numel, view)`, and the sorted
  list of storage keys), then, for each key in that list, the storage's element count as a little-endian
  int64 and its raw little-endian bytes.

The tar archives of very old torch releases are refused with a message saying so.

This module reads the containers; the unpickler and its allow-list are in `reference.unpickler`, the cutting
of tensors out of storages in `reference.tensors`, and the errors in `reference.errors`.

Example:

>>> from tfgan_translate.reference.pth import read_state_dict
>>> state = read_state_dict("checkpoints/facades_label2photo_pretrained/latest_net_G.pth")  # doctest: +SKIP
>>> state["model.model.0.weight"].shape  # doctest: +SKIP
(64, 3, 4, 4)
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib

import numpy as np

from tfgan_translate.reference.errors import CheckpointError, UnsafeCheckpointError, _error
from tfgan_translate.reference.pickle_machine import describe
from tfgan_translate.reference.tensors import read_tensors
from tfgan_translate.reference.unpickler import _itemsize, _unpickle

__all__ = ["CheckpointError", "UnsafeCheckpointError", "read_state_dict"]

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

# === The two containers ===


_MAX_RECORDS = 65_535  # zip records read (torch writes one per storage, plus four)


def _zip_record_count(fh, file_size):
    """The record count that the zip's end-of-central-directory record (or its zip64 twin) declares, or None."""
    tail_size = min(file_size, 65_535 + 22)
    fh.seek(file_size - tail_size)
    tail = fh.read(tail_size)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        return None
    count = struct.unpack("<H", tail[at + 10:at + 12])[0]
    if count == 0xFFFF and at >= 20 and tail[at - 20:at - 16] == b"PK\x06\x07":  # zip64: read its own count
        zip64_at = struct.unpack("<Q", tail[at - 12:at - 4])[0]
        if zip64_at + 40 <= file_size:
            fh.seek(zip64_at)
            record = fh.read(40)
            if record[:4] == b"PK\x06\x06":
                count = struct.unpack("<Q", record[32:40])[0]
    fh.seek(0)
    return count


def _read_at(path, fh, start, size, short):
    """`size` bytes of `fh` from `start`, as a uint8 array; `short` says where a file that ends sooner ends."""
    data = np.empty(size, np.uint8)
    fh.seek(start)
    if fh.readinto(memoryview(data)) != size:
        raise _error(path, f"{short} (a truncated file?)")
    return data


def _open_zip(path, fh, file_size):
    """The zip layout: (pickled object, reader of a storage record's bytes by key, byte order)."""
    count = _zip_record_count(fh, file_size)
    if count is not None and count > _MAX_RECORDS:
        raise _error(path, f"it is a zip archive of {count} records, more than the {_MAX_RECORDS} this reader "
                     "reads (torch writes one per tensor storage)")
    try:
        infos = {info.filename: info for info in zipfile.ZipFile(fh).infolist()}
    except Exception as err:  # BadZipFile, or worse for a truncated central directory
        raise _error(path, f"it starts like a zip archive but is not a readable one, maybe truncated "
                     f"({type(err).__name__}: {err!s:.200})") from None
    roots = sorted({name[: -len("data.pkl")] for name in infos if name.count("/") == 1 and name.endswith("/data.pkl")})
    if any(name.endswith("/constants.pkl") for name in infos) and any("/code/" in name for name in infos):
        raise _error(path, "it is a TorchScript archive (torch.jit.save), not a pickled state dict")
    if len(roots) != 1:
        names = ", ".join(sorted(infos)[:8]) or "no records"
        if "config.json" in infos and "model.weights.h5" in infos:
            found = "it is a Keras `.keras` archive, not a PyTorch checkpoint"
        elif not roots:
            found = f"it is a zip archive without a `<root>/data.pkl` record (found: {names})"
        else:
            found = f"it is a zip archive with {len(roots)} `<root>/data.pkl` records ({', '.join(roots)})"
        raise _error(path, found)
    root = roots[0]

    def record(name, nbytes=None):
        info = infos.get(root + name)
        if info is None:  # only a storage's record can be missing: the others were found above
            raise _error(path, f"it has no record `{root}{name}` for a storage its pickle uses (a missing storage "
                         "record)")
        if info.compress_type != zipfile.ZIP_STORED:
            raise _error(path, f"its record `{info.filename}` is compressed (zip method {info.compress_type}), "
                         "and torch.save writes every record uncompressed")
        if nbytes is not None and info.file_size != nbytes:
            raise _error(path, f"its record `{info.filename}` holds {info.file_size} bytes, but the pickle "
                         f"declares a storage of {nbytes} bytes there")
        if not 0 <= info.header_offset <= file_size - 30:
            raise _error(path, f"the local header of its record `{info.filename}` lies outside the file")
        fh.seek(info.header_offset)
        header = fh.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise _error(path, f"the local header of its record `{info.filename}` is missing or corrupt")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        start = info.header_offset + 30 + name_len + extra_len
        if start + info.file_size > file_size:
            raise _error(path, f"its record `{info.filename}` runs past the end of the file (a truncated file?)")
        data = _read_at(path, fh, start, info.file_size, f"its record `{info.filename}` is cut short")
        if zlib.crc32(data) != info.CRC:
            raise _error(path, f"its record `{info.filename}` fails its CRC check (a corrupt file?)")
        return data

    byteorder = bytes(record("byteorder")).decode("ascii", "replace") if root + "byteorder" in infos else "little"
    if byteorder not in ("little", "big"):
        raise _error(path, f"its `{root}byteorder` record says {byteorder!r:.40}, not 'little' or 'big'")
    pickled = record("data.pkl")
    obj, unpickler = _unpickle(io.BytesIO(pickled), path)
    del pickled

    def read_storage(key):
        root = unpickler.roots[key]
        return record(f"data/{key}", root.numel * _itemsize(root.dtype))

    return obj, read_storage, byteorder


def _open_legacy(path, fh, file_size):
    """The legacy layout: (pickled object, reader of a storage's bytes by key, byte order)."""
    magic, _ = _unpickle(fh, path, allow_tensors=False)
    if magic != _LEGACY_MAGIC:
        raise _error(path, f"it is a pickle, but not one torch.save wrote: its first object is {describe(magic)}, "
                     f"not torch's magic number {_LEGACY_MAGIC:#x}")
    version, _ = _unpickle(fh, path, allow_tensors=False)
    if version != _LEGACY_PROTOCOL:
        raise _error(path, f"it has the legacy protocol version {describe(version)}, not {_LEGACY_PROTOCOL}")
    sys_info, _ = _unpickle(fh, path, allow_tensors=False)
    if not isinstance(sys_info, dict):
        raise _error(path, f"its system-info pickle holds a {type(sys_info).__name__}, not a dict")
    obj, unpickler = _unpickle(fh, path)
    keys, _ = _unpickle(fh, path, allow_tensors=False)
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise _error(path, f"its storage-key pickle holds {describe(keys)}, not a list of str keys")
    # Each storage: an int64 element count (little-endian; an old big-endian writer may have kept its own
    # order there, so that order is accepted too when sys_info says so), then the elements, little-endian.
    count_formats = ("<q",) if sys_info.get("little_endian", True) is not False else ("<q", ">q")
    offsets = {}
    position = fh.tell()
    for key in keys:
        storage = unpickler.roots.get(key)
        if storage is None:
            raise _error(path, f"its storage section lists the key `{key}`, which its pickle never uses")
        fh.seek(position)
        header = fh.read(8)
        if len(header) != 8:
            raise _error(path, f"it ends before storage `{key}` (a truncated file?)")
        counts = [struct.unpack(fmt, header)[0] for fmt in count_formats]
        if storage.numel not in counts:
            raise _error(path, f"its storage `{key}` holds {counts[0]} elements, but the pickle declares "
                         f"{storage.numel}")
        nbytes = storage.numel * _itemsize(storage.dtype)
        offsets[key] = (position + 8, nbytes)
        position += 8 + nbytes
        if position > file_size:
            raise _error(path, f"it ends inside storage `{key}` (a truncated file?)")
    missing = sorted(set(unpickler.roots) - set(offsets))
    if missing:
        raise _error(path, f"its storage section lacks the storages {', '.join(missing[:5])} that its pickle "
                     "uses (a missing storage record)")

    def read_storage(key):  # its size is the pickle's, as counted above
        return _read_at(path, fh, *offsets[key], f"it ends inside storage `{key}`")

    return obj, read_storage, "little"


def read_state_dict(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Reads a PyTorch state dict (`.pth`) into numpy arrays, without torch and without running its pickle.

    Reads both layouts `torch.save` writes (the zip archive of torch >= 1.6 and the legacy stream) and refuses
    anything else with `CheckpointError`. The pickle may name only what a state dict needs (see the module
    docstring); any other global, such as a pickled model's class, is refused with `UnsafeCheckpointError`
    before it is called. Each storage is read once; a tensor that is all of its storage is returned without a
    copy, others (views, transposes, tensors sharing a storage) are copied out.

    float32, float16, float64, int64, int32, int16, int8, uint8, uint16/32/64 and bool tensors keep their
    dtype (native byte order); bfloat16 tensors become float32. Zero-dim tensors (`num_batches_tracked`)
    become 0-d arrays.

    A top-level dict that is not itself a flat dict of tensors is unwrapped one level when exactly one of the
    keys "state_dict", "model_state_dict", "model" holds one (as in `{"state_dict": ..., "epoch": 3}`); the
    other entries are not read. Any other layout (several state dicts, such as {"net_G": ..., "net_D": ...},
    a list, entries that are not tensors) is refused, naming what was found.

    Args:
        path: str or os.PathLike. The `.pth` file.

    Returns:
        A dict from each state dict key, in the file's order, to a numpy array of the tensor's shape.

    Raises:
        CheckpointError: the file is missing, not a PyTorch checkpoint, truncated, corrupt, or not a dict of
            tensors; the message names the file, what was found and what was expected.
        UnsafeCheckpointError: the pickle names a global outside the allow-list (a pickled module, code).

    Example:

    >>> state = read_state_dict("checkpoints/horse2zebra_pretrained/latest_net_G.pth")  # doctest: +SKIP
    >>> state["model.1.weight"].shape, state["model.1.weight"].dtype  # doctest: +SKIP
    ((64, 3, 7, 7), dtype('float32'))
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise CheckpointError(f"Invalid value for argument `path`. Received: path={path!r:.100}. Expected a path "
                              "to a .pth file (a str or os.PathLike).")
    path = os.fsdecode(path)
    try:  # only a failure to open is "cannot be opened": the `with` below covers the reading
        fh = open(path, "rb")  # noqa: SIM115
    except OSError as err:
        raise _error(path, f"it cannot be opened ({err.strerror or type(err).__name__})") from None
    with fh:
        file_size = os.fstat(fh.fileno()).st_size
        head = fh.read(512)
        fh.seek(0)
        if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            obj, read, byteorder = _open_zip(path, fh, file_size)
        elif len(head) >= 262 and head[257:262] == b"ustar":
            raise _error(path, "it is a tar archive, the layout of very old PyTorch releases, which this reader "
                         "does not read. Re-save it with a recent torch: torch.save(torch.load(path), new_path)")
        elif head[:1] == b"\x80" or head.startswith(b"L%d" % _LEGACY_MAGIC):  # protocol >= 2, or 0 and 1
            obj, read, byteorder = _open_legacy(path, fh, file_size)
        else:
            raise _error(path, f"it is {_sniff(head)}, not a PyTorch checkpoint (a zip archive, or a pickle stream "
                         "starting with torch's magic number)")
        return read_tensors(path, obj, read, byteorder, file_size)


def _sniff(head):
    """What a file that is not a checkpoint looks like, from its first bytes."""
    if not head:
        return "empty (0 bytes)"
    signatures = {b"\x89PNG\r\n\x1a\n": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
                  b"\x89HDF\r\n\x1a\n": "an HDF5 file (Keras .h5 weights?)", b"\x93NUMPY": "a NumPy .npy file",
                  b"\x1f\x8b": "a gzip file"}
    for signature, what in signatures.items():
        if head.startswith(signature):
            return what
    if len(head) > 9 and head[8:9] == b"{" and 0 < struct.unpack("<Q", head[:8])[0] < 10**8:
        return "a safetensors file"
    if head.lstrip()[:1] == b"<":
        return "an HTML or XML page (a failed download?)"
    try:
        head.decode("utf-8")
        return f"text ({head[:40]!r})"
    except UnicodeDecodeError:
        return f"unrecognised data (first bytes {head[:16]!r})"

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

Example:

>>> from tfgan_translate.reference.pth import read_state_dict
>>> state = read_state_dict("checkpoints/facades_label2photo_pretrained/latest_net_G.pth")  # doctest: +SKIP
>>> state["model.model.0.weight"].shape  # doctest: +SKIP
(64, 3, 4, 4)
"""

from __future__ import annotations

import collections
import io
import os
import pickle
import struct
import sys
import zipfile
import zlib

import numpy as np

__all__ = ["CheckpointError", "UnsafeCheckpointError", "read_state_dict"]

_EXPECTED = "Expected a PyTorch state_dict saved with torch.save(model.state_dict(), path)."

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001

# Keys under which training scripts commonly nest a state dict beside other state ({"state_dict": ..., "epoch":
# ...}); one such level is unwrapped when exactly one of them holds a flat dict of tensors.
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model")


class CheckpointError(ValueError):
    """A file that is not a PyTorch state dict this reader can read; the message names the file.

    Example:

    >>> try:
    ...     read_state_dict("notes.txt")  # doctest: +SKIP
    ... except CheckpointError as err:
    ...     print(err)  # doctest: +SKIP
    Invalid checkpoint file `notes.txt`: it is text, not a PyTorch checkpoint ...
    """


class UnsafeCheckpointError(CheckpointError):
    """A checkpoint whose pickle names a global outside the allow-list; nothing it names was called.

    Example:

    >>> try:
    ...     read_state_dict("whole_model.pth")  # doctest: +SKIP
    ... except UnsafeCheckpointError as err:
    ...     print(err)  # doctest: +SKIP
    Invalid checkpoint file `whole_model.pth`: it is a pickled module ... not a state dict ...
    """


def _error(path, found, cls=CheckpointError):
    return cls(f"Invalid checkpoint file `{path}`: {found}. {_EXPECTED}")


class _Malformed(Exception):
    """Raised inside the unpickler and the tensor builder; turned into a CheckpointError naming the file."""


# === Element types ===


def _bfloat16_to_float32(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


def _bytes_to_bool(values):
    return values != 0


# dtype name -> (numpy type of the stored little-endian elements, conversion of the native copy or None).
_DTYPES = {
    "float32": ("<f4", None),
    "float64": ("<f8", None),
    "float16": ("<f2", None),
    "bfloat16": ("<u2", _bfloat16_to_float32),
    "int64": ("<i8", None),
    "int32": ("<i4", None),
    "int16": ("<i2", None),
    "int8": ("i1", None),
    "uint8": ("u1", None),
    "bool": ("u1", _bytes_to_bool),
    "uint16": ("<u2", None),
    "uint32": ("<u4", None),
    "uint64": ("<u8", None),
}

# torch storage class -> the dtype of its elements ("uint8" for UntypedStorage, which counts bytes).
_STORAGE_CLASSES = {
    "FloatStorage": "float32",
    "DoubleStorage": "float64",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
    "UntypedStorage": "uint8",
}

# `torch.<name>` dtype globals (written beside UntypedStorage by `_rebuild_tensor_v3`) -> dtype name.
_TORCH_DTYPES = {
    "float32": "float32", "float": "float32", "float64": "float64", "double": "float64",
    "float16": "float16", "half": "float16", "bfloat16": "bfloat16",
    "int64": "int64", "long": "int64", "int32": "int32", "int": "int32", "int16": "int16", "short": "int16",
    "int8": "int8", "uint8": "uint8", "bool": "bool", "uint16": "uint16", "uint32": "uint32", "uint64": "uint64",
}  # fmt: skip

_UNSUPPORTED_DTYPE_PREFIXES = ("complex", "cfloat", "cdouble", "chalf", "float8", "float4", "qint", "quint", "bits")


# === What the pickle builds: inert records ===


class _StorageType:
    """Stands for a `torch.*Storage` class named in the pickle; carries only its element dtype."""

    __slots__ = ("name", "dtype")

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype


class _DType:
    """Stands for a `torch.<dtype>` global."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class _Storage:
    """A storage of the file: record `key`, `numel` elements of `dtype` from element `start` (old views)."""

    __slots__ = ("key", "dtype", "numel", "start")

    def __init__(self, key, dtype, numel, start=0):
        self.key, self.dtype, self.numel, self.start = key, dtype, numel, start


class _Tensor:
    """A tensor to cut out of a storage once the whole pickle has been accepted."""

    __slots__ = ("storage", "dtype", "offset", "size", "stride")

    def __init__(self, storage, dtype, offset, size, stride):
        self.storage, self.dtype, self.offset, self.size, self.stride = storage, dtype, offset, size, stride


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _record_tensor(storage, storage_offset, size, stride, dtype=None):
    if not isinstance(storage, _Storage):
        raise _Malformed(f"a tensor is rebuilt from a {type(storage).__name__}, not from a storage")
    if not (_is_int(storage_offset) and storage_offset >= 0):
        raise _Malformed(f"a tensor has the storage offset {storage_offset!r}, not a non-negative integer")
    if not isinstance(size, tuple) or not isinstance(stride, tuple) or len(size) != len(stride) or len(size) > 32:
        raise _Malformed(f"a tensor has the size {size!r} and stride {stride!r}, not two tuples of one length")
    if not all(_is_int(n) and 0 <= n < 2**48 for n in size) or not all(_is_int(s) and 0 <= s < 2**48 for s in stride):
        raise _Malformed(f"a tensor has the size {size!r} and stride {stride!r}, not non-negative integers")
    if dtype is None:
        dtype = storage.dtype
    elif not isinstance(dtype, _DType):
        raise _Malformed(f"a tensor names the dtype {dtype!r}, not a torch dtype")
    else:
        dtype = dtype.name
    return _Tensor(storage, dtype, storage_offset, size, stride)


# Stand-ins for torch._utils' functions: same signatures, they only record what to cut out of which storage.
def _rebuild_tensor(storage, storage_offset, size, stride):
    return _record_tensor(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    return _record_tensor(storage, storage_offset, size, stride)


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    return _record_tensor(storage, storage_offset, size, stride, dtype)


def _rebuild_parameter(data, requires_grad, backward_hooks):
    if not isinstance(data, _Tensor):
        raise _Malformed(f"a parameter is rebuilt from a {type(data).__name__}, not from a tensor")
    return data


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _rebuild_parameter(data, requires_grad, backward_hooks)


_ALLOWED_CALLABLES = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
}

# Modules of Python itself (and Python 2's names for them): a global there is never a user's model class.
_PYTHON_MODULES = frozenset(sys.stdlib_module_names) | {"__builtin__", "copy_reg", "exceptions"}


def _refusal(path, module, name):
    """The error for a global outside the allow-list: a pickled module gets its own message."""
    qualname = f"{module}.{name}"
    top = module.split(".")[0]
    if module.startswith(("torch.nn.", "__torch__")) or (
        top not in _PYTHON_MODULES and top not in ("torch", "numpy") and name[:1].isupper()
    ):
        found = (
            f"it is a pickled module (its pickle names the class `{qualname}`), not a state dict, and was refused "
            "before any of its code ran; save `net.state_dict()` instead of `net`"
        )
    else:
        found = (
            f"its pickle names the global `{qualname}`, which a state dict never holds (allowed: "
            "collections.OrderedDict, torch._utils' tensor and parameter rebuild functions, torch.*Storage "
            "classes and torch dtypes); it was refused before anything in the file was run"
        )
    return _error(path, found, UnsafeCheckpointError)


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles a torch pickle into dicts of `_Tensor` records, calling only the allow-listed globals.

    With `allow_tensors=False` (the legacy stream's header pickles) every global and persistent id is refused.
    """

    def __init__(self, file, path, allow_tensors=True):
        super().__init__(file, encoding="utf-8")
        self._path = path
        self._allow_tensors = allow_tensors
        self.roots = {}  # record key -> _Storage of the whole record
        self._views = {}  # legacy view key -> _Storage

    def find_class(self, module, name):
        if self._allow_tensors:
            if (module, name) in _ALLOWED_CALLABLES:
                return _ALLOWED_CALLABLES[(module, name)]
            if module in ("torch", "torch.cuda", "torch.storage") and name.endswith("Storage"):
                if name in _STORAGE_CLASSES:
                    return _StorageType(name, _STORAGE_CLASSES[name])
                raise _error(self._path, f"it holds a `{module}.{name}` tensor, a type this reader does not read "
                             f"(it reads {', '.join(sorted(_STORAGE_CLASSES))})")
            if module == "torch" and name in _TORCH_DTYPES:
                return _DType(_TORCH_DTYPES[name])
            if module == "torch" and name.startswith(_UNSUPPORTED_DTYPE_PREFIXES):
                raise _error(self._path, f"it holds a `torch.{name}` tensor, a dtype this reader does not read "
                             f"(it reads {', '.join(_DTYPES)})")
        raise _refusal(self._path, module, name)

    def persistent_load(self, pid):
        if not self._allow_tensors:
            raise _Malformed(f"a header pickle holds the persistent id {pid!r}")
        if not isinstance(pid, tuple) or len(pid) not in (5, 6) or pid[0] not in ("storage", b"storage"):
            raise _Malformed(f"the pickle holds the persistent id {pid!r:.200}, not a torch storage")
        storage_type, key, _location, numel = pid[1:5]
        view = pid[5] if len(pid) == 6 else None
        if not isinstance(storage_type, _StorageType):
            raise _Malformed(f"a storage has the type {storage_type!r:.100}, not a torch storage class")
        if not isinstance(key, str) or not _is_int(numel) or numel < 0:
            raise _Malformed(f"a storage has the key {key!r:.100} and size {numel!r:.100}")
        root = self.roots.setdefault(key, _Storage(key, storage_type.dtype, numel))
        if (root.dtype, root.numel) != (storage_type.dtype, numel):
            raise _Malformed(f"storage `{key}` is declared both as {root.numel} {root.dtype} and as {numel} "
                             f"{storage_type.dtype} elements")
        if view is None:
            return root
        # Files from torch < 1.0 could hold views of storages: (view key, element offset, element count).
        if not (isinstance(view, tuple) and len(view) == 3 and isinstance(view[0], str)
                and _is_int(view[1]) and _is_int(view[2]) and 0 <= view[1] and 0 <= view[2]
                and view[1] + view[2] <= numel):
            raise _Malformed(f"storage `{key}` of {numel} elements has the view {view!r:.100}")
        return self._views.setdefault(view[0], _Storage(key, root.dtype, view[2], view[1]))


def _unpickle(file, path, allow_tensors=True):
    """One pickle from `file` through the restricted unpickler; returns (object, unpickler)."""
    unpickler = _RestrictedUnpickler(file, path, allow_tensors)
    try:
        return unpickler.load(), unpickler
    except CheckpointError:
        raise
    except _Malformed as err:
        raise _error(path, f"its pickle is malformed: {err}") from None
    except EOFError:
        raise _error(path, "it ends inside a pickle (a truncated file?)") from None
    except Exception as err:  # any other way a corrupt pickle can fail (UnpicklingError, TypeError, ...)
        raise _error(path, f"its pickle is corrupt ({type(err).__name__}: {err!s:.200})") from None


# === The two containers ===


def _open_zip(path, fh, file_size):
    """The zip layout: (pickled object, unpickler, reader of a record's bytes, byte order)."""
    try:
        archive = zipfile.ZipFile(fh)
        infos = {info.filename: info for info in archive.infolist()}
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
        if info is None:
            return None
        if info.compress_type != zipfile.ZIP_STORED:
            raise _error(path, f"its record `{info.filename}` is compressed (zip method {info.compress_type}), "
                         "and torch.save writes every record uncompressed")
        if nbytes is not None and info.file_size != nbytes:
            raise _error(path, f"its record `{info.filename}` holds {info.file_size} bytes, but the pickle "
                         f"declares a storage of {nbytes} bytes there")
        fh.seek(info.header_offset)
        header = fh.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise _error(path, f"the local header of its record `{info.filename}` is missing or corrupt")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        start = info.header_offset + 30 + name_len + extra_len
        if start + info.file_size > file_size:
            raise _error(path, f"its record `{info.filename}` runs past the end of the file (a truncated file?)")
        data = np.empty(info.file_size, np.uint8)
        fh.seek(start)
        if fh.readinto(memoryview(data)) != info.file_size:
            raise _error(path, f"its record `{info.filename}` is cut short (a truncated file?)")
        if zlib.crc32(data) != info.CRC:
            raise _error(path, f"its record `{info.filename}` fails its CRC check (a corrupt file?)")
        return data

    byteorder = record("byteorder")
    byteorder = "little" if byteorder is None else bytes(byteorder).decode("ascii", "replace")
    if byteorder not in ("little", "big"):
        raise _error(path, f"its `{root}byteorder` record says {byteorder!r:.40}, not 'little' or 'big'")
    pickled = record("data.pkl")
    obj, unpickler = _unpickle(io.BytesIO(pickled), path)
    del pickled

    def read_storage(storage, nbytes):
        data = record(f"data/{storage.key}", nbytes)
        if data is None:
            raise _error(path, f"it has no record `{root}data/{storage.key}` for a storage its pickle uses "
                         "(a missing storage record)")
        return data

    return obj, unpickler, read_storage, byteorder


def _open_legacy(path, fh, file_size):
    """The legacy layout: (pickled object, unpickler, reader of a storage's bytes, byte order)."""
    magic, _ = _unpickle(fh, path, allow_tensors=False)
    if magic != _LEGACY_MAGIC:
        raise _error(path, f"it is a pickle, but not one torch.save wrote: its first object is {magic!r:.60}, "
                     f"not torch's magic number {_LEGACY_MAGIC:#x}")
    version, _ = _unpickle(fh, path, allow_tensors=False)
    if version != _LEGACY_PROTOCOL:
        raise _error(path, f"it has the legacy protocol version {version!r:.60}, not {_LEGACY_PROTOCOL}")
    sys_info, _ = _unpickle(fh, path, allow_tensors=False)
    if not isinstance(sys_info, dict):
        raise _error(path, f"its system-info pickle holds a {type(sys_info).__name__}, not a dict")
    obj, unpickler = _unpickle(fh, path)
    keys, _ = _unpickle(fh, path, allow_tensors=False)
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise _error(path, f"its storage-key pickle holds {keys!r:.100}, not a list of keys")
    # Each storage: an int64 element count (little-endian; an old big-endian writer may have kept its own
    # order there, so that order is accepted too when sys_info says so), then the elements, little-endian.
    count_formats = ("<q",) if sys_info.get("little_endian", True) else ("<q", ">q")
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
        nbytes = storage.numel * np.dtype(_DTYPES[storage.dtype][0]).itemsize
        offsets[key] = (position + 8, nbytes)
        position += 8 + nbytes
        if position > file_size:
            raise _error(path, f"it ends inside storage `{key}` (a truncated file?)")
    missing = sorted(set(unpickler.roots) - set(offsets))
    if missing:
        raise _error(path, f"its storage section lacks the storages {', '.join(missing[:5])} that its pickle "
                     "uses (a missing storage record)")

    def read_storage(storage, nbytes):
        start, size = offsets[storage.key]
        if size != nbytes:
            raise _error(path, f"its storage `{storage.key}` holds {size} bytes, not {nbytes}")
        data = np.empty(size, np.uint8)
        fh.seek(start)
        if fh.readinto(memoryview(data)) != size:
            raise _error(path, f"it ends inside storage `{storage.key}` (a truncated file?)")
        return data

    return obj, unpickler, read_storage, "little"


# === From records to arrays ===


def _describe(value):
    if isinstance(value, _Tensor):
        return "a tensor"
    return f"a {type(value).__name__}"


def _is_state_dict(value):
    return isinstance(value, dict) and all(isinstance(k, str) and isinstance(v, _Tensor) for k, v in value.items())


def _select_state_dict(path, obj):
    """The flat dict of tensors in the pickled object, unwrapping one known key (see WRAPPER_KEYS)."""
    if _is_state_dict(obj):
        return obj
    if not isinstance(obj, dict):
        raise _error(path, f"its top-level object is {_describe(obj)}, not a dict of tensors")
    wrapped = [key for key in WRAPPER_KEYS if key in obj and _is_state_dict(obj[key])]
    if len(wrapped) == 1:
        return obj[wrapped[0]]
    nested = [repr(key) for key, value in obj.items() if _is_state_dict(value)]
    if wrapped:
        found = f"its top-level dict holds several state dicts, under {', '.join(nested)}; it is unclear which one"
    elif nested:
        found = (f"its top-level dict holds state dicts under {', '.join(nested[:8])}, none under a key read "
                 f"as the model's ({', '.join(map(repr, WRAPPER_KEYS))}); save the one wanted alone")
    else:
        bad = [(key, value) for key, value in obj.items() if not (isinstance(key, str) and isinstance(value, _Tensor))]
        listed = ", ".join(f"{key!r:.60} ({_describe(value)})" for key, value in bad[:5])
        found = f"its top-level dict has {len(bad)} entries that are not tensors under string keys: {listed}"
    raise _error(path, found)


def _build(path, name, tensor, storages, byteorder):
    """The numpy array of one tensor record: a copy, or its storage's buffer when the tensor is all of it."""
    storage = tensor.storage
    stored, convert = _DTYPES[tensor.dtype]
    stored = np.dtype(stored).newbyteorder("<" if byteorder == "little" else ">")
    native = stored.newbyteorder("=")
    itemsize = stored.itemsize
    storage_itemsize = np.dtype(_DTYPES[storage.dtype][0]).itemsize
    shape = tensor.size
    count = 1
    for n in shape:
        count *= n
    first = (storage.start * storage_itemsize) + tensor.offset * itemsize
    last = sum((n - 1) * s for n, s in zip(shape, tensor.stride, strict=True))  # the last element's index
    end = first + (last + 1) * itemsize if count else first
    if end > (storage.start + storage.numel) * storage_itemsize:
        raise _error(path, f"its tensor `{name}` (offset {tensor.offset}, size {shape}, stride {tensor.stride}, "
                     f"{tensor.dtype}) reaches past the end of its storage of {storage.numel} {storage.dtype}")
    data, only_user = storages.take(storage.key)
    if count == 0:
        array = np.zeros(shape, native)
    else:
        contiguous, step = [], 1
        for n in reversed(shape):
            contiguous.insert(0, step)
            step *= n
        whole = first == 0 and end == data.size and all(n == 1 or s == c for n, s, c in
                                                            zip(shape, tensor.stride, contiguous, strict=True))
        if whole and only_user:
            array = data.view(stored).reshape(shape)  # the tensor is all of its storage: no copy
            if stored != native:
                array = array.byteswap(inplace=True).view(native)
        else:
            window = data[first:end].view(stored)
            strides = [s * itemsize for s in tensor.stride]
            strided = np.lib.stride_tricks.as_strided(window, shape=shape, strides=strides, writeable=False)
            array = np.empty(shape, native)
            array[...] = strided
    return array if convert is None else convert(array)


class _Storages:
    """Reads each storage record once, when a tensor first needs it, and drops it after its last tensor."""

    def __init__(self, read, roots, tensors):
        self._read, self._roots = read, roots
        self._uses = collections.Counter(tensor.storage.key for tensor in tensors)
        self._left = collections.Counter(self._uses)
        self._cache = {}

    def take(self, key):
        """(the record's bytes, whether one tensor alone uses them)."""
        if key not in self._cache:
            root = self._roots[key]
            self._cache[key] = self._read(root, root.numel * np.dtype(_DTYPES[root.dtype][0]).itemsize)
        data = self._cache[key]
        self._left[key] -= 1
        if not self._left[key]:
            del self._cache[key]
        return data, self._uses[key] == 1


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
    try:
        fh = open(path, "rb")
    except OSError as err:
        raise _error(path, f"it cannot be opened ({err.strerror or type(err).__name__})") from None
    with fh:
        file_size = os.fstat(fh.fileno()).st_size
        head = fh.read(512)
        fh.seek(0)
        if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            obj, unpickler, read, byteorder = _open_zip(path, fh, file_size)
        elif len(head) >= 262 and head[257:262] == b"ustar":
            raise _error(path, "it is a tar archive, the layout of very old PyTorch releases, which this reader "
                         "does not read. Re-save it with a recent torch: torch.save(torch.load(path), new_path)")
        elif head[:1] == b"\x80" or head.startswith(b"L%d" % _LEGACY_MAGIC):  # protocol >= 2, or 0 and 1
            obj, unpickler, read, byteorder = _open_legacy(path, fh, file_size)
        else:
            raise _error(path, f"it is {_sniff(head)}, not a PyTorch checkpoint (a zip archive, or a pickle stream "
                         "starting with torch's magic number)")
        state = _select_state_dict(path, obj)
        storages = _Storages(read, unpickler.roots, state.values())
        try:
            return {name: _build(path, name, tensor, storages, byteorder) for name, tensor in state.items()}
        except MemoryError:
            raise _error(path, "its tensors do not fit in memory") from None


def _sniff(head):
    """What a file that is not a checkpoint looks like, from its first bytes."""
    if not head:
        return "empty (0 bytes)"
    signatures = [
        (b"\x89PNG\r\n\x1a\n", "a PNG image"),
        (b"\xff\xd8\xff", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"\x89HDF\r\n\x1a\n", "an HDF5 file (Keras .h5 weights?)"),
        (b"\x93NUMPY", "a NumPy .npy file"),
        (b"\x1f\x8b", "a gzip file"),
    ]
    for signature, what in signatures:
        if head.startswith(signature):
            return what
    if len(head) > 9 and head[8:9] == b"{" and 0 < struct.unpack("<Q", head[:8])[0] < 10**8:
        return "a safetensors file"
    stripped = head.lstrip()
    if stripped[:1] == b"<":
        return "an HTML or XML page (a failed download?)"
    try:
        head.decode("utf-8")
        return f"text ({head[:40]!r})"
    except UnicodeDecodeError:
        return f"unrecognised data (first bytes {head[:16]!r})"

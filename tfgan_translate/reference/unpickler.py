"""The restricted unpickler of `read_state_dict`: an allow-list, and stand-ins that only record tensors.

`_RestrictedUnpickler` resolves a global only when it is on the allow-list: `collections.OrderedDict`, torch's
tensor and parameter rebuild functions (replaced by the stand-ins below, which check their arguments and
return inert `_Tensor` records), the `torch.*Storage` classes and the `torch.<dtype>` globals. Any other global
is refused with `UnsafeCheckpointError` when the pickle names it, before anything is called. The storages the
pickle refers to by persistent id become `_Storage` records; no storage data is read here.

Example:

>>> import io, pickle
>>> obj, unpickler = _unpickle(io.BytesIO(pickle.dumps({"step": 3})), "demo.pth")
>>> obj, unpickler.roots
({'step': 3}, {})
"""

from __future__ import annotations

import collections
import pickle
import sys

import numpy as np

from tfgan_translate.reference.errors import CheckpointError, UnsafeCheckpointError, _error


class _Malformed(Exception):
    """Raised inside the unpickler and the tensor stand-ins; `_unpickle` turns it into a CheckpointError."""


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

    __slots__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype


class _DType:
    """Stands for a `torch.<dtype>` global."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class _Storage:
    """A storage of the file: record `key`, `numel` elements of `dtype` from element `start` (old views)."""

    __slots__ = ("dtype", "key", "numel", "start")

    def __init__(self, key, dtype, numel, start=0):
        self.key, self.dtype, self.numel, self.start = key, dtype, numel, start


class _Tensor:
    """A tensor to cut out of a storage once the whole pickle has been accepted."""

    __slots__ = ("dtype", "offset", "size", "storage", "stride")

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
                    return _StorageType(_STORAGE_CLASSES[name])
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
                and _is_int(view[1]) and _is_int(view[2]) and view[1] >= 0 and view[2] >= 0
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

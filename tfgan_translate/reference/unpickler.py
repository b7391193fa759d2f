"""The restricted unpickler of `read_state_dict`: an allow-list, and stand-ins that only record tensors.

`_RestrictedUnpickler` is a `PickleMachine` (our own pickle machine, bounded in what a file can cost; see
`reference.pickle_machine`) that resolves a global only when it is on the allow-list: `collections.OrderedDict`
(called with no arguments: an empty dict), torch's tensor and parameter rebuild functions (replaced by the
stand-ins below, which check their arguments' types and return frozen `_Tensor` records), the `torch.*Storage`
classes and the `torch.<dtype>` globals. Any other global is refused with `UnsafeCheckpointError` when the
pickle names it, before anything is called. The storages the pickle refers to by persistent id become frozen
`_Storage` records; no storage data is read here. The only BUILD accepted is the one torch writes for a state
dict's `_metadata` (a dict's attributes, read and dropped). Whether a tensor's offset, size and stride address
bytes inside its storage is checked where the tensor is cut out (`reference.tensors`), from these records,
which nothing can change after they are made.

Example:

>>> import io, pickle
>>> obj, unpickler = _unpickle(io.BytesIO(pickle.dumps({"step": 3})), "demo.pth")
>>> obj, unpickler.roots
({'step': 3}, {})
"""

from __future__ import annotations

import dataclasses
import sys

import numpy as np

from tfgan_translate.reference.errors import CheckpointError, UnsafeCheckpointError, _error
from tfgan_translate.reference.pickle_machine import MalformedPickle as _Malformed
from tfgan_translate.reference.pickle_machine import PickleMachine, Truncated, describe

# === Element types ===


# dtype name -> the numpy type of its stored little-endian elements.
_DTYPES = {
    "float32": "<f4", "float64": "<f8", "float16": "<f2", "bfloat16": "<u2", "int64": "<i8", "int32": "<i4",
    "int16": "<i2", "int8": "i1", "uint8": "u1", "bool": "u1", "uint16": "<u2", "uint32": "<u4", "uint64": "<u8",
}  # fmt: skip


def _itemsize(dtype: str) -> int:
    return np.dtype(_DTYPES[dtype]).itemsize


# torch storage class -> the dtype of its elements ("uint8" for UntypedStorage, which counts bytes).
_STORAGE_CLASSES = {
    "FloatStorage": "float32", "DoubleStorage": "float64", "HalfStorage": "float16", "BFloat16Storage": "bfloat16",
    "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16", "CharStorage": "int8",
    "ByteStorage": "uint8", "BoolStorage": "bool", "UntypedStorage": "uint8",
}  # fmt: skip

# `torch.<name>` dtype globals (written beside UntypedStorage by `_rebuild_tensor_v3`) -> dtype name.
_TORCH_DTYPES = {**{name: name for name in _DTYPES}, "float": "float32", "double": "float64", "half": "float16",
                 "long": "int64", "int": "int32", "short": "int16"}

_UNSUPPORTED_DTYPE_PREFIXES = ("complex", "cfloat", "cdouble", "chalf", "float8", "float4", "qint", "quint", "bits")


# === What the pickle builds: frozen records ===


@dataclasses.dataclass(frozen=True)
class _StorageType:
    """Stands for a `torch.*Storage` class named in the pickle; carries only its element dtype."""

    dtype: str


@dataclasses.dataclass(frozen=True)
class _DType:
    """Stands for a `torch.<dtype>` global."""

    name: str


@dataclasses.dataclass(frozen=True)
class _Storage:
    """A storage of the file: record `key`, `numel` elements of `dtype` from element `start` (old views)."""

    key: str
    dtype: str
    numel: int
    start: int = 0


@dataclasses.dataclass(frozen=True)
class _Tensor:
    """A tensor to cut out of a storage once the whole pickle has been accepted (checked there, in `_build`)."""

    storage: _Storage
    dtype: str
    offset: object
    size: object
    stride: object


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _record_tensor(storage, storage_offset, size, stride, dtype=None):
    if not isinstance(storage, _Storage):
        raise _Malformed(f"a tensor is rebuilt from {describe(storage)}, not from a storage")
    if not isinstance(dtype, (_DType, type(None))):
        raise _Malformed(f"a tensor names the dtype {describe(dtype)}, not a torch dtype")
    return _Tensor(storage, storage.dtype if dtype is None else dtype.name, storage_offset, size, stride)


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
        raise _Malformed(f"a parameter is rebuilt from {describe(data)}, not from a tensor")
    return data


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _rebuild_parameter(data, requires_grad, backward_hooks)


def _ordered_dict():
    return {}  # what an OrderedDict is here: dicts keep their order


_ALLOWED_CALLABLES = {
    ("collections", "OrderedDict"): _ordered_dict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
}
_CALLABLE_NAMES = {func: f"{module}.{name}" for (module, name), func in _ALLOWED_CALLABLES.items()}

# Modules of Python itself (and Python 2's names for them), torch and numpy: a class there is never a user's model.
_NOT_MODELS = frozenset(sys.stdlib_module_names) | {"__builtin__", "copy_reg", "exceptions", "torch", "numpy"}


def _refusal(path, module, name):
    """The error for a global outside the allow-list: a pickled module gets its own message."""
    qualname, top = f"{module:.100}.{name:.100}", module.split(".")[0]
    if module.startswith(("torch.nn.", "__torch__")) or (top not in _NOT_MODELS and name[:1].isupper()):
        found = (f"it is a pickled module (its pickle names the class `{qualname}`), not a state dict, and was refused "
                 "before any of its code ran; save `net.state_dict()` instead of `net`")
    else:
        found = (f"its pickle names the global `{qualname}`, which a state dict never holds (allowed: "
                 "collections.OrderedDict, torch._utils' tensor and parameter rebuild functions, torch.*Storage "
                 "classes and torch dtypes); it was refused before anything in the file was run")
    return _error(path, found, UnsafeCheckpointError)


class _RestrictedUnpickler(PickleMachine):
    """Unpickles a torch pickle into dicts of `_Tensor` records, calling only the allow-listed stand-ins.

    With `allow_tensors=False` (the legacy stream's header pickles) every global and persistent id is refused.
    """

    def __init__(self, file, path, allow_tensors=True):
        super().__init__(file)
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
                raise _error(self._path, f"it holds a `{module}.{name:.100}` tensor, a type this reader does not "
                             f"read (it reads {', '.join(sorted(_STORAGE_CLASSES))})")
            if module == "torch" and name in _TORCH_DTYPES:
                return _DType(_TORCH_DTYPES[name])
            if module == "torch" and name.startswith(_UNSUPPORTED_DTYPE_PREFIXES):
                raise _error(self._path, f"it holds a `torch.{name:.100}` tensor, a dtype this reader does not read "
                             f"(it reads {', '.join(_DTYPES)})")
        raise _refusal(self._path, module, name)

    def call(self, func, args):
        name = _CALLABLE_NAMES.get(func) if callable(func) else None
        if name is None:
            raise _Malformed(f"it calls {describe(func)}, which is not a function")
        if func is _ordered_dict and args:
            raise _Malformed(f"it calls collections.OrderedDict with {len(args)} arguments (a state dict's has none)")
        try:
            return func(*args)
        except TypeError:  # the wrong number of arguments (the stand-ins take no keywords)
            raise _Malformed(f"it calls {name} with {len(args)} arguments") from None

    def build(self, obj, state):
        # torch's state dicts carry `_metadata` as an attribute of the OrderedDict: BUILD(dict, {"_metadata": ...}).
        if not (isinstance(obj, dict) and isinstance(state, dict) and all(isinstance(k, str) for k in state)):
            raise _Malformed(f"it sets the state of {describe(obj)} to {describe(state)} (BUILD); only a state "
                             "dict's attributes are read")

    def persistent_load(self, pid):
        if not self._allow_tensors:
            raise _Malformed(f"a header pickle holds the persistent id {describe(pid)}")
        if not isinstance(pid, tuple) or len(pid) not in (5, 6) or pid[0] not in ("storage", b"storage"):
            raise _Malformed(f"the pickle holds the persistent id {describe(pid)}, not a torch storage")
        storage_type, key, _location, numel = pid[1:5]
        view = pid[5] if len(pid) == 6 else None
        if not isinstance(storage_type, _StorageType):
            raise _Malformed(f"a storage has the type {describe(storage_type)}, not a torch storage class")
        if not isinstance(key, str) or len(key) > 256 or not _is_int(numel) or not 0 <= numel < 2**62:
            raise _Malformed(f"a storage has the key {describe(key)} and size {describe(numel)}")
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
            raise _Malformed(f"storage `{key}` of {numel} elements has the view {describe(view)}")
        storage = self._views.setdefault(view[0], _Storage(key, root.dtype, view[2], view[1]))
        if storage != _Storage(key, root.dtype, view[2], view[1]):
            raise _Malformed(f"the view `{view[0]:.100}` of storage `{key}` is declared twice, differently")
        return storage


def _unpickle(file, path, allow_tensors=True):
    """One pickle from `file` through the restricted unpickler; returns (object, unpickler)."""
    unpickler = _RestrictedUnpickler(file, path, allow_tensors)
    try:
        return unpickler.load(), unpickler
    except CheckpointError:
        raise
    except Truncated:
        raise _error(path, "it ends inside a pickle (a truncated file?)") from None
    except _Malformed as err:
        raise _error(path, f"its pickle is malformed: {err}") from None
    except (MemoryError, RecursionError) as err:  # bounded above; kept as a last line of defence
        raise _error(path, f"its pickle could not be read ({type(err).__name__})") from None

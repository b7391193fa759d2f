"""From the unpickled records to numpy arrays: the state dict among the pickled objects, and its tensors.

`read_tensors` runs the steps: `_select_state_dict` finds the flat dict of `_Tensor` records in what the pickle
built (unwrapping one of `WRAPPER_KEYS`); `_geometry` checks each record, before any storage is read, to address
only bytes inside its storage (no negative offsets or strides, no more elements than the storage holds), and
their total is bounded (`_MAX_COPIES`); `_build` then cuts each tensor out of its storage's raw bytes, read once,
when a tensor first needs them, and dropped after the last tensor that uses them.

Example:

>>> _select_state_dict("demo.pth", {"epoch": 3, "state_dict": {}})
{}
"""

from __future__ import annotations

import collections
import math
from typing import NamedTuple

import numpy as np

from tfgan_translate.reference.errors import _error
from tfgan_translate.reference.pickle_machine import describe
from tfgan_translate.reference.unpickler import _DTYPES, _is_int, _itemsize, _Storage, _Tensor

# Keys under which training scripts commonly nest a state dict beside other state ({"state_dict": ..., "epoch":
# ...}); one such level is unwrapped when exactly one of them holds a flat dict of tensors.
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model")
# The arrays of a file's tensors may take at most this many times the file's size (tensors sharing a storage,
# bfloat16 widened to float32); a stride-0 tensor of billions of elements on a few bytes is refused before any
# allocation.
_MAX_COPIES = 4
# dtype name -> the conversion of its native copy: bfloat16 bits are a float32's upper half, bools are bytes.
_CONVERSIONS = {"bfloat16": lambda bits: (bits.astype(np.uint32) << 16).view(np.float32), "bool": lambda v: v != 0}


def _describe(value):
    if isinstance(value, _Tensor):
        return "a tensor"
    if isinstance(value, (bytes, tuple, list, dict)):
        return describe(value)
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
    nested = [describe(key) for key, value in obj.items() if _is_state_dict(value)]
    if wrapped:
        found = f"its top-level dict holds several state dicts, under {', '.join(nested)}; it is unclear which one"
    elif nested:
        found = (f"its top-level dict holds state dicts under {', '.join(nested[:8])}, none under a key read "
                 f"as the model's ({', '.join(map(repr, WRAPPER_KEYS))}); save the one wanted alone")
    else:
        bad = [(key, value) for key, value in obj.items() if not (isinstance(key, str) and isinstance(value, _Tensor))]
        listed = ", ".join(f"{describe(key)} ({_describe(value)})" for key, value in bad[:5])
        found = f"its top-level dict has {len(bad)} entries that are not tensors under string keys: {listed}"
    raise _error(path, found)


_MAX_DIMS = 32
_MAX_EXTENT = 2**48  # a size or stride beyond this addresses more than any file holds


class _Geometry(NamedTuple):
    """A tensor record's checked values: byte range [first, end) of its storage record, shape and strides."""

    shape: tuple
    strides: tuple  # in elements
    first: int  # bytes from the start of the storage record
    end: int
    count: int
    itemsize: int


def _geometry(path, name, tensor) -> _Geometry:
    """Checks that tensor record `name` addresses only bytes inside its storage; returns what to cut.

    Every value is read once from the frozen record into plain ints here, and only these are used after.
    """
    storage, dtype = tensor.storage, tensor.dtype
    offset, shape, strides = tensor.offset, tensor.size, tensor.stride

    def refuse(found):
        return _error(path, f"its tensor `{name}` {found}")

    if not (isinstance(storage, _Storage) and dtype in _DTYPES and storage.dtype in _DTYPES):
        raise refuse("is not a tensor of a storage this reader reads")
    if not (_is_int(offset) and 0 <= offset < _MAX_EXTENT):
        raise refuse(f"has the storage offset {describe(offset)}, not an integer in [0, 2**48)")
    if not (isinstance(shape, tuple) and isinstance(strides, tuple) and len(shape) == len(strides) <= _MAX_DIMS):
        raise refuse(f"has the size {describe(shape)} and stride {describe(strides)}, not two tuples of one "
                     f"length up to {_MAX_DIMS}")
    bad = [n for n in shape + strides if not (_is_int(n) and 0 <= n < _MAX_EXTENT)]
    if bad:
        raise refuse(f"has a size or stride of {describe(bad[0])}, not an integer in [0, 2**48) (torch writes no "
                     "negative strides)")
    shape, strides, offset = tuple(map(int, shape)), tuple(map(int, strides)), int(offset)
    itemsize, storage_itemsize = _itemsize(dtype), _itemsize(storage.dtype)
    storage_bytes, base = storage.numel * storage_itemsize, storage.start * storage_itemsize
    count = math.prod(shape)
    first = base + offset * itemsize
    last = sum((n - 1) * s for n, s in zip(shape, strides, strict=True))  # the last element's index
    end = first + (last + 1) * itemsize if count else first
    if end > base + storage_bytes:
        raise refuse(f"(offset {offset}, size {shape}, stride {strides}, {dtype}) reaches past the end of its "
                     f"storage of {storage.numel} {storage.dtype}")
    if count * itemsize > storage_bytes:
        raise refuse(f"(size {shape}, stride {strides}) has {count} {dtype} elements, more than its storage of "
                     f"{storage.numel} {storage.dtype} holds (an expanded tensor, which a state dict never holds)")
    return _Geometry(shape, strides, first, end, count, itemsize)


def read_tensors(path, obj, read, byteorder, file_size) -> dict:
    """The numpy arrays of the state dict in `obj`, the pickled object, in its order.

    Every tensor record is checked before any storage is read, and together they may take at most `_MAX_COPIES`
    times the file's size. `read(key)` gives a storage record's raw bytes: each is read once, when a tensor first
    needs it, and dropped after the last tensor that uses it.
    """
    state = _select_state_dict(path, obj)
    geometries = {name: _geometry(path, name, tensor) for name, tensor in state.items()}
    total = sum(g.count * g.itemsize for g in geometries.values())
    if total > _MAX_COPIES * file_size:
        raise _error(path, f"its tensors would take {total} bytes, more than {_MAX_COPIES} times the file's size "
                     f"({file_size} bytes): its tensors share storages more than a state dict does")
    uses = collections.Counter(tensor.storage.key for tensor in state.values())
    left, cache, arrays = collections.Counter(uses), {}, {}
    try:
        for name, tensor in state.items():
            key = tensor.storage.key
            if key not in cache:
                cache[key] = read(key)
            left[key] -= 1
            data = cache[key] if left[key] else cache.pop(key)
            arrays[name] = _build(path, name, tensor, geometries[name], data, uses[key] == 1, byteorder)
    except MemoryError:
        raise _error(path, "its tensors do not fit in memory") from None
    return arrays


def _build(path, name, tensor, geometry, data, only_user, byteorder):
    """The numpy array of one checked tensor: a copy, or its storage's buffer when the tensor is all of it (and
    no other tensor uses that storage: `only_user`)."""
    stored = np.dtype(_DTYPES[tensor.dtype]).newbyteorder("<" if byteorder == "little" else ">")
    native = stored.newbyteorder("=")
    g = geometry
    if g.end > data.size:  # the record's size was checked against the pickle's; kept as a last guard
        raise _error(path, f"its tensor `{name}` reaches past the end of its storage record")
    if g.count == 0:
        array = np.zeros(g.shape, native)
    else:
        window = data[g.first:g.end].view(stored)
        strided = np.lib.stride_tricks.as_strided(window, shape=g.shape, strides=[s * g.itemsize for s in g.strides],
                                                  writeable=False)
        if g.first == 0 and g.end == data.size and strided.flags.c_contiguous and only_user:
            array = window.reshape(g.shape)  # the tensor is all of its storage, in C order: no copy
            if stored != native:
                array = array.byteswap(inplace=True).view(native)
        else:
            array = np.array(strided, native, order="C")  # a copy, in native byte order
    convert = _CONVERSIONS.get(tensor.dtype)
    return array if convert is None else convert(array)

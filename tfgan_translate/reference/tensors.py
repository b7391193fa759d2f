"""From the unpickled records to numpy arrays: the state dict among the pickled objects, and its tensors.

`_select_state_dict` finds the flat dict of `_Tensor` records in what the pickle built (unwrapping one of
`WRAPPER_KEYS`); `_build` cuts each tensor out of its storage's raw bytes, which `_Storages` reads once, when
a tensor first needs them, and drops after the last tensor that uses them.

Example:

>>> _select_state_dict("demo.pth", {"epoch": 3, "state_dict": {}})
{}
"""

from __future__ import annotations

import collections

import numpy as np

from tfgan_translate.reference.errors import _error
from tfgan_translate.reference.unpickler import _DTYPES, _Tensor

# Keys under which training scripts commonly nest a state dict beside other state ({"state_dict": ..., "epoch":
# ...}); one such level is unwrapped when exactly one of them holds a flat dict of tensors.
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model")


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

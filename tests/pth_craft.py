"""Crafting torch's `.pth` files without torch: pickle opcodes, the two layouts, and reading them in a subprocess.

Shared by tests/test_reference_pth.py, tests/test_reference_hostile.py and tests/pth_fuzz.py. The opcodes are
protocol 2's, as torch.save writes them; `read_in_subprocess` reads a file in a fresh process with a time limit and
reports the outcome and the peak memory above the reader's baseline (so that a crash, a hang or a blow-up of the
reader shows as an outcome, not as a dead test run).
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

MAGIC = 0x1950A86A20F9469CFC6C  # torch's legacy magic number

# === Opcodes ===


def op_global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def op_str(text):
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def op_int(value):
    return b"J" + struct.pack("<i", value)


def op_tuple(*items):
    return b"(" + b"".join(items) + b"t"


def op_tensor(key, storage="FloatStorage", numel=4, offset=0, size=(4,), stride=(1,), view=None):
    """`torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`.

    `view` (legacy files of torch < 1.0): (view key, element offset, element count) of a view of the storage.
    """
    pid = [op_str("storage"), op_global("torch", storage), op_str(key), op_str("cpu"), op_int(numel)]
    if view is not None:
        pid.append(op_tuple(op_str(view[0]), op_int(view[1]), op_int(view[2])))
    pid = op_tuple(*pid)
    hooks = op_global("collections", "OrderedDict") + b")R"
    args = op_tuple(pid + b"Q", op_int(offset), op_tuple(*map(op_int, size)), op_tuple(*map(op_int, stride)),
                    b"\x89", hooks)
    return op_global("torch._utils", "_rebuild_tensor_v2") + args + b"R"


def op_dict(entries, ordered=True):
    """A dict (an OrderedDict by default) of {key: opcodes of the value}."""
    head = op_global("collections", "OrderedDict") + b")R" if ordered else b"}"
    return head + b"(" + b"".join(op_str(key) + value for key, value in entries.items()) + b"u"


def pickled(body):
    return b"\x80\x02" + body + b"."


def system_call(command="touch MARKER"):
    """A reduce that would run `os.system(command)`."""
    return op_global("os", "system") + op_tuple(op_str(command)) + b"R"



# === The two layouts ===


def write_zip(path, data_pkl, storages=(), root="archive", byteorder=b"little", extra=()):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{root}/data.pkl", data_pkl)
        if byteorder is not None:
            archive.writestr(f"{root}/byteorder", byteorder)
        for key, data in storages:
            archive.writestr(f"{root}/data/{key}", data)
        archive.writestr(f"{root}/version", b"3\n")
        for name, data in extra:
            archive.writestr(name, data)
    return path


def write_legacy(path, object_pickle, storages=(), keys=None):
    sys_info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}
    parts = [pickle.dumps(MAGIC, protocol=2), pickle.dumps(1001, protocol=2), pickle.dumps(sys_info, protocol=2)]
    parts.append(object_pickle)
    parts.append(pickle.dumps([key for key, _, _ in storages] if keys is None else keys, protocol=2))
    for _, count, data in storages:
        parts.append(struct.pack("<q", count) + data)
    path.write_bytes(b"".join(parts))
    return path


# === Reading in a subprocess ===

_READER = r"""
import json, resource, sys
from tfgan_translate.reference import CheckpointError, read_state_dict

def peak_kib():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))

path, limit_mib = sys.argv[1], int(sys.argv[2])
with open("/proc/self/clear_refs", "w") as f:  # the peak from here on (5: reset the peak RSS)
    f.write("5")
baseline = peak_kib()
soft, hard = resource.getrlimit(resource.RLIMIT_AS)
with open("/proc/self/status") as f:
    size = next(int(line.split()[1]) for line in f if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, ((size + limit_mib * 1024) * 1024, hard))
try:
    state = read_state_dict(path)
    result = {"outcome": "loaded", "keys": len(state)}
except CheckpointError as err:
    result = {"outcome": "refused", "message": str(err)}
except BaseException as err:
    result = {"outcome": "error", "type": type(err).__name__, "message": str(err)[:300]}
result["peak_mib"] = (peak_kib() - baseline) / 1024
print(json.dumps(result))
"""


def read_in_subprocess(path, *, timeout=60, limit_mib=1024) -> dict:
    """Reads `path` with `read_state_dict` in a fresh process; returns its outcome.

    The process may take `limit_mib` MiB of address space beyond what it holds after importing the reader
    (RLIMIT_AS) and `timeout` seconds. Returns {"outcome": "loaded" | "refused" | "error" | "crashed" | "hung",
    "message", "peak_mib" (peak resident memory above the baseline after imports), ...}.
    """
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    try:
        done = subprocess.run([sys.executable, "-c", _READER, str(path), str(limit_mib)], capture_output=True,
                              text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"outcome": "hung", "message": f"no answer within {timeout} s"}
    if done.returncode != 0:
        return {"outcome": "crashed", "message": f"exit {done.returncode}: {done.stderr[-500:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])

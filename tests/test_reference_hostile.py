"""Hostile `.pth` files and reference folders: each is refused with one line, fast and in little memory.

Every file is crafted here from pickle opcodes (no torch) and read in a fresh process (`read_in_subprocess`),
so that an out-of-bounds read, a crash, a hang or a blow-up shows as the outcome of one case. Each case is one
that the reader before issue 19 got wrong: a BUILD rewriting a validated tensor record (heap bytes imported, or
SIGSEGV), "billion laughs" reference graphs formatted or hashed without bound (hangs), a stride-0 tensor of
16384 x 32768 elements on 16 bytes (2.7 GB allocated), a deeply nested key (RecursionError), a dtype set to
`object` (KeyError), and an options file's `ngf: 1000` (a 5.9 GB model built before the shapes were compared).
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pth_craft import (
    MAGIC,
    op_dict,
    op_global,
    op_int,
    op_str,
    op_tensor,
    op_tuple,
    pickled,
    read_in_subprocess,
    write_legacy,
    write_zip,
)

ROOT = Path(__file__).resolve().parents[1]
NETWORKS = Path(__file__).resolve().parent / "fixtures" / "reference" / "networks"
PEAK_LIMIT_MIB = 200  # the bound: a refusal costs less than this above the reader's baseline
VALUES = np.arange(1176, dtype=np.float32)  # one conv kernel's worth (1,176 floats), as in the report


def build_state(**state):
    """BUILD(obj, (None, {slot: value})): how a pickle sets the attributes of an object with __slots__."""
    items = b"".join(op_str(k) + v for k, v in state.items())
    return b"N}(" + items + b"u\x86b"


def refused(path, **kwargs):
    """Reads `path` in a subprocess and checks: refused with one line naming the file, within the memory bound."""
    result = read_in_subprocess(path, limit_mib=4096, **kwargs)
    assert result["outcome"] == "refused", result
    message = result["message"]
    assert f"`{path}`" in message and "\n" not in message, message
    assert result["peak_mib"] < PEAK_LIMIT_MIB, result
    return result


# === Records rewritten after they were checked ===


@pytest.mark.parametrize("rewrite", [
    {"offset": op_int(-4096)},  # reads 16 KiB before the buffer: heap bytes in the weights
    {"stride": op_tuple(op_int(-1)), "offset": op_int(1175)},  # a negative stride walking backwards
    {"size": op_tuple(op_int(1 << 26))},  # far past the end of the buffer: SIGSEGV
    {"storage": op_int(3)},  # not a storage at all
    {"dtype": op_str("object")},  # KeyError inside the reader
], ids=["negative-offset", "negative-stride", "past-the-end", "not-a-storage", "dtype-object"])
def test_a_build_cannot_rewrite_a_tensor_record(tmp_path, rewrite):
    tensor = op_tensor("0", numel=VALUES.size, size=(VALUES.size,)) + build_state(**rewrite)
    path = write_zip(tmp_path / "rewritten.pth", pickled(op_dict({"w": tensor})), [("0", VALUES.tobytes())])
    assert "BUILD" in refused(path)["message"]


def test_a_build_cannot_rewrite_a_storage_record(tmp_path):
    # The storage record of a persistent id, rewritten to claim a larger record after the size check.
    pid = op_tuple(op_str("storage"), op_global("torch", "FloatStorage"), op_str("0"), op_str("cpu"), op_int(4))
    storage = pid + b"Q" + build_state(numel=op_int(1 << 30))
    args = op_tuple(storage, op_int(0), op_tuple(op_int(4)), op_tuple(op_int(1)), b"\x89",
                    op_global("collections", "OrderedDict") + b")R")
    tensor = op_global("torch._utils", "_rebuild_tensor_v2") + args + b"R"
    path = write_zip(tmp_path / "storage.pth", pickled(op_dict({"w": tensor})), [("0", bytes(16))])
    refused(path)


def test_negative_values_in_a_record_are_refused_however_they_arrive(tmp_path):
    for i, tensor in enumerate([op_tensor("0", size=(2,), stride=(-1,), offset=1),
                                op_tensor("0", size=(-1,)), op_tensor("0", offset=-2, size=(2,))]):
        path = write_zip(tmp_path / f"negative{i}.pth", pickled(op_dict({"w": tensor})), [("0", bytes(16))])
        refused(path)


# === Graphs that cost without bound ===


def laughs(depth, width=10, tuples=False):
    """A container of `width` references to a container of `width` references ... `depth` levels deep."""
    body = b")q\x00" if tuples else b"]q\x00"  # level 0: an empty tuple or list, memo 0
    for level in range(1, depth + 1):  # each level: drop the last from the stack, refer to it `width` times
        refs = b"h" + bytes([level - 1])
        body += b"0(" + refs * width + (b"t" if tuples else b"l") + b"q" + bytes([level])
    return body


@pytest.mark.parametrize("case", ["persistent-id", "dict-key", "legacy-magic", "state-dict-value"])
def test_billion_laughs_are_refused_fast(tmp_path, case):
    if case == "persistent-id":  # the old error path formatted the id: 10**20 list entries
        body = op_dict({"w": laughs(20) + b"Q"})
    elif case == "dict-key":  # hashing a tuple of tuples: 10**20 steps
        body = b"}" + laughs(20, tuples=True) + op_tensor("0") + b"s"
    elif case == "state-dict-value":
        body = op_dict({"w": op_tensor("0"), "x": laughs(20)})
    else:  # the first pickle of a legacy stream, formatted where it should be torch's magic number
        path = tmp_path / "laughs.pth"
        path.write_bytes(pickled(laughs(20)))
        refused(path, timeout=30)
        return
    path = write_zip(tmp_path / "laughs.pth", pickled(body), [("0", bytes(16))])
    refused(path, timeout=30)


def test_deep_nesting_is_refused_without_recursion(tmp_path):
    deep = b"(" * 100_000 + b")" + b"\x85" * 100_000  # a tuple inside a tuple ... 100,000 deep
    path = write_zip(tmp_path / "deep.pth", pickled(b"}" + deep + op_tensor("0") + b"s"), [("0", bytes(16))])
    assert "deep" in refused(path)["message"]


def test_a_stride0_tensor_is_refused_before_allocating(tmp_path):
    tensor = op_tensor("0", numel=4, size=(16384, 32768), stride=(0, 0))  # 2 GiB of float32 from 16 bytes
    path = write_zip(tmp_path / "expanded.pth", pickled(op_dict({"w": tensor})), [("0", bytes(16))])
    assert "more than its storage" in refused(path)["message"]


def test_shared_storages_beyond_the_bound_are_refused(tmp_path):
    # 64 views of the whole of one 4 KiB storage: 256 KiB of arrays from a 5 KiB file
    entries = {f"w{i}": op_tensor("0", numel=1024, size=(1024,)) for i in range(64)}
    path = write_zip(tmp_path / "shared.pth", pickled(op_dict(entries)), [("0", bytes(4096))])
    assert "times the file's size" in refused(path)["message"]


def test_a_huge_declared_string_allocates_nothing(tmp_path):
    # BINUNICODE8 of 2**40 bytes in a legacy stream: refused for the bytes it lacks, not read
    object_pickle = b"\x80\x04\x8d" + struct.pack("<Q", 1 << 40) + b"abc"
    path = write_legacy(tmp_path / "string.pth", object_pickle)
    assert "truncated" in refused(path)["message"]


@pytest.mark.parametrize("body, what", [
    (op_global("torch._utils", "_rebuild_tensor_v2") + op_tuple(op_int(1)) + b"R", "arguments"),
    (op_global("collections", "OrderedDict") + op_tuple(op_tuple(op_tuple(op_str("a"), op_int(1)))) + b"R",
     "OrderedDict"),
    (b"\x8f", "set"),
    (b"(" + b"K\x01" * 10 + b"\x85.", "stack"),
], ids=["wrong-arity", "ordered-dict-with-items", "set", "left-on-stack"])
def test_other_malformed_pickles_are_named(tmp_path, body, what):
    path = write_zip(tmp_path / "odd.pth", pickled(body), [("0", bytes(16))])
    assert what in refused(path)["message"]


def test_the_legacy_header_pickles_are_held_to_the_same_bounds(tmp_path):
    path = tmp_path / "legacy.pth"
    path.write_bytes(pickled(op_int(1)) + b"garbage")  # a pickle, but not torch's magic number
    assert "not one torch.save wrote" in refused(path)["message"]
    header = pickled(b"\x8a\x0a" + MAGIC.to_bytes(10, "little")) + pickled(b"M\xe9\x03")  # magic, 1001
    path.write_bytes(header + pickled(laughs(20)))  # the system-info pickle: a billion laughs, not a dict
    assert "system-info pickle holds a list" in refused(path, timeout=30)["message"]


# === A reference folder whose options do not fit its files ===


def reference_run_with_options(tmp_path, **options):
    folder = tmp_path / "checkpoints" / "facades"
    folder.mkdir(parents=True)
    (folder / "latest_net_G.pth").write_bytes((NETWORKS / "unet32_none.pth").read_bytes())
    args = json.loads(str(np.load(NETWORKS / "unet32_none.npz")["args"]))
    opts = {"model": "pix2pix", "netG": args["netG"], "norm": args["norm"], "ngf": args["ngf"],
            "input_nc": args["input_channels"], "output_nc": args["output_channels"], "direction": "AtoB",
            "dataroot": "./datasets/facades", "netD": "basic", "ndf": 64, **options}
    lines = ["----------------- Options ---------------", *(f"{k:>25}: {v!s:<30}" for k, v in opts.items()),
             "----------------- End -------------------"]
    (folder / "train_opt.txt").write_text("\n".join(lines) + "\n")
    return folder


_IMPORT = r"""
import json, sys
from tfgan_translate.reference import CheckpointError, import_reference

def peak_kib():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))

with open("/proc/self/clear_refs", "w") as f:
    f.write("5")
baseline = peak_kib()
try:
    import_reference(sys.argv[1], sys.argv[2])
    outcome, message = "imported", ""
except CheckpointError as err:
    outcome, message = "refused", str(err)
print(json.dumps({"outcome": outcome, "message": message, "peak_mib": (peak_kib() - baseline) / 1024}))
"""


def test_options_that_do_not_fit_the_files_are_refused_before_building(tmp_path):
    folder = reference_run_with_options(tmp_path, ngf=1000)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _IMPORT, str(folder), str(tmp_path / "run")], capture_output=True,
                          text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["outcome"] == "refused", result
    assert "ngf 1 in the file, ngf=1000 given" in result["message"], result
    assert result["peak_mib"] < PEAK_LIMIT_MIB, result
    assert not (tmp_path / "run").exists()


def test_the_cli_refuses_a_hostile_file_with_one_line(tmp_path):
    tensor = op_tensor("0", numel=4, size=(4,)) + build_state(offset=op_int(-4096))
    path = write_zip(tmp_path / "evil.pth", pickled(op_dict({"w": tensor})), [("0", bytes(16))])
    done = subprocess.run([sys.executable, "-m", "tfgan_translate", "import", str(path), "--netG", "unet_32",
                           "--norm", "none", "--out", str(tmp_path / "run")], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "run").exists()


# === The pickle machine reads what the standard library writes ===


@pytest.mark.parametrize("protocol", range(6))
def test_the_machine_reads_plain_data_of_every_protocol(protocol):
    import io
    import pickle

    from tfgan_translate.reference.pickle_machine import PickleMachine

    value = {"a": [1, 2.5, "x", None, True, False, (1, (2, "é"))], 3: -(2**70), "": {"nested": []}, 0.5: ()}
    if protocol >= 3:
        value["bytes"] = b"\x00\xff"
    assert PickleMachine(io.BytesIO(pickle.dumps(value, protocol=protocol))).load() == value

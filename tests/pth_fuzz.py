"""Fuzzing `read_state_dict`: valid `.pth` fixtures mutated thousands of ways, each read under a time and memory bound.

Usage (tests/test_reference_fuzz.py runs it in a subprocess; run it by hand for the figures):

    python tests/pth_fuzz.py --cases 4000 --seed 0 [--json OUT.json] [--memory-mib 1024]

The mutations work on the pickle, where the reader's decisions are (in a zip the mutated `data.pkl` is zipped
again, so that its CRC holds and the pickle is what gets tested), and on the whole file: bytes flipped,
truncations, opcodes inserted (any opcode, with random arguments), integers of the tensor records rewritten
(offsets, sizes, strides, storage sizes: negatives, zeros, 2**31 - 1, off by one), BUILDs injected after calls,
and slices of the pickle copied elsewhere.

Every case must end in one of:
- "same": it loads to exactly the original's tensors;
- "changed": it loads to other tensors (a key renamed, a size shrunk, a legacy storage byte flipped: files the
  reader cannot tell from valid ones), and every array equals an independent decoding of the mutated file (the
  standard library's unpickler with recording stand-ins, then a bounds-checked numpy gather), so nothing was
  read from outside the file's storages;
- "refused": CheckpointError.
Anything else fails the run: another exception ("error"), a loaded file that the independent decoding reads
differently ("mismatch"), a case over the time limit ("hung", via SIGALRM), a MemoryError under the address-space
limit set after the imports ("error"), or a dead process (the parent sees the signal; `--progress` names the
case that was running).

Prints one JSON object: cases, seconds, peak_mib above the baseline after the imports, outcomes, failures.
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import pickle
import pickletools
import random
import resource
import signal
import struct
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tfgan_translate.reference import CheckpointError, read_state_dict  # noqa: E402

SEEDS = [HERE / "fixtures" / "reference" / "pth" / "state_dict_zip.pth",
         HERE / "fixtures" / "reference" / "pth" / "state_dict_legacy.pth",
         HERE / "fixtures" / "reference" / "networks" / "unet32_none.pth",
         HERE / "fixtures" / "reference" / "networks" / "pixel_instance_legacy.pth"]
OPCODES = [op.code.encode("latin-1") for op in pickletools.opcodes]
INTERESTING = [-(2**31), -4096, -1, 0, 1, 2, 3, 7, 255, 65535, 2**31 - 1]


# === The seeds: where the pickle sits in each layout ===


class Seed:
    """A valid file, split as (before the pickle, the pickle, after it); `join` rebuilds a file around a pickle."""

    def __init__(self, path: Path):
        self.path, self.data = path, path.read_bytes()
        self.original = read_state_dict(path)
        if self.data[:2] == b"PK":
            with zipfile.ZipFile(path) as archive:
                self.records = {info.filename: archive.read(info) for info in archive.infolist()}
            self.pickle_name = next(name for name in self.records if name.endswith("/data.pkl"))
            self.pickle = self.records[self.pickle_name]
        else:
            stream = io.BytesIO(self.data)
            for _ in range(3):  # magic, protocol, system info
                for _ in pickletools.genops(stream):
                    pass
            start = stream.tell()
            for _ in pickletools.genops(stream):
                pass
            self.head, self.pickle, self.tail = self.data[:start], self.data[start:stream.tell()], \
                self.data[stream.tell():]
            self.records = None

    def join(self, pickle_bytes: bytes) -> bytes:
        if self.records is None:
            return self.head + pickle_bytes + self.tail
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
            for name, data in self.records.items():
                archive.writestr(name, pickle_bytes if name == self.pickle_name else data)
        return out.getvalue()


# === Mutations ===


def _ints(data: bytes):
    """(start, end) of each BININT/BININT1/BININT2 opcode with its argument."""
    spans = []
    try:
        for op, _, pos in pickletools.genops(data):
            if op.name in ("BININT", "BININT1", "BININT2"):
                spans.append((pos, pos + 1 + {"BININT": 4, "BININT1": 1, "BININT2": 2}[op.name]))
    except Exception:
        pass
    return spans


def mutate(seed: Seed, rng: random.Random) -> tuple[str, bytes]:
    """(the mutation's name, the mutated file)."""
    p = bytearray(seed.pickle)
    kind = rng.choice(["flip", "truncate", "insert-opcode", "rewrite-int", "inject-build", "splice", "flip-file",
                       "truncate-file"])
    if kind == "flip":
        for _ in range(rng.randint(1, 4)):
            p[rng.randrange(len(p))] = rng.randrange(256)
    elif kind == "truncate":
        del p[rng.randrange(len(p)):]
    elif kind == "insert-opcode":
        at = rng.randrange(len(p))
        p[at:at] = rng.choice(OPCODES) + bytes(rng.randrange(256) for _ in range(rng.randint(0, 8)))
    elif kind == "rewrite-int":
        spans = _ints(bytes(p))
        for _ in range(rng.randint(1, 3)):
            if not spans:
                break
            start, end = rng.choice(spans)
            old = p[start:end]
            value = rng.choice(INTERESTING + [rng.randint(-(2**31), 2**31 - 1)])
            if rng.random() < 0.3 and old[:1] == b"K":
                value = old[1] + rng.choice([-1, 1])  # off by one
            p[start:end] = b"J" + struct.pack("<i", value)
            spans = _ints(bytes(p))
    elif kind == "inject-build":
        calls = [i for i, byte in enumerate(p) if byte == ord("R")]
        if calls:
            at = rng.choice(calls) + 1
            slot = rng.choice([b"offset", b"size", b"stride", b"storage", b"dtype", b"numel", b"key", b"_metadata"])
            value = rng.choice([b"J\xff\xff\xff\xff", b"(J\xff\xff\xff\xfft", b"N", b"X\x06\x00\x00\x00object"])
            p[at:at] = b"N}(X" + struct.pack("<I", len(slot)) + slot + value + b"u\x86b"
    elif kind == "splice":
        a, b = sorted(rng.randrange(len(p)) for _ in range(2))
        at = rng.randrange(len(p))
        p[at:at] = p[a:b][:64]
    data = seed.join(bytes(p))
    if kind == "flip-file":
        data = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        data = bytes(data)
    elif kind == "truncate-file":
        data = data[:rng.randrange(len(data))]
    return kind, data


# === An independent decoding, for files the reader loaded ===

_ELEMENT = {"FloatStorage": "f4", "DoubleStorage": "f8", "HalfStorage": "f2", "BFloat16Storage": "u2",
            "LongStorage": "i8", "IntStorage": "i4", "ShortStorage": "i2", "CharStorage": "i1", "ByteStorage": "u1",
            "BoolStorage": "u1", "UntypedStorage": "u1"}
_TORCH_DTYPE = {"float32": "f4", "float": "f4", "float64": "f8", "double": "f8", "float16": "f2", "half": "f2",
                "bfloat16": "u2", "int64": "i8", "long": "i8", "int32": "i4", "int": "i4", "int16": "i2",
                "short": "i2", "int8": "i1", "uint8": "u1", "bool": "u1", "uint16": "u2", "uint32": "u4",
                "uint64": "u8"}


class _Decoder(pickle._Unpickler):
    """The standard library's unpickler with recording stand-ins (used only on files the reader accepted).

    Its pure-Python twin, whose memo is a dict: the C one sizes an array by the largest memo index, 2**32 at most.
    """

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name.startswith("_rebuild_tensor"):
            return lambda storage, offset, size, stride, *rest: ("tensor", storage, offset, size, stride,
                                                                 rest[2] if name.endswith("v3") else None)
        if module == "torch._utils" and name.startswith("_rebuild_parameter"):
            return lambda data, *rest: data
        if module in ("torch", "torch.storage") and name in _ELEMENT:
            return ("storage-type", name)
        if module == "torch" and name in _TORCH_DTYPE:
            return ("dtype", name)
        raise pickle.UnpicklingError(f"{module}.{name}")

    def persistent_load(self, pid):
        return pid


def independent_decoding(data: bytes) -> dict:
    """{key: array} of a file the reader loaded: its pickle decoded by the standard library, each tensor
    gathered with numpy from its storage's bytes by index (np.take raises on any index outside the storage)."""
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            root = next(n for n in names if n.endswith("/data.pkl"))[: -len("data.pkl")]
            obj = _Decoder(io.BytesIO(archive.read(root + "data.pkl"))).load()
            order = archive.read(root + "byteorder").decode() if root + "byteorder" in names else "little"
            raw = {n[len(root) + 5:]: archive.read(n) for n in names if n.startswith(root + "data/")}
    else:
        stream = io.BytesIO(data)
        for _ in range(3):
            pickle.load(stream)
        obj = _Decoder(stream).load()
        keys = pickle.load(stream)
        raw, order = {}, "little"
        for key in keys:
            (count,) = struct.unpack("<q", stream.read(8))
            pid = _find_pid(obj, key)
            raw[key] = stream.read(count * np.dtype(_ELEMENT[pid[1][1]]).itemsize)
    state = obj
    if not all(isinstance(v, tuple) and v[:1] == ("tensor",) for v in state.values()):
        state = next(v for k, v in obj.items() if k in ("state_dict", "model_state_dict", "model"))
    out = {}
    for key, (_, pid, offset, size, stride, dtype) in state.items():
        element = _ELEMENT[pid[1][1]]
        code = _TORCH_DTYPE[dtype[1]] if dtype else element
        storage = np.frombuffer(raw[pid[2]], np.dtype(element).newbyteorder("<" if order == "little" else ">"))
        start = 0
        if len(pid) == 6 and pid[5] is not None:  # a legacy view: (view key, element offset, element count)
            start = pid[5][1]
        flat = np.frombuffer(storage.tobytes(), np.dtype(code).newbyteorder("<" if order == "little" else ">"))
        if 0 in size:
            array = np.zeros(size, np.dtype(code).newbyteorder("="))
        else:
            index = np.full(size, start + offset, np.int64) if size else np.int64(start + offset)
            for axis, (n, s) in enumerate(zip(size, stride, strict=True)):
                shape = [1] * len(size)
                shape[axis] = n
                index = index + np.arange(n, dtype=np.int64).reshape(shape) * s
            array = np.take(flat, index, mode="raise").astype(np.dtype(code).newbyteorder("="))
        if (dtype and dtype[1] == "bfloat16") or (not dtype and pid[1][1] == "BFloat16Storage"):
            array = (array.astype(np.uint32) << 16).view(np.float32)
        if (dtype and dtype[1] == "bool") or (not dtype and pid[1][1] == "BoolStorage"):
            array = array != 0
        out[key] = array
    return out


def _find_pid(obj, key):
    for value in obj.values():
        if isinstance(value, tuple) and value[:1] == ("tensor",) and value[1][2] == key:
            return value[1]
        if isinstance(value, dict):
            found = _find_pid(value, key)
            if found:
                return found
    return None


def same(a: dict, b: dict) -> bool:
    return list(a) == list(b) and all(
        a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and np.array_equal(a[k], b[k], equal_nan=True)
        for k in a)


# === The run ===


class _Hung(Exception):
    pass


def _alarm(signum, frame):
    raise _Hung


def peak_mib() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def run(cases: int, seed: int, memory_mib: int, case_seconds: float, progress: Path | None) -> dict:
    seeds = [Seed(path) for path in SEEDS]
    rng = random.Random(seed)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # the peak from here on
    baseline = peak_mib()
    with open("/proc/self/status") as f:
        size_kib = next(int(line.split()[1]) for line in f if line.startswith("VmSize:"))
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    resource.setrlimit(resource.RLIMIT_AS, ((size_kib * 1024 + memory_mib * 2**20), hard))
    signal.signal(signal.SIGALRM, _alarm)
    outcomes, by_kind, failures = collections.Counter(), collections.Counter(), []
    slowest = 0.0
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.pth"
        for i in range(cases):
            seed_file = seeds[i % len(seeds)]
            kind, data = mutate(seed_file, rng)
            path.write_bytes(data)
            if progress:
                progress.write_text(f"{i} {kind} {seed_file.path.name}\n")
            t0 = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, case_seconds)
            try:
                try:
                    state = read_state_dict(path)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                if same(state, seed_file.original):
                    outcome = "same"
                else:
                    try:
                        outcome = "changed" if same(state, independent_decoding(data)) else "mismatch"
                    except Exception as err:
                        outcome = f"mismatch ({type(err).__name__})"
            except CheckpointError:
                outcome = "refused"
            except _Hung:
                outcome = "hung"
            except Exception as err:
                outcome = f"error ({type(err).__name__}: {str(err)[:120]})"
            slowest = max(slowest, time.perf_counter() - t0)
            outcomes[outcome.split(" ")[0]] += 1
            by_kind[f"{kind}: {outcome.split(' ')[0]}"] += 1
            if outcome.split(" ")[0] not in ("same", "changed", "refused"):
                failures.append({"case": i, "kind": kind, "seed": seed_file.path.name, "outcome": outcome})
    return {"cases": cases, "seed": seed, "seconds": round(time.perf_counter() - start, 2),
            "slowest_case_s": round(slowest, 3), "peak_mib": round(peak_mib() - baseline, 1),
            "memory_limit_mib": memory_mib, "outcomes": dict(outcomes), "by_mutation": dict(sorted(by_kind.items())),
            "failures": failures[:20]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-mib", type=int, default=1024, help="address space allowed above the baseline")
    parser.add_argument("--case-seconds", type=float, default=10.0)
    parser.add_argument("--progress", type=Path, help="a file naming the case being read (to find a crash)")
    parser.add_argument("--json", type=Path, help="also write the summary here")
    args = parser.parse_args(argv)
    summary = run(args.cases, args.seed, args.memory_mib, args.case_seconds, args.progress)
    text = json.dumps(summary, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(text)
    return 0 if not summary["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())

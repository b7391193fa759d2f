"""tfgan_translate.reference.pth: reading torch's `.pth` files without torch, and refusing everything else.

The fixtures (tests/fixtures/reference/pth/, written by make_pth_fixtures.py with torch) hold one state dict
in both layouts and its exact values; every other file here is crafted from pickle opcodes, without torch.
"""

from __future__ import annotations

import ast
import io
import os
import pickle
import struct
import sys
import zipfile
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
    system_call,
    write_legacy,
    write_zip,
)

from tfgan_translate.reference import CheckpointError, UnsafeCheckpointError, pth, read_state_dict

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reference" / "pth"
ZIP = FIXTURES / "state_dict_zip.pth"
LEGACY = FIXTURES / "state_dict_legacy.pth"
LEGACY_LACKS = "uint16"  # the one entry the legacy fixture leaves out (see make_pth_fixtures.py)


@pytest.fixture(scope="module")
def expected():
    with np.load(FIXTURES / "expected.npz", allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


# === Writing torch's two layouts around a pickle ===


def zip_records(path):
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def rezip(src, dst, rename=lambda name: name, replace=None, drop=()):
    """A copy of a zip fixture with records renamed, replaced ({name: bytes}) or dropped."""
    replace = replace or {}
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as archive:
        for name, data in zip_records(src).items():
            if name not in drop:
                archive.writestr(rename(name), replace.get(name, data))
    return dst


def fixture_pickle():
    """The zip fixture's data.pkl: a protocol-2 pickle of the state dict."""
    data = zip_records(ZIP)["state_dict_zip/data.pkl"]
    assert data[:2] == b"\x80\x02" and data[-1:] == b"."
    return data


def wrap(body_pickle, key, others=b""):
    """{key: <the pickled object>, **others}: splices a pickle's body into a dict (memo indices stay valid)."""
    return b"\x80\x02}(" + op_str(key) + body_pickle[2:-1] + others + b"u."


def assert_names_file(err, path):
    assert f"`{path}`" in str(err.value), str(err.value)


# === Reading what torch wrote ===


@pytest.mark.parametrize("path", [ZIP, LEGACY], ids=["zip", "legacy"])
def test_fixture_equals_expected_exactly(path, expected):
    state = read_state_dict(path)
    keys = [key for key in expected if not (path == LEGACY and key == LEGACY_LACKS)]
    assert type(state) is dict and list(state) == keys  # the file's order
    for key in keys:
        array, want = state[key], expected[key]
        assert isinstance(array, np.ndarray) and array.dtype == want.dtype and array.shape == want.shape, key
        np.testing.assert_array_equal(array, want, err_msg=key, strict=True)
        assert array.dtype.isnative and array.flags.c_contiguous and array.flags.writeable, key


@pytest.mark.parametrize("path", [ZIP, LEGACY], ids=["zip", "legacy"])
def test_dtypes_views_and_shared_storages(path, expected):
    state = read_state_dict(path)
    assert state["0.weight"].dtype == np.float32 and state["half"].dtype == np.float16
    assert state["double"].dtype == np.float64 and state["int32"].dtype == np.int32
    assert state["uint8"].dtype == np.uint8 and state["bool"].dtype == np.bool_
    assert state["bfloat16"].dtype == np.float32  # widened, exactly
    np.testing.assert_array_equal(state["bfloat16"], np.float32([1.5, -2.0, 3.140625, 0.00099945068359375]))
    counter = state["1.num_batches_tracked"]
    assert counter.shape == () and counter.dtype == np.int64 and counter == 1
    assert state["transposed"].shape == (4, 3)  # a transposed view: copied out in its own order
    assert state["strided"].tolist() == [1, 4, 7]
    assert state["empty"].shape == (0, 3)
    # two tensors on one storage come back as independent arrays
    head, tail = state["shared_head"], state["shared_tail"]
    assert not np.shares_memory(head, tail)
    head[:] = 0
    np.testing.assert_array_equal(tail, expected["shared_tail"])


def test_uint16_through_rebuild_tensor_v3(expected):
    # torch writes uint16 as _rebuild_tensor_v3(UntypedStorage, ..., torch.uint16)
    assert b"_rebuild_tensor_v3" in fixture_pickle() and b"torch\nuint16" in fixture_pickle()
    np.testing.assert_array_equal(read_state_dict(ZIP)["uint16"], np.uint16([0, 1, 65535]), strict=True)


def test_any_archive_root_and_str_or_pathlike(tmp_path, expected):
    renamed = rezip(ZIP, tmp_path / "renamed.pth", rename=lambda name: name.replace("state_dict_zip/", "archive/"))
    for path in (renamed, str(renamed)):
        np.testing.assert_array_equal(read_state_dict(path)["0.weight"], expected["0.weight"])


def test_big_endian_byteorder_is_honoured(tmp_path):
    values = np.float32([1.0, -2.5, 3.25, 1e-8])
    data = pickled(op_dict({"w": op_tensor("0", size=(2, 2), stride=(2, 1))}))
    path = write_zip(tmp_path / "big.pth", data, [("0", values.astype(">f4").tobytes())], byteorder=b"big")
    array = read_state_dict(path)["w"]
    assert array.dtype.isnative
    np.testing.assert_array_equal(array, values.reshape(2, 2))


def test_unknown_byteorder_is_refused(tmp_path):
    data = pickled(op_dict({"w": op_tensor("0")}))
    path = write_zip(tmp_path / "odd.pth", data, [("0", bytes(16))], byteorder=b"middle")
    with pytest.raises(CheckpointError, match="byteorder") as err:
        read_state_dict(path)
    assert_names_file(err, path)


def test_legacy_storage_views(tmp_path):
    values = np.arange(8, dtype=np.float32)
    body = op_dict({
        "view": op_tensor("0", numel=8, size=(3,), view=("v", 2, 3)),  # elements 2..4 of storage 0
        "again": op_tensor("0", numel=8, offset=1, size=(2,), view=("v", 2, 3)),  # the same view, offset 1
        "whole": op_tensor("0", numel=8, size=(2, 4), stride=(4, 1)),
    })
    path = write_legacy(tmp_path / "views.pth", pickled(body), [("0", 8, values.tobytes())])
    state = read_state_dict(path)
    assert state["view"].tolist() == [2, 3, 4] and state["again"].tolist() == [3, 4]
    np.testing.assert_array_equal(state["whole"], values.reshape(2, 4))
    body = pickled(op_dict({"w": op_tensor("0", numel=8, size=(4,), view=("v", 2, 3))}))
    with pytest.raises(CheckpointError, match="reaches past the end of its storage of 3"):
        read_state_dict(write_legacy(tmp_path / "past_view.pth", body, [("0", 8, values.tobytes())]))
    body = pickled(op_dict({"w": op_tensor("0", numel=8, size=(1,), view=("v", 6, 3))}))
    with pytest.raises(CheckpointError, match="has the view"):
        read_state_dict(write_legacy(tmp_path / "bad_view.pth", body, [("0", 8, values.tobytes())]))


def test_nested_state_dict_under_a_known_key_is_unwrapped(tmp_path, expected):
    others = op_str("epoch") + op_int(3) + op_str("optimizer") + b"}"
    path = rezip(ZIP, tmp_path / "wrapped.pth", replace={
        "state_dict_zip/data.pkl": wrap(fixture_pickle(), "state_dict", others)})
    state = read_state_dict(path)
    assert list(state) == list(expected)
    np.testing.assert_array_equal(state["transposed"], expected["transposed"])


@pytest.mark.parametrize(
    "body, message",
    [
        (op_dict({"net_G": op_dict({"w": op_tensor("0")}), "net_D": op_dict({"w": op_tensor("0")})}), "net_G"),
        (op_dict({"state_dict": op_dict({"w": op_tensor("0")}), "model": op_dict({"w": op_tensor("0")})}),
         "several state dicts"),
        (b"]" + op_tensor("0") + b"a", "top-level object is a list"),
        (op_tensor("0"), "top-level object is a tensor"),
        (op_dict({"w": op_tensor("0"), "step": op_int(3)}), "'step' \\(a int\\)"),
        (op_dict({"w": op_int(3)}, ordered=False), "not tensors"),
    ],
    ids=["two-state-dicts", "ambiguous", "list", "tensor", "int-entry", "no-tensors"],
)
def test_layouts_that_are_not_a_state_dict_are_refused(tmp_path, body, message):
    path = write_zip(tmp_path / "layout.pth", pickled(body), [("0", bytes(16))])
    with pytest.raises(CheckpointError, match=message) as err:
        read_state_dict(path)
    assert_names_file(err, path)
    assert "torch.save(model.state_dict(), path)" in str(err.value)


# === Refusing code ===


MALICIOUS = {
    "os.system": system_call(),
    "builtins.eval": op_global("builtins", "eval") + op_tuple(op_str("__import__('os').system('touch MARKER')"))
    + b"R",
    "subprocess.Popen": op_global("subprocess", "Popen") + op_tuple(op_tuple(op_str("touch"), op_str("MARKER")))
    + b"R",
    "__builtin__.exec": op_global("__builtin__", "exec") + op_tuple(op_str("open('MARKER', 'w')")) + b"R",
}


class _SystemCall:
    def __reduce__(self):
        return os.system, ("touch MARKER",)


def malicious_pickles():
    """(global named in the message, pickle): hand-made opcodes, hidden behind valid tensors, and protocol 4."""
    cases = [(name, pickled(body)) for name, body in MALICIOUS.items()]
    cases.append(("os.system", pickled(op_dict({"w": op_tensor("0"), "x": system_call()}))))
    cases.append(("os.system", pickled(op_dict({"w": op_tensor("0", storage="FloatStorage")}).replace(
        op_global("torch", "FloatStorage"), op_global("os", "system")))))  # as a storage class
    cases.append((f"{os.system.__module__}.system", pickle.dumps(_SystemCall(), protocol=4)))  # STACK_GLOBAL
    return cases


@pytest.mark.parametrize("layout", ["zip", "legacy"])
@pytest.mark.parametrize("name, data", malicious_pickles(), ids=lambda v: v if isinstance(v, str) else None)
def test_code_in_the_pickle_is_refused_unrun(tmp_path, monkeypatch, layout, name, data):
    monkeypatch.chdir(tmp_path)
    if layout == "zip":
        path = write_zip(tmp_path / "evil.pth", data, [("0", bytes(16))])
    else:
        path = write_legacy(tmp_path / "evil.pth", data, [("0", 4, bytes(16))])
    with pytest.raises(UnsafeCheckpointError, match=f"`{name}`") as err:
        read_state_dict(path)
    assert_names_file(err, path)
    assert not (tmp_path / "MARKER").exists()


def test_code_in_a_legacy_header_pickle_is_refused_unrun(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pth"
    path.write_bytes(pickled(system_call()) + pickle.dumps(1001, protocol=2))
    with pytest.raises(UnsafeCheckpointError, match="`os.system`"):
        read_state_dict(path)
    assert not (tmp_path / "MARKER").exists()


@pytest.mark.parametrize("module, name", [
    ("models.networks", "UnetGenerator"),
    ("torch.nn.modules.container", "Sequential"),
    ("__main__", "Generator"),
])
@pytest.mark.parametrize("layout", ["zip", "legacy"])
def test_a_pickled_module_is_refused_as_not_a_state_dict(tmp_path, layout, module, name):
    # what torch.save(net) writes: NEWOBJ of the class, then its __dict__ (with the parameters) via BUILD
    body = op_global(module, name) + b")\x81" + op_dict({"_parameters": op_dict({"w": op_tensor("0")})},
                                                        ordered=False) + b"b"
    if layout == "zip":
        path = write_zip(tmp_path / "net.pth", pickled(body), [("0", bytes(16))])
    else:
        path = write_legacy(tmp_path / "net.pth", pickled(body), [("0", 4, bytes(16))])
    with pytest.raises(UnsafeCheckpointError, match="pickled module") as err:
        read_state_dict(path)
    assert f"`{module}.{name}`" in str(err.value) and "not a state dict" in str(err.value)
    assert "state_dict()" in str(err.value)
    assert_names_file(err, path)


def test_allowed_callables_with_wrong_arguments_give_checkpoint_errors(tmp_path):
    cases = [
        op_dict({"w": op_global("torch._utils", "_rebuild_tensor_v2") + op_tuple(op_int(1)) + b"R"}),
        op_dict({"w": op_global("torch._utils", "_rebuild_tensor_v2") + op_tuple(
            op_str("storage"), op_int(0), op_tuple(op_int(4)), op_tuple(op_int(1)), b"\x89", b"N") + b"R"}),
        op_dict({"w": op_global("torch._utils", "_rebuild_parameter") + op_tuple(op_int(1), b"\x89", b"N") + b"R"}),
        op_dict({"w": op_global("torch", "FloatStorage") + op_tuple() + b"R"}),  # a storage class is not callable
        op_dict({"w": op_tensor("0", size=(4,), stride=(-1,))}),
        op_dict({"w": op_tensor("0", offset=-1)}),
        b"}" + op_global("collections", "OrderedDict") + b"b",  # BUILD with a non-dict state
    ]
    for i, body in enumerate(cases):
        path = write_zip(tmp_path / f"bad{i}.pth", pickled(body), [("0", bytes(16))])
        with pytest.raises(CheckpointError) as err:
            read_state_dict(path)
        assert_names_file(err, path)


@pytest.mark.parametrize("name", ["ComplexFloatStorage", "QInt8Storage"])
def test_unsupported_storage_types_are_named(tmp_path, name):
    path = write_zip(tmp_path / "complex.pth", pickled(op_dict({"w": op_tensor("0", storage=name)})),
                     [("0", bytes(32))])
    with pytest.raises(CheckpointError, match=f"torch.{name}"):
        read_state_dict(path)


# === Damaged and foreign files ===


def test_tensor_past_its_storage_is_refused(tmp_path):
    for i, tensor in enumerate([op_tensor("0", size=(5,)), op_tensor("0", offset=1), op_tensor("0", size=(2, 2),
                                                                                               stride=(3, 1))]):
        path = write_zip(tmp_path / f"oob{i}.pth", pickled(op_dict({"w": tensor})), [("0", bytes(16))])
        with pytest.raises(CheckpointError, match="reaches past the end of its storage"):
            read_state_dict(path)


def test_storage_declared_twice_differently_is_refused(tmp_path):
    body = op_dict({"a": op_tensor("0", numel=4), "b": op_tensor("0", storage="HalfStorage", numel=8)})
    path = write_zip(tmp_path / "twice.pth", pickled(body), [("0", bytes(16))])
    with pytest.raises(CheckpointError, match="declared both"):
        read_state_dict(path)


def test_missing_storage_records_are_refused(tmp_path):
    path = rezip(ZIP, tmp_path / "missing.pth", drop={"state_dict_zip/data/1"})
    with pytest.raises(CheckpointError, match="no record `state_dict_zip/data/1`") as err:
        read_state_dict(path)
    assert_names_file(err, path)
    body = pickled(op_dict({"a": op_tensor("0"), "b": op_tensor("1")}))
    path = write_legacy(tmp_path / "missing_legacy.pth", body, [("0", 4, bytes(16))])
    with pytest.raises(CheckpointError, match="lacks the storages 1"):
        read_state_dict(path)
    path = write_legacy(tmp_path / "unknown_legacy.pth", pickled(op_dict({"a": op_tensor("0")})),
                        [("0", 4, bytes(16)), ("9", 4, bytes(16))])
    with pytest.raises(CheckpointError, match="never uses"):
        read_state_dict(path)


def test_storage_of_the_wrong_size_is_refused(tmp_path):
    body = pickled(op_dict({"a": op_tensor("0")}))
    with pytest.raises(CheckpointError, match="holds 12 bytes"):
        read_state_dict(write_zip(tmp_path / "short.pth", body, [("0", bytes(12))]))
    with pytest.raises(CheckpointError, match="holds 3 elements"):
        read_state_dict(write_legacy(tmp_path / "short_legacy.pth", body, [("0", 3, bytes(12))]))


def test_corrupt_record_fails_its_crc(tmp_path):
    data = bytearray(ZIP.read_bytes())
    with zipfile.ZipFile(ZIP) as archive:
        info = archive.getinfo("state_dict_zip/data/0")
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    data[info.header_offset + 30 + name_len + extra_len] ^= 0xFF  # the first byte of the storage
    path = tmp_path / "flipped.pth"
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="CRC"):
        read_state_dict(path)


def test_compressed_records_are_refused(tmp_path):
    path = tmp_path / "deflated.pth"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in zip_records(ZIP).items():
            archive.writestr(name, data)
    with pytest.raises(CheckpointError, match="compressed"):
        read_state_dict(path)


@pytest.mark.parametrize("path", [ZIP, LEGACY], ids=["zip", "legacy"])
def test_truncated_files_give_checkpoint_errors_only(tmp_path, path):
    data = path.read_bytes()
    cut = tmp_path / f"cut{path.suffix}"
    cuts = sorted(set(range(0, len(data), 7)) | {1, 2, 4, 22, 30, len(data) - 22, len(data) - 1})
    for length in cuts:
        cut.write_bytes(data[:length])
        with pytest.raises(CheckpointError) as err:  # never EOFError, BadZipFile, struct.error, ...
            read_state_dict(cut)
        assert f"`{cut}`" in str(err.value), (length, str(err.value))


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00", "PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG image"),
        (b"<!DOCTYPE html><html><body>Not Found</body></html>", "HTML"),
        (b"\x89HDF\r\n\x1a\n" + bytes(32), "HDF5"),
        (bytes(np.random.default_rng(0).integers(0, 256, 300, dtype=np.uint8)), "unrecognised data"),
        (b"hello, not weights\n", "text"),
        (pickle.dumps({"a": 1}, protocol=2), "not one torch.save wrote"),
        (pickle.dumps(MAGIC, protocol=2) + pickle.dumps(1002, protocol=2), "protocol version 1002"),
    ],
    ids=["empty", "png", "jpeg", "html", "hdf5", "random", "text", "plain-pickle", "bad-protocol"],
)
def test_files_that_are_not_checkpoints(tmp_path, content, message):
    path = tmp_path / "image.pth"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message) as err:
        read_state_dict(path)
    assert_names_file(err, path)
    assert str(err.value).endswith("Expected a PyTorch state_dict saved with torch.save(model.state_dict(), path).")


def test_other_archives_are_named(tmp_path):
    torchscript = write_zip(tmp_path / "scripted.pt", pickled(b"}"), extra=[
        ("archive/constants.pkl", pickled(b")")), ("archive/code/__torch__/model.py", b"")])
    with pytest.raises(CheckpointError, match="TorchScript"):
        read_state_dict(torchscript)
    keras_file = tmp_path / "model.keras"
    with zipfile.ZipFile(keras_file, "w") as archive:
        archive.writestr("config.json", "{}")
        archive.writestr("model.weights.h5", b"")
    with pytest.raises(CheckpointError, match="Keras"):
        read_state_dict(keras_file)
    tar = tmp_path / "old.pth"
    tar.write_bytes(bytes(257) + b"ustar\x0000" + bytes(250))
    with pytest.raises(CheckpointError, match="tar archive"):
        read_state_dict(tar)


def test_missing_paths_and_bad_arguments(tmp_path):
    for path in (tmp_path / "absent.pth", tmp_path):
        with pytest.raises(CheckpointError, match="cannot be opened") as err:
            read_state_dict(path)
        assert_names_file(err, path)
    with pytest.raises(CheckpointError, match="Invalid value for argument `path`. Received: path=3"):
        read_state_dict(3)


# === No torch, no pickle.load ===


def test_reader_neither_imports_torch_nor_loads_pickles_unrestricted(monkeypatch, expected):
    reader = Path(pth.__file__).parent
    for name in ("pth.py", "unpickler.py", "pickle_machine.py", "tensors.py", "errors.py"):  # the reader's modules
        tree = ast.parse((reader / name).read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "torch" not in imported
        calls = {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        assert not calls & {"pickle.load", "pickle.loads", "np.load", "torch.load", "pickle.Unpickler"}
    monkeypatch.setitem(sys.modules, "torch", None)  # any `import torch` from here on raises ImportError
    for path in (ZIP, LEGACY):
        np.testing.assert_array_equal(read_state_dict(path)["0.weight"], expected["0.weight"])


def test_header_pickle_stream_positions_match_torch_layout():
    # The legacy fixture really is five pickles and the storages, as the module docstring says.
    stream = io.BytesIO(LEGACY.read_bytes())
    first, _ = pth._unpickle(stream, "legacy", allow_tensors=False)
    assert first == MAGIC
    assert pth._unpickle(stream, "legacy", allow_tensors=False)[0] == 1001
    assert pth._unpickle(stream, "legacy", allow_tensors=False)[0]["little_endian"] is True

"""Importing the reference's generators, pretrained models and whole runs as run folders (torch-free, offline).

The networks come from the committed fixtures (tests/fixtures/reference/networks/: `<name>.pth` written by the
PyTorch twins, `<name>.npz` with an input `x` and PyTorch's eval-mode output `y`); reference run folders are
written here: fixture files copied under the reference's names, or state dicts of freshly built networks
(`state_dict_from_network`) written as `.pth` files from pickle opcodes, beside an options file in the
reference's format.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import shutil
import socket
import struct
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from tfgan_translate.data import load_image, save_image
from tfgan_translate.export import TFLiteRunner, export_generator
from tfgan_translate.export.generator import inference_copy
from tfgan_translate.inference import generator_for, translate_files
from tfgan_translate.networks import build_discriminator, build_generator
from tfgan_translate.reference import (
    CheckpointError,
    DownloadError,
    import_generator,
    import_pretrained,
    import_reference_run,
    load_discriminator,
    load_generator,
    load_reference_generator,
    read_state_dict,
    reference_cyclegan,
    reference_pix2pix,
    state_dict_from_network,
)
from tfgan_translate.reference.pretrained import PRETRAINED, pretrained_names, pretrained_spec
from tfgan_translate.training.run import load_run, train

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reference" / "networks"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.npz"))
TOLERANCE = 1e-4  # max |Keras - PyTorch|; the fixtures match to <= 3e-6
# unet_64, batch norm, 1 -> 1 channels, ngf 1, and the 2-channel (condition + image) batch-norm PatchGAN beside it
P2P = dict(netG="unet_64", norm="batch", ngf=1, input_channels=1, output_channels=1, netD="n_layers", n_layers_D=4,
           ndf=1)


def fixture(name):
    """(path of the .pth, input x, PyTorch output y, loader arguments)."""
    with np.load(FIXTURES / f"{name}.npz", allow_pickle=False) as data:
        return FIXTURES / f"{name}.pth", data["x"], data["y"], json.loads(str(data["args"]))


def eval_output(network, x):
    """The reference's `model.eval()` output: moving batch-norm statistics, dropout off."""
    if hasattr(network, "size_multiple"):
        network = inference_copy(network, noise="off")
    return np.asarray(network(x, training=False))


def max_diff(a, b) -> float:
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())


# === The reference's files, written without torch ===


def _op_str(text):
    data = text.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def _op_tuple(*items):
    return b"(" + b"".join(items) + b"t"


def _op_int(value):
    return b"J" + struct.pack("<i", value)


def _op_global(module, name):
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def write_pth(path: Path, state: dict) -> Path:
    """`torch.save(state_dict, path)`'s zip layout: data.pkl (protocol 2) and one float32 storage per tensor."""
    ordered_dict = _op_global("collections", "OrderedDict") + b")R"
    body, storages = b"", []
    for i, (key, value) in enumerate(state.items()):
        array = np.ascontiguousarray(value, dtype="<f4")
        stride = [s // 4 for s in array.strides]
        pid = _op_tuple(_op_str("storage"), _op_global("torch", "FloatStorage"), _op_str(str(i)), _op_str("cpu"),
                        _op_int(array.size))
        args = _op_tuple(pid + b"Q", _op_int(0), _op_tuple(*map(_op_int, array.shape)),
                         _op_tuple(*map(_op_int, stride)), b"\x89", ordered_dict)
        body += _op_str(key) + _op_global("torch._utils", "_rebuild_tensor_v2") + args + b"R"
        storages.append((str(i), array.tobytes()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", b"\x80\x02" + ordered_dict + b"(" + body + b"u.")
        archive.writestr("archive/byteorder", b"little")
        for key, data in storages:
            archive.writestr(f"archive/data/{key}", data)
        archive.writestr("archive/version", b"3\n")
    return path


def write_options(folder: Path, options: dict, filename: str = "train_opt.txt", old: bool = False) -> Path:
    """An options file as the reference's `print_options` writes it (or, `old`, as versions before 2018 did)."""
    if old:
        lines = ["------------ Options -------------", *(f"{k}: {v}" for k, v in sorted(options.items())),
                 "-------------- End ----------------"]
    else:
        lines = ["----------------- Options ---------------",
                 *(f"{k:>25}: {v!s:<30}" for k, v in sorted(options.items())),
                 "----------------- End -------------------"]
    path = folder / filename
    path.write_text("\n".join(lines) + "\n")
    return path


def reference_folder(tmp_path, name, files: dict, options: dict, **kwargs) -> Path:
    """checkpoints/NAME/ with `files` ({file name: fixture path or state dict}) and an options file."""
    folder = tmp_path / "checkpoints" / name
    folder.mkdir(parents=True)
    for filename, source in files.items():
        if isinstance(source, dict):
            write_pth(folder / filename, source)
        else:
            shutil.copyfile(source, folder / filename)
    write_options(folder, options, **kwargs)
    return folder


# === A generator (and its discriminator) as a pix2pix run ===


@pytest.fixture(scope="module")
def pix2pix_run(tmp_path_factory):
    """unet64_batch_dropout + nlayers4_batch imported as one run folder."""
    run_dir = tmp_path_factory.mktemp("imported") / "run"
    result = import_generator(FIXTURES / "unet64_batch_dropout.pth", run_dir,
                              discriminator=FIXTURES / "nlayers4_batch.pth", direction="BtoA", **P2P)
    return run_dir, result


def test_imported_run_loads_and_matches_pytorch(pix2pix_run):
    run_dir, result = pix2pix_run
    config, model = load_run(run_dir)
    assert config == result.config and config.model == "pix2pix" and config.data == ""
    assert (config.netG, config.norm, config.ngf, config.dropout, config.direction) == ("unet_64", "batch", 1, 0.5,
                                                                                          "BtoA")
    assert (config.netD, config.n_layers_D, config.ndf) == ("n_layers", 4, 1)
    _, x, y, _ = fixture("unet64_batch_dropout")
    assert max_diff(eval_output(model.generator, x), y) <= TOLERANCE
    _, x, y, _ = fixture("nlayers4_batch")
    assert max_diff(eval_output(model.discriminator, x), y) <= TOLERANCE
    # Compiled with this package's optimizers, fresh: resumable from step 0.
    assert type(model.g_optimizer).__name__ == type(model.d_optimizer).__name__ == "FusedAdam"
    assert model.steps_run == 0 and int(model.g_optimizer.iterations) == 0


def test_imported_json_records_the_provenance(pix2pix_run):
    run_dir, result = pix2pix_run
    provenance = json.loads((run_dir / "imported.json").read_text())
    assert provenance == json.loads(json.dumps(result.provenance))
    assert provenance["kind"] == "generator" and provenance["package_version"] and provenance["created"]
    generator = provenance["networks"]["generator"]
    path = FIXTURES / "unet64_batch_dropout.pth"
    assert generator["reference_name"] == "G" and generator["source"] == str(path.resolve())
    assert generator["file"]["size"] == path.stat().st_size
    assert generator["file"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert generator["architecture"]["description"] == "unet_64 generator, ngf 1, 1 -> 1 channels, batch norm"
    assert provenance["networks"]["discriminator"]["reference_name"] == "D"
    assert provenance["networks"]["discriminator"]["architecture"]["n_layers_D"] == 4
    assert sorted(p.name for p in run_dir.iterdir()) == ["checkpoints", "config.json", "imported.json"]


def test_translate_files_reads_the_imported_run(pix2pix_run, tmp_path):
    run_dir, _ = pix2pix_run
    config, model = load_run(run_dir)
    _, x, _, _ = fixture("unet64_batch_dropout")
    image = save_image(x[0], tmp_path / "in" / "label.png")
    written = translate_files(generator_for(model, config.direction, config.direction), image, tmp_path / "out")
    assert [p.name for p in written] == ["label.png"]
    assert load_image(written[0], 1).shape == (64, 64, 1)


def test_export_of_the_imported_run_matches_keras_and_pytorch(pix2pix_run, tmp_path):
    run_dir, _ = pix2pix_run
    result = export_generator(run_dir, tmp_path / "export", quantize=("none",), saved_model=False, image_size=64)
    parity = result.metadata["parity"]["tflite_float32"]
    assert parity["meets_target"] and parity["max_abs_diff"] <= 1e-4
    _, x, y, _ = fixture("unet64_batch_dropout")
    assert max_diff(TFLiteRunner(result.tflite["none"])(x), y) <= TOLERANCE  # the phone's output is PyTorch's


def test_fine_tuning_an_import_that_names_its_data(tmp_path, synth_dir):
    run_dir = tmp_path / "run"
    fine_tune = {"data": str(synth_dir), "image_size": 64, "load_size": 72, "epochs": 1, "steps_per_epoch": 1,
                 "sample_count": 1, "log_every": 1}
    imported = import_generator(FIXTURES / "unet64_batch_dropout.pth", run_dir, config_fields=fine_tune, **P2P)
    before = [w.numpy() for w in imported.model.generator.trainable_weights]
    config, _ = load_run(run_dir)
    result = train(config, run_dir, resume=True, verbose=0)
    assert result.model.steps_run == 1
    after = [w.numpy() for w in result.model.generator.trainable_weights]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_fine_tuning_an_import_with_data_given_at_resume(tmp_path, synth_dir):
    run_dir = tmp_path / "run"
    import_generator(FIXTURES / "unet64_batch_dropout.pth", run_dir, **P2P)
    config, _ = load_run(run_dir)
    result = train(config.replace(data=str(synth_dir), epochs=1), run_dir, resume=True, verbose=0)
    assert result.model.steps_run > 0


# === Refusals leave nothing behind ===


def test_a_non_empty_out_dir_is_refused_then_only_our_files_replaced(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    source = FIXTURES / "resnet2_instance.pth"
    arch = dict(netG="resnet_2blocks", norm="instance", ngf=2)
    with pytest.raises(FileExistsError, match=r"notes\.txt.*overwrite=True"):
        import_generator(source, out, **arch)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    import_generator(source, out, overwrite=True, **arch)
    assert sorted(p.name for p in out.iterdir()) == ["checkpoints", "config.json", "imported.json", "notes.txt"]
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging folder left
    _, x, y, _ = fixture("resnet2_instance")
    assert max_diff(eval_output(load_run(out)[1].generator, x), y) <= TOLERANCE


def test_a_wrong_architecture_flag_gives_the_mappings_error_and_no_out_dir(tmp_path):
    with pytest.raises(CheckpointError) as info:
        import_generator(FIXTURES / "unet64_batch_dropout.pth", tmp_path / "run", **{**P2P, "netG": "unet_128"})
    message = str(info.value)
    assert "unet64_batch_dropout.pth" in message and "netG='unet_128'" in message and "unet_64" in message
    with pytest.raises(CheckpointError, match="norm='instance'"):
        import_generator(FIXTURES / "unet64_batch_dropout.pth", tmp_path / "run", **{**P2P, "norm": "instance"})
    assert list(tmp_path.iterdir()) == []


# === Whole reference runs ===


CYCLEGAN_OPTIONS = {
    "model": "cycle_gan", "netG": "resnet_2blocks", "ngf": 2, "netD": "pixel", "ndf": 2, "n_layers_D": 3,
    "norm": "instance", "no_dropout": True, "input_nc": 3, "output_nc": 3, "lambda_A": 10.0, "lambda_B": 10.0,
    "lambda_identity": 0.5, "pool_size": 50, "gan_mode": "lsgan", "crop_size": 16, "load_size": 18,
    "dataroot": "./datasets/horse2zebra", "direction": "AtoB", "n_epochs": 100, "n_epochs_decay": 100,
    "dataset_mode": "unaligned", "gpu_ids": "0", "name": "horse2zebra", "epoch": "latest",
}


def test_cyclegan_run_of_pytorch_fixtures_migrates_and_matches(tmp_path):
    g, d = FIXTURES / "resnet2_instance.pth", FIXTURES / "pixel_instance_legacy.pth"
    folder = reference_folder(tmp_path, "horse2zebra", {f"latest_net_{r}.pth": (g if r[0] == "G" else d)
                                                        for r in ("G_A", "G_B", "D_A", "D_B")}, CYCLEGAN_OPTIONS)
    result = import_reference_run(folder, tmp_path / "run")
    config, model = load_run(tmp_path / "run")
    assert config.model == "cyclegan" and config.data == "./datasets/horse2zebra"
    assert (config.netG, config.netD, config.norm, config.dropout, config.image_size) == (
        "resnet_2blocks", "pixel", "instance", 0.0, 16)
    _, x, y, _ = fixture("resnet2_instance")
    for generator in (model.generator_g, model.generator_f):
        assert max_diff(eval_output(generator, x), y) <= TOLERANCE
    _, x, y, _ = fixture("pixel_instance_legacy")
    for discriminator in (model.discriminator_a, model.discriminator_b):
        assert max_diff(eval_output(discriminator, x), y) <= TOLERANCE
    assert model.steps_run == 0 and any("schedule" in note for note in result.notes)
    assert any("saves none" in note for note in result.notes)


def test_cyclegan_run_maps_the_references_names_onto_ours(tmp_path):
    """G_A -> generator_g, G_B -> generator_f, D_A (judges B) -> discriminator_b, D_B -> discriminator_a."""
    common = dict(ngf=4, norm="instance", dropout=0.0)
    networks = {  # 3-channel A, 1-channel B: every network has its own shape, and its own random weights
        "G_A": build_generator("resnet_1blocks", input_channels=3, output_channels=1, **common),
        "G_B": build_generator("resnet_1blocks", input_channels=1, output_channels=3, **common),
        "D_A": build_discriminator("n_layers", n_layers_D=2, ndf=4, norm="instance", input_channels=1,
                                   condition_channels=0),
        "D_B": build_discriminator("n_layers", n_layers_D=2, ndf=4, norm="instance", input_channels=3,
                                   condition_channels=0),
    }
    options = {**CYCLEGAN_OPTIONS, "netG": "resnet_1blocks", "ngf": 4, "netD": "n_layers", "n_layers_D": 2,
               "ndf": 4, "output_nc": 1, "lambda_identity": 0.0, "lambda_B": 5.0}
    files = {f"5_net_{role}.pth": state_dict_from_network(net) for role, net in networks.items()}
    files["latest_net_G_A.pth"] = state_dict_from_network(networks["G_B"])  # another epoch, not to be taken
    folder = reference_folder(tmp_path, "maps", files, options)
    result = import_reference_run(folder, tmp_path / "run", epoch=5, config_fields={"data": "synth"})
    _, model = load_run(tmp_path / "run")
    ours = {"G_A": model.generator_g, "G_B": model.generator_f, "D_A": model.discriminator_b,
            "D_B": model.discriminator_a}
    for role, network in networks.items():
        for theirs, mine in zip(network.weights, ours[role].weights, strict=True):
            np.testing.assert_array_equal(mine.numpy(), theirs.numpy(), err_msg=f"{role}: {theirs.path}")
    assert result.config.data == "synth" and result.config.lambda_cycle == 7.5  # the mean of lambda_A and lambda_B
    named = {net["reference_name"]: attr for attr, net in result.provenance["networks"].items()}
    assert named == {"G_A": "generator_g", "G_B": "generator_f", "D_A": "discriminator_b", "D_B": "discriminator_a"}
    assert any("D_A" in n and "discriminator_b" in n for n in result.notes)
    assert any("reached epoch 5" in n for n in result.notes)
    assert result.provenance["reference_run"]["epoch"] == "5"


def test_pix2pix_run_with_old_options_migrates(tmp_path):
    options = {"model": "pix2pix", "which_model_netG": "unet_64", "which_model_netD": "n_layers", "n_layers_D": 4,
               "ngf": 1, "ndf": 1, "input_nc": 1, "output_nc": 1, "norm": "batch", "no_dropout": False,
               "lambda_A": 100.0, "which_direction": "BtoA", "niter": 3, "niter_decay": 2, "loadSize": 72,
               "fineSize": 64, "dataroot": "./datasets/facades"}
    folder = reference_folder(tmp_path, "facades", {"latest_net_G.pth": FIXTURES / "unet64_batch_dropout.pth",
                                                    "latest_net_D.pth": FIXTURES / "nlayers4_batch.pth"},
                              options, filename="opt.txt", old=True)
    result = import_reference_run(folder, tmp_path / "run")
    config = result.config
    assert (config.netG, config.direction, config.lambda_l1, config.epochs, config.n_epochs_decay) == (
        "unet_64", "BtoA", 100.0, 5, 2)
    _, model = load_run(tmp_path / "run")
    for name, network in (("unet64_batch_dropout", model.generator), ("nlayers4_batch", model.discriminator)):
        _, x, y, _ = fixture(name)
        assert max_diff(eval_output(network, x), y) <= TOLERANCE


def test_a_reference_folder_without_options_is_refused(tmp_path):
    folder = tmp_path / "horse2zebra_pretrained"
    folder.mkdir()
    shutil.copyfile(FIXTURES / "resnet2_instance.pth", folder / "latest_net_G.pth")
    with pytest.raises(FileNotFoundError, match=r"train_opt\.txt.*--netG"):
        import_reference_run(folder, tmp_path / "run")
    assert not (tmp_path / "run").exists()


# === Pretrained names ===


class _Serve(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.server.payload)))
        self.end_headers()
        self.wfile.write(self.server.payload)


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Serve)
    srv.daemon_threads, srv.requests = True, []
    srv.payload = (FIXTURES / "resnet2_instance.pth").read_bytes()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}/horse2zebra.pth"
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


def _pretend_pretrained(monkeypatch, url):
    """horse2zebra, served from `url`, as the tiny resnet_2blocks fixture (the real one is 45.5 MB)."""
    spec = dataclasses.replace(pretrained_spec("horse2zebra"), url=url, netG="resnet_2blocks", ngf=2)
    monkeypatch.setitem(PRETRAINED, "horse2zebra", spec)
    return spec


def test_import_pretrained_downloads_once_and_imports(server, monkeypatch, tmp_path):
    _pretend_pretrained(monkeypatch, server.url)
    result = import_pretrained("horse2zebra", tmp_path / "run", cache_dir=tmp_path / "cache", progress=False)
    assert result.config.netG == "resnet_2blocks" and result.config.direction == "AtoB"
    generator = result.provenance["networks"]["generator"]
    assert generator["source"] == server.url and generator["file"]["sha256"] == hashlib.sha256(
        server.payload).hexdigest()
    assert result.provenance["pretrained"]["name"] == "horse2zebra"
    _, x, y, _ = fixture("resnet2_instance")
    assert max_diff(eval_output(load_run(tmp_path / "run")[1].generator, x), y) <= TOLERANCE
    g = load_reference_generator("horse2zebra", cache_dir=tmp_path / "cache", progress=False)  # from the cache
    assert max_diff(eval_output(g, x), y) <= TOLERANCE and len(server.requests) == 1


def test_import_pretrained_offline_fails_fast_naming_the_url_and_the_way_out(monkeypatch, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    spec = _pretend_pretrained(monkeypatch, f"http://127.0.0.1:{port}/horse2zebra.pth")
    with pytest.raises(DownloadError) as info:
        import_pretrained("horse2zebra", tmp_path / "run", cache_dir=tmp_path / "cache", progress=False)
    assert spec.url in str(info.value) and "import PATH.pth --netG resnet_2blocks --norm instance" in str(info.value)
    assert not (tmp_path / "run").exists()


# === Python: networks and models ===


def test_load_reference_generator_and_the_model_builders():
    path, x, y, _ = fixture("resnet2_instance")
    g = load_reference_generator(path, netG="resnet_2blocks", norm="instance", ngf=2)
    assert max_diff(eval_output(g, x), y) <= TOLERANCE
    with pytest.raises(ValueError, match="--netG"):
        load_reference_generator(path)
    with pytest.raises(FileNotFoundError, match="horse2zebr"):
        load_reference_generator("horse2zebr")
    d = FIXTURES / "pixel_instance_legacy.pth"
    cyclegan = reference_cyclegan(path, path, d, d, netG="resnet_2blocks", ngf=2, netD="pixel", ndf=2, image_size=16)
    assert not cyclegan.compiled and cyclegan.lambda_identity == 0.5
    assert max_diff(eval_output(cyclegan.generator_f, x), y) <= TOLERANCE
    pix2pix = reference_pix2pix(FIXTURES / "unet64_batch_dropout.pth", FIXTURES / "nlayers4_batch.pth", **P2P)
    assert not pix2pix.compiled and pix2pix.generator.count_params() > 0
    _, x, y, _ = fixture("nlayers4_batch")
    assert max_diff(eval_output(pix2pix.discriminator, x), y) <= TOLERANCE


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_from_network_inverts_the_mapping(name):
    path, _, _, args = fixture(name)
    state = read_state_dict(path)
    network = load_generator(path, **args) if "netG" in args else load_discriminator(path, **args)
    back = state_dict_from_network(network)
    dropped = ("num_batches_tracked",) if args["norm"] == "batch" else ("running_mean", "running_var",
                                                                          "num_batches_tracked")
    assert sorted(back) == sorted(k for k in state if not k.endswith(dropped))
    for key, value in back.items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)


# === The example and the README ===


def test_example_imports_translates_and_exports(tmp_path):
    path = ROOT / "examples" / "import_pretrained.py"
    spec = importlib.util.spec_from_file_location("import_pretrained_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    outputs = example.main(["--checkpoint", str(FIXTURES / "resnet2_instance.pth"), "--netG", "resnet_2blocks",
                            "--norm", "instance", "--ngf", "2", "--out", str(tmp_path / "out"), "--size", "32",
                            "--quantize", "none"])
    assert outputs["translated"].is_file() and load_image(outputs["translated"]).shape == (32, 32, 3)
    assert outputs["tflite"]["none"].is_file() and (outputs["run_dir"] / "imported.json").is_file()


def pretrained_table_markdown() -> str:
    """The README's table of the pretrained generators, from the table in tfgan_translate.reference.pretrained."""
    rows = ["| name | does | dataset | direction | netG | norm | dropout |", "|---|---|---|---|---|---|---|"]
    for name in pretrained_names():
        s = pretrained_spec(name)
        rows.append(f"| `{name}` | {s.description} | {s.dataset} | {s.direction} | {s.netG} | {s.norm} | {s.dropout} |")
    return "\n".join(rows)


def test_readme_lists_the_pretrained_table():
    assert pretrained_table_markdown() in (ROOT / "README.md").read_text(), (
        "README's pretrained table is out of date: paste tests/test_reference_import.py::pretrained_table_markdown()")


# === The command line: tfgan-translate import ===


def test_cli_import_of_a_pth_file_then_translate_and_refusals(tmp_path, capsys):
    from tfgan_translate.app.cli import main

    run_dir = tmp_path / "run"
    flags = ["--netG", "resnet_2blocks", "--norm", "instance", "--ngf", "2"]
    assert main(["-q", "import", str(FIXTURES / "resnet2_instance.pth"), "--out", str(run_dir), *flags]) == 0
    assert f"{run_dir}" in capsys.readouterr().out
    _, x, y, _ = fixture("resnet2_instance")
    assert max_diff(eval_output(load_run(run_dir)[1].generator, x), y) <= TOLERANCE
    save_image(x[0], tmp_path / "in" / "a.png")
    assert main(["-q", "translate", "--checkpoint", str(run_dir), "--input", str(tmp_path / "in"),
                 "--output", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "a.png").is_file()
    capsys.readouterr()
    cases = [  # each: one line on stderr naming what is wrong, exit code 2, nothing written
        (["import", str(FIXTURES / "resnet2_instance.pth"), "--out", str(tmp_path / "r2")], "--netG and --norm"),
        (["import", str(FIXTURES / "resnet2_instance.pth"), "--out", str(run_dir), *flags], "overwrite"),
        (["import", "--pretrained", "horse2zebar", "--out", str(tmp_path / "r3")], "horse2zebra"),
        (["import", "--pretrained", "horse2zebra", "--netG", "unet_256", "--out", str(tmp_path / "r4")],
         "pretrained table sets the architecture"),
        (["import", "--out", str(tmp_path / "r5")], "neither"),
        (["import", str(FIXTURES / "resnet2_instance.pth"), "--out", str(tmp_path / "r6"), "--netG",
          "resnet_6blocks", "--norm", "instance", "--ngf", "2"], "6"),
    ]
    for argv, expected in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("tfgan-translate: error:") and expected in err and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out", "run"]


def test_int8_export_of_an_imported_run_calibrates_on_built_in_images(pix2pix_run, tmp_path, caplog):
    run_dir, _ = pix2pix_run
    with caplog.at_level("WARNING", logger="tfgan_translate"):
        result = export_generator(run_dir, tmp_path / "export", quantize=("int8",), saved_model=False, image_size=64,
                                  representative_count=4)
    assert result.tflite["int8"].is_file()
    assert result.metadata["parity"]["images"]["source"] == "built-in synthetic label maps"
    assert "--representative-data" in caplog.text

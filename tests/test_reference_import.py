"""Importing the reference's networks and whole runs: `from_preset` on files and folders, run folders, the CLI.

The networks come from the committed fixtures (tests/fixtures/reference/networks/: `<name>.pth` written by the
PyTorch twins, `<name>.npz` with an input `x` and PyTorch's eval-mode output `y`); reference run folders are
written here: fixture files copied under the reference's names, or state dicts of freshly built networks
(`state_dict_from_network`) written as `.pth` files from pickle opcodes, beside an options file in the
reference's format.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import shutil
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tfgan_translate.data import load_image, save_image
from tfgan_translate.export import TFLiteRunner, export_generator
from tfgan_translate.export.generator import inference_copy
from tfgan_translate.inference import generator_for, translate_files
from tfgan_translate.models.cycle_gan import CycleGAN
from tfgan_translate.models.pix2pix import Pix2Pix
from tfgan_translate.networks import (
    PatchGANDiscriminator,
    ResNetGenerator,
    UNetGenerator,
    build_discriminator,
    build_generator,
)
from tfgan_translate.reference import CheckpointError, import_reference, read_state_dict, state_dict_from_network
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


def load_fixture(source, args):
    """The network of a fixture's file, with its loader arguments (the reference's terms) as the class's."""
    if "netD" in args:
        kind = {"kind": "pixel" if args["netD"] == "pixel" else "n_layers",
                "n_layers": 3 if args["netD"] == "basic" else args["n_layers_D"]}
        keys = ("ndf", "norm", "input_channels", "condition_channels")
        return PatchGANDiscriminator.from_preset(source, **kind, **{k: args[k] for k in keys if k in args})
    cls = UNetGenerator if args["netG"].startswith("unet_") else ResNetGenerator
    size = args["netG"].partition("_")[2]
    shape = {"depth": int(size).bit_length() - 1} if cls is UNetGenerator else {"n_blocks": int(size[:-6])}
    keys = ("ngf", "norm", "dropout", "input_channels", "output_channels")
    return cls.from_preset(source, **shape, **{k: args[k] for k in keys if k in args})


def eval_output(network, x):
    """The reference's `model.eval()` output: moving batch-norm statistics, dropout off."""
    if hasattr(network, "size_multiple"):
        network = inference_copy(network, "off", "moving")  # the reference's eval(): EVAL_MODE
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
    result = import_reference(FIXTURES / "unet64_batch_dropout.pth", run_dir,
                              discriminator=FIXTURES / "nlayers4_batch.pth", direction="BtoA")  # the rest: inferred
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
    assert load_run(run_dir)[0].test_dropout == "on"  # an import runs as the reference's test.py by default ...
    result = export_generator(run_dir, tmp_path / "export", quantize=("none",), saved_model=False, image_size=64,
                              test_dropout="off", test_batch_norm="moving")  # ... and as its --eval when asked
    parity = result.metadata["parity"]["tflite_float32"]
    assert parity["meets_target"] and parity["max_abs_diff"] <= 1e-4
    _, x, y, _ = fixture("unet64_batch_dropout")
    assert max_diff(TFLiteRunner(result.tflite["none"])(x), y) <= TOLERANCE  # the phone's output is PyTorch's


@pytest.fixture(scope="module")
def train_only(synth_dir, tmp_path_factory) -> Path:
    """2 of synth_dir's train/ images and no validation split: a fine-tuning's pass over the data is 2 steps, not
    12, and traces no test step."""
    data = tmp_path_factory.mktemp("train_only") / "facades"
    (data / "train").mkdir(parents=True)
    for image in sorted((synth_dir / "train").iterdir())[:2]:
        shutil.copyfile(image, data / "train" / image.name)
    return data


def test_fine_tuning_an_import_that_names_its_data(tmp_path, train_only):
    run_dir = tmp_path / "run"
    fine_tune = {"data": str(train_only), "image_size": 64, "load_size": 72, "epochs": 1, "steps_per_epoch": 1,
                 "sample_count": 1, "log_every": 1}
    imported = import_reference(FIXTURES / "unet64_batch_dropout.pth", run_dir, **fine_tune, **P2P)
    before = [w.numpy() for w in imported.model.generator.trainable_weights]
    config, _ = load_run(run_dir)
    result = train(config, run_dir, resume=True, verbose=0)
    assert result.model.steps_run == 1
    after = [w.numpy() for w in result.model.generator.trainable_weights]
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_fine_tuning_an_import_with_data_given_at_resume(tmp_path, train_only):
    run_dir = tmp_path / "run"
    import_reference(FIXTURES / "unet64_batch_dropout.pth", run_dir)
    config, _ = load_run(run_dir)
    result = train(config.replace(data=str(train_only), epochs=1), run_dir, resume=True, verbose=0)
    assert result.model.steps_run > 0


# === Refusals leave nothing behind ===


def test_a_non_empty_out_dir_is_refused_then_only_our_files_replaced(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    source = FIXTURES / "resnet2_instance.pth"
    arch = dict(netG="resnet_2blocks", norm="instance", ngf=2)
    with pytest.raises(FileExistsError, match=r"notes\.txt.*overwrite=True"):
        import_reference(source, out, **arch)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    import_reference(source, out, overwrite=True, **arch)
    assert sorted(p.name for p in out.iterdir()) == ["checkpoints", "config.json", "imported.json", "notes.txt"]
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging folder left
    _, x, y, _ = fixture("resnet2_instance")
    assert max_diff(eval_output(load_run(out)[1].generator, x), y) <= TOLERANCE


def test_a_wrong_architecture_flag_gives_the_mappings_error_and_no_out_dir(tmp_path):
    with pytest.raises(CheckpointError) as info:
        import_reference(FIXTURES / "unet64_batch_dropout.pth", tmp_path / "run", **{**P2P, "netG": "unet_128"})
    message = str(info.value)
    assert "unet64_batch_dropout.pth" in message and "netG='unet_128'" in message and "unet_64" in message
    with pytest.raises(CheckpointError, match="norm='instance'"):
        import_reference(FIXTURES / "unet64_batch_dropout.pth", tmp_path / "run", **{**P2P, "norm": "instance"})
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
    result = import_reference(folder, tmp_path / "run")
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
    result = import_reference(folder, tmp_path / "run", epoch=5, data="synth")
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
    result = import_reference(folder, tmp_path / "run")
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
    with pytest.raises(FileNotFoundError, match=r"train_opt\.txt.*tfgan-translate import .*latest_net_G\.pth"):
        import_reference(folder, tmp_path / "run")
    assert not (tmp_path / "run").exists()


# === Python: networks and models ===


def test_networks_from_a_pth_file_and_from_a_reference_folder(tmp_path):
    path, x, y, _ = fixture("resnet2_instance")
    g = ResNetGenerator.from_preset(path)  # the architecture from the file's tensors
    assert (g.n_blocks, g.ngf, g.norm, g.dropout) == (2, 2, "instance", 0.0)
    assert max_diff(eval_output(g, x), y) <= TOLERANCE
    assert ResNetGenerator.from_preset(path, image_size=16).input_shape == (None, 16, 16, 3)
    with pytest.raises(ValueError, match=r"holds a resnet_2blocks network.*ResNetGenerator\.from_preset\.$"):
        UNetGenerator.from_preset(path)
    with pytest.raises(CheckpointError, match="this file has 2 residual blocks; netG='resnet_6blocks' expects 6"):
        ResNetGenerator.from_preset(path, n_blocks=6)
    d = FIXTURES / "pixel_instance_legacy.pth"
    r3 = FIXTURES / "resnet3_batch_dropout.pth"
    folder = reference_folder(tmp_path, "h2z", {"latest_net_G_A.pth": path, "latest_net_G_B.pth": r3,
                                               "latest_net_D_A.pth": d, "7_net_G_A.pth": r3, "7_net_G_B.pth": r3},
                              {**CYCLEGAN_OPTIONS, "no_dropout": False})
    assert max_diff(eval_output(ResNetGenerator.from_preset(folder), x), y) <= TOLERANCE  # its G_A
    assert ResNetGenerator.from_preset(folder, epoch=7).n_blocks == 3
    _, x_d, y_d, _ = fixture("pixel_instance_legacy")
    assert max_diff(eval_output(PatchGANDiscriminator.from_preset(folder), x_d), y_d) <= TOLERANCE  # its D_A
    no_dropout = reference_folder(tmp_path, "h2z_no_dropout", {"latest_net_G.pth": path, "latest_net_D.pth": d},
                                  CYCLEGAN_OPTIONS)  # no_dropout: True, which concerns the generator alone
    assert ResNetGenerator.from_preset(no_dropout).dropout == 0.0
    assert max_diff(eval_output(PatchGANDiscriminator.from_preset(no_dropout), x_d), y_d) <= TOLERANCE
    with pytest.raises(FileNotFoundError, match=r"holds no latest_net_D\*\.pth file for a PatchGANDiscriminator"):
        PatchGANDiscriminator.from_preset(reference_folder(tmp_path, "lone", {"latest_net_G.pth": path}, {}))


def test_models_from_a_pth_file_and_from_a_reference_folder(tmp_path):
    path, x, y, _ = fixture("resnet2_instance")
    d = FIXTURES / "pixel_instance_legacy.pth"
    folder = reference_folder(tmp_path, "h2z", {f"latest_net_{r}.pth": (path if r[0] == "G" else d)
                                                for r in ("G_A", "G_B", "D_A", "D_B")}, CYCLEGAN_OPTIONS)
    cyclegan = CycleGAN.from_preset(folder)
    assert not cyclegan.compiled and cyclegan.lambda_identity == 0.5 and cyclegan.image_size == 16
    assert max_diff(eval_output(cyclegan.generator_f, x), y) <= TOLERANCE
    with pytest.raises(ValueError, match="holds cyclegan files .* Expected a pix2pix run folder"):
        Pix2Pix.from_preset(folder)
    with pytest.raises(ValueError, match=r"\['netG'\]: the folder's options file sets the architecture"):
        CycleGAN.from_preset(folder, netG="resnet_9blocks")
    pix2pix = Pix2Pix.from_preset(FIXTURES / "unet64_batch_dropout.pth", discriminator=FIXTURES / "nlayers4_batch.pth")
    assert not pix2pix.compiled and pix2pix.generator.count_params() > 0
    _, x, y, _ = fixture("nlayers4_batch")
    assert max_diff(eval_output(pix2pix.discriminator, x), y) <= TOLERANCE
    g_only = CycleGAN.from_preset(path, image_size=32)  # G from the file, the rest fresh
    assert max_diff(eval_output(g_only.generator_g, fixture("resnet2_instance")[1]),
                    fixture("resnet2_instance")[2]) <= TOLERANCE


@pytest.mark.parametrize("name", NAMES)
def test_state_dict_from_network_inverts_the_mapping(name):
    path, _, _, args = fixture(name)
    state = read_state_dict(path)
    network = load_fixture(path, args)
    back = state_dict_from_network(network)
    dropped = ("num_batches_tracked",) if args["norm"] == "batch" else ("running_mean", "running_var",
                                                                          "num_batches_tracked")
    assert sorted(back) == sorted(k for k in state if not k.endswith(dropped))
    for key, value in back.items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)


# === The example ===


def test_example_imports_translates_and_exports(tmp_path):
    path = ROOT / "examples" / "import_pretrained.py"
    spec = importlib.util.spec_from_file_location("import_pretrained_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    outputs = example.main(["--checkpoint", str(FIXTURES / "resnet2_instance.pth"), "--out", str(tmp_path / "out"),
                            "--size", "32", "--quantize", "none"])
    assert outputs["translated"].is_file() and load_image(outputs["translated"]).shape == (32, 32, 3)
    assert outputs["tflite"]["none"].is_file() and (outputs["run_dir"] / "imported.json").is_file()


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
    assert main(["-q", "import", str(FIXTURES / "resnet2_instance.pth"), "--out", str(tmp_path / "r2")]) == 0
    assert load_run(tmp_path / "r2")[0].netG == "resnet_2blocks"  # no flags: the architecture from the file
    capsys.readouterr()
    cases = [  # each: one line on stderr naming what is wrong, exit code 2, nothing written
        (["import", str(FIXTURES / "resnet2_instance.pth"), "--out", str(run_dir), *flags], "overwrite"),
        (["import", "--pretrained", "horse2zebar", "--out", str(tmp_path / "r3")], "horse2zebra"),
        (["import", "--pretrained", "horse2zebra", "--netG", "unet_256", "--out", str(tmp_path / "r4")],
         "the preset sets the architecture"),
        (["import", "--out", str(tmp_path / "r5")], "neither"),
        (["import", str(FIXTURES / "resnet2_instance.pth"), "--out", str(tmp_path / "r6"), "--netG",
          "resnet_6blocks", "--norm", "instance", "--ngf", "2"], "6"),
    ]
    for argv, expected in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("tfgan-translate: error:") and expected in err and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out", "r2", "run"]


def test_int8_export_of_an_imported_run_calibrates_on_built_in_images(pix2pix_run, tmp_path, caplog):
    run_dir, _ = pix2pix_run
    with caplog.at_level("WARNING", logger="tfgan_translate"):
        result = export_generator(run_dir, tmp_path / "export", quantize=("int8",), saved_model=False, image_size=64,
                                  representative_count=4)
    assert result.tflite["int8"].is_file()
    assert result.metadata["parity"]["images"]["source"] == "built-in synthetic label maps"
    assert "--representative-data" in caplog.text

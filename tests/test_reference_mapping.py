"""Importing the reference's checkpoints: every fixture's Keras output matches PyTorch's, wrong arguments are named.

The fixtures in tests/fixtures/reference/networks/ were written by make_network_fixtures.py from PyTorch twins
of the reference's networks (torch is not needed here): `<name>.pth` is the state dict, `<name>.npz` a fixed
input `x`, the eval-mode PyTorch output `y` (NHWC) and `args`, the loader arguments that fit the file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_reference_import import load_fixture

from tfgan_translate.export.generator import inference_copy
from tfgan_translate.networks import (
    PatchGANDiscriminator,
    ResNetGenerator,
    UNetGenerator,
    build_discriminator,
    build_generator,
)
from tfgan_translate.reference.architecture import check_state_dict, infer_architecture
from tfgan_translate.reference.errors import CheckpointError
from tfgan_translate.reference.mapping import assign_weights
from tfgan_translate.reference.pth import read_state_dict

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reference" / "networks"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.npz"))
TOLERANCE = 1e-4  # max |Keras - PyTorch| over the output; measured: <= 2e-6


def fixture(name):
    """(path of the .pth, input x, PyTorch output y, loader arguments)."""
    with np.load(FIXTURES / f"{name}.npz", allow_pickle=False) as data:
        return FIXTURES / f"{name}.pth", data["x"], data["y"], json.loads(str(data["args"]))


def load(source, args):
    """`from_preset` with the fixture's loader arguments (the reference's terms) as the class's arguments."""
    return load_fixture(source, args)


def check_only(source, args):
    """The mapping's check of a file against the reference's arguments, as a model import runs it."""
    return check_state_dict(read_state_dict(source), args, repr(str(source)))


def run(network, x, args):
    """The eval-mode output: batch norm on its moving statistics, dropout off (the reference's `model.eval()`)."""
    if "netG" in args:
        network = inference_copy(network, "off", "moving")  # the reference's eval(): EVAL_MODE
    return np.asarray(network(x, training=False))


def test_fixtures_are_there():
    assert len(NAMES) >= 12, f"fixtures missing in {FIXTURES}: run tests/fixtures/reference/make_network_fixtures.py"


@pytest.mark.parametrize("name", NAMES)
def test_imported_network_matches_pytorch(name):
    path, x, y, args = fixture(name)
    out = run(load(path, args), x, args)
    assert out.shape == y.shape
    diff = float(np.abs(out - y).max())
    print(f"{name}: max |Keras - PyTorch| = {diff:.2e} (output mean |y| {np.abs(y).mean():.2f})")
    assert diff <= TOLERANCE


@pytest.mark.parametrize("name", NAMES)
def test_infer_architecture_reads_the_arguments_back(name):
    path, _, _, args = fixture(name)
    inferred = infer_architecture(read_state_dict(path)).kwargs()
    expected = dict(args)
    if expected.get("netG", "").startswith("unet_") or expected.get("netG") == "resnet_0blocks":
        del expected["dropout"]  # dropout leaves no trace in a U-Net's keys, nor in a ResNet without blocks
    if "netD" in expected:  # only the sum of the channels shows
        expected["input_channels"] += expected.pop("condition_channels")
        expected["condition_channels"] = 0
        if expected["netD"] == "basic":
            expected["n_layers_D"] = 3
    assert inferred == expected


def test_loading_from_a_dict_is_loading_from_the_file():
    path, x, y, args = fixture("resnet3_batch_dropout")
    out = run(load(dict(read_state_dict(path)), args), x, args)
    assert float(np.abs(out - y).max()) <= TOLERANCE


@pytest.mark.parametrize("name", ["resnet1_instance_oldstats", "unet32_instance_legacy_oldstats"])
def test_old_instance_norm_statistics_are_dropped_as_the_reference_drops_them(name):
    path, x, y, args = fixture(name)
    state = read_state_dict(path)
    stats = [k for k in state if k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    assert stats and args["norm"] == "instance"
    assert infer_architecture(state).old_instance_stats
    assert float(np.abs(run(load(path, args), x, args) - y).max()) <= TOLERANCE


def test_batch_norm_without_num_batches_tracked_loads():
    path, x, y, args = fixture("unet64_batch_dropout")
    state = {k: v for k, v in read_state_dict(path).items() if not k.endswith("num_batches_tracked")}
    assert float(np.abs(run(load(state, args), x, args) - y).max()) <= TOLERANCE


def test_norm_constants_match_pytorch():
    g = build_generator("resnet_1blocks", ngf=2, norm="batch")
    bn = g.get_layer("stem_norm")
    assert bn.epsilon == pytest.approx(1e-5) and bn.momentum == pytest.approx(0.9)  # PyTorch: eps 1e-5, momentum 0.1
    assert build_generator("resnet_1blocks", ngf=2, norm="instance").get_layer("stem_norm").epsilon == pytest.approx(
        1e-5)


# === Wrong arguments: the error lists the keys and says what differs ===


def check_error(name, overrides, *expected, loader=None):
    path, _, _, args = fixture(name)
    with pytest.raises(CheckpointError) as info:
        (loader or load)(path, {**args, **overrides})
    message = str(info.value)
    for text in (name, *expected):
        assert text in message, f"{text!r} not in:\n{message}"
    return message


def test_wrong_block_count():
    message = check_error("resnet2_instance", {"netG": "resnet_6blocks"}, "missing (20)",
                          "this file has 2 residual blocks; netG='resnet_6blocks' expects 6")
    assert "model.12.weight" in message and "unexpected (" in message


def test_zero_blocks_against_nine():
    check_error("resnet0_none", {"netG": "resnet_9blocks"}, "this file has 0 residual blocks; netG='resnet_9blocks'")


def test_wrong_unet_depth():
    check_error("unet64_batch_dropout", {"netG": "unet_32"},
                "this file has 6 U-Net levels (unet_64); netG='unet_32' expects 5")


def test_wrong_family():
    check_error("unet32_none", {"netG": "resnet_9blocks"}, "this file holds a U-Net generator (unet_32)",
                loader=check_only)
    path, _, _, _ = fixture("unet32_none")
    with pytest.raises(ValueError, match="holds a unet_32 network. Expected a ResNetGenerator .*UNetGenerator"):
        ResNetGenerator.from_preset(path)


def test_a_discriminator_from_its_file_alone():
    path, x, y, _ = fixture("nlayers4_batch")
    d = PatchGANDiscriminator.from_preset(path)  # the architecture from the file's tensors
    # the file cannot tell the condition from the image: one input of both, which computes the same
    assert (d.kind, d.n_layers, d.ndf, d.norm, d.input_channels) == ("n_layers", 4, 1, "batch", 2)
    assert float(np.abs(run(d, x, {}) - y).max()) <= TOLERANCE
    with pytest.raises(ValueError, match=r"holds a unet_32 network.*load this one with UNetGenerator\.from_preset\.$"):
        PatchGANDiscriminator.from_preset(fixture("unet32_none")[0])
    with pytest.raises(ValueError, match=r"preset='horse2zebra', which holds a resnet_9blocks network"):
        PatchGANDiscriminator.from_preset("horse2zebra")  # refused before any download


def test_discriminator_file_into_a_generator():
    path, _, _, _ = fixture("basic_batch")
    with pytest.raises(CheckpointError, match="holds a discriminator .*PatchGANDiscriminator.from_preset"):
        check_only(path, {"netG": "unet_32", "norm": "batch", "ngf": 64, "input_channels": 3, "output_channels": 3})
    with pytest.raises(ValueError, match=r"holds a discriminator \(basic\) network.*PatchGANDiscriminator"):
        UNetGenerator.from_preset(path)


@pytest.mark.parametrize(("name", "norm", "says"), [
    ("resnet3_batch_dropout", "instance", "this file has batch-norm tensors"),
    ("resnet2_instance", "batch", "this file has no norm tensors and its convolutions before each norm have biases"),
    ("unet32_none", "instance", "no biases on the convolutions before each norm"),
    ("basic_batch", "none", "this file has batch-norm tensors"),
])
def test_wrong_norm(name, norm, says):
    check_error(name, {"norm": norm}, says, f"norm={norm!r} expects")


def test_wrong_ngf():
    check_error("resnet2_instance", {"ngf": 4}, "mis-shaped (", "[2, 3, 7, 7] in the file, [4, 3, 7, 7] expected",
                "ngf 2 in the file, ngf=4 given")


def test_wrong_ndf():
    check_error("pixel_batch", {"ndf": 8}, "ndf 4 in the file, ndf=8 given")


def test_wrong_discriminator_depth():
    check_error("basic_batch", {"netD": "n_layers", "n_layers_D": 2},
                "this file has 3 stride-2 convolutions (n_layers_D=3); netD='n_layers', n_layers_D=2, expects 2")
    check_error("nlayers4_batch", {"netD": "basic"}, "this file has 4 stride-2 convolutions (n_layers_D=4); "
                "netD='basic' expects 3")
    check_error("pixel_batch", {"netD": "basic"}, "this file holds a PixelGAN (netD='pixel')")


def test_wrong_channels():
    check_error("resnet3_batch_dropout", {"input_channels": 3},
                "the file's first convolution takes 1 channels; input_channels=3 given")
    check_error("unet32_none", {"output_channels": 3},
                "the file's last convolution gives 1 channels; output_channels=3 given")
    check_error("basic_batch", {"condition_channels": 0},
                "takes 6 channels (condition + image); input_channels=3 + condition_channels=0 = 3 given")


def test_wrong_resnet_dropout():
    check_error("resnet3_batch_dropout", {"dropout": 0.0}, "this file has dropout in its residual blocks",
                "conv_block.6.weight")
    check_error("resnet2_instance", {"dropout": 0.5}, "this file has no dropout in its residual blocks")


def test_resnet_dropout_defaults_to_the_files():
    path, x, y, args = fixture("resnet3_batch_dropout")
    del args["dropout"]
    network = load(path, args)
    assert any(layer.name == "block1_dropout" for layer in network.layers)
    assert float(np.abs(run(network, x, args) - y).max()) <= TOLERANCE


# === A damaged state dict: each kind of problem is listed ===


def damaged(name):
    path, _, _, args = fixture(name)
    return dict(read_state_dict(path)), args


def test_missing_key():
    state, args = damaged("resnet2_instance")
    del state["model.11.conv_block.5.weight"]
    with pytest.raises(CheckpointError, match=r"missing \(1\):\n    model\.11\.conv_block\.5\.weight \[8, 8, 3, 3\]"):
        load(state, args)


def test_extra_key():
    state, args = damaged("basic_batch")
    state["model.99.weight"] = np.zeros((1, 1, 4, 4), np.float32)
    with pytest.raises(CheckpointError, match=r"(?s)unexpected \(1\):\n    model\.99\.weight \[1, 1, 4, 4\]"):
        load(state, args)


def test_misshaped_key():
    state, args = damaged("unet32_none")
    key = "model.model.1.model.1.weight"
    state[key] = state[key][:, :, :3]
    with pytest.raises(CheckpointError, match=rf"(?s)mis-shaped \(1\):\n    {key}: \[2, 1, 3, 4\] in the file, "
                                              r"\[2, 1, 4, 4\] expected"):
        load(state, args)


def test_integer_weight():
    state, args = damaged("pixel_batch")
    state["net.0.weight"] = state["net.0.weight"].astype(np.int64)
    with pytest.raises(CheckpointError, match="net.0.weight: dtype int64 in the file, a float tensor expected"):
        load(state, args)


def test_batch_norm_statistics_under_instance_norm_are_not_taken_for_old_ones():
    state, args = damaged("resnet1_instance_oldstats")
    state["model.2.weight"] = np.ones(2, np.float32)  # an affine instance norm: the reference refuses it too
    with pytest.raises(CheckpointError, match=r"unexpected \(1\):\n    model\.2\.weight \[2\]"):
        load(state, args)


def test_unknown_layout():
    with pytest.raises(CheckpointError, match="matches none of the reference's networks"):
        infer_architecture({"encoder.0.weight": np.zeros((2, 3, 3, 3))})
    with pytest.raises(CheckpointError, match="matches none of the reference's networks"):
        ResNetGenerator.from_preset({"encoder.0.weight": np.zeros((2, 3, 3, 3))})


def test_resize_upsampling_is_refused():
    path, _, _, _ = fixture("unet32_none")
    with pytest.raises(ValueError, match="upsample='transpose'"):
        UNetGenerator.from_preset(path, upsample="resize")
    with pytest.raises(ValueError, match="upsample='transpose'"):
        assign_weights(build_generator("unet_32", ngf=1, upsample="resize"), {})


def test_a_file_that_is_not_there():
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        PatchGANDiscriminator.from_preset(FIXTURES / "missing.pth")


def test_every_weight_comes_from_the_file():
    path, _, _, args = fixture("nlayers4_batch")
    state = read_state_dict(path)
    network = load(path, args)
    fresh = build_discriminator(args["netD"], n_layers_D=args["n_layers_D"], norm=args["norm"], ndf=args["ndf"],
                                input_channels=args["input_channels"],
                                condition_channels=args["condition_channels"])
    values = {w.path: np.asarray(w) for w in network.weights}
    assert all(not np.array_equal(values[w.path], np.asarray(w)) or not np.asarray(w).any()
               for w in fresh.weights), "a weight kept its initial value"
    assert np.array_equal(values["conv4_norm/moving_variance"], state["model.9.running_var"])

"""The tfgan-translate command line, end to end on tiny data."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import facades_or_skip
from PIL import Image

from tfgan_translate.app.cli import main

TINY = ["--image-size", "32", "--load-size", "36", "--netG", "unet_32", "--ngf", "8", "--ndf", "8",
        "--epochs", "2", "--steps-per-epoch", "3", "--batch-size", "2", "--seed", "0"]



@pytest.fixture
def p2p_run(tiny_run):
    """The session's shared run (conftest.tiny_run), trained through this command line."""
    return tiny_run


def test_train_writes_run_folder(p2p_run):
    config = json.loads((p2p_run / "config.json").read_text())
    assert config["model"] == "pix2pix" and config["netG"] == "unet_32" and config["epochs"] == 2
    assert (p2p_run / "checkpoints" / "latest.keras").is_file()
    assert sorted(p.name for p in (p2p_run / "samples").glob("*.png")) == ["epoch_0001.png", "epoch_0002.png"]
    assert list((p2p_run / "logs").rglob("events.out.tfevents*"))
    metrics = json.loads((p2p_run / "metrics.json").read_text())
    assert {"g_l1_loss", "d_loss", "val_l1", "val_psnr", "val_ssim"} <= set(metrics)
    grid = Image.open(sorted((p2p_run / "samples").glob("*.png"))[-1])
    assert grid.size[0] > 3 * 32  # input | output | target


def test_translate_writes_one_png_per_input_at_input_size(p2p_run, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    sizes = {"a": (32, 32), "b": (50, 70), "c": (17, 9)}
    rng = np.random.default_rng(0)
    for stem, (w, h) in sizes.items():
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(inputs / f"{stem}.jpg")
    for fit in ("pad", "resize"):
        out = tmp_path / f"out-{fit}"
        assert main(["-q", "translate", "--checkpoint", str(p2p_run), "--input", str(inputs), "--output", str(out),
                     "--fit", fit]) == 0
        for stem, size in sizes.items():
            assert Image.open(out / f"{stem}.png").size == size


def test_translate_aligned_takes_the_input_half(p2p_run, synth_dir, tmp_path):
    out = tmp_path / "out"
    assert main(["-q", "translate", "--checkpoint", str(p2p_run), "--input", str(synth_dir / "test"),
                 "--output", str(out), "--aligned"]) == 0
    first = sorted((synth_dir / "test").iterdir())[0]
    w, h = Image.open(first).size
    assert Image.open(out / f"{first.stem}.png").size == (w // 2, h)


def test_bad_arguments_give_clear_errors(tmp_path, capsys, synth_dir):
    assert main(["train", "pix2pix", "--data", str(tmp_path / "missing"), "--out", str(tmp_path / "r")]) == 2
    assert "missing" in capsys.readouterr().err
    assert main(["train", "pix2pix", "--data", str(synth_dir), "--out", str(tmp_path / "r"),
                 "--image-size", "48", "--load-size", "52", "--netG", "unet_32"]) == 2
    assert "divisible by 32" in capsys.readouterr().err
    assert main(["translate", "--checkpoint", str(tmp_path / "nope"), "--input", ".", "--output", "x"]) == 2
    assert "nope" in capsys.readouterr().err


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "tfgan_translate", "train", "pix2pix", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for flag in ("--data", "--direction", "--netG", "--netD", "--n-layers-D", "--objective", "--lambda-l1",
                 "--gan-mode", "--steps-per-epoch", "--seed"):
        assert flag in out


def test_short_run_on_real_facades(tmp_path):
    facades = facades_or_skip()
    run = tmp_path / "facades"
    assert main(["-q", "train", "pix2pix", "--data", str(facades), "--out", str(run), "--direction", "BtoA",
                 "--image-size", "64", "--load-size", "72", "--netG", "unet_64", "--ngf", "8", "--ndf", "8",
                 "--epochs", "1", "--steps-per-epoch", "4", "--batch-size", "2", "--validation-steps", "2"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 < metrics["val_l1"] < 2.0 and metrics["val_psnr"] > 0


def test_train_cyclegan_on_aligned_folder_and_translate_both_ways(synth_dir, tmp_path):
    run = tmp_path / "cyc"
    assert main(["-q", "train", "cyclegan", "--data", str(synth_dir), "--out", str(run), "--image-size", "32",
                 "--load-size", "36", "--netG", "resnet_2blocks", "--ngf", "8", "--ndf", "8", "--pool-size", "4",
                 "--epochs", "1", "--steps-per-epoch", "3", "--batch-size", "2", "--winograd", "false"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["model"] == "cyclegan" and config["pool_size"] == 4 and config["gan_mode"] == "lsgan"
    assert config["winograd"] is False
    metrics = json.loads((run / "metrics.json").read_text())
    assert {"gen_loss", "cycle_a_loss", "cycle_b_loss", "identity_a_loss", "d_a_loss", "d_b_loss",
            "val_reconstruction_a_l1"} <= set(metrics)
    grid = Image.open(run / "samples" / "epoch_0001.png")
    assert grid.size[0] > 8 * 32  # real | fake | reconstructed | identity for both domains
    image = tmp_path / "in" / "x.png"
    image.parent.mkdir()
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(image)
    for direction in ("AtoB", "BtoA"):
        out = tmp_path / direction
        assert main(["-q", "translate", "--checkpoint", str(run), "--direction", direction, "--input", str(image),
                     "--output", str(out)]) == 0
        assert Image.open(out / "x.png").size == (30, 20)


def test_n_epochs_and_epochs_are_exclusive(synth_dir, tmp_path, capsys):
    assert main(["train", "cyclegan", "--data", str(synth_dir), "--out", str(tmp_path / "r"), "--epochs", "3",
                 "--n-epochs", "2"]) == 2
    assert "either --epochs" in capsys.readouterr().err


def test_a_literal_zero_is_zero(synth_train_only, tmp_path):
    """--n-epochs-decay 0 is no decay (it was read as "not set": epochs/2, and --n-epochs 1 trained 2 epochs)."""
    run = tmp_path / "run"
    at = TINY.index("--epochs")
    tiny = TINY[:at] + TINY[at + 2:]
    assert main(["-q", "train", "pix2pix", "--data", str(synth_train_only), "--out", str(run), *tiny,
                 "--n-epochs", "1", "--n-epochs-decay", "0"]) == 0
    config = json.loads((run / "config.json").read_text())
    assert (config["epochs"], config["n_epochs_decay"]) == (1, 0)
    assert sorted(p.name for p in (run / "samples").glob("*.png")) == ["epoch_0001.png"]

    from tfgan_translate import config as cfg
    from tfgan_translate.app.cli import build_parser, config_from_args

    args = build_parser().parse_args(["train", "pix2pix", "--data", "x", "--out", str(tmp_path / "new"),
                                      "--epochs", "4", "--n-epochs-decay", "0"])
    assert config_from_args(cfg.Pix2PixConfig, args).decay_epochs == 0


@pytest.mark.parametrize("flag, value, message", [
    ("--lr", "nan", "Received: lr=nan. Expected a finite number > 0."),
    ("--lr", "inf", "Received: lr=inf"),
    ("--beta1", "5", "Received: beta_1=5.0. Expected a finite number >= 0 and < 1."),
    ("--lambda-l1", "-100", "Received: lambda_l1=-100.0. Expected a finite number >= 0."),
])
def test_non_finite_and_out_of_range_flags_are_refused(synth_dir, tmp_path, capsys, flag, value, message):
    assert main(["train", "pix2pix", "--data", str(synth_dir), "--out", str(tmp_path / "r"), *TINY, flag, value]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_train_flags_are_the_config_fields():
    import dataclasses

    from tfgan_translate import config as cfg
    from tfgan_translate.app.cli import build_parser
    from tfgan_translate.options import flag_name

    for model, config_cls in cfg.CONFIG_CLASSES.items():
        help_text = " ".join(build_parser()._subparsers._group_actions[0].choices["train"]._subparsers
                             ._group_actions[0].choices[model].format_help().split())
        for field in dataclasses.fields(config_cls):
            if field.metadata["cli"]:
                flag = flag_name(field)
                assert f"{flag} " in help_text and " ".join(field.metadata["help"].split()) in help_text, flag
                if not field.metadata["required"]:
                    assert f"(default: {field.default})" in help_text, flag
        assert "--beta1 BETA_1" in help_text and "--n-layers-D N_LAYERS_D" in help_text and "--netG NETG" in help_text

"""Config checks that stop a run before it writes anything (issue 16, item 9)."""

import pytest

from tfgan_translate.app.cli import main
from tfgan_translate.config import CycleGANConfig, Pix2PixConfig

SMALL = dict(data="x", image_size=32, load_size=36, netG="unet_32")


def test_a_patchgan_too_deep_for_the_image_size_is_refused_by_the_config():
    with pytest.raises(ValueError, match=r"n_layers_D=9 .*image_size=32. Expected image_size >= 1536"):
        Pix2PixConfig(**SMALL, netD="n_layers", n_layers_D=9)
    with pytest.raises(ValueError, match="n_layers_D=3 \\(netD='basic'\\) with image_size=16"):
        CycleGANConfig(data="x", image_size=16, load_size=16, netG="resnet_1blocks")
    Pix2PixConfig(**SMALL, netD="n_layers", n_layers_D=3)  # 32 >= 24: one logit or more
    Pix2PixConfig(**SMALL, netD="pixel", n_layers_D=9)  # the PixelGAN ignores n_layers_D
    Pix2PixConfig(**SMALL, netD="n_layers", n_layers_D=9, objective="l1")  # no discriminator is trained


def test_cli_refuses_it_in_one_line_and_writes_no_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "pix2pix", "--data", "synth", "--out", str(out), "--image-size", "32", "--load-size", "36",
                 "--netG", "unet_32", "--netD", "n_layers", "--n-layers-D", "9"])
    assert code == 2
    err = capsys.readouterr().err
    assert "n_layers_D=9" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()

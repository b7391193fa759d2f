"""Pix2PixConfig: validation with clear errors and the JSON round trip."""

import json

import pytest

from tfgan_translate.config import Pix2PixConfig, load_config


def test_json_round_trip_through_run_folder(tmp_path):
    cfg = Pix2PixConfig(data="x", netG="unet_64", image_size=64, load_size=72, objective="l1", lambda_l1=50.0)
    path = cfg.save(tmp_path)
    assert json.loads(path.read_text())["model"] == "pix2pix"
    assert load_config(tmp_path) == cfg


def test_defaults_are_the_reference_pix2pix():
    cfg = Pix2PixConfig()
    assert (cfg.netG, cfg.netD, cfg.norm, cfg.gan_mode, cfg.objective) == (
        "unet_256", "basic", "batch", "vanilla", "l1+cgan")
    assert (cfg.lambda_l1, cfg.lr, cfg.beta_1, cfg.batch_size, cfg.load_size, cfg.image_size) == (
        100.0, 2e-4, 0.5, 1, 286, 256)
    assert cfg.conditional and cfg.uses_gan and cfg.uses_l1


@pytest.mark.parametrize("objective, conditional, gan, l1", [
    ("l1", False, False, True), ("gan", False, True, False), ("cgan", True, True, False),
    ("l1+gan", False, True, True), ("l1+cgan", True, True, True)])
def test_objective_flags(objective, conditional, gan, l1):
    cfg = Pix2PixConfig(objective=objective)
    assert (cfg.conditional, cfg.uses_gan, cfg.uses_l1) == (conditional, gan, l1)


@pytest.mark.parametrize("changes, message", [
    (dict(norm="layer"), r"norm='layer'"),
    (dict(objective="l2"), r"objective='l2'"),
    (dict(netG="unet_100"), r"netG='unet_100'"),
    (dict(image_size=0), r"image_size=0"),
    (dict(load_size=200), r"load_size=200"),
    (dict(dropout=1.0), r"dropout=1.0"),
    (dict(n_epochs_decay=300), r"n_epochs_decay=300"),
])
def test_invalid_values_name_the_field(changes, message):
    with pytest.raises(ValueError, match=message):
        Pix2PixConfig(**changes)


def test_unknown_fields_and_missing_run_are_clear(tmp_path):
    with pytest.raises(ValueError, match="Unknown Pix2PixConfig fields"):
        Pix2PixConfig.from_dict({"model": "pix2pix", "lamda_l1": 3})
    with pytest.raises(FileNotFoundError, match="No run config"):
        load_config(tmp_path)

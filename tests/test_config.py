"""Pix2PixConfig: validation with clear errors and the JSON round trip."""

import json

import pytest

from tfgan_translate.config import CycleGANConfig, Pix2PixConfig, load_config


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
    assert cfg.terms.conditional and cfg.terms.gan and cfg.terms.l1


@pytest.mark.parametrize("objective, conditional, gan, l1", [
    ("l1", False, False, True), ("gan", False, True, False), ("cgan", True, True, False),
    ("l1+gan", False, True, True), ("l1+cgan", True, True, True)])
def test_objective_flags(objective, conditional, gan, l1):
    cfg = Pix2PixConfig(objective=objective)
    assert (cfg.terms.conditional, cfg.terms.gan, cfg.terms.l1) == (conditional, gan, l1)


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


@pytest.mark.parametrize("cls, changes, message", [
    (Pix2PixConfig, dict(lr=float("nan")), r"Invalid value for `lr`. Received: lr=nan. Expected a finite number > 0."),
    (Pix2PixConfig, dict(lr=float("inf")), r"lr=inf"),
    (Pix2PixConfig, dict(lambda_l1=-100.0), r"lambda_l1=-100.0. Expected a finite number >= 0"),
    (Pix2PixConfig, dict(beta_1=5.0), r"beta_1=5.0. Expected a finite number >= 0 and < 1"),
    (Pix2PixConfig, dict(lambda_gp=float("nan")), r"lambda_gp=nan"),
    (Pix2PixConfig, dict(dropout=float("nan")), r"dropout=nan"),
    (Pix2PixConfig, dict(steps_per_epoch=0), r"steps_per_epoch=0. Expected an integer > 0 or None"),
    (CycleGANConfig, dict(lambda_cycle=-1.0), r"lambda_cycle=-1.0"),
    (CycleGANConfig, dict(lambda_identity=float("nan")), r"lambda_identity=nan"),
])
def test_non_finite_and_out_of_range_numbers_are_refused(cls, changes, message):
    with pytest.raises(ValueError, match=message):
        cls(**changes)


def test_zero_is_a_value_not_unset():
    from tfgan_translate.config import requested_config
    from tfgan_translate.options import text_parser

    assert text_parser(int | None)("0") == 0 and text_parser(int | None)("none") is None
    assert Pix2PixConfig(epochs=4, n_epochs_decay=0).decay_epochs == 0
    cfg = requested_config(Pix2PixConfig, {"data": "synth", "n_epochs_decay": 0}, n_epochs=1)
    assert (cfg.epochs, cfg.decay_epochs) == (1, 0)
    cfg = requested_config(CycleGANConfig, {"data": "synth"}, n_epochs=3)  # the reference: as many decaying
    assert (cfg.epochs, cfg.decay_epochs) == (6, 3)


def test_every_field_declares_its_help():
    import dataclasses

    for cls in (Pix2PixConfig, CycleGANConfig):
        for field in dataclasses.fields(cls):
            assert field.metadata.get("help"), f"{cls.__name__}.{field.name} has no help text"
    assert CycleGANConfig.__dataclass_fields__["netG"].metadata["help"].startswith("unet_256 |")  # override keeps it


def test_a_run_saved_without_data_may_be_given_its_data_at_resume():
    from tfgan_translate.config import check_resumable

    saved = Pix2PixConfig(data="a", netG="unet_64", image_size=64, load_size=72)
    check_resumable(saved.replace(data=""), saved.replace(data="x"))  # an import (data "") being fine-tuned
    check_resumable(saved.replace(data=""), saved.replace(data="x", epochs=5))
    with pytest.raises(ValueError, match=r"data: 'a' -> 'b'"):
        check_resumable(saved, saved.replace(data="b"))
    with pytest.raises(ValueError, match=r"netG: 'unet_64' -> 'unet_32'"):  # only `data` is freed
        check_resumable(saved.replace(data=""), saved.replace(data="x", netG="unet_32", image_size=32, load_size=36))
    with pytest.raises(ValueError, match=r"data: 'a' -> ''"):
        check_resumable(saved, saved.replace(data=""))


def test_train_resume_data_on_a_run_saved_without_data(tmp_path):
    from tfgan_translate.app.cli import build_parser, config_from_args
    from tfgan_translate.config import check_resumable

    def resumed(run_dir, *flags):
        args = build_parser().parse_args(["train", "pix2pix", "--out", str(run_dir), "--resume", *flags])
        return config_from_args(Pix2PixConfig, args)

    imported = Pix2PixConfig(netG="unet_64", image_size=64, load_size=72, ngf=8)  # as an import writes it
    imported.save(tmp_path / "imported")
    requested = resumed(tmp_path / "imported", "--data", "data/facades", "--epochs", "5")
    assert requested == imported.replace(data="data/facades", epochs=5)
    check_resumable(load_config(tmp_path / "imported"), requested)  # what `train --resume` checks

    imported.replace(data="data/facades").save(tmp_path / "trained")
    with pytest.raises(ValueError, match=r"data: 'data/facades' -> 'data/other'"):
        check_resumable(load_config(tmp_path / "trained"), resumed(tmp_path / "trained", "--data", "data/other"))

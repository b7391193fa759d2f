"""Reading a reference run folder: its options file, their mapping onto the configs, its checkpoint files."""

from __future__ import annotations

import pytest

from tfgan_translate.config import CycleGANConfig, Pix2PixConfig
from tfgan_translate.reference.option_mapping import options_to_config_fields
from tfgan_translate.reference.options import find_checkpoints, parse_options, read_options

# The options both models print (train.py of the reference, 2020-2024), with the parser's base defaults.
BASE = {
    "batch_size": 1, "beta1": 0.5, "checkpoints_dir": "./checkpoints", "continue_train": False, "crop_size": 256,
    "dataroot": None, "dataset_mode": "unaligned", "direction": "AtoB", "display_env": "main", "display_freq": 400,
    "display_id": 1, "display_ncols": 4, "display_port": 8097, "display_server": "http://localhost",
    "display_winsize": 256, "epoch": "latest", "epoch_count": 1, "gan_mode": "lsgan", "gpu_ids": "0",
    "init_gain": 0.02, "init_type": "normal", "input_nc": 3, "isTrain": None, "load_iter": 0, "load_size": 286,
    "lr": 0.0002, "lr_decay_iters": 50, "lr_policy": "linear", "max_dataset_size": float("inf"),
    "model": "cycle_gan", "n_epochs": 100, "n_epochs_decay": 100, "n_layers_D": 3, "name": "experiment_name",
    "ndf": 64, "netD": "basic", "netG": "resnet_9blocks", "ngf": 64, "no_dropout": False, "no_flip": False,
    "no_html": False, "norm": "instance", "num_threads": 4, "output_nc": 3, "phase": "train", "pool_size": 50,
    "preprocess": "resize_and_crop", "print_freq": 100, "save_by_iter": False, "save_epoch_freq": 5,
    "save_latest_freq": 5000, "serial_batches": False, "suffix": "", "update_html_freq": 1000, "use_wandb": False,
    "verbose": False, "wandb_project_name": "CycleGAN-and-pix2pix",
}


def reference_opt_text(values: dict, defaults: dict) -> str:
    """An options file laid out as the reference's `print_options` lays it out (right-aligned names, padded
    values, a tab and the default where a value differs from it)."""
    lines = ["----------------- Options ---------------"]
    for key in sorted(values):
        value, default = values[key], defaults.get(key, values[key])
        comment = f"\t[default: {default}]" if value != default else ""
        lines.append(f"{key:>25}: {value!s:<30}{comment}")
    lines.append("----------------- End -------------------")
    return "\n".join(lines) + "\n"


def pix2pix_facades():
    """train_opt.txt of `train.py --dataroot ./datasets/facades --name facades_pix2pix --model pix2pix
    --direction BtoA`."""
    defaults = {**BASE, "norm": "batch", "netG": "unet_256", "dataset_mode": "aligned", "pool_size": 0,
                "gan_mode": "vanilla", "lambda_L1": 100.0}
    values = {**defaults, "dataroot": "./datasets/facades", "name": "facades_pix2pix", "model": "pix2pix",
              "direction": "BtoA", "isTrain": True}
    return reference_opt_text(values, defaults)


def cyclegan_run(**changes):
    """train_opt.txt of a CycleGAN run at 128 pixels with a few non-default settings."""
    defaults = {**BASE, "no_dropout": True, "lambda_A": 10.0, "lambda_B": 10.0, "lambda_identity": 0.5}
    values = {**defaults, "dataroot": "/data/horse2zebra", "name": "h2z", "isTrain": True, "netG": "resnet_6blocks",
              "load_size": 143, "crop_size": 128, "no_flip": True, "n_epochs": 50, "n_epochs_decay": 25,
              "lambda_identity": 0.0, "gpu_ids": "0,1", "batch_size": 4, **changes}
    return reference_opt_text(values, defaults)


def test_parses_the_references_format_into_typed_values(tmp_path):
    text = pix2pix_facades()
    assert "                direction: BtoA                          \t[default: AtoB]\n" in text  # the layout itself
    (tmp_path / "train_opt.txt").write_text(text)
    options = read_options(tmp_path / "train_opt.txt")
    assert options["direction"] == "BtoA" and options["dataroot"] == "./datasets/facades"
    assert options["batch_size"] == 1 and isinstance(options["batch_size"], int)
    assert options["lr"] == 0.0002 and options["lambda_L1"] == 100.0 and options["max_dataset_size"] == float("inf")
    assert options["no_flip"] is False and options["isTrain"] is True
    assert options["gpu_ids"] == "0" and options["epoch"] == "latest" and options["suffix"] == ""
    assert options["display_server"] == "http://localhost"  # a value holding a colon
    assert len(options) == len(BASE) + 1  # every line, lambda_L1 included


def test_pix2pix_options_map_onto_pix2pix_config(tmp_path):
    class_name, fields, notes = options_to_config_fields(parse_options(pix2pix_facades()))
    assert class_name == "Pix2PixConfig" and notes == []
    assert fields == {
        "data": "./datasets/facades", "direction": "BtoA", "netG": "unet_256", "netD": "basic", "n_layers_D": 3,
        "ngf": 64, "ndf": 64, "init_gain": 0.02, "input_channels": 3, "output_channels": 3, "load_size": 286,
        "image_size": 256, "preprocess": "resize_and_crop", "flip": True, "batch_size": 1, "lr": 0.0002,
        "beta_1": 0.5, "gan_mode": "vanilla", "dropout": 0.5, "norm": "batch", "epochs": 200, "n_epochs_decay": 100,
        "lambda_l1": 100.0,
    }
    config = Pix2PixConfig(**fields)
    assert (config.constant_epochs, config.decay_epochs, config.objective) == (100, 100, "l1+cgan")


def test_cycle_gan_options_map_onto_cyclegan_config():
    mapped = options_to_config_fields(parse_options(cyclegan_run()))
    assert mapped.config_class == "CycleGANConfig" and mapped.notes == []
    config = CycleGANConfig(**mapped.fields)
    assert (config.netG, config.norm, config.dropout, config.gan_mode) == ("resnet_6blocks", "instance", 0.0, "lsgan")
    assert (config.image_size, config.load_size, config.flip, config.batch_size) == (128, 143, False, 4)
    assert (config.epochs, config.decay_epochs) == (75, 25)
    assert (config.lambda_cycle, config.lambda_identity, config.pool_size) == (10.0, 0.0, 50)


def test_what_has_no_equivalent_is_noted():
    options = parse_options(cyclegan_run(lambda_B=5.0, init_type="xavier", lr_policy="step", epoch_count=11,
                                         max_dataset_size=1000, norm="sync_batch", netG="resnet_9blocks+",
                                         preprocess="resize", mystery_flag=3))
    _, fields, notes = options_to_config_fields(options)
    text = " ".join(notes)
    assert fields["lambda_cycle"] == 7.5 and "lambda_A=10.0 and lambda_B=5.0 differ" in text
    for fragment in ("init_type='xavier'", "lr_policy='step'", "epoch_count=11", "max_dataset_size=1000",
                     "netG='resnet_9blocks+' dropped", "preprocess='resize' dropped", "mystery_flag=3 ignored"):
        assert fragment in text, fragment
    assert fields["norm"] == "batch" and fields["sync_batch_norm"] is True
    assert "netG" not in fields and "preprocess" not in fields
    CycleGANConfig(**fields)  # what is left is valid


def test_old_opt_txt_with_old_option_names():
    text = "\n".join([
        "------------ Options -------------", "batchSize: 1", "fineSize: 256", "gpu_ids: [0]", "identity: 0.0",
        "lambda_A: 100.0", "loadSize: 286", "model: pix2pix", "niter: 100", "niter_decay: 100", "no_lsgan: True",
        "resize_or_crop: resize_and_crop", "which_direction: BtoA", "which_epoch: latest",
        "which_model_netD: basic", "which_model_netG: unet_256", "-------------- End ----------------", "",
    ])
    class_name, fields, notes = options_to_config_fields(parse_options(text))
    assert class_name == "Pix2PixConfig"
    assert (fields["netG"], fields["direction"], fields["gan_mode"]) == ("unet_256", "BtoA", "vanilla")
    assert (fields["load_size"], fields["image_size"], fields["epochs"], fields["lambda_l1"]) == (286, 256, 200, 100.0)
    assert notes == ["lambda_A=100.0 -> lambda_l1: older reference versions weighed pix2pix's L1 term by lambda_A."]


def test_test_options_need_the_model():
    options = {"model": "test", "netG": "resnet_9blocks", "norm": "instance", "no_dropout": True,
               "dataset_mode": "single", "phase": "test", "results_dir": "./results/", "model_suffix": "",
               "load_size": 256, "crop_size": 256}
    with pytest.raises(ValueError, match="--model test"):
        options_to_config_fields(options)
    class_name, fields, notes = options_to_config_fields(options, model="cycle_gan")
    assert class_name == "CycleGANConfig" and fields["dropout"] == 0.0
    assert notes == ["dataset_mode='single' dropped: CycleGANConfig reads unaligned data."]
    with pytest.raises(ValueError, match="Invalid value for argument `model`"):
        options_to_config_fields({"model": "stylegan"})


def test_malformed_files_are_named(tmp_path):
    path = tmp_path / "opt.txt"
    path.write_text("batch_size: 1\n")
    with pytest.raises(ValueError, match=r"opt.txt is not a reference options file"):
        read_options(path)
    path.write_text("----------------- Options ---------------\n  batch_size: 1\n  this is not an option\n")
    with pytest.raises(ValueError, match=r"opt.txt, line 3: expected 'name: value'"):
        read_options(path)
    with pytest.raises(FileNotFoundError, match="No reference options file"):
        read_options(tmp_path / "missing.txt")


def test_run_folder_prefers_train_opt(tmp_path):
    _touch(tmp_path, "latest_net_G.pth")
    assert find_checkpoints(tmp_path).options_file is None
    (tmp_path / "test_opt.txt").write_text(reference_opt_text({"model": "test"}, {}))
    assert find_checkpoints(tmp_path).options_file.name == "test_opt.txt"
    (tmp_path / "train_opt.txt").write_text(pix2pix_facades())
    found = find_checkpoints(tmp_path)
    assert found.options_file.name == "train_opt.txt" and read_options(found.options_file)["model"] == "pix2pix"


def _touch(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"PK\x03\x04")


def test_checkpoint_folder_listing(tmp_path):
    p2p = tmp_path / "facades_pix2pix"
    _touch(p2p, "5_net_G.pth", "5_net_D.pth", "10_net_G.pth", "10_net_D.pth", "latest_net_G.pth", "latest_net_D.pth",
           "train_opt.txt", "loss_log.txt")
    found = find_checkpoints(p2p)
    assert found.layout == "pix2pix" and found.epoch == "latest"
    assert found.files == {"G": p2p / "latest_net_G.pth", "D": p2p / "latest_net_D.pth"}
    assert found.options_file == p2p / "train_opt.txt"
    assert find_checkpoints(p2p, epoch=5).files["G"].name == "5_net_G.pth"
    with pytest.raises(FileNotFoundError, match=r"epoch '7'.*epochs: 5, 10, latest"):
        find_checkpoints(p2p, epoch=7)
    _touch(p2p, "5_net_G_A.pth")
    with pytest.raises(ValueError, match=r"holds both pix2pix .* for epoch '5'; move each run's files"):
        find_checkpoints(p2p, epoch=5)

    cyc = tmp_path / "horse2zebra"
    _touch(cyc, "latest_net_G_A.pth", "latest_net_D_A.pth", "latest_net_D_B.pth")
    with pytest.raises(FileNotFoundError, match=r"CycleGAN run at epoch 'latest': missing latest_net_G_B.pth\. "
                                                r"Found: latest_net_D_A.pth, latest_net_D_B.pth, latest_net_G_A.pth"):
        find_checkpoints(cyc)
    _touch(cyc, "latest_net_G_B.pth")
    found = find_checkpoints(cyc)
    assert found.layout == "cyclegan" and list(found.files) == ["G_A", "G_B", "D_A", "D_B"]

    pretrained = tmp_path / "horse2zebra_pretrained"
    _touch(pretrained, "latest_net_G.pth")
    assert find_checkpoints(pretrained).layout == "single"
    _touch(pretrained, "3_net_D.pth")
    with pytest.raises(FileNotFoundError, match=r"pix2pix run at epoch '3': missing 3_net_G.pth"):
        find_checkpoints(pretrained, epoch=3)
    with pytest.raises(FileNotFoundError, match=r"No reference run folder"):
        find_checkpoints(tmp_path / "nowhere")
    _touch(tmp_path / "empty_run", "train_opt.txt")
    with pytest.raises(FileNotFoundError, match=r"Found no <epoch>_net_\*.pth files"):
        find_checkpoints(tmp_path / "empty_run")

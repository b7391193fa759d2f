"""Mapping a reference run's options onto this package's config fields (`options_to_config_fields`).

The options come from `tfgan_translate.reference.options` (`read_options` / `parse_options`), old
option names included; the result names a config class of `tfgan_translate.config` and its fields.

Example:

>>> mapped = options_to_config_fields({"model": "pix2pix", "netG": "unet_256", "lambda_L1": 100.0})
>>> mapped.config_class, mapped.fields
('Pix2PixConfig', {'netG': 'unet_256', 'lambda_l1': 100.0})
"""

from __future__ import annotations

import dataclasses
import math
import typing
from typing import Any, NamedTuple

from tfgan_translate.config import CONFIG_CLASSES, Pix2PixConfig, parse_generator_name

# Old option names (the reference before its 2018-2019 renames) -> current ones.
LEGACY_OPTION_NAMES = {
    "which_model_netG": "netG", "which_model_netD": "netD", "which_direction": "direction", "loadSize": "load_size",
    "fineSize": "crop_size", "batchSize": "batch_size", "resize_or_crop": "preprocess", "niter": "n_epochs",
    "niter_decay": "n_epochs_decay", "which_epoch": "epoch", "nThreads": "num_threads", "identity": "lambda_identity",
}

# Options copied onto a config field (reference option -> field), converted on the way where `_CONVERSIONS` says.
_TAKEN = {
    "dataroot": "data", "direction": "direction", "netG": "netG", "netD": "netD", "n_layers_D": "n_layers_D",
    "ngf": "ngf", "ndf": "ndf", "init_gain": "init_gain", "input_nc": "input_channels", "output_nc": "output_channels",
    "load_size": "load_size", "crop_size": "image_size", "preprocess": "preprocess", "no_flip": "flip",
    "batch_size": "batch_size", "lr": "lr", "beta1": "beta_1", "gan_mode": "gan_mode", "no_dropout": "dropout",
    "norm": "norm",
}
_CONVERSIONS = {"dataroot": lambda v: "" if v is None else str(v), "init_gain": float, "lr": float, "beta1": float,
                "no_flip": lambda v: not v, "no_dropout": lambda v: 0.0 if v else 0.5,
                "norm": lambda v: v[len("sync_"):] if v in ("sync_batch", "sync_instance") else v}
# Options `options_to_config_fields` knows: those it maps, approximates or reports in a note, then those about
# where and how the reference ran (devices, logging, saving, testing), not about the model, dropped silently.
_KNOWN = frozenset({
    *_TAKEN, "model", "no_lsgan", "n_epochs", "n_epochs_decay", "lambda_L1", "pool_size", "lambda_A", "lambda_B",
    "lambda_identity", "dataset_mode", "init_type", "lr_policy", "epoch_count", "max_dataset_size", "eval",
    "name", "gpu_ids", "checkpoints_dir", "serial_batches", "num_threads", "display_winsize", "epoch", "load_iter",
    "verbose", "suffix", "display_freq", "display_ncols", "display_id", "display_server", "display_env",
    "display_port", "display_single_pane_ncols", "update_html_freq", "print_freq", "no_html", "save_latest_freq",
    "save_epoch_freq", "save_by_iter", "continue_train", "phase", "isTrain", "use_wandb", "wandb_project_name",
    "results_dir", "aspect_ratio", "num_test", "how_many", "ntest", "model_suffix", "lr_decay_iters",
    "use_sigmoid",
})

# The reference's model names -> this package's (`CONFIG_CLASSES` keys).
_MODELS = {"pix2pix": "pix2pix", "cycle_gan": "cyclegan", "cyclegan": "cyclegan", "colorization": "pix2pix"}


class MappedOptions(NamedTuple):
    """What `options_to_config_fields` returns (a tuple: `config_class, fields, notes = ...`)."""

    config_class: str  # "Pix2PixConfig" or "CycleGANConfig" (a class of tfgan_translate.config)
    fields: dict  # config field -> value, ready for `Pix2PixConfig(**fields)` / `CycleGANConfig(**fields)`
    notes: list  # one sentence per option that was dropped or approximated


def options_to_config_fields(options: dict[str, Any], *, model: str | None = None) -> MappedOptions:
    """Maps a reference run's options onto this package's config fields.

    The mapping (reference option -> config field):

    - model: pix2pix / colorization -> `Pix2PixConfig`, cycle_gan -> `CycleGANConfig`;
    - netG, netD, n_layers_D, ngf, ndf, norm (sync_batch -> batch + sync_batch_norm), init_gain,
      gan_mode (old files: no_lsgan), direction -> the same names;
    - no_dropout -> dropout (0.0, else the reference's fixed 0.5);
    - eval (a test options file) -> test_dropout "off" and test_batch_norm "moving" (its `model.eval()`);
      without it, the test.py default: dropout on, batch norm on each image's statistics (the import sets it);
    - input_nc / output_nc -> input_channels / output_channels;
    - load_size / crop_size -> load_size / image_size; preprocess; no_flip -> flip = not no_flip;
    - lambda_L1 (in old pix2pix runs lambda_A) -> lambda_l1 (0 -> objective "cgan"); lambda_identity
      (old files: identity); pool_size;
    - lambda_A / lambda_B -> lambda_cycle: equal weights map exactly; different ones become their mean
      (this package weighs both cycle terms, and both identity terms, by one value) and a note says so;
    - lr, beta1 -> lr, beta_1 (the reference's beta2 is fixed at 0.999, this package's default);
    - n_epochs + n_epochs_decay -> epochs (their sum) and n_epochs_decay; batch_size; dataroot -> data.

    What has no equivalent is dropped with a note: init_type other than normal, lr_policy other than
    linear, a resumed run's epoch_count, a finite max_dataset_size, a pix2pix image pool, an unexpected
    dataset_mode, values outside this package's choices, and options it does not know. Where the
    options are about devices, logging or saving (gpu_ids, display_*, save_*, ...) they are dropped
    silently. Fields the target config class lacks are dropped with a note too.

    Args:
        options: dict. From `read_options` / `parse_options`; old option names are accepted.
        model: str or None. "pix2pix" or "cyclegan" (or the reference's "cycle_gan") to choose the
            config class; needed for a `test_opt.txt` of `--model test`. Defaults to None: the
            options' `model`.

    Returns:
        A `MappedOptions(config_class, fields, notes)` tuple: the config class name, a dict of its
        fields, and a list of notes on what was dropped or approximated.

    Raises:
        ValueError: the model is missing, `test` without `model=`, or one this package does not have.

    Example:

    >>> mapped = options_to_config_fields({"model": "cycle_gan", "lambda_A": 10.0, "lambda_B": 5.0})
    >>> mapped.config_class, mapped.fields["lambda_cycle"]
    ('CycleGANConfig', 7.5)
    >>> mapped.notes[0][:40]
    'lambda_A=10.0 and lambda_B=5.0 differ: t'
    """
    opts = dict(options)
    for old, new in LEGACY_OPTION_NAMES.items():
        if old in opts:
            opts.setdefault(new, opts.pop(old))  # with both spellings present, the current one wins
    notes: list[str] = []
    reference_model = opts.get("model")
    chosen = model if model is not None else reference_model
    if chosen is None:
        raise ValueError("Invalid value for argument `options`: no `model` option. Pass model='pix2pix' or 'cyclegan'.")
    if chosen not in _MODELS:
        if chosen == "test":
            raise ValueError(f"Invalid value for argument `model`. Received: model={model!r} with options of the "
                             "reference's `--model test` (a test_opt.txt, which does not say how the generator was "
                             "trained). Expected model='pix2pix' or 'cyclegan', or the run's train_opt.txt.")
        raise ValueError(f"Invalid value for argument `model`. Received: model={chosen!r}. Expected one of "
                         f"{sorted(_MODELS)} (the reference's pix2pix, cycle_gan or colorization).")
    package_model = _MODELS[chosen]
    cls = CONFIG_CLASSES[package_model]
    if model is not None and reference_model not in (None, "test") and _MODELS.get(reference_model) != package_model:
        notes.append(f"model={reference_model!r} in the options; mapped onto {cls.__name__} as asked "
                     f"(model={model!r}).")
    if chosen == "colorization":
        notes.append("model=colorization: the reference works in Lab colour space (L in, ab out); this package "
                     "reads RGB or grayscale files, so prepare the data as L and ab images yourself.")

    fields: dict[str, Any] = {field: _CONVERSIONS.get(option, lambda v: v)(opts[option])
                              for option, field in _TAKEN.items() if option in opts}
    if "gan_mode" not in opts and "no_lsgan" in opts:
        fields["gan_mode"] = "vanilla" if opts["no_lsgan"] else "lsgan"
    if "eval" in opts:  # a test options file's --eval: the reference's `model.eval()`
        evaluating = bool(opts["eval"])
        fields.update(test_dropout="off" if evaluating else "on", test_batch_norm="moving" if evaluating else "image")

    if opts.get("norm") == "sync_batch":
        fields["sync_batch_norm"] = True
    if opts.get("norm") == "sync_instance":
        notes.append("norm=sync_instance -> instance: instance norm has no statistics to synchronise.")

    if "n_epochs" in opts or "n_epochs_decay" in opts:
        decay = int(opts.get("n_epochs_decay", 100))
        fields.update(epochs=int(opts.get("n_epochs", 100)) + decay, n_epochs_decay=decay)

    if package_model == "pix2pix":
        if "lambda_L1" not in opts and "lambda_A" in opts:  # before 2018 the reference's pix2pix weighed L1 by it
            opts["lambda_L1"] = opts["lambda_A"]
            notes.append(f"lambda_A={opts['lambda_A']} -> lambda_l1: older reference versions weighed pix2pix's L1 "
                         "term by lambda_A.")
        if "lambda_L1" in opts:
            fields["lambda_l1"] = float(opts["lambda_L1"])
            if fields["lambda_l1"] == 0:
                fields["objective"] = "cgan"
                notes.append("lambda_L1=0: the reference trained with the cGAN loss alone -> objective='cgan'.")
        if opts.get("pool_size"):
            notes.append(f"pool_size={opts['pool_size']} dropped: this package's pix2pix has no image pool.")
    else:
        given = [float(opts[name]) for name in ("lambda_A", "lambda_B") if opts.get(name) is not None]
        if given:  # one given alone stands for both
            a, b = given[0], given[-1]
            fields["lambda_cycle"] = a if a == b else (a + b) / 2
            if a != b:
                notes.append(f"lambda_A={a} and lambda_B={b} differ: this package weighs both cycle terms (and both "
                             f"identity terms) by one lambda_cycle, set to their mean {fields['lambda_cycle']}.")
        if "lambda_identity" in opts:
            fields["lambda_identity"] = float(opts["lambda_identity"])
        if "pool_size" in opts:
            fields["pool_size"] = opts["pool_size"]

    expected_mode = "colorization" if chosen == "colorization" else "aligned" if cls is Pix2PixConfig else "unaligned"
    if opts.get("dataset_mode") not in (None, expected_mode):
        notes.append(f"dataset_mode={opts['dataset_mode']!r} dropped: {cls.__name__} reads {expected_mode} data.")
    if opts.get("init_type") not in (None, "normal"):
        notes.append(f"init_type={opts['init_type']!r} dropped: this package initialises weights ~ N(0, init_gain) "
                     "(no matter when the weights are imported).")
    if opts.get("lr_policy") not in (None, "linear", "lambda"):
        notes.append(f"lr_policy={opts['lr_policy']!r} dropped: this package keeps lr for the first epochs, then "
                     "decays it linearly to 0 (the reference's 'linear').")
    if opts.get("epoch_count") not in (None, 1):
        notes.append(f"epoch_count={opts['epoch_count']}: the reference run was continued from epoch "
                     f"{opts['epoch_count']}; the config describes the whole schedule from epoch 1.")
    max_size = opts.get("max_dataset_size")
    if isinstance(max_size, (int, float)) and not math.isinf(max_size):
        notes.append(f"max_dataset_size={max_size} dropped: the reference used at most {max_size} images per domain.")

    # Keep only values this package accepts, and fields the config class has.
    if "netG" in fields:
        try:
            parse_generator_name(fields["netG"])
        except ValueError:
            notes.append(f"netG={fields.pop('netG')!r} dropped: this package has no such generator.")
    known, hints = {f.name for f in dataclasses.fields(cls)}, typing.get_type_hints(cls)
    for field in list(fields):
        if field not in known:
            notes.append(f"{field}={fields.pop(field)!r} dropped: {cls.__name__} has no field {field!r}.")
            continue
        choices = typing.get_args(hints[field]) if typing.get_origin(hints[field]) is typing.Literal else None
        if choices is not None and fields[field] not in choices:
            notes.append(f"{field}={fields.pop(field)!r} dropped: {cls.__name__} expects one of {list(choices)}.")

    notes += [f"{option}={value!r} ignored: not an option this mapping knows." for option, value in opts.items()
              if option not in _KNOWN]
    return MappedOptions(cls.__name__, fields, notes)

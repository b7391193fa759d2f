"""Mapping a CUT authors' run's options (train_opt.txt) onto `CUTConfig` fields (`cut_options_to_config_fields`).

The CUT authors (taesungp/contrastive-unpaired-translation, options/ and models/cut_model.py) extend the
pix2pix/CycleGAN reference's options: `--model cut`, `--CUT_mode CUT|FastCUT`, `--nce_layers`, `--netF_nc`,
`--nce_T`, `--num_patches`, `--lambda_GAN`, `--lambda_NCE`, `--nce_idt`, `--flip_equivariance`,
`--no_antialias`, `--no_antialias_up`, `--normG` / `--normD`. The shared options map as
`option_mapping.options_to_config_fields` maps them.

Example:

>>> mapped = cut_options_to_config_fields({"model": "cut", "CUT_mode": "FastCUT", "nce_layers": "0,4,8",
...                                        "netF_nc": 256, "no_antialias_up": True})
>>> mapped.config_class, mapped.fields["mode"], mapped.fields["nce_layers"], mapped.fields["upsample"]
('CUTConfig', 'fastcut', (0, 4, 8), 'transpose')
"""

from __future__ import annotations

import dataclasses
from typing import Any

from tfgan_translate.config import CUTConfig
from tfgan_translate.reference.option_mapping import MappedOptions, options_to_config_fields


def _layers(value) -> tuple[int, ...]:
    """`--nce_layers` as read (the text "0,4,8", or already a tuple or one int) -> a tuple of ints."""
    if isinstance(value, (tuple, list)):
        return tuple(int(i) for i in value)
    return tuple(int(i) for i in str(value).split(",") if i.strip())


# CUT options copied onto a CUTConfig field, with their conversion.
_CUT_TAKEN = {
    "lambda_GAN": ("lambda_gan", float), "lambda_NCE": ("lambda_nce", float), "nce_idt": ("nce_idt", bool),
    "flip_equivariance": ("flip_equivariance", bool), "num_patches": ("num_patches", int),
    "nce_T": ("nce_temperature", float), "netF_nc": ("projection_units", int),
    "nce_layers": ("nce_layers", _layers),
    "no_antialias": ("downsample", lambda v: "stride" if v else "blur"),
    "no_antialias_up": ("upsample", lambda v: "transpose" if v else "blur"),
    "init_type": ("init", lambda v: v), "beta2": ("beta_2", float),
}
# Options of the authors' code with no counterpart here, or about how it ran: dropped silently.
_CUT_SILENT = {"CUT_mode", "model", "normG", "normD", "netF", "nce_includes_all_negatives_from_minibatch",
               "easy_label", "stylegan2_G_num_downsampling", "pool_size", "random_scale_max", "dataset_mode",
               "evaluation_freq"}


def cut_options_to_config_fields(options: dict[str, Any]) -> MappedOptions:
    """Maps a CUT run's options onto `CUTConfig` fields.

    - CUT_mode CUT / FastCUT (any case) -> mode "cut" / "fastcut";
    - normG -> norm (normD must agree, else a note), netG, netD, n_layers_D, ngf, ndf, init_gain, ... as the
      reference's options (`options_to_config_fields`);
    - no_antialias / no_antialias_up -> downsample "stride" / upsample "transpose" (else "blur"); init_type
      xavier / normal -> init;
    - nce_layers, netF_nc, nce_T, num_patches, lambda_GAN, lambda_NCE, nce_idt, flip_equivariance -> nce_layers,
      projection_units, nce_temperature, num_patches, lambda_gan, lambda_nce, nce_idt, flip_equivariance.

    Args:
        options: dict. From `read_options` / `parse_options` of the run's train_opt.txt.

    Returns:
        `MappedOptions("CUTConfig", fields, notes)`.

    Raises:
        ValueError: `model` is not "cut" or the CUT_mode is neither CUT nor FastCUT.
    """
    opts = dict(options)
    if opts.get("model") != "cut":
        raise ValueError(f"Invalid value for argument `options`. Received: model={opts.get('model')!r}. "
                         "Expected the CUT authors' model='cut'.")
    mode = str(opts.get("CUT_mode", "CUT")).lower()
    if mode not in ("cut", "fastcut"):
        raise ValueError(f"Invalid value for argument `options`. Received: CUT_mode={opts['CUT_mode']!r}. "
                         "Expected 'CUT' or 'FastCUT'.")
    notes = []
    if "normG" in opts:
        opts["norm"] = opts["normG"]
        if opts.get("normD", opts["normG"]) != opts["normG"]:
            notes.append(f"normD={opts['normD']!r} dropped: CUTConfig uses one norm, normG={opts['normG']!r}, for "
                         "both networks.")
    shared = {k: v for k, v in opts.items() if k not in _CUT_TAKEN and k not in _CUT_SILENT}
    base = options_to_config_fields({**shared, "model": "cycle_gan"})
    fields = {"mode": mode, **{k: v for k, v in base.fields.items() if k != "lambda_cycle"}}
    notes += [n for n in base.notes if "CycleGANConfig" not in n and "lambda_" not in n]
    for option, (field, convert) in _CUT_TAKEN.items():
        if opts.get(option) is not None:
            fields[field] = convert(opts[option])
    if fields.get("init") not in (None, "xavier", "normal"):
        notes.append(f"init_type={fields.pop('init')!r} dropped: CUTConfig initialises with xavier or normal.")
    known = {f.name for f in dataclasses.fields(CUTConfig)}
    for field in [f for f in fields if f not in known]:
        notes.append(f"{field}={fields.pop(field)!r} dropped: CUTConfig has no field {field!r}.")
    return MappedOptions("CUTConfig", fields, notes)


__all__ = ["cut_options_to_config_fields"]

"""Maps the CUT authors' state dicts onto this package's anti-aliased networks and `PatchProjection`.

The CUT authors (taesungp/contrastive-unpaired-translation, models/networks.py) keep the pix2pix/CycleGAN
reference's `nn.Sequential` numbering, with their anti-aliased resampling inserted:

- `ResnetGenerator` (no `--no_antialias`, no `--no_antialias_up`): each down stage is Conv2d (stride 1), norm,
  ReLU, `Downsample` (`model.7`, `model.11`), so the residual blocks start at `model.12`; each up stage is
  `Upsample`, Conv2d (stride 1, not transposed), norm, ReLU (`model.<12 + n>` ... ), the head conv at
  `model.<21 + n>`.
- `NLayerDiscriminator`: Conv2d, LeakyReLU, `Downsample` (`model.2`), then per stride-2 stage Conv2d, norm,
  LeakyReLU, `Downsample` (four entries), then the two stride-1 convs as the reference's.
- `PatchSampleF` (`use_mlp`): `mlp_<i>.0` and `mlp_<i>.2`, Linear weights `[out, in]` -> Dense kernels `[in, out]`.

The generator's and discriminator's layouts are the reference's (`layouts._resnet`, `layouts._n_layers`) with
`blur=True`; the tensors are copied as the reference's are (`mapping.assign_entries`).

`Downsample` and `Upsample` keep their fixed filter as a buffer `filt` (`[C, 1, 3, 3]` `[1, 2, 1]^2 / 16`,
`[C, 1, 4, 4]` `[1, 3, 3, 1]^2 / 16`): this package computes those filters with stock layers, so a `filt` is
checked against them and a file with any other filter refused, naming the key.

Reference: Park et al. 2020 (CUT); the authors' models/networks.py (ResnetGenerator, NLayerDiscriminator,
Downsample, Upsample, PatchSampleF).
"""

from __future__ import annotations

import keras
import numpy as np

from tfgan_translate.reference.errors import CheckpointError
from tfgan_translate.reference.layouts import _Entry, _n_layers, _resnet
from tfgan_translate.reference.mapping import assign_entries, state_from_entries

# A `filt` buffer's layer (`layouts._filt`) -> the 1-D filter; the buffer holds its outer product / 16 per channel.
_TAPS = {"filt:down": [1, 2, 1], "filt:up": [1, 3, 3, 1]}


def _filter(layer: str) -> np.ndarray:
    return np.outer(_TAPS[layer], _TAPS[layer])[None, None] / 16.0


def _projection(network) -> list[_Entry]:
    entries = []
    for i, channels in enumerate(network.feature_channels):
        for step, index, fan_in in ((1, 0, channels), (2, 2, network.units)):
            entries += [_Entry(f"mlp_{i}.{index}.weight", (network.units, fan_in), f"mlp{i}_dense{step}", "kernel"),
                        _Entry(f"mlp_{i}.{index}.bias", (network.units,), f"mlp{i}_dense{step}", "bias")]
    return entries


def cut_entries(network: keras.Model) -> list[_Entry]:
    """The tensors the CUT authors save for `network`: a `ResNetGenerator` with `downsample="blur"` and
    `upsample="blur"`, a `PatchGANDiscriminator` (`kind="n_layers"`) with `downsample="blur"`, or a
    `PatchProjection`.

    Raises:
        ValueError: any other network (a stride/transpose network maps through `mapping.assign_weights`).
    """
    if hasattr(network, "feature_channels"):
        return _projection(network)
    if hasattr(network, "ngf") and network.downsample == "blur" and network.upsample == "blur":
        return _resnet(network.n_blocks, network.ngf, network.input_channels, network.output_channels, network.norm,
                       network.dropout > 0, blur=True)
    if hasattr(network, "ndf") and getattr(network, "kind", "") == "n_layers" and network.downsample == "blur":
        return _n_layers(network.n_layers, network.ndf, network.input_channels + network.condition_channels,
                         network.norm, blur=True)
    raise ValueError(f"Invalid value for argument `network`. Received: network={network.name!r}. Expected a "
                     "ResNetGenerator with downsample='blur' and upsample='blur', a PatchGANDiscriminator with "
                     "kind='n_layers' and downsample='blur', or a PatchProjection.")


def is_cut_state_dict(state_dict: dict) -> bool:
    """Whether a state dict holds the CUT authors' anti-aliasing buffers (`filt`)."""
    return any(str(key).endswith(".filt") for key in state_dict)


def cut_generator_fields(state_dict: dict, source: str = "the state dict") -> dict:
    """The generator arguments (netG, ngf, norm, channels, down/upsample) a CUT generator's state dict shows.

    Raises:
        CheckpointError: it is no anti-aliased ResnetGenerator of the CUT authors (their `--no_antialias` variants
            are not read).
    """
    blocks = sum(f"model.{11 + b}.conv_block.1.weight" in state_dict for b in range(1, len(state_dict)))
    head, stem = state_dict.get(f"model.{21 + blocks}.weight"), state_dict.get("model.1.weight")
    filters = {"model.7.filt", f"model.{12 + blocks}.filt"}
    if not blocks or stem is None or head is None or not filters <= set(state_dict):
        raise CheckpointError(f"Invalid checkpoint file `{source}`: it holds `filt` buffers but not the CUT authors' "
                              "anti-aliased ResnetGenerator (model.1, model.7.filt, model.12.conv_block ...). Expected "
                              "the G of a CUT run trained without --no_antialias or --no_antialias_up.")
    return {"netG": f"resnet_{blocks}blocks", "ngf": int(np.shape(stem)[0]), "dropout": 0.0,
            "norm": "batch" if "model.2.running_mean" in state_dict else "instance",
            "input_channels": int(np.shape(stem)[1]), "output_channels": int(np.shape(head)[0]),
            "downsample": "blur", "upsample": "blur"}


def _check(state_dict: dict, entries: list[_Entry], source: str) -> None:
    required = {e.key: e.shape for e in entries if e.shape is not None}
    optional = {e.key for e in entries if e.shape is None}
    problems = [f"missing {k} {list(s)}" for k, s in required.items() if k not in state_dict]
    problems += [f"unexpected {k}" for k in state_dict if k not in required and k not in optional]
    for entry in entries:
        if entry.shape is None or entry.key not in state_dict:
            continue
        value = np.asarray(state_dict[entry.key])
        if value.shape != entry.shape:
            problems.append(f"{entry.key}: {list(value.shape)} in the file, {list(entry.shape)} expected")
        elif entry.layer in _TAPS and not np.allclose(value, _filter(entry.layer), rtol=0, atol=1e-6):
            problems.append(f"{entry.key}: a filter other than the authors' fixed {_TAPS[entry.layer]} one")
    if problems:
        raise CheckpointError(f"Invalid checkpoint file `{source}`: it does not fit the CUT authors' layout of the "
                              f"network ({len(problems)} problems): " + "; ".join(problems) + ".")


def assign_cut_weights(network: keras.Model, state_dict: dict, *, source: str = "the state dict") -> keras.Model:
    """Sets every weight of a CUT network of this package from the CUT authors' state dict.

    Args:
        network: keras.Model. `ResNetGenerator(downsample="blur", upsample="blur")`,
            `PatchGANDiscriminator(downsample="blur")` or `PatchProjection` (see `cut_entries`).
        state_dict: dict. Key -> array, as `read_state_dict` returns.
        source: str. What to call the state dict in errors. Defaults to `"the state dict"`.

    Returns:
        `network`, with its weights set.

    Raises:
        CheckpointError: a key missing, unexpected or mis-shaped, or a `filt` buffer that is not the fixed filter;
            one line listing each.
        ValueError: `network` is not one of the above.

    Example:

    >>> from tfgan_translate.networks import ResNetGenerator
    >>> from tfgan_translate.reference.pth import read_state_dict
    >>> g = ResNetGenerator(ngf=64, n_blocks=9, downsample="blur", upsample="blur", init="xavier")  # doctest: +SKIP
    >>> assign_cut_weights(g, read_state_dict("latest_net_G.pth"))  # doctest: +SKIP
    """
    entries = cut_entries(network)
    _check(state_dict, entries, source)
    return assign_entries(network, state_dict, entries)


def cut_state_dict_from_network(network: keras.Model) -> dict:
    """The state dict the CUT authors would save for `network` (the mapping backwards), `filt` buffers included.

    Example:

    >>> from tfgan_translate.networks.patch_projection import PatchProjection
    >>> sorted(cut_state_dict_from_network(PatchProjection([4], units=8)))
    ['mlp_0.0.bias', 'mlp_0.0.weight', 'mlp_0.2.bias', 'mlp_0.2.weight']
    """
    entries = cut_entries(network)
    state = state_from_entries(network, entries)
    for entry in entries:
        if entry.layer in _TAPS:
            state[entry.key] = np.tile(_filter(entry.layer), (entry.shape[0], 1, 1, 1)).astype(np.float32)
    return state


__all__ = ["assign_cut_weights", "cut_entries", "cut_generator_fields", "cut_state_dict_from_network",
           "is_cut_state_dict"]

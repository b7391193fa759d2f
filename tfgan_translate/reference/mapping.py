"""Maps the reference's state-dict keys onto this package's networks, tensor by tensor.

The reference (the authors' PyTorch implementation, junyanz/pytorch-CycleGAN-and-pix2pix,
models/networks.py) keeps its layers in `nn.Sequential`s, so its keys are positional:
`model.10.conv_block.1.weight` is the first convolution of the first residual block of a
ResNet generator, `model.model.1.model.2.running_mean` the encoder norm of the second
U-Net level. The reference's layout of each architecture (every tensor it saves: its key,
shape and the Keras layer it belongs to) is in `tfgan_translate.reference.layouts`; this
module checks a state dict against it and copies the tensors into a network built by
`tfgan_translate.networks`:

- Conv2d `[out, in, kh, kw]` -> Keras `Conv2D` kernel `[kh, kw, in, out]`;
- ConvTranspose2d `[in, out, kh, kw]` -> Keras `Conv2DTranspose` kernel `[kh, kw, out, in]`
  (no spatial flip: both frameworks' transposed convolutions are the adjoint of the same
  cross-correlation; the import tests check it against PyTorch's outputs);
- BatchNorm2d weight / bias / running_mean / running_var -> gamma / beta / moving_mean /
  moving_variance (both eps 1e-5; PyTorch momentum 0.1 is Keras momentum 0.9);
  `num_batches_tracked` has no Keras counterpart and is dropped;
- InstanceNorm2d(affine=False) holds nothing; files from torch < 0.4 carry running_mean /
  running_var (and num_batches_tracked) under it, which the reference deletes before loading
  (`BaseModel.__patch_instance_norm_state_dict`): so are they here.

Every tensor of the file is used exactly once and every Keras weight is set; anything
missing, extra or mis-shaped stops the import with a `CheckpointError` that lists it and
says what the arguments imply against what the file implies (`infer_architecture`).

What the file's keys tell, and what they cannot, is in `tfgan_translate.reference.architecture`.

Reference: Isola et al. 2017 (pix2pix); Zhu et al. 2017 (CycleGAN).
"""

from __future__ import annotations

import keras
import numpy as np

from tfgan_translate.reference.architecture import (
    ReferenceArchitecture,
    _differences,
    _discriminator_architecture,
    _find_layer,
    _first_keys,
    _generator_architecture,
    _infer,
    _layer_names,
    _shape,
    architecture_from_args,
    infer_architecture,
)
from tfgan_translate.reference.layouts import _Slot, _slots
from tfgan_translate.reference.pth import CheckpointError

_LIST_LIMIT = 12  # keys listed per kind of problem in an error; the rest are counted


# === Checking a state dict against a layout ===


def _fmt(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _listing(title: str, lines: list[str]) -> str:
    shown = lines[:_LIST_LIMIT]
    more = f"\n    ... and {len(lines) - len(shown)} more" if len(lines) > len(shown) else ""
    return f"  {title} ({len(lines)}):\n" + "\n".join(f"    {line}" for line in shown) + more


def _check(state_dict: dict, slots: list[_Slot], asked: ReferenceArchitecture, args: dict, source: str) -> None:
    """Raises CheckpointError listing every missing, unexpected and mis-shaped key."""
    required, optional = {}, set()
    for slot in slots:
        required.update(slot.required())
        optional.update(slot.optional())
    missing = [f"{k} {_fmt(shape)}" for k, shape in required.items() if k not in state_dict]
    unexpected = [f"{k} {_fmt(_shape(v))}" for k, v in state_dict.items() if k not in required and k not in optional]
    misshaped = []
    for key, shape in required.items():
        if key not in state_dict:
            continue
        value = state_dict[key]
        if _shape(value) != shape:
            misshaped.append(f"{key}: {_fmt(_shape(value))} in the file, {_fmt(shape)} expected")
        elif not np.issubdtype(np.asarray(value).dtype, np.floating):
            misshaped.append(f"{key}: dtype {np.asarray(value).dtype} in the file, a float tensor expected")
    if not (missing or unexpected or misshaped):
        return
    given = ", ".join(f"{k}={v!r}" for k, v in args.items())
    parts = [f"Cannot load {source} as {given}: its tensors do not match that network."]
    if missing:
        parts.append(_listing("missing", missing))
    if unexpected:
        parts.append(_listing("unexpected", unexpected))
    if misshaped:
        parts.append(_listing("mis-shaped", misshaped))
    found = _infer(state_dict)
    if found is None:
        parts.append(f"The file matches none of the reference's networks; its first keys: {_first_keys(state_dict)}.")
    else:
        parts.append(f"The arguments imply: {asked.describe()}.")
        parts.append(f"The file implies: {found.describe()}.")
        parts += [f"  - {hint}" for hint in _differences(asked, found, args)]
        parts.append(f"Arguments that fit the file: {found.kwargs()}.")
    raise CheckpointError("\n".join(parts))


def check_state_dict(state_dict: dict, args: dict, source: str = "the state dict") -> None:
    """Checks a state dict's keys and shapes against loader arguments, before any network is built.

    Args:
        state_dict: dict. Key -> array, as `read_state_dict` returns.
        args: dict. A network's arguments in the reference's terms (see `architecture_from_args`).
        source: str. What to call the state dict in errors. Defaults to `"the state dict"`.

    Raises:
        CheckpointError: a key missing, unexpected or mis-shaped (listed, with what the arguments and the
            file imply), e.g. an options file's `ngf: 1000` beside a file of ngf 64.
    """
    asked = architecture_from_args(args)
    _check(state_dict, _slots(asked), asked, args, source)


# === Copying the tensors ===


def _assign(network: keras.Model, state_dict: dict, slots: list[_Slot]) -> None:
    """Copies each slot's tensors into its Keras layer; checks that every float Keras weight was set."""
    assigned = set()

    def put(variable, value, what):
        value = np.asarray(value, dtype=variable.dtype)
        if tuple(variable.shape) != value.shape:
            raise RuntimeError(f"{what}: the Keras weight {variable.path} has shape {tuple(variable.shape)}, "
                               f"the mapped tensor {value.shape}; the network's geometry differs from the reference's.")
        variable.assign(value)
        assigned.add(id(variable))

    for slot in slots:
        layer = _find_layer(network, slot.layer)
        if layer is None:
            if slot.kind == "norm" and slot.norm != "batch":
                continue  # instance norm without affine parameters, or no norm: nothing to set
            raise RuntimeError(f"The network {network.name!r} has no layer {slot.layer!r} for {slot.prefix}.")
        if slot.kind == "norm":
            if slot.norm != "batch":
                continue
            for torch_name, keras_name in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"),
                                           ("running_var", "moving_variance")):
                put(getattr(layer, keras_name), state_dict[f"{slot.prefix}.{torch_name}"], slot.prefix)
            continue
        weight = np.asarray(state_dict[f"{slot.prefix}.weight"])
        # Conv2d [out, in, kh, kw] -> [kh, kw, in, out]; ConvTranspose2d [in, out, kh, kw] -> [kh, kw, out, in]
        put(layer.kernel, weight.transpose(2, 3, 1, 0), slot.prefix)
        if slot.bias:
            if not layer.use_bias:
                raise RuntimeError(f"{slot.prefix}.bias has no place: Keras layer {slot.layer!r} has no bias.")
            put(layer.bias, state_dict[f"{slot.prefix}.bias"], slot.prefix)
        elif layer.use_bias:  # norm "none": the reference has no bias there, this package does; zero is the same
            put(layer.bias, np.zeros(tuple(layer.bias.shape)), slot.prefix)

    unset = [w.path for w in network.weights
             if id(w) not in assigned and np.issubdtype(np.dtype(w.dtype), np.floating)]
    if unset:
        raise RuntimeError(f"The mapping left Keras weights of {network.name!r} unset: {unset}.")


def assign_generator_weights(network: keras.Model, state_dict: dict, *, source: str = "the state dict",
                             args: dict | None = None) -> keras.Model:
    """Sets every weight of a generator of this package from a reference state dict.

    The reference layout is read from the network itself (its layer names and shapes:
    U-Net depth or ResNet block count, ngf, channels, norm, ResNet dropout), then the
    state dict is checked against it and copied in.

    Args:
        network: keras.Model. A generator from `tfgan_translate.networks` (`UNetGenerator`,
            `ResNetGenerator`, `build_generator`) with `upsample="transpose"`.
        state_dict: dict. Key -> array, as `read_state_dict` returns.
        source: str. What to call the state dict in errors (the file name). Defaults to
            `"the state dict"`.
        args: dict or None. The arguments the network was built from, for error messages
            (`netG=..., norm=...`); None describes the network by its geometry.

    Returns:
        `network`, with its weights set.

    Raises:
        CheckpointError: a key missing, unexpected or mis-shaped; the message lists them and
            says what the network implies against what the file implies.
        ValueError: `network` is not a generator of this package, or upsamples by resize
            (the reference's checkpoints hold transposed convolutions).

    Example:

    >>> g = build_generator("resnet_9blocks", norm="instance", dropout=0.0)
    >>> assign_generator_weights(g, read_state_dict("latest_net_G.pth"), source="latest_net_G.pth")  # doctest: +SKIP

    Reference: junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py (ResnetGenerator, UnetGenerator).
    """
    if "up1_resize" in _layer_names(network):
        raise ValueError(
            f"Invalid value for argument `network`. Received: network={network.name!r}, which upsamples by resize "
            "and convolution. The reference's checkpoints hold transposed convolutions: build the generator with "
            "upsample='transpose'."
        )
    arch = _generator_architecture(network)
    if args is None:
        args = {"netG": arch.net, "norm": arch.norm, "ngf": arch.filters, "input_channels": arch.input_channels,
                "output_channels": arch.output_channels, "dropout": 0.5 if arch.dropout else 0.0}
    slots = _slots(arch)
    _check(state_dict, slots, arch, args, source)
    _assign(network, state_dict, slots)
    return network


def assign_discriminator_weights(network: keras.Model, state_dict: dict, *, source: str = "the state dict",
                                 args: dict | None = None) -> keras.Model:
    """Sets every weight of a discriminator of this package from a reference state dict.

    Args:
        network: keras.Model. A discriminator from `tfgan_translate.networks`
            (`PatchGANDiscriminator`, `build_discriminator`).
        state_dict: dict. Key -> array, as `read_state_dict` returns.
        source: str. What to call the state dict in errors. Defaults to `"the state dict"`.
        args: dict or None. The arguments the network was built from, for error messages.

    Returns:
        `network`, with its weights set.

    Raises:
        CheckpointError: a key missing, unexpected or mis-shaped (listed, with what the
            network and the file imply).
        ValueError: `network` is not a discriminator of this package.

    Example:

    >>> d = build_discriminator("basic", norm="batch", input_channels=3, condition_channels=3)
    >>> assign_discriminator_weights(d, read_state_dict("latest_net_D.pth"))  # doctest: +SKIP

    Reference: junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py (NLayerDiscriminator,
    PixelDiscriminator).
    """
    arch = _discriminator_architecture(network)
    if args is None:
        args = {"netD": arch.net, "n_layers_D": arch.n_layers_D or 3, "norm": arch.norm, "ndf": arch.filters,
                "input_channels": arch.input_channels, "condition_channels": 0}
    slots = _slots(arch)
    _check(state_dict, slots, arch, args, source)
    _assign(network, state_dict, slots)
    return network


__all__ = [
    "ReferenceArchitecture",
    "assign_discriminator_weights",
    "assign_generator_weights",
    "infer_architecture",
]

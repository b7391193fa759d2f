"""Maps the reference's state-dict keys onto this package's networks, tensor by tensor.

The reference (the authors' PyTorch implementation, junyanz/pytorch-CycleGAN-and-pix2pix,
models/networks.py) keeps its layers in `nn.Sequential`s, so its keys are positional:
`model.10.conv_block.1.weight` is the first convolution of the first residual block of a
ResNet generator, `model.model.1.model.2.running_mean` the encoder norm of the second
U-Net level. This module lays out, for an architecture, every tensor the reference saves
(its key, shape and the Keras layer it belongs to), checks a state dict against that
layout, and copies the tensors into a network built by `tfgan_translate.networks`:

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

What the file's keys tell (`infer_architecture`): the family (U-Net, ResNet, PatchGAN,
PixelGAN), U-Net depth and ResNet block count, PatchGAN depth, ngf / ndf, input and output
channels, and the norm: batch norm leaves its tensors, instance norm leaves none but gives
the convolutions before it biases, "none" leaves neither (in the reference only instance
norm turns those biases on). Whether a ResNet has dropout shows too (the dropout layer
shifts the block's second convolution from index 5 to 6). What it cannot tell: dropout in
a U-Net (the dropout layer comes last in its level and shifts no index), the split of a
discriminator's input into condition and image channels (only their sum), and the image
size the network was trained at.

Reference: Isola et al. 2017 (pix2pix); Zhu et al. 2017 (CycleGAN).
"""

from __future__ import annotations

import dataclasses
import os
import re

import keras
import numpy as np

from tfgan_translate.networks import build_discriminator, build_generator, resnet_generator
from tfgan_translate.reference.pth import CheckpointError, read_state_dict

_LIST_LIMIT = 12  # keys listed per kind of problem in an error; the rest are counted


# === The reference's layout ===


@dataclasses.dataclass(frozen=True)
class _Slot:
    """One module of the reference that holds tensors, and the Keras layer it maps to.

    kind: "conv" (Conv2d, shape `[out, in, kh, kw]`), "conv_transpose" (ConvTranspose2d,
    shape `[in, out, kh, kw]`) or "norm" (shape `(channels,)`).
    """

    prefix: str
    kind: str
    layer: str
    shape: tuple[int, ...]
    bias: bool = False
    norm: str = "none"

    def required(self) -> dict[str, tuple[int, ...]]:
        """The keys this module must have in the file, with their shapes."""
        if self.kind == "norm":
            if self.norm != "batch":
                return {}
            return {f"{self.prefix}.{name}": self.shape for name in ("weight", "bias", "running_mean", "running_var")}
        keys = {f"{self.prefix}.weight": self.shape}
        if self.bias:
            keys[f"{self.prefix}.bias"] = (self.shape[0] if self.kind == "conv" else self.shape[1],)
        return keys

    def optional(self) -> tuple[str, ...]:
        """Keys this module may have, which the reference accepts and drops."""
        if self.kind != "norm":
            return ()
        if self.norm == "batch":  # missing in files from torch < 0.4.1; the reference fills it in
            return (f"{self.prefix}.num_batches_tracked",)
        if self.norm == "instance":  # files from torch < 0.4: deleted before loading
            return tuple(f"{self.prefix}.{name}" for name in ("running_mean", "running_var", "num_batches_tracked"))
        return ()


def _unet_prefix(level: int) -> str:
    """The Sequential of U-Net level `level` (1 = outermost): `model.model`, `model.model.1.model`, then
    `.3.model` per level further in (the submodule sits at index 1 of the outermost level, 3 of the others)."""
    return "model.model" if level == 1 else "model.model.1.model" + ".3.model" * (level - 2)


def _unet_slots(depth: int, ngf: int, input_channels: int, output_channels: int, norm: str) -> list[_Slot]:
    bias = norm == "instance"

    def filters(level):
        return ngf * min(2 ** (level - 1), 8)

    p = _unet_prefix(1)
    slots = [
        _Slot(f"{p}.0", "conv", "down1_conv", (ngf, input_channels, 4, 4), bias),
        _Slot(f"{p}.3", "conv_transpose", "up1_conv", (2 * ngf, output_channels, 4, 4), True),
    ]
    for level in range(2, depth):
        p, inner, outer = _unet_prefix(level), filters(level), filters(level - 1)
        slots += [
            _Slot(f"{p}.1", "conv", f"down{level}_conv", (inner, outer, 4, 4), bias),
            _Slot(f"{p}.2", "norm", f"down{level}_norm", (inner,), norm=norm),
            _Slot(f"{p}.5", "conv_transpose", f"up{level}_conv", (2 * inner, outer, 4, 4), bias),
            _Slot(f"{p}.6", "norm", f"up{level}_norm", (outer,), norm=norm),
        ]
    p, inner, outer = _unet_prefix(depth), filters(depth), filters(depth - 1)
    slots += [
        _Slot(f"{p}.1", "conv", f"down{depth}_conv", (inner, outer, 4, 4), bias),
        _Slot(f"{p}.3", "conv_transpose", f"up{depth}_conv", (inner, outer, 4, 4), bias),
        _Slot(f"{p}.4", "norm", f"up{depth}_norm", (outer,), norm=norm),
    ]
    return slots


def _resnet_slots(n_blocks: int, ngf: int, input_channels: int, output_channels: int, norm: str,
                  dropout: bool) -> list[_Slot]:
    bias = norm == "instance"
    slots = [
        _Slot("model.1", "conv", "stem_conv", (ngf, input_channels, 7, 7), bias),
        _Slot("model.2", "norm", "stem_norm", (ngf,), norm=norm),
        _Slot("model.4", "conv", "down1_conv", (2 * ngf, ngf, 3, 3), bias),
        _Slot("model.5", "norm", "down1_norm", (2 * ngf,), norm=norm),
        _Slot("model.7", "conv", "down2_conv", (4 * ngf, 2 * ngf, 3, 3), bias),
        _Slot("model.8", "norm", "down2_norm", (4 * ngf,), norm=norm),
    ]
    dim, second = 4 * ngf, 6 if dropout else 5  # Dropout(0.5) after the first ReLU shifts the second conv
    for b in range(n_blocks):
        p = f"model.{10 + b}.conv_block"
        slots += [
            _Slot(f"{p}.1", "conv", f"block{b + 1}_conv1", (dim, dim, 3, 3), bias),
            _Slot(f"{p}.2", "norm", f"block{b + 1}_1_norm", (dim,), norm=norm),
            _Slot(f"{p}.{second}", "conv", f"block{b + 1}_conv2", (dim, dim, 3, 3), bias),
            _Slot(f"{p}.{second + 1}", "norm", f"block{b + 1}_2_norm", (dim,), norm=norm),
        ]
    up = 10 + n_blocks
    slots += [
        _Slot(f"model.{up}", "conv_transpose", "up1_conv", (4 * ngf, 2 * ngf, 3, 3), bias),
        _Slot(f"model.{up + 1}", "norm", "up1_norm", (2 * ngf,), norm=norm),
        _Slot(f"model.{up + 3}", "conv_transpose", "up2_conv", (2 * ngf, ngf, 3, 3), bias),
        _Slot(f"model.{up + 4}", "norm", "up2_norm", (ngf,), norm=norm),
        _Slot(f"model.{up + 7}", "conv", "head_conv", (output_channels, ngf, 7, 7), True),
    ]
    return slots


def _n_layers_slots(n_layers: int, ndf: int, channels: int, norm: str) -> list[_Slot]:
    bias = norm == "instance"
    slots = [_Slot("model.0", "conv", "conv1", (ndf, channels, 4, 4), True)]
    mult = 1
    for n in range(1, n_layers + 1):  # n_layers - 1 stride-2 convolutions, then a stride-1 one
        prev, mult = mult, min(2**n, 8)
        slots += [
            _Slot(f"model.{3 * n - 1}", "conv", f"conv{n + 1}", (ndf * mult, ndf * prev, 4, 4), bias),
            _Slot(f"model.{3 * n}", "norm", f"conv{n + 1}_norm", (ndf * mult,), norm=norm),
        ]
    slots.append(_Slot(f"model.{3 * n_layers + 2}", "conv", "logits", (1, ndf * mult, 4, 4), True))
    return slots


def _pixel_slots(ndf: int, channels: int, norm: str) -> list[_Slot]:
    bias = norm == "instance"
    return [
        _Slot("net.0", "conv", "conv1", (ndf, channels, 1, 1), True),
        _Slot("net.2", "conv", "conv2", (2 * ndf, ndf, 1, 1), bias),
        _Slot("net.3", "norm", "conv2_norm", (2 * ndf,), norm=norm),
        _Slot("net.5", "conv", "logits", (1, 2 * ndf, 1, 1), bias),
    ]


# === What a file implies ===


@dataclasses.dataclass(frozen=True)
class ReferenceArchitecture:
    """The architecture a reference state dict implies, read from its keys and shapes.

    Attributes:
        kind: str. "generator" or "discriminator".
        net: str. The reference's name: "unet_<2**depth>", "resnet_<n>blocks", "basic"
            (a 3-layer PatchGAN; "n_layers" with `n_layers_D=3` gives the same file),
            "n_layers" or "pixel".
        filters: int. ngf (generators) or ndf (discriminators).
        input_channels: int. Channels into the first convolution; for a discriminator the
            condition and the image together (the file does not tell the split).
        output_channels: int or None. Channels out of a generator; None for discriminators.
        norm: str. "batch", "instance" or "none".
        dropout: bool or None. Dropout in a ResNet's residual blocks; None where the file
            cannot tell (U-Nets, ResNets with 0 blocks, discriminators).
        n_layers_D: int or None. Stride-2 convolutions of a PatchGAN ("n_layers").
        old_instance_stats: bool. Whether instance norms carry the running statistics of
            files from torch < 0.4 (dropped on import, as the reference does).
    """

    kind: str
    net: str
    filters: int
    input_channels: int
    output_channels: int | None
    norm: str
    dropout: bool | None = None
    n_layers_D: int | None = None
    old_instance_stats: bool = False

    def kwargs(self) -> dict:
        """Keyword arguments for `load_generator` / `load_discriminator` that fit this file.

        A U-Net's dropout cannot be read from a file and is left out (the loaders then use
        the reference's default, on); a discriminator's channels all go to `input_channels`
        (`condition_channels=0`), which computes the same function as any split.
        """
        if self.kind == "generator":
            kwargs = {"netG": self.net, "norm": self.norm, "ngf": self.filters,
                      "input_channels": self.input_channels, "output_channels": self.output_channels}
            if self.dropout is not None:
                kwargs["dropout"] = 0.5 if self.dropout else 0.0
            return kwargs
        return {"netD": self.net, "n_layers_D": self.n_layers_D or 3, "norm": self.norm, "ndf": self.filters,
                "input_channels": self.input_channels, "condition_channels": 0}

    def describe(self) -> str:
        """One line, e.g. "resnet_9blocks generator, ngf 64, 3 -> 3 channels, instance norm, no dropout"."""
        old = " (with the old instance-norm running statistics)" if self.old_instance_stats else ""
        norm = "no norm" if self.norm == "none" else f"{self.norm} norm"
        if self.kind == "generator":
            drop = {True: ", dropout", False: ", no dropout", None: ""}[self.dropout]
            return (f"{self.net} generator, ngf {self.filters}, {self.input_channels} -> {self.output_channels} "
                    f"channels, {norm}{old}{drop}")
        net = {"basic": "basic (70x70 PatchGAN, n_layers_D 3)", "pixel": "pixel (1x1 PixelGAN)"}.get(
            self.net, f"n_layers PatchGAN, n_layers_D {self.n_layers_D}")
        return f"{net} discriminator, ndf {self.filters}, {self.input_channels} input channels, {norm}{old}"


def _shape(value) -> tuple[int, ...]:
    return tuple(int(s) for s in np.shape(value))


def _indices(keys, pattern: str) -> list[int]:
    regex = re.compile(pattern)
    return sorted({int(m[1]) for m in map(regex.match, keys) if m})


def _infer(state_dict: dict) -> ReferenceArchitecture | None:
    """`infer_architecture`, or None for keys that match no reference network."""
    keys = list(state_dict)
    shapes = {k: _shape(v) for k, v in state_dict.items()}

    def first_shape(key):
        shape = shapes.get(key)
        return shape if shape is not None and len(shape) == 4 else None

    # Batch norms leave 1-D scales; old instance norms leave running statistics without scales.
    has_batch = any(k.endswith(".weight") and len(shapes[k]) == 1 for k in keys)
    has_stats = any(k.endswith((".running_mean", ".running_var")) for k in keys)
    old_stats = has_stats and not has_batch

    def norm_from(conv_before_norm: str) -> str:
        if has_batch:
            return "batch"
        return "instance" if f"{conv_before_norm}.bias" in state_dict else "none"

    if any(k.startswith("model.model.") for k in keys):
        down = first_shape("model.model.0.weight")
        up = first_shape("model.model.3.weight")
        if down is None:
            return None
        depth = max(level for level in range(1, 64) if any(k.startswith(_unet_prefix(level) + ".") for k in keys))
        return ReferenceArchitecture("generator", f"unet_{2 ** depth}", down[0], down[1], up[1] if up else None,
                                     norm_from("model.model.0"), None, None, old_stats)
    if any(k.startswith("net.") for k in keys):
        first = first_shape("net.0.weight")
        if first is None:
            return None
        return ReferenceArchitecture("discriminator", "pixel", first[0], first[1], None, norm_from("net.2"),
                                     old_instance_stats=old_stats)
    stem = first_shape("model.1.weight")
    if stem is not None and stem[2:] == (7, 7):
        blocks = _indices(keys, r"model\.(\d+)\.conv_block\.")
        n_blocks = len(blocks)
        convs = _indices([k for k in keys if len(shapes[k]) == 4], r"model\.(\d+)\.weight$")
        head = first_shape(f"model.{convs[-1]}.weight") if convs else None
        dropout = None
        if n_blocks:
            dropout = any(re.match(r"model\.\d+\.conv_block\.6\.weight$", k) and len(shapes[k]) == 4 for k in keys)
        return ReferenceArchitecture("generator", f"resnet_{n_blocks}blocks", stem[0], stem[1],
                                     head[0] if head else None, norm_from("model.1"), dropout, None, old_stats)
    first = first_shape("model.0.weight")
    if first is not None and first[2:] == (4, 4):
        convs = [i for i in _indices(keys, r"model\.(\d+)\.weight$") if len(shapes[f"model.{i}.weight"]) == 4]
        n_layers = max(len(convs) - 2, 1)
        return ReferenceArchitecture("discriminator", "basic" if n_layers == 3 else "n_layers", first[0], first[1],
                                     None, norm_from("model.2"), None, n_layers, old_stats)
    return None


def infer_architecture(state_dict: dict) -> ReferenceArchitecture:
    """Reads the architecture of a reference network from its state dict's keys and shapes.

    Args:
        state_dict: dict. Key -> array (numpy arrays, or anything `np.shape` reads), as
            `read_state_dict` returns or `torch.nn.Module.state_dict()` gives.

    Returns:
        A `ReferenceArchitecture`. Its `kwargs()` are arguments for `load_generator` /
        `load_discriminator`. It tells the family and size (U-Net depth, ResNet blocks,
        PatchGAN layers), ngf / ndf, the channels, the norm and a ResNet's dropout; it
        cannot tell a U-Net's dropout (`dropout=None`), a discriminator's condition /
        image split, or the training image size.

    Raises:
        CheckpointError: if the keys match none of the reference's networks.

    Example:

    >>> path = "checkpoints/horse2zebra_pretrained/latest_net_G.pth"
    >>> arch = infer_architecture(read_state_dict(path))  # doctest: +SKIP
    >>> arch.describe()  # doctest: +SKIP
    'resnet_9blocks generator, ngf 64, 3 -> 3 channels, instance norm, no dropout'
    >>> g = load_generator(path, **arch.kwargs())  # doctest: +SKIP

    Reference: the module trees of ResnetGenerator, UnetGenerator, NLayerDiscriminator and
    PixelDiscriminator in junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py.
    """
    arch = _infer(state_dict)
    if arch is None:
        raise CheckpointError(
            f"The state dict matches none of the reference's networks (ResnetGenerator, UnetGenerator, "
            f"NLayerDiscriminator, PixelDiscriminator). Its first keys: {_first_keys(state_dict)}."
        )
    return arch


def _first_keys(state_dict: dict, n: int = 6) -> str:
    keys = list(state_dict)
    return ", ".join(keys[:n]) + (f", ... ({len(keys)} keys)" if len(keys) > n else "") if keys else "(none)"


# === What a Keras network holds ===


def _layer_names(network: keras.Model) -> set[str]:
    return {layer.name for layer in network._flatten_layers(include_self=False, recursive=True)}


def _find_layer(network: keras.Model, name: str):
    for layer in network._flatten_layers(include_self=False, recursive=True):
        if layer.name == name:
            return layer
    return None


def _network_norm(network: keras.Model) -> str:
    for layer in network._flatten_layers(include_self=False, recursive=True):
        if layer.name.endswith("_norm"):
            return "batch" if isinstance(layer, keras.layers.BatchNormalization) else "instance"
    return "none"


def _channels(network: keras.Model) -> int:
    return int(network.inputs[0].shape[-1])


def _filters(network: keras.Model, name: str) -> int:
    return int(_find_layer(network, name).filters)


def _generator_architecture(network: keras.Model) -> ReferenceArchitecture:
    """The reference architecture a generator of this package corresponds to, read from its layers."""
    names = _layer_names(network)
    if "stem_conv" in names:
        n_blocks = len(_indices(names, r"block(\d+)_add$"))
        dropout = any(re.match(r"block\d+_dropout$", n) for n in names) if n_blocks else None
        return ReferenceArchitecture("generator", f"resnet_{n_blocks}blocks", _filters(network, "stem_conv"),
                                     _channels(network), _filters(network, "head_conv"), _network_norm(network),
                                     dropout)
    downs = _indices(names, r"down(\d+)_conv$")
    if downs:
        return ReferenceArchitecture("generator", f"unet_{2 ** max(downs)}", _filters(network, "down1_conv"),
                                     _channels(network), _filters(network, "up1_conv"), _network_norm(network))
    raise ValueError(
        f"Invalid value for argument `network`. Received: network={network.name!r}. Expected a U-Net or ResNet "
        "generator of tfgan_translate.networks (layers down1_conv ... or stem_conv ...)."
    )


def _discriminator_architecture(network: keras.Model) -> ReferenceArchitecture:
    names = _layer_names(network)
    if "conv1" not in names or "logits" not in names:
        raise ValueError(
            f"Invalid value for argument `network`. Received: network={network.name!r}. Expected a PatchGAN or "
            "PixelGAN discriminator of tfgan_translate.networks (layers conv1 ... logits)."
        )
    ndf = _filters(network, "conv1")
    if tuple(_find_layer(network, "conv1").kernel_size) == (1, 1):
        return ReferenceArchitecture("discriminator", "pixel", ndf, _channels(network), None, _network_norm(network))
    n_layers = len(_indices(names, r"conv(\d+)$")) - 1
    return ReferenceArchitecture("discriminator", "basic" if n_layers == 3 else "n_layers", ndf, _channels(network),
                                 None, _network_norm(network), None, n_layers)


def _slots(arch: ReferenceArchitecture) -> list[_Slot]:
    family, _, size = arch.net.partition("_")
    if family == "unet":
        return _unet_slots(int(size).bit_length() - 1, arch.filters, arch.input_channels, arch.output_channels,
                           arch.norm)
    if family == "resnet":
        return _resnet_slots(int(size[: -len("blocks")]), arch.filters, arch.input_channels, arch.output_channels,
                             arch.norm, bool(arch.dropout))
    if arch.net == "pixel":
        return _pixel_slots(arch.filters, arch.input_channels, arch.norm)
    return _n_layers_slots(arch.n_layers_D, arch.filters, arch.input_channels, arch.norm)


# === Checking a state dict against a layout ===


def _fmt(shape) -> str:
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _listing(title: str, lines: list[str]) -> str:
    shown = lines[:_LIST_LIMIT]
    more = f"\n    ... and {len(lines) - len(shown)} more" if len(lines) > len(shown) else ""
    return f"  {title} ({len(lines)}):\n" + "\n".join(f"    {line}" for line in shown) + more


def _differences(asked: ReferenceArchitecture, found: ReferenceArchitecture, args: dict) -> list[str]:
    """Sentences that name each way the file differs from what the arguments ask for."""
    if asked.kind != found.kind:
        loader = "load_generator" if found.kind == "generator" else "load_discriminator"
        return [f"this file holds a {found.kind} ({found.net}); load it with `{loader}`"]
    hints = []
    fam_a, fam_f = asked.net.partition("_")[0], found.net.partition("_")[0]
    if asked.kind == "generator":
        netG = args["netG"]
        if fam_a != fam_f:
            hints.append(f"this file holds a {'U-Net' if fam_f == 'unet' else 'ResNet'} generator ({found.net}); "
                         f"netG={netG!r} expects a {'U-Net' if fam_a == 'unet' else 'ResNet'}")
        elif fam_f == "resnet" and asked.net != found.net:
            n_f, n_a = found.net[7:-6], asked.net[7:-6]
            hints.append(f"this file has {n_f} residual blocks; netG={netG!r} expects {n_a}")
        elif fam_f == "unet" and asked.net != found.net:
            d_f, d_a = int(found.net[5:]).bit_length() - 1, int(asked.net[5:]).bit_length() - 1
            hints.append(f"this file has {d_f} U-Net levels ({found.net}); netG={netG!r} expects {d_a}")
        if fam_a == fam_f == "resnet" and found.dropout is not None and asked.dropout != found.dropout:
            hints.append("this file has dropout in its residual blocks (their second convolution is conv_block.6); "
                         f"dropout={args['dropout']!r} expects none" if found.dropout else
                         "this file has no dropout in its residual blocks (their second convolution is "
                         f"conv_block.5); dropout={args['dropout']!r} expects one (conv_block.6)")
    else:
        netD = args["netD"]
        if (asked.net == "pixel") != (found.net == "pixel"):
            hints.append(f"this file holds a {'PixelGAN' if found.net == 'pixel' else 'PatchGAN'} "
                         f"(netD={found.net!r}); netD={netD!r} expects a "
                         f"{'PixelGAN' if asked.net == 'pixel' else 'PatchGAN'}")
        elif asked.n_layers_D != found.n_layers_D:
            what = f"netD={netD!r}" if netD == "basic" else f"netD={netD!r}, n_layers_D={args['n_layers_D']!r},"
            hints.append(f"this file has {found.n_layers_D} stride-2 convolutions (n_layers_D={found.n_layers_D}); "
                         f"{what} expects {asked.n_layers_D}")
    if asked.norm != found.norm:
        norm = args["norm"]
        found_says = {
            "batch": "this file has batch-norm tensors (weight, bias, running statistics)",
            "instance": "this file has no norm tensors and its convolutions before each norm have biases "
                        "(instance norm)",
            "none": "this file has no norm tensors and no biases on the convolutions before each norm (norm none)",
        }[found.norm]
        asked_says = {"batch": "batch-norm tensors and no such biases", "instance": "no norm tensors and biases",
                      "none": "neither"}[asked.norm]
        hints.append(f"{found_says}; norm={norm!r} expects {asked_says}")
    width = "ngf" if asked.kind == "generator" else "ndf"
    if asked.filters != found.filters:
        hints.append(f"{width} {found.filters} in the file, {width}={args[width]!r} given")
    if asked.input_channels != found.input_channels:
        if asked.kind == "generator":
            hints.append(f"the file's first convolution takes {found.input_channels} channels; "
                         f"input_channels={args['input_channels']!r} given")
        else:
            hints.append(f"the file's first convolution takes {found.input_channels} channels (condition + image); "
                         f"input_channels={args['input_channels']!r} + condition_channels="
                         f"{args['condition_channels']!r} = {asked.input_channels} given")
    if asked.kind == "generator" and found.output_channels is not None and (
            asked.output_channels != found.output_channels):
        hints.append(f"the file's last convolution gives {found.output_channels} channels; "
                     f"output_channels={args['output_channels']!r} given")
    return hints


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


def _source_dict(source) -> tuple[dict, str]:
    if isinstance(source, dict):
        return source, "the state dict"
    if isinstance(source, (str, os.PathLike)):
        return read_state_dict(source), f"{os.fspath(source)!r}"
    raise ValueError(
        f"Invalid value for argument `source`. Received: source of type {type(source).__name__}. "
        "Expected a path to a .pth file or a dict of arrays."
    )


def assign_generator_weights(network: keras.Model, state_dict: dict, *, source: str = "the state dict",
                             args: dict | None = None) -> keras.Model:
    """Sets every weight of a generator of this package from a reference state dict.

    The reference layout is read from the network itself (its layer names and shapes:
    U-Net depth or ResNet block count, ngf, channels, norm, ResNet dropout), then the
    state dict is checked against it and copied in.

    Args:
        network: keras.Model. A generator from `tfgan_translate.networks` (`unet_generator`,
            `resnet_generator`, `build_generator`) with `upsample="transpose"`.
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
            (`patch_discriminator`, `build_discriminator`).
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


def load_generator(source, *, netG: str, norm: str, dropout: float | None = None, ngf: int = 64,
                   input_channels: int = 3, output_channels: int = 3, upsample: str = "transpose") -> keras.Model:
    """Builds generator `netG` and loads a reference checkpoint (`<epoch>_net_G.pth`) into it.

    The arguments are the reference's options (`--netG`, `--norm`, `--ngf`, `--input_nc`,
    `--output_nc`, `--no_dropout`), as written in the run's `train_opt.txt`. The file is
    checked against them before any weight is set. Dropout layers are this package's
    `NoiseDropout(at_inference=True)`, on at test time as in pix2pix; for the reference's
    eval-mode output (dropout off) take `tfgan_translate.export.generator.inference_copy(g,
    noise="off")`.

    Args:
        source: str, os.PathLike or dict. A `.pth` file (read with `read_state_dict`) or a
            state dict (key -> array).
        netG: str. "unet_256", "unet_128", "resnet_9blocks", "resnet_6blocks", or any
            unet_<2**depth> / resnet_<n>blocks (resnet_0blocks included).
        norm: str. "batch", "instance" or "none": the reference's `--norm`.
        dropout: float or None. Dropout rate; 0 builds no dropout layers. None takes what the
            file shows for a ResNet (0.5 if its blocks have dropout, else 0) and 0.5 for a
            U-Net (the reference's default; a U-Net file does not show it). Defaults to `None`.
        ngf: int. Filters of the first convolution. Defaults to `64`.
        input_channels: int. The reference's `--input_nc`. Defaults to `3`.
        output_channels: int. The reference's `--output_nc`. Defaults to `3`.
        upsample: str. Only `"transpose"`: the reference upsamples with transposed convolutions.
            Defaults to `"transpose"`.

    Returns:
        A generator `keras.Model`, `(batch, H, W, input_channels)` -> `(batch, H, W,
        output_channels)`, any H, W the architecture allows, with every weight from the file.

    Raises:
        CheckpointError: the file cannot be read, or its tensors do not fit these arguments
            (every missing, unexpected or mis-shaped key listed, with what the arguments and
            the file imply, e.g. "this file has 9 residual blocks; netG='resnet_6blocks'
            expects 6").
        ValueError: an invalid argument.

    Example:

    >>> g = load_generator("checkpoints/horse2zebra_pretrained/latest_net_G.pth",  # doctest: +SKIP
    ...                    netG="resnet_9blocks", norm="instance", dropout=0.0)
    >>> g = load_generator("checkpoints/facades_label2photo_pretrained/latest_net_G.pth",  # doctest: +SKIP
    ...                    netG="unet_256", norm="batch")

    Reference: Isola et al. 2017; Zhu et al. 2017; junyanz/pytorch-CycleGAN-and-pix2pix,
    models/networks.py (define_G) and models/base_model.py (load_networks).
    """
    if upsample != "transpose":
        raise ValueError(
            f"Invalid value for argument `upsample`. Received: upsample={upsample!r}. The reference's checkpoints "
            "hold transposed convolutions: expected 'transpose'."
        )
    if dropout is not None and (isinstance(dropout, bool) or not isinstance(dropout, (int, float))):
        raise ValueError(f"Invalid value for argument `dropout`. Received: dropout={dropout!r}. "
                         "Expected a float in [0, 1) or None.")
    state_dict, name = _source_dict(source)
    if dropout is None:
        dropout = 0.5
        if str(netG).startswith("resnet_"):
            found = _infer(state_dict)
            dropout = 0.5 if found is not None and found.dropout else 0.0
    kwargs = {"ngf": ngf, "norm": norm, "dropout": dropout, "input_channels": input_channels,
              "output_channels": output_channels, "upsample": upsample}
    network = resnet_generator(n_blocks=0, **kwargs) if netG == "resnet_0blocks" else build_generator(netG, **kwargs)
    args = {"netG": netG, "norm": norm, "ngf": ngf, "input_channels": input_channels,
            "output_channels": output_channels, "dropout": dropout}
    return assign_generator_weights(network, state_dict, source=name, args=args)


def load_discriminator(source, *, netD: str, n_layers_D: int = 3, norm: str, ndf: int = 64, input_channels: int,
                       condition_channels: int) -> keras.Model:
    """Builds discriminator `netD` and loads a reference checkpoint (`<epoch>_net_D.pth`) into it.

    The reference's D takes `input_nc + output_nc` channels for pix2pix (condition and image)
    and `output_nc` (or `input_nc`) for CycleGAN; here that is `condition_channels +
    input_channels`, condition first, as the reference concatenates them.

    Args:
        source: str, os.PathLike or dict. A `.pth` file or a state dict (key -> array).
        netD: str. "basic" (70x70 PatchGAN), "n_layers" (depth `n_layers_D`) or "pixel".
        n_layers_D: int. Depth for `netD="n_layers"`. Defaults to `3`.
        norm: str. "batch", "instance" or "none".
        ndf: int. Filters of the first convolution. Defaults to `64`.
        input_channels: int. Channels of the judged image.
        condition_channels: int. Channels of the condition; 0 for CycleGAN's unconditional D.

    Returns:
        A discriminator `keras.Model`: the `[condition, image]` channel concatenation ->
        `(batch, h, w, 1)` logits, with every weight from the file.

    Raises:
        CheckpointError: the file cannot be read or does not fit these arguments (listed).
        ValueError: an invalid argument.

    Example:

    >>> d = load_discriminator("checkpoints/facades/latest_net_D.pth", netD="basic", norm="batch",  # doctest: +SKIP
    ...                        input_channels=3, condition_channels=3)

    Reference: Isola et al. 2017, Sec. 3.2.2; junyanz/pytorch-CycleGAN-and-pix2pix,
    models/networks.py (define_D).
    """
    state_dict, name = _source_dict(source)
    network = build_discriminator(netD, n_layers_D=n_layers_D, norm=norm, ndf=ndf, input_channels=input_channels,
                                  condition_channels=condition_channels)
    args = {"netD": netD, "n_layers_D": n_layers_D, "norm": norm, "ndf": ndf, "input_channels": input_channels,
            "condition_channels": condition_channels}
    return assign_discriminator_weights(network, state_dict, source=name, args=args)


__all__ = [
    "ReferenceArchitecture",
    "assign_discriminator_weights",
    "assign_generator_weights",
    "infer_architecture",
    "load_discriminator",
    "load_generator",
]

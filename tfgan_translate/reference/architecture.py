"""What a reference network is: `ReferenceArchitecture`, read from a state dict or from a Keras network.

`infer_architecture` reads it from a state dict's keys and shapes; `_generator_architecture` /
`_discriminator_architecture` from a network of `tfgan_translate.networks` (its layer names and shapes);
`_differences` says in words how the two differ, for the errors of `tfgan_translate.reference.mapping`.

What the file's keys tell (`infer_architecture`): the family (U-Net, ResNet, PatchGAN,
PixelGAN), U-Net depth and ResNet block count, PatchGAN depth, ngf / ndf, input and output
channels, and the norm: batch norm leaves its tensors, instance norm leaves none but gives
the convolutions before it biases, "none" leaves neither (in the reference only instance
norm turns those biases on). Whether a ResNet has dropout shows too (the dropout layer
shifts the block's second convolution from index 5 to 6). What it cannot tell: dropout in
a U-Net (the dropout layer comes last in its level and shifts no index), the split of a
discriminator's input into condition and image channels (only their sum), and the image
size the network was trained at.

Example:

>>> arch = ReferenceArchitecture("generator", "unet_256", 64, 3, 3, "batch")
>>> arch.describe()
'unet_256 generator, ngf 64, 3 -> 3 channels, batch norm'
>>> arch.kwargs()
{'netG': 'unet_256', 'norm': 'batch', 'ngf': 64, 'input_channels': 3, 'output_channels': 3}

Reference: junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py.
"""

from __future__ import annotations

import dataclasses
import re

import keras
import numpy as np

from tfgan_translate.networks.base import walk_layers
from tfgan_translate.reference.errors import CheckpointError
from tfgan_translate.reference.layouts import unet_prefix

__all__ = ["ReferenceArchitecture", "infer_architecture"]


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
        """The reference's arguments (netG, ... / netD, ...) that fit this file.

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
        depth = max(level for level in range(1, 64) if any(k.startswith(unet_prefix(level) + ".") for k in keys))
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
        A `ReferenceArchitecture`. Its `kwargs()` are the reference's arguments that fit the
        file. It tells the family and size (U-Net depth, ResNet blocks,
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
    >>> g = ResNetGenerator.from_preset(path)  # doctest: +SKIP

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


def architecture_from_args(args: dict) -> ReferenceArchitecture:
    """The reference architecture that loader arguments describe, without building the network.

    Args:
        args: dict. A generator's arguments (netG, norm, ngf, input_channels, output_channels, dropout) or
            a discriminator's (netD, n_layers_D, norm, ndf, input_channels, condition_channels).
    """
    if "netG" in args:
        dropout = bool(args.get("dropout")) if str(args["netG"]).startswith("resnet_") else None
        return ReferenceArchitecture("generator", args["netG"], args["ngf"], args["input_channels"],
                                     args["output_channels"], args["norm"], dropout)
    channels = args["input_channels"] + args.get("condition_channels", 0)
    if args["netD"] == "pixel":
        return ReferenceArchitecture("discriminator", "pixel", args["ndf"], channels, None, args["norm"])
    n_layers = 3 if args["netD"] == "basic" else args["n_layers_D"]
    return ReferenceArchitecture("discriminator", "basic" if n_layers == 3 else "n_layers", args["ndf"], channels,
                                 None, args["norm"], None, n_layers)


def _first_keys(state_dict: dict, n: int = 6) -> str:
    keys = list(state_dict)
    return ", ".join(keys[:n]) + (f", ... ({len(keys)} keys)" if len(keys) > n else "") if keys else "(none)"


# === What a Keras network holds ===


def _layer_names(network: keras.Model) -> set[str]:
    return {layer.name for layer in walk_layers(network)}


def _find_layer(network: keras.Model, name: str):
    for layer in walk_layers(network):
        if layer.name == name:
            return layer
    return None


def _network_norm(network: keras.Model) -> str:
    for layer in walk_layers(network):
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


# === How a file differs from the arguments ===


def _differences(asked: ReferenceArchitecture, found: ReferenceArchitecture, args: dict) -> list[str]:
    """Sentences that name each way the file differs from what the arguments ask for."""
    if asked.kind != found.kind:
        loader = "UNetGenerator" if found.net.startswith("unet") else "ResNetGenerator" if found.kind == "generator" \
            else "PatchGANDiscriminator"
        return [f"this file holds a {found.kind} ({found.net}); load it with `{loader}.from_preset`"]
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
